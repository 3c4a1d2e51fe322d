package wsframe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Frame is one frame as it was on the wire, unmasked.
type Frame struct {
	Fin     bool
	RSV     byte // the three reserved bits, in the low bits
	Op      byte
	Masked  bool
	Payload []byte
}

// Message is one whole data message: text or binary, reassembled from its
// fragments.
type Message struct {
	Text bool
	Data []byte // valid until the next ReadMessage
}

// CloseError is what ReadMessage returns when the peer sent a close frame.
// Code is CloseNoStatus (1005) for a close frame without a code. Answer is
// true when it answers a close frame we had sent first.
type CloseError struct {
	Code   int
	Reason string
	Answer bool
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket closed by peer with code %d", e.Code)
	}
	return fmt.Sprintf("websocket closed by peer with code %d: %s", e.Code, e.Reason)
}

// ProtocolError is what ReadMessage returns when the peer broke RFC 6455
// or the size limit: the connection was failed with a close frame carrying
// Code (1002 protocol error, 1007 invalid data, 1009 too big), and nothing
// more will be read.
type ProtocolError struct {
	Code   int
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("websocket protocol error (close %d): %s", e.Code, e.Reason)
}

// Reader reads the frames a peer sends. ReadFrame gives frames as they
// are; ReadMessage, for the server side, enforces RFC 6455, answers pings
// and closes through its Writer, and returns whole data messages. One
// goroutine at a time may read.
type Reader struct {
	br         *bufio.Reader
	fromClient bool    // frames must be masked (we are the server)
	w          *Writer // answers pings and closes; may be nil
	max        int     // largest message; 0: no limit

	msg      []byte // the message being reassembled
	frag     bool   // a message is open: its first frame came, its last not yet
	fragText bool
	hdr      [MaxHeader]byte
	failed   error // sticky: a protocol error or the peer's close
	lastPong atomic.Int64
}

// NewReader reads frames from br. fromClient says the frames come from a
// client and so must be masked; w, if set, answers pings and closes.
func NewReader(br *bufio.Reader, fromClient bool, w *Writer) *Reader {
	return &Reader{br: br, fromClient: fromClient, w: w}
}

// SetMaxMessage bounds the size of a message, fragments included; a larger
// one fails the connection with 1009. 0: no limit.
func (r *Reader) SetMaxMessage(n int) { r.max = n }

