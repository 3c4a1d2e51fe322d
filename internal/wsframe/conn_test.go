package wsframe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// pair connects a server Conn and a raw client socket over loopback.
func pair(t *testing.T, opts Options) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return newConn(server, nil, opts), client
}

// masked is a client frame: header byte b0 (FIN, RSV and opcode as
// given), masked payload.
func masked(b0 byte, payload []byte) []byte {
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	f := appendHeader(nil, b0, 0x80, len(payload))
	f = append(f, key[:]...)
	start := len(f)
	f = append(f, payload...)
	Mask(key, 0, f[start:])
	return f
}

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// serverFrames reads every frame the server sent until it closed the
// connection: exact frames, as a browser would see them.
func serverFrames(t *testing.T, c net.Conn) []Frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := NewReader(bufio.NewReader(c), false, nil)
	var out []Frame
	for {
		f, err := r.ReadFrame(0)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
				t.Errorf("reading the server's frames: %v", err)
			}
			return out
		}
		f.Payload = bytes.Clone(f.Payload)
		out = append(out, f)
		if f.Op == OpClose {
			// As a browser does: answer, then wait for the server to
			// close the connection, reading on to see that nothing follows.
			c.Write(masked(0x88, f.Payload[:min(2, len(f.Payload))]))
			c.(*net.TCPConn).CloseWrite()
		}
	}
}

// TestReaderRules sends each breach of RFC 6455 as exact bytes and checks
// that the server answers with exactly one close frame with the right
// code, and returns the matching error.
func TestReaderRules(t *testing.T) {
	long := make([]byte, 126)
	for _, tc := range []struct {
		name  string
		wire  []byte
		code  int // the close code the server must send
		peer  bool
		first string // a message that must be read before the failure
	}{
		{name: "unmasked frame", wire: appendHeader(nil, 0x81, 0, 2), code: CloseProtocolError},
		{name: "RSV1", wire: masked(0xC1, []byte("hi")), code: CloseProtocolError},
		{name: "RSV3", wire: masked(0x91, []byte("hi")), code: CloseProtocolError},
		{name: "unknown data opcode", wire: masked(0x83, []byte("hi")), code: CloseProtocolError},
		{name: "unknown control opcode", wire: masked(0x8B, nil), code: CloseProtocolError},
		{name: "orphan continuation", wire: masked(0x80, []byte("hi")), code: CloseProtocolError},
		{name: "new message inside a fragmented one", wire: append(masked(0x01, []byte("a")), masked(0x81, []byte("b"))...), code: CloseProtocolError},
		{name: "64-bit length with top bit", wire: []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, code: CloseProtocolError},
		{name: "invalid UTF-8 text", wire: masked(0x81, []byte{'a', 0xff}), code: CloseInvalidData},
		{name: "invalid UTF-8 across fragments", wire: append(masked(0x01, []byte{0xe2, 0x82}), masked(0x80, []byte{'x'})...), code: CloseInvalidData},
		{name: "ping of 126 bytes", wire: masked(0x89, long), code: CloseProtocolError},
		{name: "fragmented ping", wire: masked(0x09, []byte("p")), code: CloseProtocolError},
		{name: "close code 1005", wire: masked(0x88, closePayload(1005, "")), code: CloseProtocolError},
		{name: "close code 999", wire: masked(0x88, closePayload(999, "")), code: CloseProtocolError},
		{name: "close with 1-byte payload", wire: masked(0x88, []byte{3}), code: CloseProtocolError},
		{name: "close reason not UTF-8", wire: masked(0x88, closePayload(1000, "\xff")), code: CloseInvalidData},
		{name: "too big", wire: masked(0x82, make([]byte, 101)), code: CloseTooBig},
		{name: "too big in fragments", wire: append(masked(0x02, make([]byte, 60)), masked(0x80, make([]byte, 60))...), code: CloseTooBig},
		{name: "close 1000 answered with 1000", wire: masked(0x88, closePayload(1000, "bye")), code: CloseNormal, peer: true},
		{name: "close 4001 answered with 4001", wire: masked(0x88, closePayload(4001, "")), code: 4001, peer: true},
		{name: "empty close answered with 1000", wire: masked(0x88, nil), code: CloseNormal, peer: true},
		{name: "message then unmasked", wire: append(masked(0x81, []byte("ok")), appendHeader(nil, 0x81, 0, 0)...), code: CloseProtocolError, first: "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := pair(t, Options{MaxMessage: 100, WriteTimeout: 5 * time.Second})
			if _, err := c.Write(tc.wire); err != nil {
				t.Fatal(err)
			}
			if tc.first != "" {
				m, err := s.ReadMessage()
				if err != nil || string(m.Data) != tc.first {
					t.Fatalf("first message: %q, %v", m.Data, err)
				}
			}
			_, err := s.ReadMessage()
			var pe *ProtocolError
			var ce *CloseError
			switch {
			case tc.peer && !errors.As(err, &ce):
				t.Fatalf("got %v, want a CloseError", err)
			case !tc.peer && (!errors.As(err, &pe) || pe.Code != tc.code):
				t.Fatalf("got %v, want a ProtocolError with %d", err, tc.code)
			}
			if _, again := s.ReadMessage(); again != err {
				t.Errorf("a second read returned %v, want the same error", again)
			}
			// The session would now try its own close: it must not go out.
			if err := s.WriteClose(CloseNormal, "late"); !errors.Is(err, ErrCloseSent) {
				t.Errorf("a second WriteClose returned %v, want ErrCloseSent", err)
			}
			got := make(chan []Frame)
			go func() { got <- serverFrames(t, c) }()
			s.Linger(5 * time.Second)
			frames := <-got
			if len(frames) != 1 || frames[0].Op != OpClose {
				t.Fatalf("server sent %d frames (%v), want exactly one close frame", len(frames), frames)
			}
			if got := int(binary.BigEndian.Uint16(frames[0].Payload)); got != tc.code {
				t.Errorf("close code %d (%q), want %d", got, frames[0].Payload[2:], tc.code)
			}
		})
	}
}

