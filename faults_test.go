package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"wstelnet/internal/wsframe"
)

// Tests of what a broken or hostile peer can do: each writes exactly the
// bytes in question over a real socket and checks exactly what comes back,
// or that no slot, descriptor or lock is held past a documented timeout.

// clientFrame is a masked client frame with the given first header byte
// (FIN, RSV bits and opcode), so that malformed frames can be written.
func clientFrame(b0 byte, payload []byte) []byte {
	key := [4]byte{7, 1, 9, 3}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	default:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	}
	f = append(f, key[:]...)
	start := len(f)
	f = append(f, payload...)
	wsframe.Mask(key, 0, f[start:])
	return f
}

// framesUntilEnd reads every frame until the gateway closes the
// connection, answering the close frame as a browser does.
func (ws *wsClient) framesUntilEnd() (ops []byte, closeCode int) {
	ws.t.Helper()
	closeCode = -1
	for {
		op, p, err := ws.read(10 * time.Second)
		if err != nil {
			if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset") {
				return ops, closeCode
			}
			ws.t.Fatalf("after frames %v: %v", ops, err)
		}
		ops = append(ops, op)
		if op == opClose && closeCode == -1 {
			closeCode = 1005
			if len(p) >= 2 {
				closeCode = int(binary.BigEndian.Uint16(p))
			}
			ws.writeFrame(opClose, p[:min(2, len(p))])
		}
	}
}

