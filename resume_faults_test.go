package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// What an outside pass found in resume, each reproduced over real sockets
// (issue 15). Each of these failed on the session code before the engine
// moved to internal/session.

// stalled waits, polling with a deadline, until progress has stopped
// moving for 400 ms: the pipeline it measures is full and a write in it
// is blocked. There is no event for "a write is blocked"; the test only
// needs that state to have been reached, however long it takes.
func stalled(t *testing.T, what string, progress func() int64) int64 {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last, since := progress(), time.Now()
	for {
		select {
		case <-deadline:
			t.Fatalf("%s never stalled", what)
		case <-tick.C:
		}
		if p := progress(); p != last {
			last, since = p, time.Now()
		} else if time.Since(since) > 400*time.Millisecond {
			return last
		}
	}
}

// TestResumeStuckWriteCountedOnce: the old connection's input is stuck
// writing a message to a target that does not read when the session is
// resumed. "received" must count that message (the target will get it):
// the client sends again only what follows, and the target gets every
// byte once. Before, received was reported before the stuck message was
// counted, and the target got it twice.
func TestResumeStuckWriteCountedOnce(t *testing.T) {
	const msg = 256 << 10
	const total = 16 << 20
	want := pattern(total)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	got := make(chan []byte, 1)
	target := startTarget(t, func(c net.Conn) {
		c.(*net.TCPConn).SetReadBuffer(16 << 10)
		<-release
		b := make([]byte, total)
		n, _ := io.ReadFull(c, b)
		got <- b[:n]
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, WriteTimeout: time.Minute})
	c := tg.openResumable(t, target, nil)

	// Send until the pipeline is full: the gateway is then inside a write
	// of one whole message to the target.
	var attempted atomic.Int64 // the end of the message being written
	var wg sync.WaitGroup
	wg.Add(1)
	old := c.ws
	go func() {
		defer wg.Done()
		for sent := 0; sent < total; sent += msg {
			attempted.Store(int64(sent + msg))
			old.c.SetWriteDeadline(time.Time{})
			if err := old.writeFrame(opBinary, want[sent:sent+msg]); err != nil {
				return
			}
		}
	}()
	stalled(t, "sending to a target that does not read", attempted.Load)
	c.cut()
	wg.Wait()
	sent := attempted.Load()

	// The gateway cannot notice the loss (it is not reading): the resume
	// takes the session over, as the page's does.
	received := c.resume()
	if received > sent {
		t.Fatalf("the gateway says it took %d bytes; at most %d were sent", received, sent)
	}
	once.Do(func() { close(release) })
	go func() {
		for from := received; from < total; from += msg {
			if err := c.ws.writeFrame(opBinary, want[from:min(from+msg, total)]); err != nil {
				return
			}
		}
	}()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the target got %d bytes that differ from the %d sent at %d (received was %d): a message came twice or not at all", len(b), len(want), firstDiff(b, want), received)
	}
}

// TestResumeNotBehindDeadWrite: the output's write to a connection whose
// client stopped reading is blocked (for up to -write-timeout, here ten
// minutes) when a resume comes: the resume is answered at once, without
// waiting for that write. Before, it waited for the write's deadline.
func TestResumeNotBehindDeadWrite(t *testing.T) {
	var wrote atomic.Int64
	chunk := bytes.Repeat([]byte("flood "), 10000)
	target := startTarget(t, func(c net.Conn) {
		for {
			n, err := c.Write(chunk)
			wrote.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, ResumeBuffer: 256 << 20, WriteTimeout: 10 * time.Minute})
	c := tg.openResumable(t, target, nil)
	// The client reads nothing: the gateway's write to it blocks once the
	// socket buffers are full.
	stalled(t, "the flood into a client that does not read", wrote.Load)

	ws, resp := c.dial("/ws?resume=1", c.hdr)
	if ws == nil {
		t.Fatalf("resume handshake refused: %s", resp.Status)
	}
	ws.sendText(fmt.Sprintf(`{"type":"resume","id":%q,"offset":0}`, c.id))
	op, p, err := ws.read(20 * time.Second) // far less than -write-timeout
	if err != nil || op != opText || string(p) != "SUCC" {
		t.Fatalf("the resume got op %d %q, %v; want SUCC at once, not after the blocked write", op, trunc(p), err)
	}
	// The output goes on from byte 0 on the new connection.
	c.ws, c.got, c.acked = ws, nil, 0
	if op, p := ws.next(); op != opText || !strings.Contains(string(p), `"resumed"`) {
		t.Fatalf("got op %d %q after SUCC, want resumed", op, trunc(p))
	}
	for len(c.got) < 1<<20 {
		c.read()
	}
	if !bytes.HasPrefix(c.got, chunk[:1000]) {
		t.Errorf("the resumed output starts with %q", trunc(c.got))
	}
}

// TestResumableEnds: a resumable session ends with the same words and code
// as any other: 1001 and "shutting down" at shutdown, "without activity"
// after -idle-timeout. Before, resumable sessions got 1000 and "the
// connection to the target was lost".
func TestResumableEnds(t *testing.T) {
	t.Run("shutdown", func(t *testing.T) {
		echo := startTestEcho(t)
		tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
		var clients []*rclient
		for range 5 {
			c := tg.openResumable(t, echo.Addr(), nil)
			for !bytes.Contains(c.got, []byte("leave.\r\n")) {
				c.read()
			}
			clients = append(clients, c)
		}
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done <- tg.gw.Shutdown(ctx)
		}()
		for i, c := range clients {
			closed, code, reason := readEnd(c)
			if code != 1001 || !strings.Contains(closed, "shutting down") || !strings.Contains(reason, "shutting down") {
				t.Errorf("client %d: closed %q, close %d %q; want shutting down, 1001", i, closed, code, reason)
			}
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		echo := startTestEcho(t)
		tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, IdleTimeout: 300 * time.Millisecond})
		c := tg.openResumable(t, echo.Addr(), nil)
		closed, code, reason := readEnd(c)
		if code != 1000 || !strings.Contains(closed, "without activity") || !strings.Contains(reason, "without activity") {
			t.Errorf("closed %q, close %d %q; want the idle timeout's words", closed, code, reason)
		}
	})
}