// TestReaderReassembles: fragments, with control frames between them,
// make one message; the ping in the middle is answered with its payload.
func TestReaderReassembles(t *testing.T) {
	s, c := pair(t, Options{MaxMessage: 100, WriteTimeout: 5 * time.Second})
	var wire []byte
	wire = append(wire, masked(0x01, []byte("hel"))...)
	wire = append(wire, masked(0x89, []byte("are you there"))...)
	wire = append(wire, masked(0x8A, nil)...) // an unsolicited pong is fine
	wire = append(wire, masked(0x00, []byte("lo, "))...)
	wire = append(wire, masked(0x80, []byte("wörld"))...)
	wire = append(wire, masked(0x82, []byte{0xff, 0})...)
	c.Write(wire)
	m, err := s.ReadMessage()
	if err != nil || !m.Text || string(m.Data) != "hello, wörld" {
		t.Fatalf("got %q text=%v err=%v, want one text message", m.Data, m.Text, err)
	}
	m, err = s.ReadMessage()
	if err != nil || m.Text || !bytes.Equal(m.Data, []byte{0xff, 0}) {
		t.Fatalf("got %q text=%v err=%v, want the binary message", m.Data, m.Text, err)
	}
	if s.Reader().LastPong().IsZero() {
		t.Error("the pong was not noted")
	}
	s.Close()
	frames := serverFrames(t, c)
	if len(frames) != 1 || frames[0].Op != OpPong || string(frames[0].Payload) != "are you there" {
		t.Fatalf("server sent %v, want one pong with the ping's payload", frames)
	}
}

// TestEndWithoutClose: a connection that ends without a close frame is
// io.EOF, or io.ErrUnexpectedEOF inside a frame, never a CloseError.
func TestEndWithoutClose(t *testing.T) {
	for _, tc := range []struct {
		wire []byte
		want error
	}{
		{nil, io.EOF},
		{masked(0x81, []byte("hello"))[:5], io.ErrUnexpectedEOF},
	} {
		s, c := pair(t, Options{})
		c.Write(tc.wire)
		c.Close()
		if _, err := s.ReadMessage(); !errors.Is(err, tc.want) {
			t.Errorf("got %v, want %v", err, tc.want)
		}
	}
}

