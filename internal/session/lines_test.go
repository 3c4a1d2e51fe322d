package session

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// framerOutput runs a lineFramer over chunks; an empty chunk stands
// for a Flush (a quiet spell), and Close ends the stream.
func framerOutput(t testing.TB, chunks ...string) []string {
	var out []string
	f := lineFramer{emit: func(p []byte) error {
		if !utf8.Valid(p) {
			t.Fatalf("invalid UTF-8 frame %q", p)
		}
		if len(p) > maxFrame {
			t.Fatalf("frame of %d bytes", len(p))
		}
		out = append(out, string(p))
		return nil
	}}
	for _, c := range chunks {
		if c == "" {
			f.Flush()
			continue
		}
		f.Write([]byte(c))
	}
	f.Close()
	return out
}

func TestLineFramer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"one line", []string{"hello\n"}, []string{"hello"}},
		{"CR LF", []string{"a\r\nb\r\n"}, []string{"a", "b"}},
		{"empty lines", []string{"\r\n\n\r\n"}, []string{"", "", ""}},
		{"line across reads", []string{"hel", "lo\r", "\nworld\n"}, []string{"hello", "world"}},
		{"lone CR stays", []string{"a\rb\n"}, []string{"a\rb"}},
		{"last line without ending", []string{"a\nb"}, []string{"a", "b"}},
		{"prompt flushed", []string{"login: ", "", "guest\n"}, []string{"login: ", "guest"}},
		{"flush with nothing", []string{"", "", "x\n"}, []string{"x"}},
		{"prompt ending in CR, LF later", []string{"ready\r", "", "\nnext\n"}, []string{"ready", "next"}},
		{"prompt ending in CR, text later", []string{"ready\r", "", "next\n"}, []string{"ready", "next"}},
		{"CR alone flushed", []string{"\r", "", "\n"}, []string{""}},
		{"rune split across reads", []string{"caf\xc3", "\xa9\n"}, []string{"café"}},
		{"rune split at a flush", []string{"caf\xc3", "", "\xa9\n"}, []string{"caf", "é"}},
		{"incomplete rune flushed twice", []string{"x\xe2\x82", "", "", "y\n"}, []string{"x", "\uFFFD\uFFFD", "y"}},
		{"incomplete rune at close", []string{"x\xe2\x82"}, []string{"x\uFFFD\uFFFD"}},
		{"invalid bytes", []string{"\xff\xfe\n"}, []string{"\uFFFD\uFFFD"}},
		{"surrogate half", []string{"\xed\xa0\x80\n"}, []string{"\uFFFD\uFFFD\uFFFD"}},
		{"overlong", []string{"\xc0\xaf\n"}, []string{"\uFFFD\uFFFD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := framerOutput(t, tc.chunks...)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLineFramerLongLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
	}{
		{"ASCII", strings.Repeat("a", 3*maxFrame+17)},
		{"3-byte runes", strings.Repeat("€", maxFrame)},
		{"4-byte runes", strings.Repeat("😀", maxFrame/2+1)},
		{"CR at a piece boundary", strings.Repeat("a", maxFrame-1) + "\rb"},
		{"invalid bytes", strings.Repeat("\xff", 2*maxFrame)},
	} {
		for _, chunk := range []int{1000, 4096, maxFrame, 3 * maxFrame} {
			t.Run(fmt.Sprintf("%s/read %d", tc.name, chunk), func(t *testing.T) {
				in := tc.line + "\r\nnext\r\n"
				var chunks []string
				for len(in) > 0 {
					n := min(chunk, len(in))
					chunks = append(chunks, in[:n])
					in = in[n:]
				}
				got := framerOutput(t, chunks...)
				if len(got) < 2 || got[len(got)-1] != "next" {
					t.Fatalf("the line after the long one is missing: %d frames", len(got))
				}
				joined := strings.Join(got[:len(got)-1], "")
				if want := strings.ToValidUTF8(tc.line, "\uFFFD"); joined != want && !strings.Contains(tc.line, "\xff") {
					t.Errorf("pieces join to %d bytes, want %d", len(joined), len(want))
				}
				if strings.Contains(tc.line, "\xff") && joined != strings.Repeat("\uFFFD", len(tc.line)) {
					t.Errorf("invalid bytes not each replaced by U+FFFD")
				}
			})
		}
	}
}

// TestLineFramerAllocs: a read of complete lines is framed without allocating.
func TestLineFramerAllocs(t *testing.T) {
	data := bytes.Repeat([]byte(strings.Repeat("x", 78)+"\r\n"), 400)
	f := lineFramer{emit: func([]byte) error { return nil }}
	if n := testing.AllocsPerRun(100, func() { f.Write(data) }); n != 0 {
		t.Errorf("%v allocations per read of whole lines", n)
	}
}

// FuzzLineFramer: whatever the target sends, in whatever pieces and with
// quiet spells anywhere, frames are valid UTF-8 and bounded, and without
// quiet spells they are exactly the lines of the input.
func FuzzLineFramer(f *testing.F) {
	for _, s := range []string{"a\r\nb\n", "login: ", "caf\xc3\xa9\r\n\xff", "\r\r\n\n", "x\xe2\x82\n"} {
		f.Add([]byte(s), uint8(3), uint16(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, flushes uint16) {
		size := int(chunk%16) + 1
		var chunks, flushed []string
		for i := 0; i*size < len(in); i++ {
			c := string(in[i*size : min((i+1)*size, len(in))])
			chunks = append(chunks, c)
			flushed = append(flushed, c)
			if flushes&(1<<(i%16)) != 0 {
				flushed = append(flushed, "")
			}
		}
		got := framerOutput(t, chunks...)
		var want []string
		rest := string(in)
		for rest != "" {
			line, tail, found := strings.Cut(rest, "\n")
			if found {
				line = strings.TrimSuffix(line, "\r")
			}
			want = append(want, string(appendValidUTF8(nil, []byte(line))))
			rest = tail
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		framerOutput(t, flushed...) // checks validity and size
	})
}

func BenchmarkLineFramer(b *testing.B) {
	data := bytes.Repeat([]byte(strings.Repeat("x", 78)+"\r\n"), 32<<10/80)
	f := lineFramer{emit: func([]byte) error { return nil }}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f.Write(data[:len(data)-5]) // end mid-line, as reads do
		f.Write(data[len(data)-5:])
	}
}

func BenchmarkAppendValidUTF8(b *testing.B) {
	line := []byte(strings.Repeat("caf\xe9 ol\xe9 ", 8)) // Latin-1 text: every é is invalid
	buf := make([]byte, 0, 4*len(line))
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendValidUTF8(buf[:0], line)
	}
}