// TestProtocolErrorsOneClose: every breach of RFC 6455 fails the session
// with exactly one close frame carrying the right code, before and after
// SUCC, in both protocols. (x/net/websocket sent its own 1002, then the
// gateway a 1000; and it relayed most of these as data.)
func TestProtocolErrorsOneClose(t *testing.T) {
	target := startTarget(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	tg := newTestGateway(t, gatewayOptions{MaxMessage: 1000})
	for _, tc := range []struct {
		name string
		wire []byte
		code int
	}{
		{"unmasked frame", []byte{0x81, 0x02, 'h', 'i'}, 1002},
		{"unknown opcode", clientFrame(0x83, []byte("x")), 1002},
		{"orphan continuation", clientFrame(0x80, []byte("x")), 1002},
		{"RSV1 bit", clientFrame(0xC1, []byte("x")), 1002},
		{"64-bit length with the top bit", []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 1002},
		{"invalid UTF-8 text", clientFrame(0x81, []byte("caf\xe9")), 1007},
		{"close code 1005", clientFrame(0x88, []byte{0x03, 0xed}), 1002},
		{"close code 999", clientFrame(0x88, []byte{0x03, 0xe7}), 1002},
		{"ping of 126 bytes", clientFrame(0x89, make([]byte, 126)), 1002},
		{"fragmented ping", clientFrame(0x09, []byte("p")), 1002},
		{"message over -max-message", clientFrame(0x82, make([]byte, 1001)), 1009},
	} {
		for _, when := range []string{"before SUCC", "v1 after SUCC", "v2 after SUCC"} {
			t.Run(tc.name+"/"+when, func(t *testing.T) {
				var ws *wsClient
				switch when {
				case "before SUCC":
					ws, _ = tg.dialWS(t, "/ws", nil)
				case "v1 after SUCC":
					ws = tg.connect(t, target)
				case "v2 after SUCC":
					ws = tg.connectV2(t, "?telnet=off", target)
				}
				ws.writeRaw(tc.wire)
				ops, code := ws.framesUntilEnd()
				closes := strings.Count(string(ops), string(rune(opClose)))
				if closes != 1 || ops[len(ops)-1] != opClose || code != tc.code {
					t.Errorf("frames %v, close code %d; want one close frame with %d, last", ops, code, tc.code)
				}
			})
		}
	}
	waitFor(t, "every session to end", func() bool { return tg.gw.Sessions() == 0 })
}

// TestFragmentedMessages: a message in fragments, with a ping between
// them, is one line (v1) and one control message (v2).
func TestFragmentedMessages(t *testing.T) {
	got := make(chan string, 1)
	target := startTarget(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, target)
	var wire []byte
	wire = append(wire, clientFrame(0x01, []byte("hello, "))...)
	wire = append(wire, clientFrame(0x89, []byte("ping"))...)
	wire = append(wire, clientFrame(0x00, []byte("wö"))...)
	wire = append(wire, clientFrame(0x80, []byte("rld"))...)
	ws.writeRaw(wire)
	if line := <-got; line != "hello, wörld\r\n" {
		t.Errorf("target got %q, want one line", line)
	}
	if op, p := ws.next(); op != opPong || string(p) != "ping" {
		t.Errorf("got op %d %q, want the pong", op, p)
	}

	echo := startTestEcho(t)
	v2 := tg.connectV2(t, "?telnet=off", echo.Addr())
	v2.readStream([]byte("quit to leave.\r\n"))
	msg := []byte(`{"type":"nonsense"}`)
	v2.writeRaw(append(clientFrame(0x01, msg[:5]), clientFrame(0x80, msg[5:])...))
	if c := v2.expectControl("error"); !strings.Contains(c.Message, `"nonsense"`) {
		t.Errorf("error %q, want it about the whole message's type", c.Message)
	}
}

// floodPings writes pings until the write fails or blocks for good,
// never reading: the gateway's pongs fill the socket buffers.
func floodPings(c net.Conn) {
	frame := clientFrame(0x89, make([]byte, 125))
	burst := []byte{}
	for range 64 {
		burst = append(burst, frame...)
	}
	for {
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(burst); err != nil {
			return
		}
	}
}

// TestPingFloodCannotPinASlot: a client that completes the handshake,
// floods pings and never reads, before sending host:port, takes no slot
// (a socket takes one only when its first message opens a session): the
// same address opens a session meanwhile, and the flooder is dropped
// within -write-timeout (its pongs have a deadline) or the first-message
// timeout (pings do not move it).
func TestPingFloodCannotPinASlot(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{MaxPerClient: 1, WriteTimeout: 300 * time.Millisecond, FirstMessageTimeout: 2 * time.Second})
	ws, _ := tg.dialWS(t, "/ws", nil)
	done := make(chan struct{})
	go func() { floodPings(ws.c); close(done) }()
	waitFor(t, "the flooding client to wait for its first message", func() bool { return tg.gw.Waiting() == 1 })
	if n := tg.gw.Sessions(); n != 0 {
		t.Errorf("the flooder holds %d slots, want none", n)
	}
	// The address opens a session while the flood goes on.
	other := tg.connect(t, echo.Addr())
	other.expectText(strings.TrimSuffix(echoGreeting, "\r\n"))
	waitFor(t, "the flooding client to be dropped", func() bool { return tg.gw.Waiting() == 0 })
	ws.c.Close()
	<-done
	if n := tg.gw.Sessions(); n != 1 {
		t.Errorf("%d sessions after the flooder left, want the other one", n)
	}
}

// TestVanishedClientWhileUploadBlocked: the browser's upload is blocked on
// a target that does not read when the browser vanishes (a reset): the
// next ping fails and ends the session, long before -write-timeout.
func TestVanishedClientWhileUploadBlocked(t *testing.T) {
	stuck := make(chan struct{})
	target := startTarget(t, func(c net.Conn) { <-stuck }) // never reads
	defer close(stuck)
	tg := newTestGateway(t, gatewayOptions{PingInterval: 50 * time.Millisecond, WriteTimeout: time.Hour})
	ws := tg.connectV2(t, "?telnet=off", target)
	chunk := clientFrame(0x82, make([]byte, 60000))
	for {
		ws.c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := ws.c.Write(chunk); err != nil {
			break // the gateway stopped reading: its upload is blocked
		}
	}
	ws.c.(*net.TCPConn).SetLinger(0)
	ws.c.Close() // a reset: no close frame, no FIN
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
}

