package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"wstelnet/internal/session"

	"golang.org/x/crypto/bcrypt"
)

// Tests of session resume (resume.go, PROTOCOL.md): losses are made the
// way networks make them, by resetting the client's side of the TCP
// connection without a close frame.

// rclient is a browser's side of a resumable session: what it received,
// what it acknowledged, and the socket it uses now.
type rclient struct {
	t      testing.TB
	dial   func(path string, hdr http.Header) (*wsClient, *http.Response) // a WebSocket to the gateway's path
	path   string                                                         // the endpoint, "/ws"
	hdr    http.Header
	ws     *wsClient
	id     string
	window int
	got    []byte // output received, from offset 0
	acked  int64  // the last offset we acknowledged
	gwAck  int64  // the gateway's last ack of our bytes
	ctrl   []session.Control
}

func (tg *testGateway) openResumable(t testing.TB, target string, hdr http.Header) *rclient {
	t.Helper()
	return tg.openResumableWith(t, "telnet=off", target, hdr)
}

// openResumableWith opens a resumable session with more v2 options in query.
func (tg *testGateway) openResumableWith(t testing.TB, query, target string, hdr http.Header) *rclient {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Origin", tg.origin())
	hdr.Set("Sec-WebSocket-Protocol", subprotocolV2)
	ws, resp := tg.dialWS(t, "/ws?resume=1&"+query, hdr)
	if ws == nil {
		t.Fatalf("handshake refused: %s", resp.Status)
	}
	ws.sendText(target)
	ws.expectText("SUCC")
	op, p := ws.next()
	var m struct {
		Type   string
		ID     string
		Window int
	}
	if op != opText || json.Unmarshal(p, &m) != nil || m.Type != "session" || len(m.ID) < 22 {
		t.Fatalf("got op %d %q right after SUCC, want the session message", op, p)
	}
	dial := func(path string, hdr http.Header) (*wsClient, *http.Response) { return tg.dialWS(t, path, hdr) }
	return &rclient{t: t, dial: dial, path: "/ws", hdr: hdr, ws: ws, id: m.ID, window: m.Window}
}

// cut resets the connection: no close frame, no FIN.
func (c *rclient) cut() {
	c.ws.c.(*net.TCPConn).SetLinger(0)
	c.ws.c.Close()
}

// resume opens a new socket for the session and returns the offset of our
// bytes the gateway says it has taken.
func (c *rclient) resume() int64 {
	c.t.Helper()
	ws, resp := c.dial(c.path+"?resume=1", c.hdr)
	if ws == nil {
		c.t.Fatalf("resume handshake refused: %s", resp.Status)
	}
	ws.sendText(fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got)))
	ws.expectText("SUCC")
	op, p := ws.next()
	var m struct {
		Type     string
		Offset   int64
		Received int64
	}
	if op != opText || json.Unmarshal(p, &m) != nil || m.Type != "resumed" || m.Offset != int64(len(c.got)) {
		c.t.Fatalf("got op %d %q after a resume's SUCC, want resumed at %d", op, p, len(c.got))
	}
	c.ws, c.acked = ws, int64(len(c.got))
	return m.Received
}

// refusedResume tries to resume id at offset and returns the FAIL: text.
func (tg *testGateway) refusedResume(t testing.TB, hdr http.Header, msg string) string {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}}
	}
	ws, resp := tg.dialWS(t, "/ws?resume=1", hdr)
	if ws == nil {
		t.Fatalf("resume handshake refused: %s", resp.Status)
	}
	ws.sendText(msg)
	return ws.expectFail()
}

// read reads one frame: output is kept and acknowledged every 64 KiB;
// control messages are kept. It returns the opcode.
func (c *rclient) read() byte {
	c.t.Helper()
	op, p := c.ws.next()
	switch op {
	case opBinary:
		c.got = append(c.got, p...)
		if int64(len(c.got))-c.acked >= 64<<10 {
			c.ack()
		}
	case opText:
		m := c.ws.parseControl(p)
		if m.Type == "ack" && m.Offset != nil {
			c.gwAck = *m.Offset
		}
		c.ctrl = append(c.ctrl, m)
	}
	return op
}

