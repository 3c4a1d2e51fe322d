//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
)

// lineLen is the length of one line the targets send and the clients
// upload: 79 printable characters and a LF, an 80-column terminal's worth.
const lineLen = 80

// target is the TCP service at the far end of every relay. Every contender
// reaches the same listener, and websockify, which can only relay to one
// fixed address, needs nothing else. What a connection does is decided by
// the first line the client sends through the relay:
//
//	source N   write N bytes of lines as fast as possible, then close
//	sink N     read N bytes, then answer "done\n"
//	echo       send back every byte received
//
// A connection that sends nothing is an idle session: the target holds it
// until the client goes away.
type target struct {
	ln      net.Listener
	pattern []byte // whole lines, written again and again by source

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func startTarget() (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the target: %w", err)
	}
	t := &target{ln: ln, pattern: linePattern(4096), conns: map[net.Conn]struct{}{}}
	t.wg.Add(1)
	go t.acceptLoop()
	return t, nil
}

// linePattern returns n lines of 79 printable characters and a LF, with
// contents that differ from line to line.
func linePattern(n int) []byte {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	p := make([]byte, 0, n*lineLen)
	for i := range n {
		for j := range lineLen - 1 {
			p = append(p, chars[(i*7+j)%len(chars)])
		}
		p = append(p, '\n')
	}
	return p
}

func (t *target) addr() string { return t.ln.Addr().String() }

func (t *target) acceptLoop() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return // closed by close
		}
		t.mu.Lock()
		if t.closed { // accepted just as close ran
			t.mu.Unlock()
			c.Close()
			return
		}
		t.conns[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.serve(c)
			t.mu.Lock()
			delete(t.conns, c)
			t.mu.Unlock()
			c.Close()
		}()
	}
}

// serve runs one connection. Errors end it quietly: the client side sees
// the missing bytes and reports them.
func (t *target) serve(c net.Conn) {
	r := bufio.NewReaderSize(c, 64<<10)
	line, err := r.ReadString('\n')
	if err != nil {
		return // an idle session ended, or a client that never asked anything
	}
	cmd := strings.Fields(line) // also drops the CR that v1 relays add
	var n int64
	if len(cmd) == 2 {
		if n, err = strconv.ParseInt(cmd[1], 10, 64); err != nil {
			return
		}
	}
	switch cmd[0] {
	case "source":
		t.source(c, n)
		// Half-close, then wait for the relay to close its side: closing
		// with unread data would reset the connection, losing the tail.
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, r)
	case "sink":
		if _, err := io.CopyN(io.Discard, r, n); err != nil {
			return
		}
		if _, err := io.WriteString(c, "done\n"); err != nil {
			return
		}
		io.Copy(io.Discard, r)
	case "echo":
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
}

// source writes n bytes of lines in large writes.
func (t *target) source(c net.Conn, n int64) {
	for n > 0 {
		p := t.pattern[:min(int64(len(t.pattern)), n)]
		if _, err := c.Write(p); err != nil {
			return
		}
		n -= int64(len(p))
	}
}

// close stops accepting, ends every connection and waits for their goroutines.
func (t *target) close() error {
	err := t.ln.Close()
	t.mu.Lock()
	t.closed = true
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
