package telnet

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func deflate(t testing.TB, data []byte, flushes ...int) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	last := 0
	for _, f := range flushes {
		w.Write(data[last:f])
		w.Flush() // Z_SYNC_FLUSH, as MUD servers do after each output
		last = f
	}
	w.Write(data[last:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// inflateAll reads z to its end in reads of at most size bytes.
func inflateAll(z *Inflater, size int) ([]byte, error) {
	var out []byte
	p := make([]byte, size)
	for {
		n, err := z.Read(p)
		if n > size {
			panic("read past p")
		}
		out = append(out, p[:n]...)
		if err != nil {
			return out, err
		}
	}
}

func TestInflater(t *testing.T) {
	data := bytes.Repeat([]byte("The Temple of Midgaard\r\nYou are standing in a large temple.\r\n"), 500)
	z1 := deflate(t, data, 100, 5000)
	after := []byte("plain again\xff\xfb\x01")
	stream := append(bytes.Clone(z1), after...)
	for k := 0; k <= len(stream); k += max(1, len(stream)/50) {
		for _, one := range []bool{false, true} {
			var src io.Reader = bytes.NewReader(stream[k:])
			if one {
				src = iotest.OneByteReader(src)
			}
			z := NewInflater(src, stream[:k])
			got, err := inflateAll(z, 1000)
			if err != io.EOF || !bytes.Equal(got, data) {
				t.Fatalf("start %d, one byte %v: %d bytes, %v", k, one, len(got), err)
			}
			rest := append(bytes.Clone(z.Rest()), must(io.ReadAll(src))...)
			if !bytes.Equal(rest, after) {
				t.Fatalf("start %d: after the stream %q, want %q", k, rest, after)
			}
			if c, i := z.Counts(); i != int64(len(data)) || c < int64(len(z1)) {
				t.Fatalf("counts %d, %d", c, i)
			}
		}
	}
}

func must(b []byte, _ error) []byte { return b }

func TestInflaterCorrupt(t *testing.T) {
	data := bytes.Repeat([]byte("hello "), 1000)
	good := deflate(t, data)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x55
	badSum := bytes.Clone(good)
	badSum[len(badSum)-1] ^= 1
	for name, in := range map[string][]byte{
		"flipped":  bad,
		"checksum": badSum,
		"header":   []byte("\x00\x00junk"),
	} {
		_, err := inflateAll(NewInflater(bytes.NewReader(nil), in), 512)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	// A connection that ends within the stream ends as it is: io.EOF.
	if _, err := inflateAll(NewInflater(bytes.NewReader(nil), good[:len(good)/2]), 512); err != io.EOF {
		t.Errorf("truncated: %v, want io.EOF", err)
	}
	// The connection's own error is passed on as it is.
	cut := errors.New("connection reset")
	_, err := inflateAll(NewInflater(iotest.ErrReader(cut), good[:10]), 512)
	if !errors.Is(err, cut) || errors.Is(err, ErrCorrupt) {
		t.Errorf("cut: %v", err)
	}
}

// TestInflaterBomb: 64 MiB of zeros compressed to about 64 KiB come out
// in reads of the size asked for, with nothing held beyond the inflater's
// own buffers.
func TestInflaterBomb(t *testing.T) {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	zero := make([]byte, 1<<20)
	for range 64 {
		w.Write(zero)
	}
	w.Close()
	z := NewInflater(iotest.OneByteReader(bytes.NewReader(b.Bytes())), nil)
	p := make([]byte, 4096)
	var total int64
	for {
		n, err := z.Read(p)
		total += int64(n)
		if cap(z.in) > inBuf {
			t.Fatalf("input buffer grew to %d", cap(z.in))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != 64<<20 {
		t.Fatalf("inflated %d", total)
	}
}

// FuzzInflate: any bytes either inflate to what was compressed (when
// they are a stream) or fail with ErrCorrupt; never a panic, never more
// than asked for, and the bytes after a stream are returned untouched.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("hello hello hello"), []byte("after"), uint(3), false)
	f.Add([]byte{}, []byte{}, uint(0), true)
	f.Fuzz(func(t *testing.T, data, after []byte, split uint, corrupt bool) {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(data)
		w.Close()
		stream := b.Bytes()
		if corrupt && len(stream) > 0 {
			stream[int(split)%len(stream)] ^= byte(split>>8) | 1
		}
		in := append(bytes.Clone(stream), after...)
		k := int(split % uint(len(in)+1))
		src := iotest.OneByteReader(bytes.NewReader(in[k:]))
		z := NewInflater(src, in[:k])
		got, err := inflateAll(z, 1+int(split>>4)%300)
		switch {
		case err == io.EOF:
			if !corrupt && !bytes.Equal(got, data) {
				t.Fatalf("inflated %q, want %q", got, data)
			}
			rest := append(bytes.Clone(z.Rest()), must(io.ReadAll(src))...)
			if !corrupt && !bytes.Equal(rest, after) {
				t.Fatalf("after the stream %q, want %q", rest, after)
			}
		case errors.Is(err, ErrCorrupt):
			if !corrupt {
				t.Fatalf("a good stream: %v", err)
			}
		default:
			t.Fatalf("error %v", err)
		}
	})
}
