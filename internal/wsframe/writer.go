package wsframe

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"
	"wstelnet/internal/deadline"
)

// ErrCloseSent is returned by writes after a close frame went out: RFC 6455
// allows nothing after it, and one close frame only.
var ErrCloseSent = errors.New("websocket close frame already sent")

// Writer writes frames to a connection. Every frame written goes through
// one lock, in order, so the session's frames, the pongs the Reader sends
// and the close frame cannot interleave or follow the close. Every system
// call gets a write deadline (Timeout): a peer that stops reading holds
// the lock, and whoever waits for it, for at most that long.
type Writer struct {
	conn    net.Conn
	timeout time.Duration // each write's deadline; 0: none
	mask    bool          // client side: mask every frame

	mu      sync.Mutex // held by a batch from Begin to Flush
	closed  bool       // a close frame went out
	err     error      // a write failed: the stream may end mid-frame, so nothing more goes out
	pending []byte     // gathered frames
	writes  deadline.Writes
	iov     net.Buffers
}

// NewWriter writes frames to conn with a deadline of timeout for each
// write (0: none). mask is for the client side.
func NewWriter(conn net.Conn, timeout time.Duration, mask bool) *Writer {
	return &Writer{conn: conn, timeout: timeout, mask: mask}
}

// Begin starts a batch: until Flush, the caller owns the writer and adds
// frames with Add; other writers wait, so that many frames cost one lock
// and one system call.
func (w *Writer) Begin() { w.mu.Lock() }

// Add gathers one frame into the batch; only between Begin and Flush.
func (w *Writer) Add(op byte, payload []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.pending = w.appendFrame(w.pending, op, payload)
	return nil
}

// Flush writes the batch with one system call and ends it.
func (w *Writer) Flush() error {
	defer w.mu.Unlock()
	return w.writePending()
}

// WriteFrame sends one frame at once.
func (w *Writer) WriteFrame(op byte, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if w.mask || len(payload) < 4<<10 {
		w.pending = w.appendFrame(w.pending, op, payload)
		return w.writePending()
	}
	// A large frame: header and payload in one writev, without copying
	// the payload.
	w.pending = AppendHeader(w.pending, op, len(payload))
	w.iov = append(w.iov[:0], w.pending, payload)
	w.deadline()
	_, err := w.iov.WriteTo(w.conn)
	w.pending = w.pending[:0]
	return w.failed(err)
}

// WriteClose sends a close frame with code and reason (cut to fit, between
// characters). Only the first call sends anything; later ones, and writes
// of any kind, return ErrCloseSent. The frame is written and the writer
// marked closed in one critical section, so nothing can slip in after it.
func (w *Writer) WriteClose(code int, reason string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	var buf [2 + MaxCloseReason]byte
	err := w.writeLocked(OpClose, AppendClosePayload(buf[:0], code, reason))
	w.closed = true
	return err
}

// TryWriteClose sends a close frame as WriteClose does, but only if no
// other write is in progress, and within timeout: for a connection that
// is being replaced, which must not hold up the one that replaces it
// (a write blocked on a dead connection holds the writer until
// its own deadline). It reports whether the frame went out.
func (w *Writer) TryWriteClose(code int, reason string, timeout time.Duration) bool {
	if !w.mu.TryLock() {
		return false
	}
	defer w.mu.Unlock()
	if w.usable() != nil {
		return false
	}
	var buf [2 + MaxCloseReason]byte
	w.pending = w.appendFrame(w.pending, OpClose, AppendClosePayload(buf[:0], code, reason))
	w.conn.SetWriteDeadline(time.Now().Add(timeout))
	w.writes.Forget()
	_, err := w.conn.Write(w.pending)
	w.pending = w.pending[:0]
	w.closed = true
	return w.failed(err) == nil
}

// CloseSent reports whether a close frame was sent (or a write failed, so
// that none can be).
func (w *Writer) CloseSent() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed || w.err != nil
}

// usable returns why nothing more may be written, if so. Call with mu held.
func (w *Writer) usable() error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return ErrCloseSent
	}
	return nil
}

// failed remembers a write error. Call with mu held.
func (w *Writer) failed(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) writeLocked(op byte, payload []byte) error {
	w.pending = w.appendFrame(w.pending, op, payload)
	return w.writePending()
}

// appendFrame appends a whole frame, masked on the client side.
func (w *Writer) appendFrame(b []byte, op byte, payload []byte) []byte {
	if !w.mask {
		b = AppendHeader(b, op, len(payload))
		return append(b, payload...)
	}
	var key [4]byte
	k := rand.Uint32()
	key[0], key[1], key[2], key[3] = byte(k), byte(k>>8), byte(k>>16), byte(k>>24)
	b = AppendMaskedHeader(b, op, len(payload), key)
	start := len(b)
	b = append(b, payload...)
	Mask(key, 0, b[start:])
	return b
}

// writePending writes and empties pending. Call with mu held.
func (w *Writer) writePending() error {
	if len(w.pending) == 0 {
		return nil
	}
	if w.err != nil {
		w.pending = w.pending[:0]
		return w.err
	}
	w.deadline()
	_, err := w.conn.Write(w.pending)
	w.pending = w.pending[:0]
	if cap(w.pending) > 128<<10 {
		w.pending = nil // a burst is over; an idle session keeps little
	}
	return w.failed(err)
}

func (w *Writer) deadline() {
	w.writes.Renew(w.conn, w.timeout)
}
