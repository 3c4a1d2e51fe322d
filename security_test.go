package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"wstelnet/internal/policy"
)

// Tests of what makes the gateway safe to put on a network: target policy,
// authentication, TLS, limits, keepalive, proxies, logs.

// bobLine was written by `htpasswd -nbB -C 4 bob 'correct horse'` (apache2-utils).
const bobLine = "bob:$2y$04$zzSlwjSMUZbnzznuSlxwretJbF/ma9teDNO/XL9OMpONfmimma1yS"

func writeHtpasswd(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuthentication(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	auth, err := loadHtpasswd(writeHtpasswd(t, "# users", bobLine, "alice:"+string(hash)))
	if err != nil {
		t.Fatal(err)
	}
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{Auth: auth})
	for _, tc := range []struct {
		name, path, user, pass string
		want                   int
	}{
		{"page without credentials", "/", "", "", 401},
		{"asset without credentials", "/wstelnet.js", "", "", 401},
		{"page, wrong password", "/", "alice", "guess", 401},
		{"page, unknown user", "/", "mallory", "s3cret", 401},
		{"page, htpasswd -B entry", "/", "bob", "correct horse", 200},
		{"page, Go bcrypt entry", "/", "alice", "s3cret", 200},
		{"page again (cached)", "/", "alice", "s3cret", 200},
		{"health check needs none", "/healthz", "", "", 200},
		{"readiness check needs none", "/readyz", "", "", 200},
	} {
		req, _ := http.NewRequest("GET", tg.srv.URL+tc.path, nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.name, resp.Status, tc.want)
		}
		if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// The WebSocket needs the credentials too.
	hdr := http.Header{"Origin": {tg.origin()}}
	if ws, resp := tg.dialWS(t, "/ws", hdr); ws != nil || resp.StatusCode != 401 {
		t.Fatalf("WebSocket without credentials: %v", resp.Status)
	}
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("bob", "correct horse")
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	ws, resp := tg.dialWS(t, "/ws", hdr)
	if ws == nil {
		t.Fatalf("WebSocket with credentials: %s", resp.Status)
	}
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
	if n := tg.dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1", n)
	}
}

func TestHtpasswdFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"MD5 entry", []string{"carol:$apr1$JQgO8alx$siqPimX7Sj6zAcbbqYFrU."}, "htpasswd -B"},
		{"plain text", []string{"dave:password"}, "not a bcrypt hash"},
		{"no colon", []string{"dave"}, "want user:hash"},
		{"empty", []string{"# nobody"}, "no users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadHtpasswd(writeHtpasswd(t, tc.lines...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := loadHtpasswd(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file is accepted")
	}
}

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
	open("192.0.2.1").expectFail("busy", "per address")
	b := open("192.0.2.2")
	b.expectText("SUCC")
	open("192.0.2.3").expectFail("busy", "3 sessions")

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

func TestBasePath(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{BasePath: "/telnet/"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{
		"/telnet/": 200, "/telnet/index.html": 200, "/telnet/wstelnet.js": 200, "/telnet/healthz": 200, "/telnet/readyz": 200,
		"/telnet": 301, "/": 404, "/healthz": 404, "/wstelnet.js": 404, "/telnet/ws": 426,
	} {
		resp, err := client.Get(tg.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, want)
		}
	}
	ws, resp := tg.dialWS(t, "/telnet/ws", http.Header{"Origin": {tg.origin()}})
	if ws == nil {
		t.Fatalf("WebSocket under the base path: %s", resp.Status)
	}
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
}