// LastPong is when the last pong arrived (zero if none has).
func (r *Reader) LastPong() time.Time {
	if ns := r.lastPong.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Header is a frame header as read; the payload, Len bytes, follows it.
type Header struct {
	Fin    bool
	RSV    byte
	Op     byte
	Masked bool
	Len    uint64
	Key    [4]byte
}

// ReadHeader reads one frame header, checking nothing; the caller then
// reads the payload with ReadPayload or drops it with Discard. For a
// client that wants to count a server's bytes without copying them (the
// benchmark harness).
func (r *Reader) ReadHeader() (Header, error) {
	f, n, key, err := r.readHeader()
	return Header{Fin: f.Fin, RSV: f.RSV, Op: f.Op, Masked: f.Masked, Len: n, Key: key}, err
}

// ReadPayload reads h's payload onto the end of dst, unmasked.
func (r *Reader) ReadPayload(dst []byte, h Header) ([]byte, error) {
	return r.readPayload(dst, int(h.Len), h.Masked, h.Key)
}

// Discard drops h's payload.
func (r *Reader) Discard(h Header) error {
	_, err := r.br.Discard(int(h.Len))
	return unexpected(err)
}

// ReadFrame reads one frame, checking nothing but its length. Its payload
// is unmasked and valid until the next read. A frame longer than limit
// (when limit > 0) is not read: it returns a *ProtocolError with
// CloseTooBig and leaves the stream there.
func (r *Reader) ReadFrame(limit int) (Frame, error) {
	f, n, key, err := r.readHeader()
	if err != nil {
		return f, err
	}
	if limit > 0 && n > uint64(limit) {
		return f, &ProtocolError{CloseTooBig, fmt.Sprintf("frame larger than %d bytes", limit)}
	}
	if cap(r.msg) > 64<<10 && n <= 64<<10 {
		r.msg = nil // a big frame is over; keep little
	}
	r.msg, err = r.readPayload(r.msg[:0], int(n), f.Masked, key)
	f.Payload = r.msg
	return f, err
}

// readHeader reads a frame header: the frame without its payload, the
// payload's length and the masking key.
func (r *Reader) readHeader() (f Frame, n uint64, key [4]byte, err error) {
	h := r.hdr[:2]
	if _, err := io.ReadFull(r.br, h); err != nil {
		return f, 0, key, err
	}
	f = Frame{Fin: h[0]&0x80 != 0, RSV: h[0] >> 4 & 7, Op: h[0] & 0x0f, Masked: h[1]&0x80 != 0}
	n = uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(r.br, r.hdr[2:4]); err != nil {
			return f, 0, key, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(r.hdr[2:4]))
	case 127:
		if _, err := io.ReadFull(r.br, r.hdr[2:10]); err != nil {
			return f, 0, key, unexpected(err)
		}
		n = binary.BigEndian.Uint64(r.hdr[2:10])
		if n>>63 != 0 {
			return f, 0, key, &ProtocolError{CloseProtocolError, "frame length has its most significant bit set"}
		}
	}
	if f.Masked {
		// Read into the Reader, not into key: a local array handed to an
		// io.Reader would be moved to the heap, one allocation per frame.
		if _, err := io.ReadFull(r.br, r.hdr[10:14]); err != nil {
			return f, 0, key, unexpected(err)
		}
		key = [4]byte(r.hdr[10:14])
	}
	return f, n, key, nil
}

// readPayload reads an n-byte payload onto the end of dst and unmasks it.
func (r *Reader) readPayload(dst []byte, n int, masked bool, key [4]byte) ([]byte, error) {
	start := len(dst)
	if need := start + n; need > cap(dst) {
		dst = append(dst[:cap(dst)], make([]byte, need-cap(dst))...)
	}
	dst = dst[:start+n]
	if _, err := io.ReadFull(r.br, dst[start:]); err != nil {
		return dst[:start], unexpected(err)
	}
	if masked {
		Mask(key, 0, dst[start:])
	}
	return dst, nil
}

// unexpected turns an EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadMessage returns the next data message. Pings are answered with a
// pong carrying the same payload, pongs are noted (LastPong), fragments
// are joined. It returns a *CloseError when the peer closes (and answers
// its close frame, once), a *ProtocolError when the peer broke the
// protocol (after sending the close frame that says so), and the
// connection's error (io.EOF, io.ErrUnexpectedEOF, a timeout...) when the
// connection ended or failed without a close frame. Every check is made on
// the header, before the payload is read.
func (r *Reader) ReadMessage() (Message, error) { return r.readMessage(nil) }

// readMessage is ReadMessage; arm, if set, is called before each read of
// a frame header that would have to wait for the connection between
// messages, to make that read return ErrQuiet instead (TryReadMessage).
func (r *Reader) readMessage(arm func()) (Message, error) {
	if r.failed != nil {
		return Message{}, r.failed
	}
	if cap(r.msg) > 64<<10 {
		r.msg = nil // a big message is over; an idle session keeps little
	}
	r.msg, r.frag = r.msg[:0], false
	for {
		if arm != nil && !r.frag && r.br.Buffered() == 0 {
			arm()
		}
		f, n, key, err := r.readHeader()
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				return Message{}, r.fail(pe.Code, pe.Reason)
			}
			return Message{}, err
		}
		if err := r.check(f, n); err != nil {
			return Message{}, err
		}
		if isControl(f.Op) {
			// Control frames may come between a message's fragments: they
			// are read after it and taken off again.
			start := len(r.msg)
			p, err := r.readPayload(r.msg, int(n), f.Masked, key)
			r.msg = p[:start]
			if err != nil {
				return Message{}, err
			}
			if err := r.control(f.Op, p[start:]); err != nil {
				return Message{}, err
			}
			continue
		}
		if r.msg, err = r.readPayload(r.msg, int(n), f.Masked, key); err != nil {
			return Message{}, err
		}
		if !f.Fin {
			continue
		}
		r.frag = false
		if r.fragText && !utf8.Valid(r.msg) {
			return Message{}, r.fail(CloseInvalidData, "text message is not valid UTF-8")
		}
		return Message{Text: r.fragText, Data: r.msg}, nil
	}
}