// TestTargetThatDoesNotRead: an upload blocked on a target that reads
// nothing ends after -write-timeout, even with pings off.
func TestTargetThatDoesNotRead(t *testing.T) {
	stuck := make(chan struct{})
	target := startTarget(t, func(c net.Conn) { <-stuck })
	defer close(stuck)
	tg := newTestGateway(t, gatewayOptions{WriteTimeout: 300 * time.Millisecond})
	ws := tg.connectV2(t, "?telnet=off", target)
	go func() {
		chunk := clientFrame(0x82, make([]byte, 60000))
		for {
			ws.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := ws.c.Write(chunk); err != nil {
				return
			}
		}
	}()
	ops, code := ws.framesUntilEnd()
	if code != 1000 || len(ops) < 2 {
		t.Errorf("frames %v, close %d; want closed and a close frame saying why", ops, code)
	}
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
}

// TestControlFloodWithoutPings: with -ping-interval 0, a client that sends
// control messages (each answered) and never reads used to block the
// gateway's writer for ever, holding its lock; every write now has a
// deadline, and the session ends.
func TestControlFloodWithoutPings(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{WriteTimeout: 300 * time.Millisecond})
	ws := tg.connectV2(t, "?telnet=off", echo.Addr())
	go func() {
		bad := clientFrame(0x81, []byte(`{"type":"`+strings.Repeat("x", 100)+`"}`))
		var burst []byte
		for range 100 {
			burst = append(burst, bad...)
		}
		for {
			ws.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := ws.c.Write(burst); err != nil {
				return
			}
		}
	}()
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
}

// TestPlainHTTPBounded: plain HTTP connections cannot be held: a request
// whose declared body never comes, and a client that pipelines GETs
// without reading, are both dropped by the server's timeouts.
func TestPlainHTTPBounded(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{})
	closed := make(chan net.Conn, 4)
	srv := httptest.NewUnstartedServer(tg.gw)
	short := httpTimeouts{ReadHeader: time.Second, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: time.Minute}
	hs := newHTTPServer(tg.gw, short, testLogger(t))
	srv.Config = hs
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- c
		}
	}
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	t.Run("body that never comes", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /healthz HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\npartial", addr)
		<-closed
	})
	t.Run("pipelined GETs, never read", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		req := fmt.Sprintf("GET /vendor/xterm/xterm.mjs HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		go func() {
			for {
				c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, strings.Repeat(req, 20)); err != nil {
					return
				}
			}
		}()
		<-closed
	})
}

// TestShutdownDoesNotWaitOnStrangers: a session gets its 1001 while an
// unfinished request body and an idle keep-alive connection are still
// open, and the program exits cleanly when -shutdown-timeout cuts them.
func TestShutdownDoesNotWaitOnStrangers(t *testing.T) {
	target := startTarget(t, func(c net.Conn) { io.Copy(c, c) })
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-shutdown-timeout", "2s"}, testWriter{t})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	ws, _ := dialWSAt(t, addr, nil, "/ws", nil)
	ws.sendText(target)
	ws.expectText("SUCC")

	stranger, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	fmt.Fprintf(stranger, "POST /healthz HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\nhalf", addr)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	if resp, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}

	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() { defer wg.Done(); runErr = stop() }()
	for {
		op, p := ws.next()
		if op == opClose {
			if code := binary.BigEndian.Uint16(p); code != 1001 {
				t.Errorf("close code %d, want 1001", code)
			}
			break
		}
	}
	// The stranger's request is still open: the session did not wait for it.
	stranger.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := stranger.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the unfinished request was answered or closed before the session's 1001: %v", err)
	}
	wg.Wait()
	if runErr != nil {
		t.Errorf("run: %v; want a clean exit", runErr)
	}
}
