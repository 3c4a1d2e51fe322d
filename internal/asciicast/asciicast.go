// Package asciicast writes terminal session recordings in asciicast v2,
// the format asciinema records and plays:
// a JSON header line, then one JSON array per event,
// [seconds, "o"|"i"|"r"|"m", text].
//
// It is a pure encoder: it writes to an io.Writer it is given and takes
// each event's time from the caller. Output and input are byte streams
// decoded as UTF-8 with replacement (each byte that is not part of a valid
// sequence becomes U+FFFD), and a character split between two chunks is
// held back and written whole with the second, so every event is valid
// UTF-8 and the text of all events is the stream decoded in one piece.
package asciicast

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Header is what the first line says about the recording.
type Header struct {
	Width, Height int       // the terminal's size at the start
	Timestamp     time.Time // when the recording started
	Title         string
	Term          string // env.TERM; "" leaves env out
}

// ErrLimit is returned once the recording has reached its size limit.
var ErrLimit = errors.New("asciicast: the recording reached its size limit")

// markerRoom is kept free below Writer.max for the marker that says the
// recording stopped.
const markerRoom = 256

// Writer writes one recording. Its methods are not safe for concurrent use.
type Writer struct {
	w       io.Writer
	max     int64 // 0: no limit
	written int64
	err     error // sticky: ErrLimit or the first write error

	pending [2][]byte // an incomplete UTF-8 sequence held back, per stream
	line    []byte    // scratch space for one event
	join    []byte    // scratch space for a held character and the next chunk
}

// Streams of bytes, as the event codes say.
const (
	Output = 'o'
	Input  = 'i'
)

// NewWriter writes h as the header line and returns a Writer for the
// events. With max > 0, the recording stops before the event that would
// take it past max bytes, with a marker event saying so; max must leave
// room for the header and that marker.
func NewWriter(w io.Writer, h Header, max int64) (*Writer, error) {
	cw := &Writer{w: w, max: max}
	b := []byte(`{"version": 2, "width": `)
	b = strconv.AppendInt(b, int64(h.Width), 10)
	b = append(b, `, "height": `...)
	b = strconv.AppendInt(b, int64(h.Height), 10)
	b = append(b, `, "timestamp": `...)
	b = strconv.AppendInt(b, h.Timestamp.Unix(), 10)
	b = append(b, `, "title": `...)
	b = appendString(b, []byte(h.Title))
	if h.Term != "" {
		b = append(b, `, "env": {"TERM": `...)
		b = appendString(b, []byte(h.Term))
		b = append(b, '}')
	}
	b = append(b, "}\n"...)
	if max > 0 && int64(len(b))+markerRoom > max {
		return nil, fmt.Errorf("asciicast: a limit of %d bytes leaves no room for events", max)
	}
	if err := cw.write(b); err != nil {
		return nil, err
	}
	return cw, nil
}

// Written is the number of bytes written so far.
func (cw *Writer) Written() int64 { return cw.written }

// Write adds p, a chunk of the output ('o') or input ('i') stream, at t
// since the start. Bytes of a character that p cuts short are held back
// for the next chunk of the same stream; a chunk that completes no
// character writes no event.
func (cw *Writer) Write(t time.Duration, stream byte, p []byte) error {
	if cw.err != nil {
		return cw.err
	}
	i := 0
	if stream == Input {
		i = 1
	}
	if len(cw.pending[i]) > 0 {
		// Rare: a character was cut between chunks. Decode the two as one.
		cw.join = append(append(cw.join[:0], cw.pending[i]...), p...)
		p = cw.join
		cw.pending[i] = cw.pending[i][:0]
	}
	n := incompleteTail(p)
	var err error
	if len(p) > n {
		err = cw.event(t, stream, p[:len(p)-n])
	}
	cw.pending[i] = append(cw.pending[i], p[len(p)-n:]...)
	return err
}

// Resize records that the terminal is now cols by rows.
func (cw *Writer) Resize(t time.Duration, cols, rows int) error {
	if cw.err != nil {
		return cw.err
	}
	return cw.event(t, 'r', fmt.Appendf(nil, "%dx%d", cols, rows))
}

// Marker adds a marker event with a label.
func (cw *Writer) Marker(t time.Duration, label string) error {
	if cw.err != nil {
		return cw.err
	}
	return cw.event(t, 'm', []byte(label))
}

// Close writes what is still held back of a character, as U+FFFD, at t.
// It does not close the underlying writer.
func (cw *Writer) Close(t time.Duration) error {
	for i, stream := range []byte{Output, Input} {
		if len(cw.pending[i]) > 0 && cw.err == nil {
			cw.event(t, stream, cw.pending[i])
		}
		cw.pending[i] = nil
	}
	if cw.err == ErrLimit {
		return nil // the limit is not a failure of the recording
	}
	return cw.err
}

// event writes [t, "code", text] as one line, or the limit marker if it
// would not fit.
func (cw *Writer) event(t time.Duration, code byte, text []byte) error {
	l := appendPrefix(cw.line[:0], t, code)
	l = appendString(l, text)
	l = append(l, "]\n"...)
	cw.line = l
	if cw.max > 0 && cw.written+int64(len(l))+markerRoom > cw.max {
		l = appendPrefix(l[:0], t, 'm')
		l = appendString(l, fmt.Appendf(nil, "recording stopped: it reached its limit of %d bytes", cw.max))
		l = append(l, "]\n"...)
		if err := cw.write(l); err != nil {
			return err
		}
		cw.err = ErrLimit
		return ErrLimit
	}
	return cw.write(l)
}

func appendPrefix(l []byte, t time.Duration, code byte) []byte {
	l = append(l, '[')
	l = strconv.AppendFloat(l, t.Seconds(), 'f', 6, 64)
	l = append(l, ", \""...)
	l = append(l, code)
	return append(l, "\", "...)
}

func (cw *Writer) write(p []byte) error {
	n, err := cw.w.Write(p)
	cw.written += int64(n)
	if err != nil {
		cw.err = err
	}
	return err
}

// appendString appends p, decoded as UTF-8 with replacement, as a JSON string.
func appendString(dst []byte, p []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for len(p) > 0 {
		c := p[0]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			p = p[1:]
			continue
		}
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, p[:size]...)
		}
		p = p[size:]
	}
	return append(dst, '"')
}

// incompleteTail is the length of a UTF-8 sequence at the end of p that is
// valid so far but cut short, which the next chunk may complete.
func incompleteTail(p []byte) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(p); i++ {
		c := p[len(p)-i]
		if c < utf8.RuneSelf {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(p[len(p)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}
