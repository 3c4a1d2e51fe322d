//go:build unix

package wsframe

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// waitReadable waits until the server's socket has bytes to read (or has
// ended), without reading them: what a poller does for TryReadMessage.
func waitReadable(t *testing.T, s *Conn) {
	t.Helper()
	rc := s.RawConn()
	if rc == nil {
		t.Fatal("no RawConn for a TCP connection")
	}
	var b [1]byte
	s.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer s.nc.SetReadDeadline(time.Time{})
	if err := rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTryReadMessage: TryReadMessage says at once that there is nothing
// to read, answers a ping that comes alone and still says so, but once a
// message (or a fragmented one, pings between its fragments) has begun it
// waits for its end, and it reports the end of the connection.
func TestTryReadMessage(t *testing.T) {
	s, c := pair(t, Options{})
	try := func() (Message, error) {
		m, err := s.TryReadMessage()
		m.Data = bytes.Clone(m.Data)
		return m, err
	}
	if _, err := try(); !errors.Is(err, ErrQuiet) {
		t.Fatalf("empty socket: %v, want ErrQuiet", err)
	}

	c.Write(masked(0x89, []byte("hi")))
	waitReadable(t, s)
	if _, err := try(); !errors.Is(err, ErrQuiet) {
		t.Fatalf("a ping alone: %v, want ErrQuiet", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if f, err := NewReader(bufio.NewReader(c), false, nil).ReadFrame(0); err != nil || f.Op != OpPong || string(f.Payload) != "hi" {
		t.Fatalf("the ping's answer: %+v, %v", f, err)
	}

	// A message that has begun is waited for.
	whole := masked(0x82, []byte("hello, world"))
	c.Write(whole[:3])
	waitReadable(t, s)
	got := make(chan error, 1)
	go func() {
		m, err := try()
		if err == nil && string(m.Data) != "hello, world" {
			err = errors.New("got " + string(m.Data))
		}
		got <- err
	}()
	c.Write(whole[3:])
	if err := <-got; err != nil {
		t.Fatalf("a message sent in two parts: %v", err)
	}

	// So is a fragmented one, with a ping between its fragments.
	c.Write(append(masked(0x01, []byte("frag")), masked(0x89, nil)...))
	waitReadable(t, s)
	go func() {
		m, err := try()
		if err == nil && (string(m.Data) != "fragment" || !m.Text) {
			err = errors.New("got " + string(m.Data))
		}
		got <- err
	}()
	c.Write(masked(0x80, []byte("ment")))
	if err := <-got; err != nil {
		t.Fatalf("a fragmented message: %v", err)
	}

	c.Write(masked(0x81, []byte("ready")))
	waitReadable(t, s)
	if m, err := try(); err != nil || string(m.Data) != "ready" {
		t.Fatalf("a message waiting: %q, %v", m.Data, err)
	}
	c.Close()
	waitReadable(t, s)
	if _, err := try(); !errors.Is(err, io.EOF) {
		t.Fatalf("the client gone: %v, want EOF", err)
	}
}
