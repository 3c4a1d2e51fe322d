package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// echoGreeting is the first line a client of the echo server sees, so that a
// new user knows the session works before typing anything.
const echoGreeting = "wstelnet echo server: every line you send comes back; send quit to leave.\r\n"

// echoServer is the built-in line echo server behind -echo, the tutorial's
// responder: it echoes each line and closes on a line starting with "quit".
// The tests use it as a target too.
type echoServer struct {
	ln  net.Listener
	log *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // the accept loop and one count per connection
}

// startEcho listens on addr and serves until Close.
func startEcho(addr string, log *slog.Logger) (*echoServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echo server: listen on %s: %w (pick another address with -echo)", addr, err)
	}
	e := &echoServer{ln: ln, log: log, conns: make(map[net.Conn]struct{})}
	e.wg.Add(1)
	go e.acceptLoop()
	return e, nil
}

// Addr is the address the echo server listens on.
func (e *echoServer) Addr() string { return e.ln.Addr().String() }

// Close stops the listener, closes every connection and waits for them.
func (e *echoServer) Close() error {
	err := e.ln.Close()
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.conns = nil
	e.mu.Unlock()
	e.wg.Wait()
	return err
}

func (e *echoServer) acceptLoop() {
	defer e.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				e.log.Error("echo server: accept failed", "err", err)
			}
			return
		}
		e.mu.Lock()
		if e.conns == nil { // closing
			e.mu.Unlock()
			c.Close()
			return
		}
		e.conns[c] = struct{}{}
		e.wg.Add(1)
		e.mu.Unlock()
		go e.serveConn(c)
	}
}

// echoWriteTimeout drops a client that does not read what it is sent back
// (the echo server listens where anyone on the machine may connect).
const echoWriteTimeout = 30 * time.Second

func (e *echoServer) serveConn(c net.Conn) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		e.mu.Unlock()
		c.Close()
	}()
	w := deadlineWriter{c}
	if _, err := w.Write([]byte(echoGreeting)); err != nil {
		return
	}
	r := bufio.NewReader(c)
	atLineStart := true
	for {
		// ReadSlice bounds memory: a line longer than the buffer is echoed in pieces.
		line, err := r.ReadSlice('\n')
		if atLineStart && bytes.HasPrefix(line, []byte("quit")) {
			w.Write([]byte("bye\r\n"))
			return
		}
		if len(line) > 0 {
			if _, werr := w.Write(line); werr != nil {
				return
			}
			atLineStart = line[len(line)-1] == '\n'
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// deadlineWriter gives every write a deadline of echoWriteTimeout.
type deadlineWriter struct{ net.Conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.SetWriteDeadline(time.Now().Add(echoWriteTimeout))
	return d.Conn.Write(p)
}
