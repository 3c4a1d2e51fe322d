//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// link is one client session through a contender to the target.
type link struct {
	c   *contender
	raw net.Conn      // kindRaw
	rr  *bufio.Reader // kindRaw
	ws  *wsConn       // the others

	splits    int64 // lines that the last drain got in two frames
	closeOnce sync.Once
}

// open connects to the target through c: for the gateway and the naive
// relay, a WebSocket handshake, then host:port and SUCC.
func open(c *contender, targetAddr string) (*link, error) {
	if c.kind == kindRaw {
		addr := targetAddr
		if c.srv != nil { // the plain TCP relay, which knows the target
			addr = c.srv.addr
		}
		conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s: connect to %s: %w", c.name, addr, err)
		}
		return &link{c: c, raw: conn, rr: bufio.NewReaderSize(conn, 64<<10)}, nil
	}
	ws, err := dialWS(c.srv.addr, c.path, c.proto)
	if err != nil {
		return nil, err
	}
	l := &link{c: c, ws: ws}
	if c.proto != "" && ws.protocol != c.proto {
		l.close()
		return nil, fmt.Errorf("%s: offered subprotocol %s, the server confirmed %q", c.name, c.proto, ws.protocol)
	}
	if c.kind == kindWebsockify {
		return l, nil
	}
	ws.conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer ws.conn.SetDeadline(time.Time{})
	if err := ws.write(opText, []byte(targetAddr)); err != nil {
		l.close()
		return nil, fmt.Errorf("%s: send the target: %w", c.name, err)
	}
	op, p, err := ws.message()
	switch {
	case err != nil:
		err = fmt.Errorf("%s: no answer to host:port: %w", c.name, err)
	case op != opText || string(p) != "SUCC":
		err = fmt.Errorf("%s: answer to host:port is %q, want SUCC", c.name, p)
	}
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// close ends the session; it may be called more than once, and from
// another goroutine (on Ctrl-C) while the session is in use.
func (l *link) close() {
	l.closeOnce.Do(func() {
		if l.raw != nil {
			l.raw.Close()
		} else {
			l.ws.close()
		}
	})
}

func (l *link) setDeadline(t time.Time) {
	if l.raw != nil {
		l.raw.SetDeadline(t)
	} else {
		l.ws.conn.SetDeadline(t)
	}
}

// command sends the target its instructions (see target) as one line.
func (l *link) command(format string, a ...any) error {
	cmd := fmt.Sprintf(format, a...)
	var err error
	switch l.c.kind {
	case kindRaw:
		_, err = io.WriteString(l.raw, cmd+"\n")
	case kindLines:
		err = l.ws.write(opText, []byte(cmd)) // the relay adds CR LF
	default:
		err = l.ws.write(opBinary, []byte(cmd+"\n"))
	}
	if err != nil {
		return fmt.Errorf("%s: send %q: %w", l.c.name, cmd, err)
	}
	return nil
}

// lossError is a download that ended cleanly, with a close, but short:
// the relay dropped the tail of what the target sent before closing.
type lossError struct {
	name      string
	got, want int64
}

func (e *lossError) Error() string {
	return fmt.Sprintf("%s: received %d bytes, want %d: the last %d were lost", e.name, e.got, e.want, e.want-e.got)
}

// drain receives everything until the relay or the target closes, and
// checks that exactly want bytes of the target's lines arrived. It returns
// the bytes received, which a *lossError says fell short.
//
// For the line protocols a text frame is a line without its LF: the
// payloads must add up to the lines' characters, and there must be a frame
// per line. There may be more: v1 sends a partial line after 50 ms without
// data (for prompts), so a line the target was slow to finish arrives in
// two frames; l.splits counts those.
func (l *link) drain(want int64) (int64, error) {
	var got, frames int64
	var err error
	l.splits = 0
	if l.c.kind == kindRaw {
		got, err = io.Copy(io.Discard, l.rr)
	} else {
		for {
			var op byte
			var n int
			if op, n, err = l.ws.next(); err != nil {
				break
			}
			if err = l.ws.skip(n); err != nil {
				break
			}
			switch {
			case op == opBinary:
				got += int64(n)
			case l.c.kind == kindLines:
				got += int64(n)
				frames++
			}
			// Text frames in v2 are control messages ("closed"): not data.
		}
		if errors.Is(err, errClosed) {
			err = nil
		}
	}
	if l.c.kind == kindLines {
		lines := want / lineLen
		if chars := lines * (lineLen - 1); err == nil && got == chars && frames < lines {
			return got, fmt.Errorf("%s: %d lines arrived in %d text frames: lines were joined", l.c.name, lines, frames)
		}
		l.splits = max(frames-lines, 0)
		got += min(frames, lines) // the LFs
	}
	switch {
	case err != nil:
		return got, fmt.Errorf("%s: receive after %d of %d bytes: %w", l.c.name, got, want, err)
	case got < want:
		return got, &lossError{l.c.name, got, want}
	case got > want:
		return got, fmt.Errorf("%s: received %d bytes, want %d", l.c.name, got, want)
	}
	return got, nil
}

