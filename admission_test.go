package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Admission under pressure (gateway.go admit): a socket takes a slot only
// once its first message says it opens a session; a resume takes none.

// TestResumeStormAtLimit: a gateway at -max-sessions takes back every one
// of its sessions when all of them resume at once, far more than the
// sockets it lets wait for a first message, and refuses a new one.
func TestResumeStormAtLimit(t *testing.T) {
	const n = 150
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, MaxSessions: n, MaxPending: 16})
	clients := make([]*rclient, n)
	for i := range clients {
		clients[i] = tg.openResumable(t, echo.Addr(), nil)
	}
	for _, c := range clients {
		c.cut()
	}
	waitFor(t, "every session to detach", func() bool { return strings.Count(tg.logs(), "session detached") == n })

	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.t = goroutineTB{t}
			c.resume()
			line := []byte(fmt.Sprintf("back %d\r\n", i))
			c.ws.writeFrame(opBinary, line)
			for !bytes.Contains(c.got, line) {
				c.read()
			}
		}()
	}
	wg.Wait()
	if got := tg.gw.Sessions(); got != n {
		t.Errorf("%d sessions after the storm, want %d", got, n)
	}
	ws, _ := tg.dialWS(t, "/ws?resume=1", http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}})
	ws.sendText(echo.Addr())
	ws.expectFailCode(1013, "busy", "sessions open")
}

// TestSilentSocketsCannotCrowdOut: sockets that never send a first message
// fill the waiting room; each newcomer pushes out the oldest (refused,
// 1013), so a real resume still gets through at once.
func TestSilentSocketsCannotCrowdOut(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, MaxSessions: 1, MaxPending: 4})
	c := tg.openResumable(t, echo.Addr(), nil)
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	hdr := http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}}
	// The waiting room holds 4 (MaxPending) and one more per session held.
	// One at a time, so that the gateway counts them in this order.
	var silent []*wsClient
	for i := range 5 {
		ws, resp := tg.dialWS(t, "/ws?resume=1", hdr)
		if ws == nil {
			t.Fatalf("handshake refused: %s", resp.Status)
		}
		silent = append(silent, ws)
		waitFor(t, "the socket to wait", func() bool { return tg.gw.Waiting() == i+1 })
	}
	// A sixth pushes out the first.
	ws, _ := tg.dialWS(t, "/ws?resume=1", hdr)
	silent = append(silent, ws)
	silent[0].expectFailCode(1013, "busy", "waiting")
	// The real resume comes in behind them, pushes out the second, and is served.
	c.resume()
	silent[1].expectFailCode(1013, "busy", "waiting")
	c.ws.writeFrame(opBinary, []byte("through the crowd\r\n"))
	for !bytes.Contains(c.got, []byte("through the crowd\r\n")) {
		c.read()
	}
}