// TestCloseOnce races data frames, batches and pongs against two closes:
// exactly one close frame goes out, and nothing after it.
func TestCloseOnce(t *testing.T) {
	for i := 0; i < 20; i++ {
		s, c := pair(t, Options{WriteTimeout: 5 * time.Second})
		var frames []Frame
		done := make(chan struct{})
		go func() { frames = serverFrames(t, c); close(done) }()
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; ; j++ {
					var err error
					switch j % 3 {
					case 0:
						err = s.Writer().WriteFrame(OpBinary, []byte("data"))
					case 1:
						w := s.Writer()
						w.Begin()
						w.Add(OpText, []byte("a"))
						w.Add(OpText, []byte("b"))
						err = w.Flush()
					case 2:
						err = s.Writer().WriteFrame(OpPong, nil)
					}
					if err != nil {
						return
					}
				}
			}()
		}
		wg.Add(2)
		go func() { defer wg.Done(); s.WriteClose(CloseGoingAway, "one") }()
		go func() { defer wg.Done(); s.WriteClose(CloseNormal, "two") }()
		wg.Wait()
		s.Close()
		<-done
		closes := 0
		for k, f := range frames {
			if f.Op == OpClose {
				closes++
				if k != len(frames)-1 {
					t.Fatalf("%d frames after the close frame", len(frames)-1-k)
				}
			}
		}
		if closes != 1 {
			t.Fatalf("%d close frames, want 1", closes)
		}
	}
}

// TestPongsDuringFlood floods pings while the server writes data from
// another goroutine: every ping gets its own pong, in order, and no frame
// is torn. Run it with -race.
func TestPongsDuringFlood(t *testing.T) {
	s, c := pair(t, Options{WriteTimeout: 5 * time.Second})
	const pings = 2000
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the session's reader
		defer wg.Done()
		for {
			if _, err := s.ReadMessage(); err != nil {
				return
			}
		}
	}()
	go func() { // the session's writer
		defer wg.Done()
		data := bytes.Repeat([]byte("x"), 3000)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s.Writer().WriteFrame(OpBinary, data) != nil {
				return
			}
		}
	}()
	go func() {
		var wire []byte
		for i := 0; i < pings; i++ {
			wire = append(wire, masked(0x89, binary.BigEndian.AppendUint32(nil, uint32(i)))...)
		}
		c.Write(wire)
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	r := NewReader(bufio.NewReader(c), false, nil)
	next := 0
	for next < pings {
		f, err := r.ReadFrame(0)
		if err != nil {
			t.Fatalf("after %d pongs: %v", next, err)
		}
		switch f.Op {
		case OpBinary:
			if len(f.Payload) != 3000 {
				t.Fatalf("torn data frame of %d bytes", len(f.Payload))
			}
		case OpPong:
			if got := binary.BigEndian.Uint32(f.Payload); got != uint32(next) {
				t.Fatalf("pong %d, want %d", got, next)
			}
			next++
		default:
			t.Fatalf("unexpected opcode %d", f.Op)
		}
	}
	close(stop)
	s.Close()
	wg.Wait()
}

// TestWriteTimeout: a peer that does not read makes writes fail within the
// timeout, and every later write (the close too) fails at once, since the
// stream may have ended inside a frame.
func TestWriteTimeout(t *testing.T) {
	s, _ := pair(t, Options{WriteTimeout: 100 * time.Millisecond})
	data := make([]byte, 1<<20)
	var err error
	for err == nil {
		err = s.Writer().WriteFrame(OpBinary, data)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write failed with %v, want a timeout", err)
	}
	if err2 := s.WriteClose(CloseNormal, ""); err2 != err {
		t.Errorf("WriteClose after a failed write: %v, want %v", err2, err)
	}
	if err2 := s.Writer().WriteFrame(OpPing, nil); err2 != err {
		t.Errorf("a ping after a failed write: %v, want %v", err2, err)
	}
}

// TestCloseAnswer: a close frame after ours is an answer; one before is not.
func TestCloseAnswer(t *testing.T) {
	for _, weFirst := range []bool{true, false} {
		s, c := pair(t, Options{WriteTimeout: 5 * time.Second})
		if weFirst {
			s.WriteClose(CloseGoingAway, "bye")
		}
		c.Write(masked(0x88, closePayload(1000, "")))
		_, err := s.ReadMessage()
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Answer != weFirst {
			t.Errorf("we closed first: %v; got %#v, want Answer %v", weFirst, err, weFirst)
		}
	}
}
