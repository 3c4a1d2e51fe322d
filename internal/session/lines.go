package session

import (
	"bytes"
	"unicode/utf8"
)

// maxFrame is the most the gateway puts in one text frame. A longer line
// reaches the browser in pieces, so no line is ever held whole in memory.
const maxFrame = 64 << 10

// lineFramer cuts the target's byte stream (telnet commands already
// removed) into seed-protocol frames: one per line, without its line ending
// (LF or CR LF), always valid UTF-8, at most maxFrame bytes.
//
// It never copies a line that arrives whole in one Write; only the tail of a
// read that ends mid-line is kept, in line.
type lineFramer struct {
	emit func([]byte) error // sends one text frame; must not keep the slice

	line   []byte // the current unterminated line, shorter than maxFrame
	skipLF bool   // a flushed prompt ended in CR: a LF right after it ends no line
	held   bool   // the last Flush kept back an incomplete UTF-8 sequence
	fix    []byte // scratch space for UTF-8 repair
}

// Write feeds bytes from the target and emits every line they complete.
func (f *lineFramer) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	f.held = false
	if f.skipLF {
		f.skipLF = false
		if p[0] == '\n' {
			p = p[1:]
		}
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return f.hold(p)
		}
		var err error
		if len(f.line) == 0 && i <= maxFrame {
			// The common case: the whole line is in this read; send it from there.
			err = f.sendLine(p[:i])
		} else {
			if err = f.hold(p[:i]); err == nil {
				err = f.sendLine(f.line)
				f.line = f.line[:0]
			}
		}
		if err != nil {
			return err
		}
		p = p[i+1:]
	}
}

// Pending reports whether a partial line (a prompt, say) is waiting.
func (f *lineFramer) Pending() bool { return len(f.line) > 0 }

// Flush sends the partial line after a quiet spell, so that prompts such as
// "login: " show up. A UTF-8 sequence cut short at its end is kept back once,
// in case the rest is on its way; if nothing else came it is sent as U+FFFD.
func (f *lineFramer) Flush() error {
	n := len(f.line) - incompleteTail(f.line)
	if n == 0 && f.held {
		n = len(f.line)
	}
	f.held = n < len(f.line)
	if n == 0 {
		return nil
	}
	piece := f.line[:n]
	if piece[n-1] == '\r' && n == len(f.line) {
		// Probably the first half of CR LF: drop the CR now and the LF later,
		// rather than turning one line ending into an extra empty line.
		piece = piece[:n-1]
		f.skipLF = true
	}
	err := f.send(piece)
	f.line = f.line[:copy(f.line, f.line[n:])]
	return err
}

// Close sends whatever is left: the target's last line may have no ending.
func (f *lineFramer) Close() error {
	if len(f.line) == 0 {
		return nil
	}
	err := f.send(f.line)
	f.line = f.line[:0]
	return err
}

// hold appends p to the partial line, sending full-size pieces as it goes.
func (f *lineFramer) hold(p []byte) error {
	for len(f.line)+len(p) >= maxFrame {
		if len(f.line) == 0 {
			cut := pieceEnd(p)
			if err := f.send(p[:cut]); err != nil {
				return err
			}
			p = p[cut:]
			continue
		}
		need := maxFrame - len(f.line)
		f.line = append(f.line, p[:need]...)
		p = p[need:]
		cut := pieceEnd(f.line)
		if err := f.send(f.line[:cut]); err != nil {
			return err
		}
		f.line = f.line[:copy(f.line, f.line[cut:])]
	}
	if f.line == nil {
		f.line = make([]byte, 0, 512)
	}
	f.line = append(f.line, p...)
	return nil
}

// pieceEnd is where to cut a long line: at most maxFrame bytes, not inside
// a UTF-8 sequence and not between the CR and LF of a line ending.
func pieceEnd(p []byte) int {
	n := min(len(p), maxFrame)
	n -= incompleteTail(p[:n])
	if n > 1 && p[n-1] == '\r' {
		n--
	}
	if n == 0 { // only possible for tiny, odd inputs; never return 0 and loop
		n = min(len(p), maxFrame)
	}
	return n
}

// sendLine sends a complete line without its CR LF or LF.
func (f *lineFramer) sendLine(p []byte) error {
	if n := len(p); n > 0 && p[n-1] == '\r' {
		p = p[:n-1]
	}
	return f.send(p)
}

// send emits p as one frame, or several if UTF-8 repair made it too long.
func (f *lineFramer) send(p []byte) error {
	if utf8.Valid(p) {
		return f.emit(p)
	}
	f.fix = appendValidUTF8(f.fix[:0], p)
	p = f.fix
	for len(p) > maxFrame {
		cut := maxFrame
		for !utf8.RuneStart(p[cut]) {
			cut--
		}
		if err := f.emit(p[:cut]); err != nil {
			return err
		}
		p = p[cut:]
	}
	return f.emit(p)
}

// appendValidUTF8 appends p to dst with every byte that is not part of a
// valid UTF-8 sequence replaced by U+FFFD, as browsers decode it.
func appendValidUTF8(dst, p []byte) []byte {
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, p[:size]...)
		}
		p = p[size:]
	}
	return dst
}

// incompleteTail is the length of a UTF-8 sequence at the end of p that is
// valid so far but cut short, which the next read may complete.
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
