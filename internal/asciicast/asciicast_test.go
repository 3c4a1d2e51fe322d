package asciicast

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var start = time.Date(2026, 11, 28, 17, 45, 1, 0, time.UTC)

func TestHeader(t *testing.T) {
	for _, tc := range []struct {
		h    Header
		want string
	}{
		{Header{Width: 80, Height: 24, Timestamp: start, Title: "bbs.example.org:23", Term: "xterm-256color"},
			`{"version": 2, "width": 80, "height": 24, "timestamp": 1795887901, "title": "bbs.example.org:23", "env": {"TERM": "xterm-256color"}}` + "\n"},
		{Header{Width: 132, Height: 50, Timestamp: start, Title: "[::1]:23"},
			`{"version": 2, "width": 132, "height": 50, "timestamp": 1795887901, "title": "[::1]:23"}` + "\n"},
		{Header{Width: 80, Height: 24, Timestamp: start, Title: "\"q\"\\\x01\xff"},
			`{"version": 2, "width": 80, "height": 24, "timestamp": 1795887901, "title": "\"q\"\\\u0001` + "\uFFFD" + `"}` + "\n"},
	} {
		var b bytes.Buffer
		if _, err := NewWriter(&b, tc.h, 0); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("header\n got %s\nwant %s", b.String(), tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal(b.Bytes(), &v); err != nil || v["version"] != 2.0 {
			t.Errorf("header %s: %v, version %v", b.String(), err, v["version"])
		}
	}
}

// chunk is one call of a table test: Write (stream 'o' or 'i'), Resize
// ('r', with text "COLSxROWS") or Marker ('m').
type chunk struct {
	ms     int
	stream byte
	text   string
}

func TestEvents(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []chunk
		want   []string // the event lines, without the header
	}{
		{"plain output", []chunk{{0, 'o', "login: "}, {1500, 'o', "hello\r\n"}},
			[]string{`[0.000000, "o", "login: "]`, `[1.500000, "o", "hello\r\n"]`}},
		{"control characters and escapes", []chunk{{1, 'o', "\x1b[1mA\x1b[0m\t\"\\\b\x7f"}},
			[]string{`[0.001000, "o", "\u001b[1mA\u001b[0m\t\"\\\u0008\u007f"]`}},
		{"a character cut between chunks leaves whole with the second", []chunk{{0, 'o', "caf\xc3"}, {2, 'o', "\xa9!"}},
			[]string{`[0.000000, "o", "caf"]`, `[0.002000, "o", "é!"]`}},
		{"a four-byte character in three chunks", []chunk{{0, 'o', "\xf0\x9f"}, {1, 'o', "\x98"}, {2, 'o', "\x80"}},
			[]string{`[0.002000, "o", "😀"]`}},
		{"invalid bytes become U+FFFD, one each", []chunk{{0, 'o', "a\xff\xfeb\xe9c"}},
			[]string{`[0.000000, "o", "a��b�c"]`}},
		{"a cut character that never completes", []chunk{{0, 'o', "x\xe2\x82"}, {5, 'o', "y"}},
			[]string{`[0.000000, "o", "x"]`, `[0.005000, "o", "��y"]`}},
		{"held at the close: U+FFFD at close time", []chunk{{0, 'o', "x\xe2"}},
			[]string{`[0.000000, "o", "x"]`, `[9.000000, "o", "�"]`}},
		{"input and output hold apart", []chunk{{0, 'o', "\xc3"}, {1, 'i', "\xc3"}, {2, 'i', "\xa9"}, {3, 'o', "\xa8"}},
			[]string{`[0.002000, "i", "é"]`, `[0.003000, "o", "è"]`}},
		{"empty chunks write nothing", []chunk{{0, 'o', ""}, {1, 'i', ""}},
			nil},
		{"resize and marker", []chunk{{0, 'r', "100x30"}, {1, 'm', "note"}},
			[]string{`[0.000000, "r", "100x30"]`, `[0.001000, "m", "note"]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := NewWriter(&b, Header{Width: 80, Height: 24, Timestamp: start}, 0)
			if err != nil {
				t.Fatal(err)
			}
			header := b.Len()
			for _, c := range tc.chunks {
				at := time.Duration(c.ms) * time.Millisecond
				switch c.stream {
				case 'r':
					var cols, rows int
					if _, err := fmt.Sscanf(c.text, "%dx%d", &cols, &rows); err != nil {
						t.Fatal(err)
					}
					err = w.Resize(at, cols, rows)
				case 'm':
					err = w.Marker(at, c.text)
				default:
					err = w.Write(at, c.stream, []byte(c.text))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(9 * time.Second); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(b.String()[header:], "\n"), "\n")
			if b.Len() == header {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events\n got %q\nwant %q", got, tc.want)
			}
			if w.Written() != int64(b.Len()) {
				t.Errorf("Written() = %d, wrote %d", w.Written(), b.Len())
			}
		})
	}
}

func TestLimit(t *testing.T) {
	var b bytes.Buffer
	if _, err := NewWriter(&b, Header{Width: 80, Height: 24, Timestamp: start}, 100); err == nil {
		t.Fatal("a limit with no room for events was accepted")
	}
	const max = 1000
	w, err := NewWriter(&b, Header{Width: 80, Height: 24, Timestamp: start, Title: "t"}, max)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 50) + "\r\n")
	n := 0
	for ; n < 100; n++ {
		if err = w.Write(time.Duration(n)*time.Second, Output, line); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("after %d events: %v, want ErrLimit", n, err)
	}
	if err := w.Write(time.Hour, Output, line); !errors.Is(err, ErrLimit) {
		t.Errorf("a write after the limit: %v, want ErrLimit", err)
	}
	if err := w.Close(time.Hour); err != nil {
		t.Errorf("Close after the limit: %v", err)
	}
	if b.Len() > max {
		t.Errorf("%d bytes written, over the limit of %d", b.Len(), max)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"m", "recording stopped: it reached its limit of 1000 bytes"`) {
		t.Errorf("last line %s, want the limit marker", last)
	}
	if len(lines) != n+2 { // the header, n events, the marker
		t.Errorf("%d lines for %d events", len(lines), n)
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	if _, err := NewWriter(errWriter{}, Header{}, 0); err == nil || err.Error() != "disk full" {
		t.Errorf("NewWriter: %v, want the write error", err)
	}
}

// FuzzWriter feeds a byte stream in chunks (the cut lengths are fuzzed too)
// to both streams and checks the recording: every line is valid JSON, every
// event's text valid UTF-8, times never go back, and the text of each
// stream's events is the whole stream decoded at once, whatever the chunks.
func FuzzWriter(f *testing.F) {
	f.Add([]byte("hello\r\nworld"), []byte{3, 1, 4})
	f.Add([]byte("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"), []byte{4, 1, 1, 2, 1, 1, 1})
	f.Add([]byte("\xff\xfe\xc3\xc3\xa9\xe2\x82\xe2\x82\xac\xf0\x9f"), []byte{1, 1, 1, 2, 2, 2})
	f.Add([]byte("\x1b[0m\"\\\x00\x7f"), []byte{2})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var b bytes.Buffer
		w, err := NewWriter(&b, Header{Width: 80, Height: 24, Timestamp: start, Title: string(data)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		rest, ms := data, 0
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(n, int(cuts[i]))
			}
			ms++
			// Each stream gets the whole of data in the same chunks, the
			// calls interleaved, so that what one holds back must not
			// leak into the other.
			if err := w.Write(time.Duration(ms)*time.Millisecond, Output, rest[:n]); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(time.Duration(ms)*time.Millisecond, Input, rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := w.Close(time.Duration(ms+1) * time.Millisecond); err != nil {
			t.Fatal(err)
		}

		lines := strings.Split(b.String(), "\n")
		if lines[len(lines)-1] != "" {
			t.Fatalf("the recording does not end in a newline: %q", b.String())
		}
		var h struct {
			Version int    `json:"version"`
			Title   string `json:"title"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &h); err != nil || h.Version != 2 {
			t.Fatalf("header %q: %v", lines[0], err)
		}
		want := string([]rune(string(data))) // Go decodes each bad byte to U+FFFD
		if h.Title != want {
			t.Errorf("title %q, want %q", h.Title, want)
		}
		got := map[string]*strings.Builder{"o": {}, "i": {}} // not +=: thousands of events would make it quadratic
		last := -1.0
		for _, l := range lines[1 : len(lines)-1] {
			if !utf8.ValidString(l) {
				t.Fatalf("line not valid UTF-8: %q", l)
			}
			var ev []any
			if err := json.Unmarshal([]byte(l), &ev); err != nil || len(ev) != 3 {
				t.Fatalf("event %q: %v", l, err)
			}
			at, _ := ev[0].(float64)
			code, _ := ev[1].(string)
			text, _ := ev[2].(string)
			if at < last {
				t.Errorf("time goes back at %q", l)
			}
			last = at
			if text == "" {
				t.Errorf("empty event %q", l)
			}
			if got[code] == nil {
				t.Fatalf("unknown event code in %q", l)
			}
			got[code].WriteString(text)
		}
		for _, code := range []string{"o", "i"} {
			if got[code].String() != want {
				t.Errorf("stream %s: the events say %q, want %q", code, got[code].String(), want)
			}
		}
	})
}
