package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
	"wstelnet/internal/echo"
	"wstelnet/internal/session"
	"wstelnet/internal/wsframe"
)

// This file holds the fixtures of the Go tests: a gateway under httptest, TCP
// targets on loopback, a leak check, and a small WebSocket client that sees
// every frame (close codes, frame types, sizes), which the library's client hides.

// testLogger sends the gateway's log to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testGateway is a gateway served by httptest on 127.0.0.1:0.
type testGateway struct {
	gw    *Gateway
	log   lockedBuffer // the gateway's log, when the test did not give a logger
	srv   *httptest.Server
	dials atomic.Int32 // how many times the gateway dialled a target
}

// newTestGateway starts a gateway with opts (Logger and LoopbackOnly
// filled in if unset) and stops it, waiting for every session, at cleanup.
func newTestGateway(t testing.TB, opts gatewayOptions) *testGateway {
	t.Helper()
	tg := &testGateway{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, &tg.log), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.LoopbackOnly = true
	dial := opts.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	opts.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		tg.dials.Add(1)
		return dial(ctx, network, addr)
	}
	gw, err := newGateway(opts)
	if err != nil {
		t.Fatal(err)
	}
	tg.gw = gw
	tg.srv = httptest.NewServer(gw)
	t.Cleanup(func() {
		tg.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	})
	return tg
}

// origin is the gateway's own origin, as a browser on its page sends it.
func (tg *testGateway) origin() string { return tg.srv.URL }

// Names the tests share with the engine.
const (
	subprotocolV2 = session.SubprotocolV2
	ackEvery      = 64 << 10 // the gateway and the page acknowledge at least this often (PROTOCOL.md)
	maxFrame      = 64 << 10 // v1 sends no longer text frame (PROTOCOL.md)
)

// The built-in echo server, under the names the tests have always used.
type echoServer = echo.Server

var echoGreeting = echo.Greeting

func startEcho(addr string, log *slog.Logger) (*echo.Server, error) { return echo.Start(addr, log) }

