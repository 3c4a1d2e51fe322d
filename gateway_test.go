package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// End-to-end tests: a real gateway on 127.0.0.1:0, real TCP targets on
// loopback, real WebSocket clients.

func TestEchoSession(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, echo.Addr())
	ws.expectText(strings.TrimSuffix(echoGreeting, "\r\n"))
	for _, line := range []string{"hello", "", "  spaces kept  ", "héllo wörld ✓", "line\twith\ttabs"} {
		ws.sendText(line)
		ws.expectText(line)
	}
	ws.sendText("quit")
	ws.expectText("bye")
	if reason := ws.expectClose(1000); !strings.Contains(reason, "target closed") {
		t.Errorf("close reason %q does not say the target closed", reason)
	}
}

// TestTutorialClient drives a session with golang.org/x/net/websocket's own
// client on the tutorial's path, as the 2012 clients do.
func TestTutorialClient(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	ws, err := websocket.Dial("ws"+strings.TrimPrefix(tg.srv.URL, "http")+"/websocket/ws", "", tg.origin())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	recv := func() string {
		t.Helper()
		var s string
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := websocket.Message.Receive(ws, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	websocket.Message.Send(ws, " "+echo.Addr()+" \n")
	if got := recv(); got != "SUCC" {
		t.Fatalf("got %q, want SUCC", got)
	}
	recv() // greeting
	websocket.Message.Send(ws, "ping")
	if got := recv(); got != "ping" {
		t.Fatalf("got %q, want ping", got)
	}
}

func TestBadTargets(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{})
	for _, tc := range []struct {
		name, msg string
		words     []string
	}{
		{"empty", "", []string{"no target"}},
		{"blank", " \t ", []string{"no target"}},
		{"no port", "localhost", []string{"no port"}},
		{"empty port", "localhost:", []string{"no port"}},
		{"port zero", "localhost:0", []string{"out of range"}},
		{"port too big", "localhost:65536", []string{"out of range"}},
		{"named port", "localhost:telnet", []string{"not a number"}},
		{"negative port", "localhost:-1", []string{"not a number"}},
		{"no host", ":23", []string{"no host"}},
		{"control character", "local\x01host:23", []string{"control characters"}},
		{"newline inside", "localhost:23\nlocalhost:24", []string{"control characters"}},
		{"escape sequence", "\x1b[2Jlocalhost:23", []string{"control characters"}},
		{"bare IPv6", "::1:23", []string{"brackets"}},
		{"IPv6 without port", "[::1]", []string{"no port"}},
		{"bad host", "bad host!:23", []string{"not a valid host"}},
		{"url", "http://localhost:80", []string{"URL"}},
		{"url without port", "telnet://localhost", []string{"URL"}},
		{"unicode host", "bücher.example:23", []string{"ASCII"}},
		{"over 1 KiB", strings.Repeat("a", 1100) + ":23", []string{"longer than 1024 bytes"}},
		{"a resume without resume=1", `{"type":"resume","id":"abc","offset":0}`, []string{"a resume", "resume=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := tg.open(t, tc.msg)
			ws.expectFail(tc.words...)
		})
	}
	t.Run("binary first message", func(t *testing.T) {
		ws, _ := tg.dialWS(t, "/ws", nil)
		ws.writeFrame(opBinary, []byte("localhost:23"))
		ws.expectFail("text")
	})
	if n := tg.dials.Load(); n != 0 {
		t.Errorf("the gateway dialled %d times for malformed targets", n)
	}
}

func TestDialRefused(t *testing.T) {
	// An address where nothing listens: take a port and give it back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tg := newTestGateway(t, gatewayOptions{})
	tg.open(t, addr).expectFail("refused")
	// The failure leaves the gateway fine: the next session works.
	echo := startTestEcho(t)
	tg.connect(t, echo.Addr())
}

// TestDialTimeout dials a loopback listener whose accept queue is full, so
// that the kernel drops the SYN and the connection attempt hangs.
func TestDialTimeout(t *testing.T) {
	addr, cleanup := fullBacklogListener(t)
	defer cleanup()
	tg := newTestGateway(t, gatewayOptions{DialTimeout: 300 * time.Millisecond})
	tg.open(t, addr).expectFail("no answer", "300ms")
}

func TestIPv6Target(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
	e, err := startEcho("[::1]:0", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, e.Addr()) // [::1]:port
	ws.expectText(strings.TrimSuffix(echoGreeting, "\r\n"))
}

func TestPromptWithoutNewline(t *testing.T) {
	got := make(chan string, 1)
	addr := startTarget(t, func(c net.Conn) {
		c.Write([]byte("Welcome\r\nlogin: "))
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
		c.Write([]byte("Password: "))
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	ws.expectText("Welcome")
	ws.expectText("login: ")
	ws.sendText("guest")
	if line := <-got; line != "guest\r\n" {
		t.Errorf("target got %q", line)
	}
	ws.expectText("Password: ")
}

// TestPromptCRLFSplit: a CR sent as part of a prompt, its LF after the quiet
// spell, must not turn into an extra empty line.
func TestPromptCRLFSplit(t *testing.T) {
	next := make(chan struct{})
	addr := startTarget(t, func(c net.Conn) {
		c.Write([]byte("ready\r"))
		<-next
		c.Write([]byte("\nmore\r\n"))
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	ws.expectText("ready")
	close(next)
	ws.expectText("more")
	ws.expectClose(1000)
}

// TestTargetLines: what a target writes before it closes, and the lines
// the browser gets, each a text frame, before a close frame with 1000.
func TestTargetLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		sent string
		want []string
	}{
		{"CR LF, LF, and a last line without an ending", "first\r\nsecond\nno newline at the end", []string{"first", "second", "no newline at the end"}},
		{"empty lines kept", "a\r\n\r\n\nb\r\n", []string{"a", "", "", "b"}},
		// Latin-1 "café", a lone continuation byte, a truncated sequence,
		// and 0xFF sent as telnet data (IAC IAC), then half a character.
		{"invalid UTF-8 repaired", "caf\xe9 \x80 \xe2\x82 \xff\xff end\r\n\xc3", []string{"caf\uFFFD \uFFFD \uFFFD\uFFFD \uFFFD end", "\uFFFD"}},
		{"UTF-8 kept whole", "日本語 é 😀\r\n", []string{"日本語 é 😀"}},
		{"telnet NUL after CR dropped", "Login\r\x00ok\r\n", []string{"Login\rok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startTarget(t, func(c net.Conn) { c.Write([]byte(tc.sent)) })
			tg := newTestGateway(t, gatewayOptions{})
			ws := tg.connect(t, addr)
			lines, code := ws.readUntilClose()
			if fmt.Sprintf("%q", lines) != fmt.Sprintf("%q", tc.want) || code != 1000 {
				t.Errorf("got %q, close %d; want %q, 1000", lines, code, tc.want)
			}
		})
	}
}

// TestTargetCloseDeliversEverything: a target that writes a lot and closes
// at once; the browser must get every line before the close frame.
func TestTargetCloseDeliversEverything(t *testing.T) {
	const n = 50000
	addr := startTarget(t, func(c net.Conn) {
		w := bufio.NewWriter(c)
		for i := range n {
			fmt.Fprintf(w, "line %06d %s\r\n", i, strings.Repeat("x", 60))
		}
		w.Flush()
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	frames, code := ws.readUntilClose()
	if code != 1000 {
		t.Fatalf("close %d, want 1000", code)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("line %06d %s", i, strings.Repeat("x", 60)))
	}
	checkLines(t, frames, want)
}

// checkLines checks that frames are the lines want, in order, allowing a
// line to come in several frames: a target that pauses for longer than the
// prompt delay in mid-line (as a busy machine under -race may) gets the
// partial line flushed, as a prompt would be.
func checkLines(t *testing.T, frames, want []string) {
	t.Helper()
	f := 0
	for i, line := range want {
		got := ""
		for got != line {
			if f == len(frames) || !strings.HasPrefix(line, got+frames[f]) {
				t.Fatalf("line %d: frames do not make %q (have %q, next frame %q)", i, line, got, frames[min(f, len(frames)-1)])
			}
			got += frames[f]
			f++
		}
	}
	if f != len(frames) {
		t.Fatalf("%d frames more than the lines: %q...", len(frames)-f, frames[f])
	}
}

func TestLongLineInPieces(t *testing.T) {
	// 300 KiB of 3-byte runes: pieces must not split a rune.
	long := strings.Repeat("€", 100<<10)
	addr := startTarget(t, func(c net.Conn) {
		c.Write([]byte(long + "\r\nafter\r\n"))
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	var got strings.Builder
	frames := 0
	for got.Len() < len(long) {
		op, p := ws.next()
		if op != opText || len(p) > maxFrame {
			t.Fatalf("frame op %d of %d bytes; want text of at most %d", op, len(p), maxFrame)
		}
		got.Write(p)
		frames++
	}
	if got.String() != long {
		t.Fatal("the pieces do not add up to the line")
	}
	if frames < 5 {
		t.Errorf("a %d-byte line came in %d frames", len(long), frames)
	}
	ws.expectText("after")
}

// TestTelnetNegotiationRefused: commands are answered with refusals byte for
// byte and never reach the browser.
func TestTelnetNegotiationRefused(t *testing.T) {
	const (
		IAC, DONT, DO, WONT, WILL, SB, SE, GA = 255, 254, 253, 252, 251, 250, 240, 249
		ECHO, SGA, TTYPE, NAWS                = 1, 3, 24, 31
	)
	answer := make(chan []byte, 1)
	addr := startTarget(t, func(c net.Conn) {
		c.Write([]byte{IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, TTYPE, IAC, DO, NAWS,
			IAC, SB, TTYPE, 1, IAC, SE, IAC, GA, IAC, WONT, 5, IAC, DONT, 6})
		c.Write([]byte("Login\r\x00ok\r\n"))
		want := 12
		buf := make([]byte, want)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := io.ReadFull(c, buf)
		answer <- buf[:n]
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	ws.expectText("Login\rok")
	want := []byte{IAC, DONT, ECHO, IAC, DONT, SGA, IAC, WONT, TTYPE, IAC, WONT, NAWS}
	if got := <-answer; !bytes.Equal(got, want) {
		t.Errorf("target got %v, want %v", got, want)
	}
}

func TestLinesToTarget(t *testing.T) {
	got := make(chan []byte, 1)
	addr := startTarget(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		got <- b
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	ws.sendText("GET / HTTP/1.0")
	ws.sendText("")
	ws.writeFrame(opBinary, []byte{'a', 0xff, 'b'})
	ws.sendClose()
	ws.expectClose(1000)
	want := "GET / HTTP/1.0\r\n\r\na\xff\xffb\r\n"
	if b := <-got; string(b) != want {
		t.Errorf("target got %q, want %q", b, want)
	}
}

// TestHTTPTarget is the README's walk-through: an HTTP/1.0 request through
// the gateway to a real net/http server.
func TestHTTPTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from http\n")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, ln.Addr().String())
	ws.sendText("GET / HTTP/1.0")
	ws.sendText("")
	lines, code := ws.readUntilClose()
	if len(lines) == 0 || lines[0] != "HTTP/1.0 200 OK" || lines[len(lines)-1] != "hello from http" || code != 1000 {
		t.Errorf("got %q, close %d", lines, code)
	}
}

// TestBrowserCloseClosesTarget: whether the browser says goodbye or just
// vanishes, the target sees its connection close at once.
func TestBrowserCloseClosesTarget(t *testing.T) {
	for how, reason := range map[string]string{"close frame": `reason="client closed"`, "vanish": `reason="client connection lost"`} {
		t.Run(how, func(t *testing.T) {
			closed := make(chan error, 1)
			addr := startTarget(t, func(c net.Conn) {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err := io.Copy(io.Discard, c)
				closed <- err
			})
			var logs lockedBuffer
			tg := newTestGateway(t, gatewayOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			ws := tg.connect(t, addr)
			if how == "close frame" {
				ws.sendClose()
				ws.expectClose(1000)
			} else {
				ws.c.Close()
			}
			if err := <-closed; err != nil {
				t.Errorf("target did not see its connection close: %v", err)
			}
			// The log tells a user who left from a connection that was cut.
			waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
			if log := strings.Join(logs.lines(), "\n"); !strings.Contains(log, reason) {
				t.Errorf("the log does not say %s:\n%s", reason, log)
			}
		})
	}
}

func TestTooBigMessage(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{MaxMessage: 64 << 10})
	bystander := tg.connect(t, echo.Addr())
	bystander.next()
	ws := tg.connect(t, echo.Addr())
	ws.next()
	ws.writeFrame(opText, bytes.Repeat([]byte("a"), 100<<10))
	op, p := ws.next()
	if op != opClose || binary.BigEndian.Uint16(p) != 1009 {
		t.Fatalf("got op %d %q, want close 1009", op, p)
	}
	bystander.sendText("still here")
	bystander.expectText("still here")
}

func TestFirstMessageTimeout(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{FirstMessageTimeout: 100 * time.Millisecond})
	ws, _ := tg.dialWS(t, "/ws", nil)
	ws.expectFail("no target received")
}

func TestManySessions(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{Logger: testLogger(discardTB{t})})
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := goroutineTB{t}
			ws := tg.connect(t, echo.Addr())
			ws.next() // greeting
			for j := range 3 {
				msg := fmt.Sprintf("session %d message %d", i, j)
				ws.sendText(msg)
				if op, p := ws.next(); op != opText || string(p) != msg {
					errs <- fmt.Errorf("session %d got %q, want %q", i, p, msg)
					return
				}
			}
			ws.sendText("quit")
			if lines, code := ws.readUntilClose(); code != 1000 || len(lines) != 1 {
				errs <- fmt.Errorf("session %d ended with %q, %d", i, lines, code)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// discardTB keeps a test's helpers but drops its log: 300 sessions log a lot.
type discardTB struct{ testing.TB }

func (discardTB) Log(...any) {}

func TestShutdownClosesSessions(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	var clients []*wsClient
	for range 3 {
		ws := tg.connect(t, echo.Addr())
		ws.next()
		clients = append(clients, ws)
	}
	waiting := tg.open(t, "") // never mind: an answered session
	waiting.expectFail()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- tg.gw.Shutdown(ctx) }()
	for _, ws := range clients {
		reason := ws.expectClose(1001)
		if !strings.Contains(reason, "shutting down") {
			t.Errorf("close reason %q", reason)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := tg.gw.Sessions(); n != 0 {
		t.Errorf("%d sessions left after shutdown", n)
	}
	// New sessions are refused while shutting down.
	ws, _ := tg.dialWS(t, "/ws", nil)
	ws.expectFailCode(1001, "shutting down")
}

func TestOriginRules(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{Origins: []string{"https://app.example.com:443"}})
	port := tg.srv.Listener.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name, origin, host string
		ok                 bool
	}{
		{"own origin", tg.origin(), "", true},
		{"own origin via localhost", fmt.Sprintf("http://localhost:%d", port), fmt.Sprintf("localhost:%d", port), true},
		{"own origin, upper case", strings.ToUpper(tg.origin()), "", true},
		{"no origin (not a browser)", "", "", true},
		{"listed with -origin", "https://app.example.com", "", true},
		{"listed, explicit default port", "https://APP.example.com:443", "", true},
		{"other site", "http://evil.example", "", false},
		{"other port on loopback", fmt.Sprintf("http://127.0.0.1:%d", port+1), "", false},
		{"https vs http", "https://" + tg.srv.Listener.Addr().String(), "", false},
		{"listed host, other scheme", "http://app.example.com", "", false},
		{"null origin", "null", "", false},
		{"garbage", "::::", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			if tc.origin != "" {
				hdr.Set("Origin", tc.origin)
			}
			if tc.host != "" {
				hdr.Set("Host", tc.host)
			}
			ws, resp := tg.dialWS(t, "/ws", hdr)
			switch {
			case tc.ok && ws == nil:
				t.Fatalf("refused with %s", resp.Status)
			case !tc.ok && ws != nil:
				t.Fatal("accepted")
			case !tc.ok && resp.StatusCode != http.StatusForbidden:
				t.Fatalf("refused with %s, want 403", resp.Status)
			case tc.ok:
				ws.sendText(echo.Addr())
				ws.expectText("SUCC")
			}
		})
	}
	if n := tg.dials.Load(); n != 6 {
		t.Errorf("%d dials, want one per accepted origin (6)", n)
	}
}

// TestHostHeaderOnLoopback: a DNS-rebinding page reaches the gateway under a
// foreign host name; every path refuses it.
func TestHostHeaderOnLoopback(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{})
	port := tg.srv.Listener.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{fmt.Sprintf("127.0.0.1:%d", port), true},
		{fmt.Sprintf("localhost:%d", port), true},
		{fmt.Sprintf("LOCALHOST.:%d", port), true},
		{fmt.Sprintf("app.localhost:%d", port), true},
		{fmt.Sprintf("[::1]:%d", port), true},
		{"127.1.2.3", true},
		{fmt.Sprintf("rebind.example:%d", port), false},
		{"localhost.example.com", false},
		{"0.0.0.0", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			for _, path := range []string{"/", "/healthz", "/wstelnet.js", "/ws"} {
				req, _ := http.NewRequest("GET", tg.srv.URL+path, nil)
				req.Host = tc.host
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := resp.StatusCode == http.StatusForbidden; got == tc.ok {
					t.Errorf("%s with Host %q: %s", path, tc.host, resp.Status)
				}
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{EchoAddr: "127.0.0.1:7000"})
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(tg.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, tc := range []struct {
		path, status, ctype, contains string
	}{
		{"/", "200 OK", "text/html", `id="connect-button"`},
		{"/index.html", "200 OK", "text/html", `value="7000"`},
		{"/wstelnet.js", "200 OK", "text/javascript", "WebSocket"},
		{"/style.css", "200 OK", "text/css", ""},
		{"/favicon.svg", "200 OK", "image/svg+xml", "<svg"},
		{"/healthz", "200 OK", "text/plain", "ok"},
		{"/readyz", "200 OK", "text/plain", "ready"},
		{"/ws", "426 Upgrade Required", "text/plain", "WebSocket endpoint"},
		{"/websocket/ws", "426 Upgrade Required", "text/plain", "WebSocket endpoint"},
		{"/nope", "404 Not Found", "text/plain", ""},
	} {
		resp, body := get(tc.path)
		if resp.Status != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: %s %s, body %.80q; want %s %s containing %q", tc.path, resp.Status, resp.Header.Get("Content-Type"), body, tc.status, tc.ctype, tc.contains)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
	}
	if _, body := get("/"); !strings.Contains(body, `value="127.0.0.1"`) {
		t.Error("the page is not prefilled with the echo server's host")
	}
}

// fullBacklogListener returns a loopback address whose accept queue is full
// (backlog 0, filled by connections nobody accepts), so that a new connection
// attempt hangs until the dialler gives up.
func fullBacklogListener(t *testing.T) (string, func()) {
	t.Helper()
	lc := net.ListenConfig{}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	ok := false
	rc.Control(func(fd uintptr) { ok = listenBacklog(fd, 0) })
	if !ok {
		ln.Close()
		t.Skip("cannot set the accept queue's length on this system")
	}
	addr := ln.Addr().String()
	var fillers []net.Conn
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break // the queue is full
			}
			t.Fatal(err)
		}
		fillers = append(fillers, c)
		if len(fillers) > 16 {
			t.Skip("cannot fill the accept queue on this kernel")
		}
	}
	return addr, func() {
		for _, c := range fillers {
			c.Close()
		}
		ln.Close()
	}
}

// TestUpgradeNeedsHTTP11: an HTTP/1.0 upgrade (a proxy without
// proxy_http_version 1.1) is refused with a message that says so.
func TestUpgradeNeedsHTTP11(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{})
	c, err := net.Dial("tcp", tg.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.0\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "HTTP/1.1") {
		t.Errorf("%s %q", resp.Status, body)
	}
}
