//go:build linux

package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNginxDrain drains a gateway behind a real nginx (deploy/nginx.conf):
// through nginx, /readyz says 503 and /healthz 200, the open session goes
// on, a new session is answered with FAIL: rather than cut, and after
// -drain-delay the open session ends with 1001.
func TestNginxDrain(t *testing.T) {
	bin := nginxFind(t)
	site, err := os.ReadFile(filepath.Join("deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	const delay = 2 * time.Second
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0",
		"-base-path", "/telnet/", "-trust-proxy", "127.0.0.1", "-allow", "127.0.0.1", "-drain-delay", delay.String(),
		// The test's nginx cuts a WebSocket quiet for 2s; pings keep it open.
		"-ping-interval", "500ms"},
		testWriter{t})
	var once sync.Once
	stopped := make(chan error, 1)
	drain := func() { once.Do(func() { go func() { stopped <- stop() }() }) }
	t.Cleanup(func() {
		drain()
		if err := <-stopped; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	gw := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/telnet/")
	_, page := nginxGet(t, &http.Client{Timeout: 5 * time.Second}, gw, url)
	m := regexp.MustCompile(`id="host"[^>]*value="([^"]+)"[\s\S]*?id="port"[^>]*value="(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no echo server address in the page")
	}
	echo := m[1] + ":" + m[2]
	addr := nginxStart(t, bin, string(site), gw)
	client := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	status := func(path string) int {
		t.Helper()
		resp, _ := nginxGet(t, client, addr, "http://"+addr+path)
		return resp.StatusCode
	}
	if got := status("/telnet/readyz"); got != 200 {
		t.Fatalf("/telnet/readyz through nginx before the drain: %d", got)
	}
	ws := nginxConnect(t, addr, echo)

	drain()
	began := time.Now()
	waitFor(t, "/telnet/readyz through nginx to say 503", func() bool { return status("/telnet/readyz") == 503 })
	if got := status("/telnet/healthz"); got != 200 {
		t.Errorf("/telnet/healthz through nginx while draining: %d, want 200", got)
	}
	nginxEcho(t, ws, "still here while draining")
	late, resp2 := dialWSAt(t, addr, nil, "/telnet/ws", http.Header{"Origin": {"http://" + addr}})
	if late == nil {
		t.Fatalf("a new WebSocket through nginx while draining: %s, want an answer on the WebSocket", resp2.Status)
	}
	late.sendText(echo)
	late.expectFailCode(1001, "shutting down")

	for {
		op, p := ws.next()
		if op == opPing {
			ws.writeFrame(opPong, p)
			continue
		}
		if op != opClose || len(p) < 2 || p[0] != 0x03 || p[1] != 0xe9 || !strings.Contains(string(p[2:]), "shutting down") {
			t.Fatalf("got frame op %d %q, want close 1001 saying the gateway is shutting down", op, p)
		}
		ws.writeFrame(opClose, p[:2])
		break
	}
	if d := time.Since(began); d < delay-200*time.Millisecond {
		t.Errorf("the open session ended %v into the drain, before -drain-delay %v", d, delay)
	}
}
