package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wstelnet/internal/netns"
	"wstelnet/internal/tokens"
)

// writeTokens writes a token file in dir and returns its path.
func writeTokens(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// staticTargets is a Targets option for a gateway under test.
func staticTargets(t *testing.T, content string) func() *tokens.Set {
	t.Helper()
	ts, err := tokens.Parse("test", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	set := tokens.NewSet(ts)
	return func() *tokens.Set { return set }
}

// TestNamedTargets: a name as the first message, in v1 and v2; unknown
// names; host:port refused without free targets and accepted with them.
func TestNamedTargets(t *testing.T) {
	echo := startTestEcho(t)
	greeting := strings.TrimSuffix(echoGreeting, "\r\n")
	list := "echo: " + echo.Addr() + " # The echo server\nsecret-lab: 127.0.0.1:1 # not for listing\n"

	t.Run("names only", func(t *testing.T) {
		tg := newTestGateway(t, gatewayOptions{Targets: staticTargets(t, list)})
		ws := tg.connect(t, "  echo ") // trimmed, as host:port is
		ws.expectText(greeting)
		ws.sendText("hello")
		ws.expectText("hello")

		v2, resp := tg.dialWS(t, "/ws?telnet=off", http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}})
		if v2 == nil {
			t.Fatal(resp.Status)
		}
		v2.sendText("echo")
		v2.expectText("SUCC")
		if op, p := v2.next(); op != opBinary || !strings.HasPrefix(string(p), greeting) {
			t.Fatalf("v2 got op %d %q", op, p)
		}

		fail := tg.open(t, "nosuch").expectFail(`there is no target named "nosuch"`, "target names")
		if strings.Contains(fail, "echo") || strings.Contains(fail, "secret-lab") {
			t.Errorf("%q lists the other targets", fail)
		}
		tg.open(t, echo.Addr()).expectFail("only to its named targets")
		tg.open(t, "bad name").expectFail("not a target name")
		dials := tg.dials.Load()
		tg.open(t, "[::1]:23").expectFail("only to its named targets")
		if tg.dials.Load() != dials {
			t.Error("a refused target was dialled")
		}
	})

	t.Run("names and free targets", func(t *testing.T) {
		tg := newTestGateway(t, gatewayOptions{Targets: staticTargets(t, list), FreeTargets: true})
		tg.connect(t, "echo").expectText(greeting)
		tg.connect(t, echo.Addr()).expectText(greeting)
		tg.open(t, "nosuch").expectFail(`no target named "nosuch"`, "or host:port")
		// Without a colon, a host name is taken for a target's name.
		tg.open(t, "localhost").expectFail(`no target named "localhost"`)
	})

	t.Run("no named targets", func(t *testing.T) {
		tg := newTestGateway(t, gatewayOptions{})
		tg.open(t, "echo").expectFail("no port")
	})
}