// check applies RFC 6455's rules and the size limit to a frame header with
// an n-byte payload, and fails the connection if it breaks one.
func (r *Reader) check(f Frame, n uint64) error {
	switch {
	case f.RSV != 0:
		return r.fail(CloseProtocolError, "reserved bits set without an extension")
	case r.fromClient && !f.Masked:
		return r.fail(CloseProtocolError, "client frame not masked")
	case !r.fromClient && f.Masked:
		return r.fail(CloseProtocolError, "server frame masked")
	}
	switch f.Op {
	case OpClose, OpPing, OpPong:
		switch {
		case !f.Fin:
			return r.fail(CloseProtocolError, "fragmented control frame")
		case n > MaxControlPayload:
			return r.fail(CloseProtocolError, "control frame longer than 125 bytes")
		}
		return nil
	case OpText, OpBinary:
		if r.frag {
			return r.fail(CloseProtocolError, "new message before the last fragment of the previous one")
		}
		r.frag, r.fragText = true, f.Op == OpText
	case OpContinuation:
		if !r.frag {
			return r.fail(CloseProtocolError, "continuation frame without a message to continue")
		}
	default:
		return r.fail(CloseProtocolError, fmt.Sprintf("unknown opcode %#x", f.Op))
	}
	if r.max > 0 && n > uint64(r.max-len(r.msg)) {
		return r.fail(CloseTooBig, fmt.Sprintf("message larger than %d bytes", r.max))
	}
	return nil
}

// control acts on a ping, pong or close.
func (r *Reader) control(op byte, payload []byte) error {
	switch op {
	case OpPing:
		if r.w != nil {
			// A failed pong is the connection failing; the next read says so.
			r.w.WriteFrame(OpPong, payload)
		}
		return nil
	case OpPong:
		r.lastPong.Store(time.Now().UnixNano())
		return nil
	}
	code, reason := CloseNoStatus, ""
	switch {
	case len(payload) == 1:
		return r.fail(CloseProtocolError, "close frame with a 1-byte payload")
	case len(payload) >= 2:
		code = int(binary.BigEndian.Uint16(payload))
		if !ValidCloseCode(code) {
			return r.fail(CloseProtocolError, fmt.Sprintf("invalid close code %d", code))
		}
		if !utf8.Valid(payload[2:]) {
			return r.fail(CloseInvalidData, "close reason is not valid UTF-8")
		}
		reason = string(payload[2:])
	}
	ours := false
	if r.w != nil {
		// Answer with the peer's code, as RFC 6455 section 5.5.1 suggests;
		// if we had closed first, this sends nothing.
		ours = r.w.CloseSent()
		answer := code
		if answer == CloseNoStatus {
			answer = CloseNormal
		}
		r.w.WriteClose(answer, "")
	}
	r.failed = &CloseError{Code: code, Reason: reason, Answer: ours}
	return r.failed
}

// fail fails the connection: one close frame with code, and every later
// read returns the same error.
func (r *Reader) fail(code int, reason string) error {
	if r.w != nil {
		r.w.WriteClose(code, reason)
	}
	r.failed = &ProtocolError{Code: code, Reason: reason}
	return r.failed
}