func TestTrustProxy(t *testing.T) {
	echo := startTestEcho(t)
	port := func(tg *testGateway) int { return tg.srv.Listener.Addr().(*net.TCPAddr).Port }
	trusting := newTestGateway(t, gatewayOptions{TrustProxy: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	wary := newTestGateway(t, gatewayOptions{})
	for _, tc := range []struct {
		name string
		tg   *testGateway
		hdr  http.Header
		ok   bool
	}{
		{"public name via trusted proxy", trusting, http.Header{"Host": {"telnet.example.org"}, "Origin": {"https://telnet.example.org"}, "X-Forwarded-Proto": {"https"}}, true},
		{"forwarded host with a port", trusting, http.Header{"Host": {"telnet.example.org"}, "X-Forwarded-Host": {"telnet.example.org:8443"}, "Origin": {"https://telnet.example.org:8443"}, "X-Forwarded-Proto": {"https"}}, true},
		{"forwarded host ignored without trust", wary, http.Header{"X-Forwarded-Host": {"telnet.example.org"}, "Origin": {"http://telnet.example.org"}}, false},
		{"forwarded proto must match the origin", trusting, http.Header{"Host": {"telnet.example.org"}, "Origin": {"https://telnet.example.org"}}, false},
		{"public name without trust", wary, http.Header{"Host": {"telnet.example.org"}, "Origin": {"https://telnet.example.org"}, "X-Forwarded-Proto": {"https"}}, false},
		{"forwarded proto ignored without trust", wary, http.Header{"Origin": {fmt.Sprintf("https://127.0.0.1:%d", port(wary))}, "X-Forwarded-Proto": {"https"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp := tc.tg.dialWS(t, "/ws", tc.hdr)
			if (ws != nil) != tc.ok {
				t.Fatalf("got %s, want ok=%v", resp.Status, tc.ok)
			}
			if ws != nil {
				ws.sendText(echo.Addr())
				ws.expectText("SUCC")
			}
		})
	}
	// The client address used for limits is the forwarded one only when trusted.
	req := &http.Request{RemoteAddr: "127.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {"198.51.100.7, 127.0.0.1"}}}
	if c := trusting.gw.identify(req); c.addr != "198.51.100.7" || !c.viaProxy {
		t.Errorf("trusted: %+v", c)
	}
	if c := wary.gw.identify(req); c.addr != "127.0.0.1" || c.viaProxy {
		t.Errorf("not trusted: %+v", c)
	}
	req.Header.Set("X-Forwarded-For", "garbage, 198.51.100.8")
	if c := trusting.gw.identify(req); c.addr != "198.51.100.8" {
		t.Errorf("rightmost untrusted address: %+v", c)
	}
}

// TestDeniedTarget: the policy refuses before any connection is attempted.
func TestDeniedTarget(t *testing.T) {
	var mu sync.Mutex
	accepted := 0
	addr := startTarget(t, func(net.Conn) { mu.Lock(); accepted++; mu.Unlock() })
	deny, err := policy.ParseRules("-deny", "127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	d := &policy.Dialer{Policy: policy.New(nil, deny, nil)}
	tg := newTestGateway(t, gatewayOptions{Dial: d.DialContext})
	_, port, _ := net.SplitHostPort(addr)
	tg.open(t, addr).expectFail("not allowed", "127.0.0.0/8")
	tg.open(t, "localhost:"+port).expectFail("not allowed")
	mu.Lock()
	defer mu.Unlock()
	if accepted != 0 {
		t.Errorf("the target got %d connections", accepted)
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

func TestTLSSelfSigned(t *testing.T) {
	url, out, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-tls-self-signed", "-echo", "127.0.0.1:0"}, testWriter{t})
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	fp := regexp.MustCompile(`fingerprint ([0-9A-F:]{95})`).FindStringSubmatch(strings.Join(out, "\n"))
	if fp == nil {
		t.Fatalf("no fingerprint printed: %q", out)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")

	// TLS 1.1 is refused.
	if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// The certificate is the one whose fingerprint was printed, and HTTP/2 is not offered.
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	st := c.ConnectionState()
	c.Close()
	sum := sha256.Sum256(st.PeerCertificates[0].Raw)
	if got := strings.ToUpper(strings.Join(hexPairs(sum[:]), ":")); got != fp[1] {
		t.Errorf("certificate fingerprint %s, printed %s", got, fp[1])
	}
	if st.NegotiatedProtocol == "h2" {
		t.Error("HTTP/2 negotiated: WebSockets need HTTP/1.1")
	}

	// A session over WSS from the gateway's own https origin.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	m := regexp.MustCompile(`id="port"[^>]*value="(\d+)"|value="(\d+)"[^>]*id="port"`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatal("no echo port on the page")
	}
	echoPort := m[1] + m[2]
	ws, resp := dialWSAt(t, addr, &tls.Config{InsecureSkipVerify: true}, "/ws", http.Header{"Origin": {strings.TrimSuffix(url, "/")}})
	if ws == nil {
		t.Fatalf("WSS refused: %s", resp.Status)
	}
	ws.sendText("127.0.0.1:" + echoPort)
	ws.expectText("SUCC")
	ws.sendClose()
	ws.readUntilClose()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestLogs: one JSON line when a session starts and one when it ends, with
// what an operator needs, and never the data.
func TestLogs(t *testing.T) {
	var logs lockedBuffer
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0", "-log-format", "json"}, &logs)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	var echoAddr string
	for _, l := range logs.lines() {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "echo server listening" {
			echoAddr, _ = m["addr"].(string)
		}
	}
	ws, _ := dialWSAt(t, addr, nil, "/ws", nil)
	ws.sendText(echoAddr)
	ws.expectText("SUCC")
	ws.next()
	ws.sendText("my password is hunter2")
	ws.next()
	ws.sendClose()
	ws.readUntilClose()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var ended map[string]any
	for _, l := range logs.lines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if strings.Contains(l, "hunter2") {
			t.Errorf("the log holds session data: %q", l)
		}
		if m["msg"] == "session ended" {
			ended = m
		}
	}
	if ended == nil {
		t.Fatalf("no 'session ended' line in %q", logs.lines())
	}
	for _, k := range []string{"session", "client", "target", "bytes_up", "bytes_down", "duration", "reason"} {
		if _, ok := ended[k]; !ok {
			t.Errorf("'session ended' has no %q: %v", k, ended)
		}
	}
	if ended["reason"] != "client closed" || ended["bytes_up"].(float64) != float64(len("my password is hunter2\r\n")) {
		t.Errorf("session ended: %v", ended)
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

// TestStartupRefusals: configurations that would be unsafe or broken stop
// the program before it listens, with a message saying what to do.
func TestStartupRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0"}, "-allow '*'"},
		{[]string{"-listen", ":0"}, "-allow"},
		{[]string{"-trust-proxy", "127.0.0.1"}, "-allow"},
		{[]string{"-allow", "10.0.0.0/33"}, "-allow"},
		{[]string{"-deny", "*:0"}, "-deny"},
		{[]string{"-htpasswd", "/nonexistent/htpasswd"}, "-htpasswd"},
		{[]string{"-tls-cert", "/nonexistent/cert.pem", "-tls-key", "/nonexistent/key.pem"}, "-tls-cert"},
		{[]string{"-tls-cert", "x.pem"}, "go together"},
		{[]string{"-base-path", "telnet"}, "-base-path"},
		{[]string{"-trust-proxy", "nginx"}, "-trust-proxy"},
		{[]string{"-log-format", "xml"}, "-log-format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error mentioning %q", err, tc.want)
			}
		})
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

// TestDummyHashCost: unknown users are checked against a hash as costly as
// the default, or a wrong user name would answer faster than a wrong password.
func TestDummyHashCost(t *testing.T) {
	if cost, err := bcrypt.Cost(dummyHash); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("dummyHash cost %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
}
