package main

import (
	"bufio"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrain runs the binary with -drain-delay and sends it SIGTERM, as
// systemd does: for the delay /readyz answers 503, /healthz 200, the open
// session goes on and a new one gets FAIL: saying the gateway is shutting
// down; then the open session ends with 1001 and the process exits 0.
func TestDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const delay = 2 * time.Second
	bin := buildWstelnet(t)
	echo := startTestEcho(t)
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-drain-delay", delay.String())
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { exited <- cmd.Wait() }()
	url := regexp.MustCompile(`http://\S+/`).FindString(line)
	if err != nil || url == "" {
		t.Fatalf("first line %q, %v", line, err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	status := func(path string) int {
		t.Helper()
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("readyz"); got != 200 {
		t.Fatalf("/readyz before the drain: %d, want 200", got)
	}

	ws, _ := dialWSAt(t, addr, nil, "/ws", nil)
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
	ws.expectText(strings.TrimRight(echoGreeting, "\r\n"))

	cmd.Process.Signal(syscall.SIGTERM)
	sent := time.Now()
	waitFor(t, "/readyz to say 503", func() bool { return status("readyz") == http.StatusServiceUnavailable })
	if got := status("healthz"); got != 200 {
		t.Errorf("/healthz while draining: %d, want 200", got)
	}
	// The open session goes on; a new one is told why it cannot start.
	ws.sendText("still here")
	ws.expectText("still here")
	late, _ := dialWSAt(t, addr, nil, "/ws", nil)
	late.sendText(echo.Addr())
	late.expectFailCode(1001, "shutting down")

	if reason := ws.expectClose(1001); !strings.Contains(reason, "shutting down") {
		t.Errorf("close reason %q", reason)
	}
	if d := time.Since(sent); d < delay {
		t.Errorf("the session ended %v after SIGTERM, before -drain-delay %v", d, delay)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("the gateway did not exit within -shutdown-timeout")
	}
}
