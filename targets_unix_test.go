//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTargetsSIGHUP: the whole program re-reads -targets on SIGHUP (a real
// signal to this process, which run has asked to be told of) without
// dropping the session that is open, and a broken file keeps the last
// good targets.
func TestTargetsSIGHUP(t *testing.T) {
	echo := startTestEcho(t)
	dir := t.TempDir()
	file := writeTokens(t, dir, "targets", "echo: "+echo.Addr()+"\n")
	var logs lockedBuffer
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-targets", file}, &logs)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	open := func(target string) *wsClient {
		ws, resp := dialWSAt(t, addr, nil, "/ws", nil)
		if ws == nil {
			t.Fatal(resp.Status)
		}
		ws.sendText(target)
		return ws
	}
	greeting := strings.TrimSuffix(echoGreeting, "\r\n")
	live := open("echo")
	live.expectText("SUCC")
	live.expectText(greeting)

	// The same size and modification time: only SIGHUP can make it seen
	// (the poll, every 2 s, compares them).
	fi, _ := os.Stat(file)
	writeTokens(t, dir, "targets", "ohce: "+echo.Addr()+"\n")
	os.Chtimes(file, fi.ModTime(), fi.ModTime())
	hup := func(n int) {
		t.Helper()
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		if !pollUntil(10*time.Second, func() bool { return strings.Count(strings.Join(logs.lines(), "\n"), "why=SIGHUP") >= n }) {
			t.Fatalf("no reload after SIGHUP; log:\n%s", strings.Join(logs.lines(), "\n"))
		}
	}
	hup(1)
	open("ohce").expectText("SUCC")
	open("echo").expectFail(`no target named "echo"`)

	// The session opened before the reload goes on.
	live.sendText("still here")
	live.expectText("still here")

	writeTokens(t, dir, "targets", "ohce "+echo.Addr()+"\n")
	hup(2)
	if log := strings.Join(logs.lines(), "\n"); !strings.Contains(log, "keeping the last good ones") {
		t.Errorf("the broken file is not reported; log:\n%s", log)
	}
	open("ohce").expectText("SUCC")
}
