package main

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of the limits that keep one client from taking the gateway: session
// caps, idle timeout, pings, slow browsers.

// TestSessionLimits tells clients apart by X-Forwarded-For from a trusted
// proxy (the test's own loopback address); the addresses are only data.
func TestSessionLimits(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{MaxSessions: 3, MaxPerClient: 2,
		TrustProxy: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	open := func(client string) *wsClient {
		t.Helper()
		ws, resp := tg.dialWS(t, "/ws", http.Header{"X-Forwarded-For": {client}})
		if ws == nil {
			t.Fatalf("refused: %s", resp.Status)
		}
		ws.sendText(echo.Addr())
		return ws
	}
	a1, a2 := open("192.0.2.1"), open("192.0.2.1")
	for _, ws := range []*wsClient{a1, a2} {
		ws.expectText("SUCC")
		ws.next()
	}
	open("192.0.2.1").expectFailCode(1013, "busy", "per address")
	b := open("192.0.2.2")
	b.expectText("SUCC")
	open("192.0.2.3").expectFailCode(1013, "busy", "3 sessions")

	// Sessions end whichever way they end, and their places come back.
	a1.sendText("quit")
	a1.readUntilClose()
	b.c.Close()
	waitFor(t, "sessions to end", func() bool { return tg.gw.Sessions() == 1 })
	open("192.0.2.1").expectText("SUCC")
	open("192.0.2.3").expectText("SUCC")
	a2.sendClose()
	a2.expectClose(1000)
}

func TestIdleTimeout(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{IdleTimeout: 300 * time.Millisecond})
	ws := tg.connect(t, echo.Addr())
	ws.next()
	// Traffic keeps it open past the timeout...
	start := time.Now()
	for time.Since(start) < 600*time.Millisecond {
		ws.sendText("still here")
		ws.expectText("still here")
	}
	// ...and silence ends it, with a reason the page can show.
	reason := ws.expectClose(1000)
	if !strings.Contains(reason, "without activity") {
		t.Errorf("close reason %q", reason)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("closed %v after the start, before the idle timeout ran out", time.Since(start))
	}
}

func TestPings(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{PingInterval: 50 * time.Millisecond})
	ws := tg.connect(t, echo.Addr())
	pings := 0
	for pings < 3 {
		op, _ := ws.next()
		if op == opPing {
			pings++
			ws.writeFrame(opPong, nil)
		}
	}
	// Pings do not disturb data.
	ws.sendText("after pings")
	for {
		op, p := ws.next()
		if op == opText {
			if string(p) != "after pings" {
				t.Fatalf("got %q", p)
			}
			break
		}
	}
}

// TestSlowBrowserDropped: a browser that stops reading while the target
// floods is dropped after the write timeout instead of holding memory.
func TestSlowBrowserDropped(t *testing.T) {
	targetDone := make(chan struct{})
	addr := startTarget(t, func(c net.Conn) {
		defer close(targetDone)
		line := []byte(strings.Repeat("z", 1000) + "\r\n")
		for {
			c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	})
	tg := newTestGateway(t, gatewayOptions{WriteTimeout: 300 * time.Millisecond})
	ws := tg.connect(t, addr)
	_ = ws // never reads again
	select {
	case <-targetDone:
	case <-time.After(15 * time.Second):
		t.Fatal("the session was not dropped")
	}
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
}

// TestQuietSessionsHoldNoGoroutine: a session whose browser and target are
// quiet keeps no goroutine waiting for either: the gateway's Poller waits
// for both sockets (issue 17: a goroutine parked in a read is 4 KiB of
// stack or more, and a chatty session is quiet nearly all the time). The
// sessions then wake for their targets' next output and their browsers'
// next message, and end when the gateway shuts down while they are parked
// (at cleanup).
func TestQuietSessionsHoldNoGoroutine(t *testing.T) {
	const n = 40
	release := make(chan struct{})
	typed := make(chan string, n)
	target := startTarget(t, func(c net.Conn) {
		c.Write([]byte("hello\r\n"))
		<-release
		c.Write([]byte("again\r\n"))
		b := make([]byte, 7)
		if _, err := io.ReadFull(c, b); err == nil {
			typed <- string(b)
		}
		io.Copy(io.Discard, c)
	})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before startTarget's, which waits for the handlers
	tg := newTestGateway(t, gatewayOptions{})
	g0 := runtime.NumGoroutine()
	var clients []*wsClient
	for range n {
		ws := tg.connectV2(t, "", target)
		ws.readStream([]byte("hello\r\n"))
		clients = append(clients, ws)
	}
	// Each session: the test's target handler, and nothing of the
	// gateway's. Without the Poller each would also have its two sides: 3n.
	waitFor(t, "quiet sessions to hold no goroutine of the gateway's", func() bool {
		return runtime.NumGoroutine()-g0 <= n+n/4
	})
	free()
	for _, ws := range clients {
		ws.readStream([]byte("again\r\n"))
		if err := ws.writeFrame(opBinary, []byte("typed\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range clients {
		if got := <-typed; got != "typed\r\n" {
			t.Fatalf("target %d got %q after its session was parked", i, got)
		}
	}
}