// readEnd reads a resumable session to its end: the closed message's
// reason, and the close frame's code and reason.
func readEnd(c *rclient) (closed string, code int, reason string) {
	c.t.Helper()
	for {
		op, p := c.ws.next()
		switch op {
		case opText:
			if m := c.ws.parseControl(p); m.Type == "closed" {
				closed = m.Reason
			}
		case opClose:
			if len(p) >= 2 {
				code, reason = int(binary.BigEndian.Uint16(p)), string(p[2:])
			}
			c.ws.writeFrame(opClose, p[:min(len(p), 2)])
			return closed, code, reason
		}
	}
}

// TestResumeBufferBound: a detached session holds no more than
// -resume-buffer for its output, however its storage grows (the resume's
// log line says what it held). Before, 1,500,000 bytes took 2 MiB.
func TestResumeBufferBound(t *testing.T) {
	const limit = 1_500_000
	target := startTarget(t, func(c net.Conn) {
		chunk := bytes.Repeat([]byte("0123456789"), 1000)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, ResumeBuffer: limit})
	c := tg.openResumable(t, target, nil)
	c.read()
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	// Detached and never acknowledged: the buffer fills to the limit.
	waitFor(t, "the resume to find the buffer full", func() bool {
		r := c.resumeAt(int64(len(c.got)))
		c.cut()
		return r.backlog+len(c.got) >= limit
	})
	m := regexp.MustCompile(`session resumed.* buffer=(\d+)`).FindAllStringSubmatch(tg.logs(), -1)
	if len(m) == 0 {
		t.Fatal("the resume's log line does not say what the session held")
	}
	for _, l := range m {
		if held, _ := strconv.Atoi(l[1]); held > limit {
			t.Errorf("the session held %d bytes for its output, over -resume-buffer %d", held, limit)
		}
	}
}

// TestResumeDecidedEndBounded: once the gateway has decided a session's
// end (its target closed) and delivered it, resumes cannot keep it alive:
// a client that takes the close frame and never answers it, then comes
// back, is refused, and the session ends. Before, each resume delivered
// the end again and restarted the window.
func TestResumeDecidedEndBounded(t *testing.T) {
	proceed := make(chan struct{})
	target := startTarget(t, func(c net.Conn) {
		c.Write([]byte("hello\r\n"))
		<-proceed
		c.Write([]byte("bye\r\n"))
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumable(t, target, nil)
	for !bytes.Contains(c.got, []byte("hello\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	close(proceed)
	c.resume()
	for c.read() != opClose { // the tail, closed, the close frame: not answered
	}
	c.cut()
	fail := tg.refusedResume(t, nil, fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got)))
	if !strings.Contains(fail, "unknown session") {
		t.Errorf("a resume after the end was delivered got %q, want unknown session", fail)
	}
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
	if !strings.Contains(tg.logs(), `reason="target closed"`) {
		t.Error("the session's end is not logged as the target's")
	}
}

// resumed is what resumeAt learnt.
type resumed struct{ backlog int }

// resumeAt resumes at offset and reads the backlog (the binary frame that
// follows the resume's answer, if any).
func (c *rclient) resumeAt(offset int64) resumed {
	c.t.Helper()
	ws, resp := c.dial(c.path+"?resume=1", c.hdr)
	if ws == nil {
		c.t.Fatalf("resume handshake refused: %s", resp.Status)
	}
	ws.sendText(fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, offset))
	ws.expectText("SUCC")
	c.ws = ws
	for {
		op, p := ws.next()
		if op == opBinary {
			return resumed{backlog: len(p)}
		}
		if op != opText {
			c.t.Fatalf("got op %d after the resume", op)
		}
	}
}
