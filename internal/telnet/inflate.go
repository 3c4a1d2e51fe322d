package telnet

import (
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// Inflater inflates one MCCP2 stream: the zlib stream a server starts
// after IAC SB COMPRESS2 IAC SE ([EventCompress]) and sends until it ends.
// It reads the compressed bytes from src (the peer's connection) itself,
// never more than the stream holds: the bytes after its end, plain telnet
// again, are left in [Inflater.Rest] for the caller to decode.
//
// Memory is bounded whatever the ratio (a compression bomb inflates
// 1000 to 1): Read fills only the buffer it is given, so the caller's
// back-pressure holds; the Inflater keeps one input buffer (inBuf, or the
// bytes that followed the start in the read that found it) and zlib's
// 32 KiB window.
//
// It does no I/O of its own beyond src.Read, and is not safe for
// concurrent use.
type Inflater struct {
	src  io.Reader
	in   []byte // compressed bytes read from src: in[r:w] not yet inflated
	r, w int
	zr   io.ReadCloser // made at the first Read: zlib reads its header at once
	err  error         // src's error, kept apart from the stream's own
	done bool

	compressed, inflated int64
}

// inBuf is how much compressed input is read from the peer at once.
const inBuf = 16 << 10

// ErrCorrupt wraps a stream that cannot be inflated.
var ErrCorrupt = errors.New("the compressed stream (MCCP2) is corrupt")

// NewInflater starts inflating: first is what followed the start in the
// read that found it (copied), then src.
func NewInflater(src io.Reader, first []byte) *Inflater {
	z := &Inflater{src: src, in: make([]byte, max(inBuf, len(first)))}
	z.w = copy(z.in, first)
	z.compressed = int64(z.w)
	return z
}

// Read inflates into p. At the end of the stream it returns io.EOF (with
// or after the last bytes); an error from src is returned as it is, and
// a stream zlib refuses as an error wrapping ErrCorrupt.
func (z *Inflater) Read(p []byte) (int, error) {
	if z.done {
		return 0, io.EOF
	}
	if z.zr == nil {
		zr, err := zlib.NewReader(byteReader{z})
		if err != nil {
			return 0, z.fail(err)
		}
		z.zr = zr
	}
	n, err := z.zr.Read(p)
	z.inflated += int64(n)
	switch {
	case err == io.EOF:
		z.done = true
		z.zr.Close()
	case err != nil:
		return n, z.fail(err)
	}
	return n, err
}

// fail tells src's errors (the connection ended) from the stream's.
func (z *Inflater) fail(err error) error {
	if z.err != nil {
		return z.err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: it ended early", ErrCorrupt)
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// Rest is what followed the end of the stream in what was read, valid
// until the next Read: plain telnet again. Call it after io.EOF.
func (z *Inflater) Rest() []byte { return z.in[z.r:z.w] }

// Buffered reports whether compressed input is waiting to be inflated,
// that is whether the next Read may return without reading src.
func (z *Inflater) Buffered() bool { return z.r < z.w }

// Counts returns the compressed bytes taken so far (read from src or
// given at the start, whether inflated yet or not) and the bytes inflated.
func (z *Inflater) Counts() (compressed, inflated int64) { return z.compressed, z.inflated }

// byteReader gives zlib the compressed bytes one at a time, so that it
// never reads past the end of the stream (flate buffers whatever is not
// an io.ByteReader).
type byteReader struct{ z *Inflater }

func (b byteReader) ReadByte() (byte, error) {
	z := b.z
	for z.r == z.w {
		if z.err != nil {
			return 0, z.err
		}
		z.r, z.w = 0, 0
		if len(z.in) > inBuf {
			z.in = make([]byte, inBuf) // the first read's size is not kept
		}
		n, err := z.src.Read(z.in)
		z.w = n
		z.compressed += int64(n)
		if err != nil {
			z.err = err
			if n == 0 {
				return 0, err
			}
		}
	}
	c := z.in[z.r]
	z.r++
	return c, nil
}

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := b.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	n := 1
	// What is buffered is the stream's, up to zlib's own reads' end.
	n += copy(p[1:], b.z.in[b.z.r:b.z.w])
	b.z.r += n - 1
	return n, nil
}
