package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
)

// frameWriter writes the gateway's WebSocket frames straight to the
// connection, below golang.org/x/net/websocket.
//
// Why: the library allocates three objects for every frame it writes and
// flushes each frame with its own system call, so a target that sends
// many short lines costs a syscall per line. The gateway uses the library
// for the handshake and for reading, and writes its own frames here, where
// the frames made from one read of the target are gathered and written
// with one system call. The library's own writes (pongs, which it sends
// while reading) come here too, through the bufio.Writer it is given, so
// every byte on the wire passes one lock, in order.
type frameWriter struct {
	conn  net.Conn  // the real connection
	owned bool      // a session took the connection over and will close it
	in    *eofWatch // what the library reads from

	mu      sync.Mutex // held by a batch from begin to flush
	closed  bool       // a close frame went out: nothing may follow it
	pending []byte     // gathered frames, or scratch space for one
	iov     net.Buffers
}

type frameWriterKey struct{}

// captureHijack makes the upgrade of r go through a frameWriter, which it
// returns; serveSession finds it in the request's context.
func captureHijack(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	fw := &frameWriter{}
	return hijackCapture{w, fw}, r.WithContext(context.WithValue(r.Context(), frameWriterKey{}, fw))
}

func frameWriterOf(r *http.Request) *frameWriter {
	fw, _ := r.Context().Value(frameWriterKey{}).(*frameWriter)
	return fw
}

type hijackCapture struct {
	http.ResponseWriter
	fw *frameWriter
}

// Hijack hands the library the connection as a sessionConn, with small
// buffers of its own instead of net/http's 4 KiB ones: the library only
// writes the handshake, pongs and protocol-error closes, and only reads
// frame headers through them (larger reads go around a bufio.Reader).
func (h hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.fw.conn = c
	var src io.Reader = c
	if n := rw.Reader.Buffered(); n > 0 { // a client that did not wait for the 101
		early, _ := rw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(early)), c)
	}
	h.fw.in = &eofWatch{r: src}
	return sessionConn{c}, bufio.NewReadWriter(bufio.NewReaderSize(h.fw.in, 512), bufio.NewWriterSize(h.fw, 256)), nil
}

// eofWatch notes whether the browser's connection ended, as opposed to the
// browser sending a close frame: the library reports both as io.EOF, and
// an operator wants to tell a user who left from a proxy that cut the line.
// Only the goroutine reading the WebSocket touches it.
type eofWatch struct {
	r   io.Reader
	eof bool
}

func (e *eofWatch) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// sessionConn is the connection as the library sees it. The library closes
// it when the handler returns, but the session outlives the handler (see
// serveSession), so Close does nothing here; the session closes the real
// connection, frameWriter.conn, when it ends.
type sessionConn struct{ net.Conn }

func (sessionConn) Close() error { return nil }

// closeUnowned closes a hijacked connection that no session took over,
// after a failed handshake.
func (w *frameWriter) closeUnowned() {
	if w.conn != nil && !w.owned {
		w.conn.Close()
	}
}

// Write takes the library's bytes: whole frames, since it flushes each.
func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn.Write(p)
}

// begin starts a batch: until flush, the caller owns the connection and
// adds frames with add; other writers wait, so that a read's lines cost
// one lock and one system call, not one per line.
func (w *frameWriter) begin() {
	w.mu.Lock()
}

// add gathers one frame into the batch; only between begin and flush.
func (w *frameWriter) add(op byte, payload []byte) error {
	if w.closed {
		return net.ErrClosed
	}
	w.pending = appendFrameHeader(w.pending, op, len(payload))
	w.pending = append(w.pending, payload...)
	return nil
}

// flush writes the batch with one system call and ends it.
func (w *frameWriter) flush() error {
	defer w.mu.Unlock()
	return w.writePending()
}

// writePending writes and empties pending. Call with mu held.
func (w *frameWriter) writePending() error {
	if len(w.pending) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.pending)
	w.pending = w.pending[:0]
	if cap(w.pending) > 128<<10 {
		w.pending = nil // a burst is over; an idle session keeps little
	}
	return err
}

// frame sends one frame at once.
func (w *frameWriter) frame(op byte, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return net.ErrClosed
	}
	w.pending = appendFrameHeader(w.pending, op, len(payload))
	if len(payload) < 4<<10 {
		w.pending = append(w.pending, payload...)
		return w.writePending()
	}
	// A large frame (v2 data): header and payload in one writev, without
	// copying the payload.
	w.iov = append(w.iov[:0], w.pending, payload)
	_, err := w.iov.WriteTo(w.conn)
	w.pending = w.pending[:0]
	return err
}

// close sends a close frame; nothing is sent after it.
func (w *frameWriter) close(code int, reason string) error {
	var payload [125]byte
	binary.BigEndian.PutUint16(payload[:], uint16(code))
	n := 2 + copy(payload[2:], reason)
	err := w.frame(opCloseFrame, payload[:n])
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return err
}

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opTextFrame   = 1
	opBinaryFrame = 2
	opCloseFrame  = 8
	opPingFrame   = 9
)

// appendFrameHeader appends the header of an unmasked, final frame, as a
// server sends them.
func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}