func (c *rclient) ack() {
	c.acked = int64(len(c.got))
	c.ws.sendText(fmt.Sprintf(`{"type":"ack","offset":%d}`, c.acked))
}

// pattern is n bytes of a known sequence, so that any loss, repeat or
// reordering shows.
func pattern(n int) []byte {
	b := make([]byte, 0, n+8)
	for i := uint32(0); len(b) < n; i++ {
		b = binary.BigEndian.AppendUint32(b, i)
	}
	return b[:n]
}

// TestResumeDownstream: the target sends 3 MB; the client loses its
// connection ten times at different points and resumes each time; it ends
// with every byte exactly once, in order.
func TestResumeDownstream(t *testing.T) {
	want := pattern(3 << 20)
	target := startTarget(t, func(c net.Conn) {
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 10000)
			if _, err := c.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, ResumeBuffer: 256 << 10})
	c := tg.openResumable(t, target, nil)
	if c.window != 60 {
		t.Errorf("window %d, want 60", c.window)
	}
	for loss := 1; loss <= 10; loss++ {
		for len(c.got) < loss*len(want)/12 {
			c.read()
		}
		c.cut()
		waitFor(t, "the session to detach", func() bool {
			return strings.Contains(tg.logs(), fmt.Sprintf("session detached")) && tg.gw.Sessions() == 1
		})
		c.resume()
	}
	for len(c.got) < len(want) {
		c.read()
	}
	if !bytes.Equal(c.got, want) {
		t.Fatalf("received %d bytes that differ from the %d sent (first difference at %d)", len(c.got), len(want), firstDiff(c.got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestResumeUpstream: the client sends 1 MB in pieces and loses its
// connection ten times; on each resume it sends again what the gateway
// had not taken; the target gets every byte exactly once, in order.
func TestResumeUpstream(t *testing.T) {
	want := pattern(1 << 20)
	got := make(chan []byte, 1)
	target := startTarget(t, func(c net.Conn) {
		b := make([]byte, len(want))
		n, _ := io.ReadFull(c, b)
		got <- b[:n]
		io.Copy(io.Discard, c) // stay open: the last ack is still to come
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumable(t, target, nil)
	sent := int64(0)
	for loss := 0; loss <= 10; loss++ {
		until := int64(len(want)) * int64(loss+1) / 11
		for sent < until {
			n := min(until-sent, 7000)
			c.ws.writeFrame(opBinary, want[sent:sent+n])
			sent += n
		}
		if loss == 10 {
			break
		}
		c.cut()
		waitFor(t, "the session to detach", func() bool { return tg.gw.Sessions() == 1 && strings.Count(tg.logs(), "session detached") > loss })
		received := c.resume()
		if received > sent || received < c.gwAck {
			t.Fatalf("the gateway says it took %d bytes; we sent %d and it had acknowledged %d", received, sent, c.gwAck)
		}
		sent = received // send again what it did not take
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the target got %d bytes that differ from the %d sent (first difference at %d)", len(b), len(want), firstDiff(b, want))
	}
	// Acknowledgements come within a second of taking bytes.
	for c.gwAck < int64(len(want)) {
		c.read()
	}
}

// TestResumeAckRidesWithOutput: what the browser typed is acknowledged in
// the same write as the answer it gets (an echo here), not by a timer a
// second later; with no answer, the timer still acknowledges it.
func TestResumeAckRidesWithOutput(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumable(t, echo.Addr(), nil)
	for !bytes.Contains(c.got, []byte(echoGreeting)) {
		c.read() // the greeting first, so that nothing but the echo can carry the ack
	}
	c.ws.writeFrame(opBinary, []byte("hello\r\n"))
	for !bytes.Contains(c.got, []byte("hello\r\n")) {
		if op := c.read(); op != opBinary {
			t.Fatalf("got op %d before the echo, want output", op)
		}
	}
	// The ack timer waits a second (ackDelay); this waits half of it.
	op, p, err := c.ws.read(500 * time.Millisecond)
	if err != nil || op != opText || string(p) != `{"type":"ack","offset":7}` {
		t.Fatalf("after the echo got op %d %q (%v), want the ack of the 7 bytes typed with it", op, p, err)
	}
	if m := (session.Control{Type: "ack", Offset: new(int64(7))}); string(p) != string(mustJSON(t, m)) {
		t.Fatalf("the ack %q is not what encoding/json makes of it", p)
	}

	quiet := startTarget(t, func(c net.Conn) { io.Copy(io.Discard, c) }) // answers nothing
	q := tg.openResumable(t, quiet, nil)
	q.ws.writeFrame(opBinary, []byte("typed"))
	for q.gwAck < 5 {
		q.read()
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResumeBackPressure: a client that reads but does not acknowledge
// holds the gateway at -resume-buffer while the target tries to send
// 64 MB; the gateway's memory stays flat; once the client acknowledges,
// everything arrives.
func TestResumeBackPressure(t *testing.T) {
	const total = 64 << 20
	var written sync.Mutex
	wrote := 0
	target := startTarget(t, func(c net.Conn) {
		chunk := pattern(64 << 10)
		for n := 0; n < total; n += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return
			}
			written.Lock()
			wrote += len(chunk)
			written.Unlock()
		}
		io.Copy(io.Discard, c)
	})
	const buffer = 256 << 10
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, ResumeBuffer: buffer})
	c := tg.openResumable(t, target, nil)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// Read without acknowledging: the gateway stops at its buffer.
	for len(c.got) < buffer {
		op, p := c.ws.next()
		if op == opBinary {
			c.got = append(c.got, p...)
		}
	}
	// Nothing more comes: the gateway keeps at most the buffer unacknowledged.
	c.ws.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if op, p, err := c.ws.read(300 * time.Millisecond); err == nil && op == opBinary {
		t.Fatalf("%d more bytes arrived beyond the %d-byte buffer without an ack", len(p), buffer)
	}
	written.Lock()
	stalled := wrote
	written.Unlock()
	if stalled >= total/2 {
		t.Fatalf("the target wrote %d bytes while the browser acknowledged none", stalled)
	}
	var held runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&held)
	if grew := int64(held.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Errorf("the heap grew by %d bytes while the target was held back", grew)
	}
	// Now acknowledge as we go (the read deadline above broke this
	// socket's reader; resume on a fresh one, which also acknowledges).
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	c.resume()
	for len(c.got) < total {
		c.read()
	}
	want := bytes.Repeat(pattern(64<<10), total/(64<<10))
	if !bytes.Equal(c.got, want) {
		t.Fatalf("received bytes differ from those sent at %d", firstDiff(c.got, want))
	}
}

// TestResumeExpiry: a detached session ends when the window passes: its
// target is closed, and a resume then fails.
func TestResumeExpiry(t *testing.T) {
	closed := make(chan struct{})
	target := startTarget(t, func(c net.Conn) {
		io.Copy(io.Discard, c)
		close(closed)
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: 300 * time.Millisecond})
	c := tg.openResumable(t, target, nil)
	c.cut()
	<-closed
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
	if !strings.Contains(tg.logs(), "resume window expired") {
		t.Error("the session-end log line does not say the window expired")
	}
	fail := tg.refusedResume(t, nil, fmt.Sprintf(`{"type":"resume","id":%q,"offset":0}`, c.id))
	if !strings.Contains(fail, "unknown session") {
		t.Errorf("FAIL %q, want unknown session", fail)
	}
}

// TestResumeCloseFrameEnds: a close frame from the browser ends the
// session at once; a resume then fails.
func TestResumeCloseFrameEnds(t *testing.T) {
	closed := make(chan struct{})
	target := startTarget(t, func(c net.Conn) {
		io.Copy(io.Discard, c)
		close(closed)
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumable(t, target, nil)
	c.ws.sendClose()
	<-closed
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
	fail := tg.refusedResume(t, nil, fmt.Sprintf(`{"type":"resume","id":%q,"offset":0}`, c.id))
	if !strings.Contains(fail, "unknown session") {
		t.Errorf("FAIL %q, want unknown session", fail)
	}
}

// TestResumeTakeover: resuming a session whose socket has not noticed its
// loss moves it, and the old socket gets a 4000-range close.
func TestResumeTakeover(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumable(t, echo.Addr(), nil)
	for !bytes.Contains(c.got, []byte("leave.\r\n")) {
		c.read()
	}
	old := c.ws
	c.resume()
	if reason := old.expectClose(session.CloseResumedElsewhere); !strings.Contains(reason, "resumed") {
		t.Errorf("close reason %q", reason)
	}
	c.ws.writeFrame(opBinary, []byte("still here\r\n"))
	for !bytes.Contains(c.got, []byte("still here\r\n")) {
		c.read()
	}
}

// TestResumeRefusals: malformed, oversized and unknown ids, offsets
// outside what the gateway holds, and another user's id are refused; the
// last with the same words as an unknown id.
func TestResumeRefusals(t *testing.T) {
	echo := startTestEcho(t)
	alice, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), 4)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, Auth: mustHtpasswd(t, bobLine, "alice:"+string(alice))})
	auth := func(user, pass string) http.Header {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		return http.Header{"Authorization": {req.Header.Get("Authorization")}}
	}
	c := tg.openResumable(t, echo.Addr(), auth("bob", "correct horse"))
	for !bytes.Contains(c.got, []byte("leave.\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	hdr := func(user, pass string) http.Header {
		h := auth(user, pass)
		h.Set("Origin", tg.origin())
		h.Set("Sec-WebSocket-Protocol", subprotocolV2)
		return h
	}
	bob := hdr("bob", "correct horse")
	for _, tc := range []struct {
		name, msg string
		hdr       http.Header
		want      string
	}{
		{"not JSON", `{"type":"resume"`, bob, `{"type":"resume","id":ID,"offset":N}`},
		{"no offset", fmt.Sprintf(`{"type":"resume","id":%q}`, c.id), bob, "no offset"},
		{"negative offset", fmt.Sprintf(`{"type":"resume","id":%q,"offset":-1}`, c.id), bob, "no offset"},
		{"malformed id", `{"type":"resume","id":"../../etc","offset":0}`, bob, "not one this gateway gives out"},
		{"oversized id", fmt.Sprintf(`{"type":"resume","id":%q,"offset":0}`, strings.Repeat("A", 1000)), bob, "not one this gateway gives out"},
		{"unknown id", `{"type":"resume","id":"AAAAAAAAAAAAAAAAAAAAAA","offset":0}`, bob, "unknown session: it has ended, expired, or never existed; connect again"},
		{"offset beyond what was sent", fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got)+1), bob, "outside what the gateway still holds"},
		{"another user's id", fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got)), hdr("alice", "wonderland"), "unknown session: it has ended, expired, or never existed; connect again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if fail := tg.refusedResume(t, tc.hdr, tc.msg); !strings.Contains(fail, tc.want) {
				t.Errorf("FAIL %q, want it to say %q", fail, tc.want)
			}
		})
	}
	if n := tg.dials.Load(); n != 1 {
		t.Errorf("%d dials: a resume must never dial", n)
	}
	// After all that, bob still resumes.
	c.resume()
	c.ws.writeFrame(opBinary, []byte("back\r\n"))
	for !bytes.Contains(c.got, []byte("back\r\n")) {
		c.read()
	}
}

