//go:build unix

package main

import (
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOpenFileLimit runs the binary with a small open-file limit: it sets
// -max-sessions from it and says so, refuses the session past it as busy,
// answers connections past its descriptors with 503 instead of failing in
// accept, and the sessions already open go on.
func TestOpenFileLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWstelnet(t)
	const limit = 1500
	want := sessionCapacity(limit, 2)
	// sh's ulimit sets the soft and the hard limit, so the runtime cannot raise it.
	gw := startGatewayProcess(t, bin, "ulimit -n 1500 &&", "-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0", "-log-format", "json", "-max-sessions-per-client", "0")
	addr, logs := gw.addr, gw.logs
	if !strings.Contains(logs.String(), `"max_sessions":`+strconv.Itoa(want)) {
		t.Fatalf("want a log line saying max_sessions %d, got:\n%s", want, logs.String())
	}
	echoAddr := regexp.MustCompile(`"msg":"echo server listening","addr":"([^"]+)"`).FindStringSubmatch(logs.String())
	if echoAddr == nil {
		t.Fatalf("no echo server in the log:\n%s", logs.String())
	}

	var sessions []*wsClient
	for range want {
		ws, _ := dialWSAt(t, addr, nil, "/ws", nil)
		ws.sendText(echoAddr[1])
		ws.expectText("SUCC")
		ws.next() // the echo server's greeting
		sessions = append(sessions, ws)
	}
	ws, _ := dialWSAt(t, addr, nil, "/ws", nil)
	ws.sendText(echoAddr[1])
	ws.expectFailCode(1013, "busy")

	// Idle connections, quicker than the server's header timeout closes
	// them, until there are more than it has descriptors for: the last
	// ones are shed with a 503.
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	shed := false // a connection was refused: a 503, or closed at once when many are
	for range limit - 100 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			shed = true // reset as it was accepted
			break
		}
		idle = append(idle, c)
	}
	if !shed {
		last := idle[len(idle)-1]
		last.SetReadDeadline(time.Now().Add(10 * time.Second))
		var b [12]byte
		n, err := io.ReadFull(last, b[:])
		shed = string(b[:n]) == "HTTP/1.1 503" || n == 0 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
		if !shed {
			s := logs.String()
			t.Fatalf("the last of %d idle connections got %q (%v), want a 503:\n%s", len(idle), b[:n], err, s[max(0, len(s)-1500):])
		}
	}
	// The open sessions go on.
	for _, ws := range sessions {
		ws.sendText("still here")
		if _, p := ws.next(); !strings.Contains(string(p), "still here") {
			t.Fatalf("a session got %q after the shedding", p)
		}
	}
	if s := logs.String(); strings.Contains(s, "too many open files") || !strings.Contains(s, "out of descriptors") {
		t.Errorf("want the shedding logged, and no \"too many open files\":\n%s", s[max(0, len(s)-2000):])
	}
}