// TestTargetList: the page learns names and descriptions, never addresses.
func TestTargetList(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts gatewayOptions
		want string
	}{
		{"none", gatewayOptions{}, `{"free":true,"targets":[]}`},
		{"names only", gatewayOptions{Targets: staticTargets(t, "b: 127.0.0.1:2\na: 127.0.0.1:1 # <b>A</b> & \"more\"")},
			// In the file's order, not sorted: the operator's order is the menu's.
			`{"free":false,"targets":[{"name":"b"},{"name":"a","description":"\u003cb\u003eA\u003c/b\u003e \u0026 \"more\""}]}`},
		{"with free", gatewayOptions{Targets: staticTargets(t, "a: 127.0.0.1:1"), FreeTargets: true}, `{"free":true,"targets":[{"name":"a"}]}`},
		{"gmcp", gatewayOptions{Targets: staticTargets(t, "g: 127.0.0.1:1 gmcp=Char.Vitals,Room:2\nh: 127.0.0.1:2")},
			`{"free":false,"targets":[{"name":"g","gmcp":["Char.Vitals 1","Room 2"]},{"name":"h"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTestGateway(t, tc.opts)
			resp, err := http.Get(tg.srv.URL + "/targets.json")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.TrimSpace(string(body)); got != tc.want || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %s %s, want %s", resp.Header.Get("Content-Type"), got, tc.want)
			}
		})
	}
}

// TestNamedTargetPolicy: the whole program with -targets. Named targets
// need no -allow, but -deny and the built-in denials apply to them. The
// cases that name addresses other than loopback run in a network
// namespace with only loopback, so that a bug would send nothing.
func TestNamedTargetPolicy(t *testing.T) {
	echo := startTestEcho(t)
	dir := t.TempDir()
	file := writeTokens(t, dir, "targets", "echo: "+echo.Addr()+"\nzero: 0.0.0.0:23\nmeta: 169.254.169.254:80\n")
	for _, tc := range []struct {
		name   string
		args   []string
		target string
		want   string // "" for SUCC
		// outside: the target is not loopback; the case runs in a
		// loopback-only network namespace
		outside bool
	}{
		{"named", nil, "echo", "", false},
		{"free refused", nil, echo.Addr(), "only to its named targets", false},
		{"deny applies", []string{"-deny", "127.0.0.0/8"}, "echo", "-deny 127.0.0.0/8 refuses it", false},
		{"built-in denial", nil, "zero", "unspecified addresses", true},
		{"link-local", nil, "meta", "link-local", true},
		{"with -allow both work", []string{"-allow", echo.Addr()}, echo.Addr(), "", false},
		{"with -allow names still work", []string{"-allow", "192.0.2.1"}, "echo", "", false},
		{"with -allow free follows -allow", []string{"-allow", "192.0.2.1"}, echo.Addr(), "no -allow rule", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.outside && netns.LoopbackOnly(t) {
				return
			}
			url, _, stop := startRun(t, append([]string{"-listen", "127.0.0.1:0", "-targets", file, "-dial-timeout", "2s"}, tc.args...), testWriter{t})
			defer func() {
				if err := stop(); err != nil {
					t.Error(err)
				}
			}()
			addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
			ws, resp := dialWSAt(t, addr, nil, "/ws", nil)
			if ws == nil {
				t.Fatal(resp.Status)
			}
			ws.sendText(tc.target)
			op, p := ws.next()
			switch {
			case tc.want == "" && (op != opText || string(p) != "SUCC"):
				t.Errorf("got %q, want SUCC", p)
			case tc.want != "" && !strings.Contains(string(p), tc.want):
				t.Errorf("got %q, want FAIL: saying %q", p, tc.want)
			}
			ws.c.Close()
		})
	}
}

// TestTargetStore: the store follows its files, keeps the last good set
// when they break, and reads a directory as websockify does.
func TestTargetStore(t *testing.T) {
	dir := t.TempDir()
	file := writeTokens(t, dir, "targets", "a: 127.0.0.1:1\n")
	var logs lockedBuffer
	// An hour between polls: the test nudges the store instead of waiting.
	ts, err := newTargetStore(file, time.Hour, newLogger("text", &logs))
	if err != nil {
		t.Fatal(err)
	}
	defer ts.stop()
	nudge := func() { ts.check <- struct{}{} }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		if !pollUntil(10*time.Second, cond) {
			t.Fatalf("%s: not within 10s; log:\n%s", what, strings.Join(logs.lines(), "\n"))
		}
	}
	has := func(name string) bool { _, ok := ts.Set().Lookup(name); return ok }

	writeTokens(t, dir, "targets", "a: 127.0.0.1:1\nb: 127.0.0.1:2 # new\n")
	nudge()
	waitFor("the new target", func() bool { return has("b") })

	writeTokens(t, dir, "targets", "a: 127.0.0.1:1\nbroken line here\n")
	nudge()
	waitFor("the broken file reported", func() bool { return strings.Contains(strings.Join(logs.lines(), "\n"), "keeping the last good ones") })
	if !has("b") || !strings.Contains(strings.Join(logs.lines(), "\n"), "targets:2: want name: host:port") {
		t.Errorf("after a broken file: b kept %v; log:\n%s", has("b"), strings.Join(logs.lines(), "\n"))
	}
	// Reported once, not on every poll.
	nudge()
	nudge()
	writeTokens(t, dir, "targets", "c: 127.0.0.1:3\n")
	nudge()
	waitFor("the repaired file", func() bool { return has("c") && !has("a") })
	if n := strings.Count(strings.Join(logs.lines(), "\n"), "not reloaded"); n != 1 {
		t.Errorf("the broken file was reported %d times, want once", n)
	}

	// A directory: every file, hidden ones left out, later names win.
	d := filepath.Join(dir, "d")
	os.Mkdir(d, 0o755)
	writeTokens(t, d, "10-bbs", "bbs: 127.0.0.1:23\nx: 127.0.0.1:1\n")
	writeTokens(t, d, "20-mud", "mud: 127.0.0.1:4000\nx: 127.0.0.1:2\n")
	writeTokens(t, d, ".20-mud.swp", "garbage")
	os.Mkdir(filepath.Join(d, "sub"), 0o755)
	set, _, err := readTargets(d)
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := set.Lookup("x"); set.Len() != 3 || x.Addr != "127.0.0.1:2" {
		t.Errorf("directory: %+v", set.All())
	}

	if _, err := newTargetStore(filepath.Join(dir, "missing"), time.Hour, newLogger("text", io.Discard)); err == nil {
		t.Error("a missing file was accepted at start")
	}
	writeTokens(t, dir, "bad", "nocolon\n")
	if _, err := newTargetStore(filepath.Join(dir, "bad"), time.Hour, newLogger("text", io.Discard)); err == nil || !strings.Contains(err.Error(), "bad:1") {
		t.Errorf("a broken file at start: %v", err)
	}
}

// TestTargetStorePolls: without a nudge, the poll finds a change.
func TestTargetStorePolls(t *testing.T) {
	dir := t.TempDir()
	file := writeTokens(t, dir, "targets", "a: 127.0.0.1:1\n")
	ts, err := newTargetStore(file, 10*time.Millisecond, newLogger("text", io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer ts.stop()
	writeTokens(t, dir, "targets", "b: 127.0.0.1:22\n")
	if !pollUntil(10*time.Second, func() bool { _, ok := ts.Set().Lookup("b"); return ok }) {
		t.Fatal("the poll did not find the changed file")
	}
}

// pollUntil checks cond every few milliseconds until it holds (true) or
// the timeout passes (false).
func pollUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// TestAudienceFlags: -targets, -frame-ancestors and -proxy-protocol.
func TestAudienceFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error; "" for none
	}{
		{[]string{"-listen", "0.0.0.0:8000", "-targets", "bbs.tokens"}, ""},
		{[]string{"-trust-proxy", "127.0.0.1", "-targets", "bbs.tokens"}, ""},
		{[]string{"-listen", "0.0.0.0:8000"}, "-allow"},
		{[]string{"-frame-ancestors", "https://bbs.example.org, http://localhost:8080 'self' https://*.example.org"}, ""},
		{[]string{"-frame-ancestors", "https://bbs.example.org; script-src *"}, "-frame-ancestors"},
		{[]string{"-frame-ancestors", "bbs.example.org"}, "-frame-ancestors"},
		{[]string{"-frame-ancestors", "https://bbs.example.org/path"}, "-frame-ancestors"},
		{[]string{"-proxy-protocol", "bbs.example.org:23,10.0.0.0/8", "-proxy-protocol-version", "2"}, ""},
		{[]string{"-proxy-protocol", "10.0.0.0/33"}, "-proxy-protocol"},
		{[]string{"-proxy-protocol-version", "3"}, "want 1 or 2"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cfg, err := parseConfig(tc.args, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if tc.want == "" && strings.HasPrefix(tc.args[0], "-frame") && strings.Join(cfg.frameAncestors, " ") != "https://bbs.example.org http://localhost:8080 'self' https://*.example.org" {
				t.Errorf("frame ancestors %q", cfg.frameAncestors)
			}
		})
	}
	if csp := contentSecurityPolicy(nil); !strings.Contains(csp, "frame-ancestors 'none';") {
		t.Errorf("default CSP %q", csp)
	}
	if csp := contentSecurityPolicy([]string{"https://a.example", "'self'"}); !strings.Contains(csp, "frame-ancestors https://a.example 'self';") {
		t.Errorf("CSP %q", csp)
	}
}

// parseTokensForTest is staticTargets without a testing.T.
func parseTokensForTest(content string) (func() *tokens.Set, error) {
	ts, err := tokens.Parse("test", []byte(content))
	if err != nil {
		return nil, err
	}
	set := tokens.NewSet(ts)
	return func() *tokens.Set { return set }, nil
}