// TestResumeLimits: a detached session counts against -max-sessions and
// the per-client limit; a gateway at its limit still lets it come back.
func TestResumeLimits(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, MaxSessions: 1})
	c := tg.openResumable(t, echo.Addr(), nil)
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	ws, _ := tg.dialWS(t, "/ws?resume=1", http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}})
	ws.sendText(echo.Addr())
	ws.expectFailCode(1013, "busy")
	c.resume()
	c.ws.writeFrame(opBinary, []byte("at the limit\r\n"))
	for !bytes.Contains(c.got, []byte("at the limit\r\n")) {
		c.read()
	}
	if n := tg.gw.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestResumeShutdown: SIGTERM ends detached sessions too, closing their targets.
func TestResumeShutdown(t *testing.T) {
	closed := make(chan struct{})
	target := startTarget(t, func(c net.Conn) {
		io.Copy(io.Discard, c)
		close(closed)
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Hour})
	c := tg.openResumable(t, target, nil)
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tg.gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-closed
}

// TestResumeTargetClosedWhileDetached: the target's tail and the closed
// message wait for the resume, which delivers them and then the close.
func TestResumeTargetClosedWhileDetached(t *testing.T) {
	proceed := make(chan struct{})
	target := startTarget(t, func(c net.Conn) {
		c.Write([]byte("hello\r\n"))
		<-proceed
		c.Write([]byte("the tail\r\n"))
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
	for c.read() != opClose {
	}
	if string(c.got) != "hello\r\nthe tail\r\n" {
		t.Errorf("got %q", c.got)
	}
	if len(c.ctrl) == 0 || c.ctrl[len(c.ctrl)-1].Type != "closed" {
		t.Errorf("control messages %v, want closed last", c.ctrl)
	}
	c.ws.writeFrame(opClose, []byte{0x03, 0xe8})
	waitFor(t, "the session-end line to count the resume", func() bool { return strings.Contains(tg.logs(), "resumes=1") })
}

// TestResumeNoPong: a socket that stops answering pings is taken as lost
// after two ping intervals, and the session detaches.
func TestResumeNoPong(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, PingInterval: 50 * time.Millisecond})
	c := tg.openResumable(t, echo.Addr(), nil)
	// Our client never answers pings.
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	c.resume()
}