// startTestEcho runs the built-in echo server on loopback.
func startTestEcho(t testing.TB) *echoServer {
	t.Helper()
	e, err := startEcho("127.0.0.1:0", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// startTarget runs a TCP server on loopback that calls handle for each
// connection. At cleanup it closes the listener and the connections and
// waits for the handlers.
func startTarget(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// wsClient is a minimal RFC 6455 client for tests.
type wsClient struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
	r  *wsframe.Reader // frames from the gateway, with wsframe's client side
}

const (
	opText   = wsframe.OpText
	opBinary = wsframe.OpBinary
	opClose  = wsframe.OpClose
	opPing   = wsframe.OpPing
	opPong   = wsframe.OpPong
)

// dialWS opens a WebSocket to the gateway's path with extra headers (Origin,
// Host...). It returns the client on 101, or nil and the refusal.
func (tg *testGateway) dialWS(t testing.TB, path string, hdr http.Header) (*wsClient, *http.Response) {
	t.Helper()
	return dialWSAt(t, tg.srv.Listener.Addr().String(), nil, path, hdr)
}

// dialWSAt opens a WebSocket to addr (over TLS when tc is set).
func dialWSAt(t testing.TB, addr string, tc *tls.Config, path string, hdr http.Header) (*wsClient, *http.Response) {
	t.Helper()
	var c net.Conn
	var err error
	if tc != nil {
		c, err = tls.Dial("tcp", addr, tc)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return handshakeWS(t, c, addr, path, hdr)
}

// handshakeWS opens a WebSocket over c, a connection to addr.
func handshakeWS(t testing.TB, c net.Conn, addr, path string, hdr http.Header) (*wsClient, *http.Response) {
	t.Helper()
	key := make([]byte, 16)
	rand.Read(key)
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", path)
	if hdr.Get("Host") == "" {
		fmt.Fprintf(&b, "Host: %s\r\n", addr)
	}
	fmt.Fprintf(&b, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n", base64.StdEncoding.EncodeToString(key))
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, resp
	}
	c.SetDeadline(time.Time{})
	ws := &wsClient{t: t, c: c, br: br, r: wsframe.NewReader(br, false, nil)}
	t.Cleanup(func() { c.Close() })
	return ws, resp
}

// open dials /ws from the gateway's own origin and sends the target.
func (tg *testGateway) open(t testing.TB, target string) *wsClient {
	t.Helper()
	ws, resp := tg.dialWS(t, "/ws", http.Header{"Origin": {tg.origin()}})
	if ws == nil {
		t.Fatalf("handshake refused: %s", resp.Status)
	}
	ws.sendText(target)
	return ws
}

// connect opens a session and expects SUCC.
func (tg *testGateway) connect(t testing.TB, target string) *wsClient {
	t.Helper()
	ws := tg.open(t, target)
	ws.expectText("SUCC")
	return ws
}

func (ws *wsClient) writeFrame(op byte, payload []byte) error {
	var key [4]byte
	rand.Read(key[:])
	frame := wsframe.AppendMaskedHeader(nil, op, len(payload), key)
	start := len(frame)
	frame = append(frame, payload...)
	wsframe.Mask(key, 0, frame[start:])
	return ws.writeRaw(frame)
}

// writeRaw writes exactly b: for frames a well-behaved client never sends.
func (ws *wsClient) writeRaw(b []byte) error {
	ws.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := ws.c.Write(b)
	return err
}

func (ws *wsClient) sendText(s string) {
	ws.t.Helper()
	if err := ws.writeFrame(opText, []byte(s)); err != nil {
		ws.t.Fatalf("send %q: %v", s, err)
	}
}

// sendClose sends a close frame with code 1000.
func (ws *wsClient) sendClose() {
	ws.t.Helper()
	if err := ws.writeFrame(opClose, []byte{0x03, 0xe8}); err != nil {
		ws.t.Fatalf("send close: %v", err)
	}
}

// next reads one frame. Text frames must be valid UTF-8, as browsers demand.
func (ws *wsClient) next() (op byte, payload []byte) {
	ws.t.Helper()
	op, payload, err := ws.read(10 * time.Second)
	if err != nil {
		ws.t.Fatalf("read frame: %v", err)
	}
	return op, payload
}

func (ws *wsClient) read(timeout time.Duration) (byte, []byte, error) {
	ws.c.SetReadDeadline(time.Now().Add(timeout))
	f, err := ws.r.ReadFrame(0)
	switch {
	case err != nil:
		return 0, nil, err
	case !f.Fin:
		return 0, nil, fmt.Errorf("fragmented frame from the gateway")
	case f.Masked:
		return 0, nil, fmt.Errorf("masked frame from the gateway")
	case f.RSV != 0:
		return 0, nil, fmt.Errorf("reserved bits set by the gateway")
	case f.Op == opText && !utf8.Valid(f.Payload):
		return 0, nil, fmt.Errorf("text frame with invalid UTF-8: %q", f.Payload)
	}
	return f.Op, bytes.Clone(f.Payload), nil
}

// expectText reads a frame and checks it is the text want.
func (ws *wsClient) expectText(want string) {
	ws.t.Helper()
	op, p := ws.next()
	if op != opText || string(p) != want {
		ws.t.Fatalf("got frame op %d %q, want text %q", op, trunc(p), want)
	}
}

// expectFail reads a FAIL: answer containing every one of words, then a
// close frame with code 1000.
func (ws *wsClient) expectFail(words ...string) string {
	ws.t.Helper()
	return ws.expectFailCode(1000, words...)
}

// expectFailCode reads a FAIL: answer and a close frame with the given code.
func (ws *wsClient) expectFailCode(code int, words ...string) string {
	ws.t.Helper()
	op, p := ws.next()
	if op != opText || !strings.HasPrefix(string(p), "FAIL:") {
		ws.t.Fatalf("got frame op %d %q, want FAIL:", op, trunc(p))
	}
	for _, w := range words {
		if !strings.Contains(string(p), w) {
			ws.t.Errorf("%q does not say %q", p, w)
		}
	}
	ws.expectClose(code)
	return string(p)
}

// expectClose reads a close frame with the given code and returns its reason.
func (ws *wsClient) expectClose(code int) string {
	ws.t.Helper()
	op, p := ws.next()
	if op != opClose || len(p) < 2 {
		ws.t.Fatalf("got frame op %d %q, want close %d", op, trunc(p), code)
	}
	if got := int(binary.BigEndian.Uint16(p)); got != code {
		ws.t.Fatalf("close code %d (%q), want %d", got, p[2:], code)
	}
	ws.writeFrame(opClose, p[:2]) // answer, as browsers do
	return string(p[2:])
}

// readUntilClose collects text frames until the close frame.
func (ws *wsClient) readUntilClose() (lines []string, code int) {
	ws.t.Helper()
	for {
		op, p := ws.next()
		switch op {
		case opText:
			lines = append(lines, string(p))
		case opClose:
			ws.writeFrame(opClose, nil) // answer, as browsers do
			if len(p) < 2 {
				return lines, 1005
			}
			return lines, int(binary.BigEndian.Uint16(p))
		default:
			ws.t.Fatalf("unexpected frame op %d", op)
		}
	}
}

func trunc(p []byte) string {
	if len(p) > 200 {
		return string(p[:200]) + "..."
	}
	return string(p)
}

// startTelnetd runs GNU inetutils' telnetd behind a loopback listener, as
// inetd would: each connection becomes the standard input and output of a
// new `telnetd -h -E /bin/sh`, which negotiates in full and then runs a
// shell. The test is skipped when telnetd is missing, or fails under CI.
func startTelnetd(t *testing.T) string {
	t.Helper()
	bin := "/usr/sbin/telnetd"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("telnetd not found; install it with: apt-get install inetutils-telnetd")
		}
		t.Skip("telnetd not found; install it with: apt-get install inetutils-telnetd")
	}
	var mu sync.Mutex
	var procs []*exec.Cmd
	addr := startTarget(t, func(c net.Conn) {
		f, err := c.(*net.TCPConn).File()
		if err != nil {
			t.Error(err)
			return
		}
		cmd := exec.Command(bin, "-h", "-E", "/bin/sh")
		cmd.Stdin, cmd.Stdout = f, f
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/tmp"}
		err = cmd.Start()
		f.Close()
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		procs = append(procs, cmd)
		mu.Unlock()
		// telnetd owns the connection now; ours is closed on return.
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	})
	return addr
}

// goroutineTB is a test's TB for a goroutine the test started: the testing
// package allows FailNow only on the test's own goroutine, so a fatal
// failure here is reported and ends just this goroutine (its deferred
// calls run, so a WaitGroup still counts it done).
type goroutineTB struct{ testing.TB }

func (g goroutineTB) Fatal(args ...any) { g.TB.Helper(); g.TB.Error(args...); runtime.Goexit() }
func (g goroutineTB) Fatalf(format string, args ...any) {
	g.TB.Helper()
	g.TB.Errorf(format, args...)
	runtime.Goexit()
}
func (g goroutineTB) FailNow() { g.TB.Fail(); runtime.Goexit() }

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// startRun runs the program in-process with args and returns the URL it
// printed, the other lines of its standard output, and a function that
// stops it and returns its error.
func startRun(t *testing.T, args []string, stderr io.Writer) (url string, out []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, stderr)
		pw.CloseWithError(err)
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if u := regexp.MustCompile(`https?://\S+`).FindString(line); strings.Contains(line, "open") && u != "" {
			url = u
			break
		}
		out = append(out, line)
	}
	if url == "" {
		cancel()
		t.Fatalf("run printed no URL: %v, %q", <-done, out)
	}
	go io.Copy(io.Discard, pr)
	return url, out, func() error {
		cancel()
		http.DefaultClient.CloseIdleConnections()
		return <-done
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// logs is what the gateway has logged so far.
func (tg *testGateway) logs() string {
	tg.log.mu.Lock()
	defer tg.log.mu.Unlock()
	return tg.log.buf.String()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