// upload sends size bytes of lines (size a whole number of lines) and waits
// for the target to confirm it received them all. The line protocols send
// one text message per line, without its LF, and the relay sends it on as
// the line and CR LF; the others send 32 KiB binary messages (raw TCP,
// 32 KiB writes).
func (l *link) upload(size int64, pattern []byte) error {
	atTarget := size
	if l.c.kind == kindLines {
		atTarget = size / lineLen * (lineLen + 1)
	}
	if err := l.command("sink %d", atTarget); err != nil {
		return err
	}
	var err error
	switch l.c.kind {
	case kindRaw:
		err = writeChunks(size, pattern, func(p []byte) error { _, err := l.raw.Write(p); return err })
	case kindLines:
		// Frames are batched into writes of about 64 KiB, so that the
		// client makes few system calls while the relay gets a message
		// per line, as from a person typing very fast.
		buf := make([]byte, 0, 80<<10)
		for sent := int64(0); sent < size && err == nil; {
			buf = buf[:0]
			for ; sent < size && len(buf) < 64<<10; sent += lineLen {
				off := int(sent % int64(len(pattern)))
				buf = appendFrame(buf, opText, pattern[off:off+lineLen-1], l.ws.key)
			}
			_, err = l.ws.conn.Write(buf)
		}
	default:
		err = writeChunks(size, pattern, func(p []byte) error { return l.ws.write(opBinary, p) })
	}
	if err != nil {
		return fmt.Errorf("%s: upload: %w", l.c.name, err)
	}
	return l.awaitDone()
}

// writeChunks calls write with successive 32 KiB pieces of the repeated
// pattern, size bytes in all.
func writeChunks(size int64, pattern []byte, write func([]byte) error) error {
	const chunk = 32 << 10
	for sent := int64(0); sent < size; {
		off := int(sent % int64(len(pattern)))
		n := min(int64(chunk), size-sent, int64(len(pattern)-off))
		if err := write(pattern[off : off+int(n)]); err != nil {
			return err
		}
		sent += n
	}
	return nil
}

// awaitDone waits for the sink's "done" line.
func (l *link) awaitDone() error {
	var err error
	switch l.c.kind {
	case kindRaw:
		var line string
		if line, err = l.rr.ReadString('\n'); err == nil && line != "done\n" {
			err = fmt.Errorf("got %q", line)
		}
	default:
		var got []byte
		for err == nil && !bytes.Contains(got, []byte("done")) {
			var p []byte
			if _, p, err = l.ws.message(); err == nil {
				got = append(got, p...)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s: wait for the target to confirm the upload: %w", l.c.name, err)
	}
	return nil
}

// roundTrip sends msg (a line ending in LF) to the echo target and waits
// for it to come back. The line protocols send it without the LF and get
// the echoed line back as one text frame.
func (l *link) roundTrip(msg, buf []byte) error {
	var err error
	switch l.c.kind {
	case kindRaw:
		if _, err = l.raw.Write(msg); err == nil {
			_, err = io.ReadFull(l.rr, buf[:len(msg)])
		}
	case kindLines:
		if err = l.ws.write(opText, msg[:len(msg)-1]); err == nil {
			var n int
			if _, n, err = l.ws.next(); err == nil {
				err = l.ws.skip(n)
				if err == nil && n != len(msg)-1 {
					err = fmt.Errorf("echo of %d bytes, want %d", n, len(msg)-1)
				}
			}
		}
	default:
		if err = l.ws.write(opBinary, msg); err != nil {
			break
		}
		for got := 0; got < len(msg) && err == nil; {
			var op byte
			var n int
			if op, n, err = l.ws.next(); err == nil {
				err = l.ws.skip(n)
				if op == opBinary {
					got += n
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s: round trip: %w", l.c.name, err)
	}
	return nil
}