// TestResumeOff: without resume=1, or with -resume-window 0, no session
// message is sent and v2 is as before.
func TestResumeOff(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?resume=1&telnet=off", echo.Addr())
	if op, p := ws.next(); op != opBinary {
		t.Errorf("got op %d %q, want the echo server's greeting (no session message)", op, p)
	}
}

func mustHtpasswd(t *testing.T, lines ...string) *htpasswd {
	t.Helper()
	h, err := loadHtpasswd(writeHtpasswd(t, lines...))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestResumeDuringDrain: while the gateway drains, new sessions are
// refused as shutting down, but a lost session may still come back.
func TestResumeDuringDrain(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumable(t, echo.Addr(), nil)
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	tg.gw.Drain()
	ws, _ := tg.dialWS(t, "/ws?resume=1", http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}})
	ws.sendText(echo.Addr())
	ws.expectFailCode(1001, "shutting down")
	c.resume()
	c.ws.writeFrame(opBinary, []byte("draining\r\n"))
	for !bytes.Contains(c.got, []byte("draining\r\n")) {
		c.read()
	}
}

// TestResumeResizeOnlyIfChanged: after a resume the page sends its size
// again; the target hears of it only if it changed.
func TestResumeResizeOnlyIfChanged(t *testing.T) {
	got := make(chan []byte, 4)
	target := startTarget(t, func(c net.Conn) {
		c.Write([]byte{tIAC, tDO, oNAWS})
		got <- readN(t, c, 3+9) // WILL NAWS and the first size
		c.Write([]byte("ready\r\n"))
		got <- readN(t, c, 9+1) // the next size, then the marker x
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	c := tg.openResumableWith(t, "cols=80&rows=24", target, nil)
	if b := <-got; !bytes.Equal(b, []byte{tIAC, tWILL, oNAWS, tIAC, tSB, oNAWS, 0, 80, 0, 24, tIAC, tSE}) {
		t.Fatalf("target got %v first", b)
	}
	for !bytes.Contains(c.got, []byte("ready\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	c.resume()
	c.ws.sendControl(session.Control{Type: "resize", Cols: 80, Rows: 24}) // the same size: nothing
	c.ws.sendControl(session.Control{Type: "resize", Cols: 100, Rows: 30})
	c.ws.writeFrame(opBinary, []byte("x"))
	if b := <-got; !bytes.Equal(b, []byte{tIAC, tSB, oNAWS, 0, 100, 0, 30, tIAC, tSE, 'x'}) {
		t.Fatalf("after the resume the target got %v, want one NAWS (100x30) and then x", b)
	}
}
