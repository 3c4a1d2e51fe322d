// Package echo is the built-in echo server (-echo): every line sent comes back,
// so that a new user has something to connect to.
package echo

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

// Greeting is the first line a client of the echo server sees, so that a
// new user knows the session works before typing anything.
const Greeting = "wstelnet echo server: every line you send comes back; send quit to leave.\r\n"

// Server is the built-in line echo server behind -echo, the tutorial's
// responder: it echoes each line and closes on a line starting with "quit".
// The tests use it as a target too.
type Server struct {
	ln  net.Listener
	log *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // the accept loop and one count per connection
}

// Start listens on addr and serves until Close.
func Start(addr string, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echo server: listen on %s: %w (pick another address with -echo)", addr, err)
	}
	e := &Server{ln: ln, log: log, conns: make(map[net.Conn]struct{})}
	e.wg.Add(1)
	go e.acceptLoop()
	return e, nil
}

// Addr is the address the echo server listens on.
func (e *Server) Addr() string { return e.ln.Addr().String() }

// Conns is the number of connections open now: each holds a descriptor
// of the process the server runs in.
func (e *Server) Conns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// Close stops the listener, closes every connection and waits for them.
func (e *Server) Close() error {
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

func (e *Server) acceptLoop() {
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

// writeTimeout drops a client that does not read what it is sent back
// (the echo server listens where anyone on the machine may connect).
const writeTimeout = 30 * time.Second

func (e *Server) serveConn(c net.Conn) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		e.mu.Unlock()
		c.Close()
	}()
	w := deadlineWriter{c}
	if _, err := w.Write([]byte(Greeting)); err != nil {
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

// deadlineWriter gives every write a deadline of writeTimeout.
type deadlineWriter struct{ net.Conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.SetWriteDeadline(time.Now().Add(writeTimeout))
	return d.Conn.Write(p)
}
