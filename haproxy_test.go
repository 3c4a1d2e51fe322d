//go:build linux

// Linux only: HAProxy is tied to the test with Pdeathsig, and a visitor
// below dials from 127.0.0.2, which needs Linux's 127.0.0.0/8 loopback.

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHAProxy puts a real HAProxy, configured with deploy/haproxy.cfg (the
// file the README shows), in front of three gateway processes, and checks
// what the README's "Several gateways" promises:
//   - browsers' sessions spread over all three;
//   - a browser without the cookie resumes on its gateway too;
//   - the gateway logs the visitor's address from X-Forwarded-For, not
//     HAProxy's or one the visitor wrote itself;
//   - a session cut (a reset, no close frame) in the middle of traffic
//     both ways is resumed through HAProxy on its own gateway, and goes on
//     byte for byte both ways; the same resume with another browser's
//     cookie reaches another gateway, which does not know it;
//   - a drained gateway (SIGTERM with -drain-delay: /readyz says 503) is
//     taken out by HAProxy's checks: its open sessions go on, new sessions
//     (its own browsers' too) go to the others, and at the end of the
//     delay its sessions end with 1001 and it exits;
//   - a killed gateway (SIGKILL) takes its sessions with it: their
//     connections end, and their resume finds no session, which is what
//     makes the page say the session ended; the sessions of the others
//     go on untouched.
func TestHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three gateways")
	}
	bin := haproxyFind(t)
	cfg, err := os.ReadFile(filepath.Join("deploy", "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	readmeShows(t, "haproxy", "deploy/haproxy.cfg", string(cfg))

	gwBin := buildWstelnet(t)
	h := &haproxyHarness{t: t}
	var addrs []string
	for range 3 {
		// As deploy/haproxy.cfg's comment starts them, with the test's
		// targets allowed.
		p := startGatewayProcess(t, gwBin, "", "-listen", "127.0.0.1:0", "-base-path", "/telnet/",
			"-trust-proxy", "127.0.0.1", "-allow", "127.0.0.1", "-drain-delay", haproxyDrainDelay.String())
		p.addr, _, _ = strings.Cut(p.addr, "/") // it printed http://host:port/telnet/
		h.gws = append(h.gws, p)
		addrs = append(addrs, p.addr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, g := range h.gws {
				t.Logf("gateway %d (%s) logged:\n%s", i, g.addr, g.logs)
			}
		}
	})
	h.addr = haproxyStart(t, bin, string(cfg), addrs)
	h.client = &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(h.client.CloseIdleConnections)
	echo := startTestEcho(t).Addr()

	// /telnet is passed on, and the gateway redirects it to the page.
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := nginxGet(t, noFollow, h.addr, "http://"+h.addr+"/telnet")
	noFollow.CloseIdleConnections()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || !strings.HasSuffix(loc, "/telnet/") {
		t.Errorf("GET /telnet through HAProxy: %s to %q, want a redirect to /telnet/", resp.Status, loc)
	}

	// Browsers load the page (which sets their cookie) and open a session,
	// until each gateway holds one. With random cookies each lands on a
	// given gateway with a chance of about a third, so 100 browsers miss
	// one of three gateways about once in 10^17.
	var on [3]*haproxySession // the first session on each gateway
	for tries := 0; on[0] == nil || on[1] == nil || on[2] == nil; tries++ {
		if tries == 100 {
			t.Fatalf("100 browsers' sessions missed a gateway (%v): the cookie does not spread them", h.started())
		}
		s := h.open(h.browser(), echo)
		h.echo(s, "hello through HAProxy")
		if on[s.gw] == nil {
			on[s.gw] = s
		} else {
			s.c.ws.sendClose() // that gateway has one already
		}
	}
	t.Logf("sessions started per gateway: %v", h.started())

	// The visitor's address: from 127.0.0.2 (HAProxy itself is 127.0.0.1),
	// with forged X-Forwarded-For and X-Forwarded-Proto headers. HAProxy
	// appends 127.0.0.2 after the forged address, and the gateway takes the
	// rightmost one it does not trust; HAProxy replaces the forged https,
	// or the origin check would refuse the http page's session.
	h.visitor(on[0].cookie, echo)

	// A browser that refuses cookies: HAProxy hashes its address instead,
	// so its resume finds its gateway too.
	h.cookieless(echo)

	// A cut and a resume on each gateway, with traffic both ways.
	for i := range on {
		h.cutAndResume(i, on[i].cookie, on[(i+1)%3].cookie)
	}

	// Drain gateway 0 as systemd stops it (SIGTERM with -drain-delay).
	const drained, killed, kept = 0, 1, 2
	h.drain(drained, on[drained], echo)
	// Its session ended with 1001 when the delay was over, and it exited;
	// the others' sessions went on meanwhile.
	for _, i := range []int{killed, kept} {
		h.echo(on[i], "still here after the drain of another gateway")
	}

	// Kill gateway 1 outright.
	h.kill(killed, on[killed], on[kept], echo)
}

// haproxyDrainDelay is the gateways' -drain-delay: long enough for HAProxy's
// checks (every haproxyCheckInterval, out after two failures) to take a
// draining gateway out, and for the test to see new sessions go elsewhere.
const haproxyDrainDelay = 4 * time.Second

// haproxyCheckInterval replaces deploy/haproxy.cfg's check interval (2s),
// so that a drain shows within a second.
const haproxyCheckInterval = "200ms"

// haproxyHarness is HAProxy in front of gateway processes.
type haproxyHarness struct {
	t      *testing.T
	addr   string // HAProxy's
	gws    []*gatewayProcess
	client *http.Client
}

// haproxySession is a resumable session through HAProxy, the browser's
// cookie it was opened with, and the gateway that holds it.
type haproxySession struct {
	c      *rclient
	cookie string
	gw     int
}

// count is how often each gateway has logged msg.
func (h *haproxyHarness) count(msg string) []int {
	n := make([]int, len(h.gws))
	for i, g := range h.gws {
		n[i] = strings.Count(g.logs.String(), `msg="`+msg+`"`)
	}
	return n
}

// started is how many sessions each gateway has started.
func (h *haproxyHarness) started() []int { return h.count("session started") }

// browser loads the page through HAProxy, as a new browser, and returns
// the routing cookie it set, as a Cookie header's value.
func (h *haproxyHarness) browser() string {
	h.t.Helper()
	resp, body := nginxGet(h.t, h.client, h.addr, "http://"+h.addr+"/telnet/")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="connect-button"`) {
		h.t.Fatalf("GET /telnet/ through HAProxy: %s, connect button: %v", resp.Status, strings.Contains(body, `id="connect-button"`))
	}
	for _, c := range resp.Cookies() {
		if c.Name == routeCookie {
			return c.Name + "=" + c.Value
		}
	}
	h.t.Fatalf("the page through HAProxy set no %s cookie: %q", routeCookie, resp.Header["Set-Cookie"])
	return ""
}

// open opens a resumable session through HAProxy to target, as the page
// does, with the browser's cookie, and finds out which gateway took it:
// sessions are opened one at a time, so it is the one whose count of
// started sessions grew.
func (h *haproxyHarness) open(cookie, target string) *haproxySession {
	h.t.Helper()
	before := h.started()
	c := nginxOpenResumable(h.t, h.addr, cookie, target)
	s := &haproxySession{c: c, cookie: cookie, gw: -1}
	waitFor(h.t, "a gateway to log the session", func() bool {
		for i, n := range h.started() {
			if n > before[i] {
				s.gw = i
				return true
			}
		}
		return false
	})
	return s
}

// echo sends a line to the echo server and reads until it is back.
func (h *haproxyHarness) echo(s *haproxySession, line string) {
	h.t.Helper()
	line += "\r\n"
	s.c.ws.writeFrame(opBinary, []byte(line))
	for !bytes.HasSuffix(s.c.got, []byte(line)) {
		if op := s.c.read(); op == opClose {
			h.t.Fatalf("the session on gateway %d closed while waiting for %q", s.gw, line)
		}
	}
}

// visitor opens a session from 127.0.0.2 with forged forwarding headers
// and checks the address the gateway logged.
func (h *haproxyHarness) visitor(cookie, target string) {
	h.t.Helper()
	before := h.started()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	conn, err := dialer.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	ws, resp := handshakeWS(h.t, conn, h.addr, "/telnet/ws?resume=1&telnet=off", http.Header{
		"Origin": {"http://" + h.addr}, "Sec-Websocket-Protocol": {subprotocolV2}, "Cookie": {cookie},
		"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https"},
	})
	if ws == nil {
		h.t.Fatalf("a visitor's WebSocket through HAProxy with forged X-Forwarded-Proto https: %s, want 101", resp.Status)
	}
	ws.sendText(target)
	ws.expectText("SUCC")
	var line string
	waitFor(h.t, "a gateway to log the visitor's session", func() bool {
		for i, n := range h.started() {
			if n > before[i] {
				all := regexp.MustCompile(`msg="session started".*`).FindAllString(h.gws[i].logs.String(), -1)
				line = all[len(all)-1]
				return true
			}
		}
		return false
	})
	if m := regexp.MustCompile(` client=(\S+)`).FindStringSubmatch(line); m == nil || m[1] != "127.0.0.2" {
		h.t.Errorf("the visitor's session logged as %q, want client=127.0.0.2", line)
	}
	ws.sendClose()
}

// cookieless opens a session without a cookie, cuts it and resumes it.
func (h *haproxyHarness) cookieless(target string) {
	h.t.Helper()
	s := h.open("", target)
	h.echo(s, "hello without a cookie")
	detached := h.count("session detached")[s.gw]
	s.c.cut()
	waitFor(h.t, "the session to detach", func() bool { return h.count("session detached")[s.gw] > detached })
	s.c.resume()
	h.echo(s, "resumed without a cookie")
	s.c.ws.sendClose()
}

// cutAndResume runs a session on gateway i that downloads and uploads a
// megabyte each way; the client's connection to HAProxy is reset halfway,
// and the session resumed through HAProxy, first with another browser's
// cookie (another gateway: unknown session), then with its own.
func (h *haproxyHarness) cutAndResume(i int, cookie, otherCookie string) {
	t := h.t
	t.Helper()
	const total = 1 << 20
	both := pattern(2 * total)
	down, up := both[:total], both[total:] // different bytes each way
	gotUp := make(chan []byte, 1)
	target := startTarget(t, func(c net.Conn) {
		wrote := make(chan struct{})
		go func() { c.Write(down); close(wrote) }() // both ways at once
		b := make([]byte, len(up))
		n, _ := io.ReadFull(c, b)
		gotUp <- b[:n]
		io.Copy(io.Discard, c) // stay open: the last acks are still to come
		<-wrote                // done, or failed when the session or the cleanup closed c
	})
	s := h.open(cookie, target)
	if s.gw != i {
		t.Fatalf("a browser whose sessions went to gateway %d opened one on gateway %d", i, s.gw)
	}
	c := s.c
	send := func(from, until int) {
		for from < until {
			n := min(until-from, 16<<10)
			c.ws.writeFrame(opBinary, up[from:from+n])
			from += n
		}
	}
	send(0, total/2)
	for len(c.got) < total/3 {
		c.read()
	}

	detached := h.count("session detached")[i]
	c.cut()
	waitFor(t, "the session to detach", func() bool { return h.count("session detached")[i] > detached })

	// With another browser's cookie, HAProxy sends the resume to another
	// gateway, which knows no such session.
	hdr := c.hdr.Clone()
	hdr.Set("Cookie", otherCookie)
	ws, resp := dialWSAt(t, h.addr, nil, "/telnet/ws?resume=1", hdr)
	if ws == nil {
		t.Fatalf("resume handshake through HAProxy refused: %s", resp.Status)
	}
	ws.sendText(fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got)))
	if fail := ws.expectFail(); !strings.Contains(fail, "unknown session") {
		t.Errorf("a resume routed by another browser's cookie got FAIL %q, want unknown session", fail)
	}

	// With its own cookie the resume reaches its gateway; the client sends
	// again what the gateway had not taken, and both directions go on.
	resumed := h.count("session resumed")
	received := c.resume()
	if received > total/2 || received < c.gwAck {
		t.Fatalf("the gateway says it took %d bytes; we sent %d and it had acknowledged %d", received, total/2, c.gwAck)
	}
	send(int(received), total)
	for len(c.got) < total {
		c.read()
	}
	if !bytes.Equal(c.got, down) {
		t.Fatalf("gateway %d: the browser received %d bytes that differ from the %d sent (first difference at %d)", i, len(c.got), total, firstDiff(c.got, down))
	}
	if b := <-gotUp; !bytes.Equal(b, up) {
		t.Fatalf("gateway %d: the target got %d bytes that differ from the %d sent (first difference at %d)", i, len(b), total, firstDiff(b, up))
	}
	now := h.count("session resumed")
	resumed[i]++
	if fmt.Sprint(now) != fmt.Sprint(resumed) {
		t.Errorf("gateways logged %v resumes, want %v: one more on gateway %d only", now, resumed, i)
	}
	c.ws.sendClose()
}

// status fetches path through HAProxy with a browser's cookie.
func (h *haproxyHarness) status(path, cookie string) int {
	h.t.Helper()
	req, err := http.NewRequest("GET", "http://"+h.addr+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// drain stops gateway d with SIGTERM, which drains it for -drain-delay,
// and follows s, a session on it, to its end.
func (h *haproxyHarness) drain(d int, s *haproxySession, echo string) {
	t := h.t
	t.Helper()
	gw := h.gws[d]
	if err := gw.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	direct := &http.Client{Timeout: 5 * time.Second}
	defer direct.CloseIdleConnections()
	waitFor(t, "the drained gateway's /telnet/readyz to say 503", func() bool {
		resp, err := direct.Get("http://" + gw.addr + "/telnet/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	// Through HAProxy, with the cookie of a browser whose requests went to
	// the drained gateway: 503 while they still go there, 200 once the
	// checks have taken it out and they go elsewhere.
	waitFor(t, "HAProxy to take the drained gateway out", func() bool { return h.status("/telnet/readyz", s.cookie) == 200 })
	t.Logf("HAProxy took the draining gateway out %v after SIGTERM", time.Since(began).Round(time.Millisecond))

	// Its open session goes on.
	h.echo(s, "still here while draining")
	// Its browser's new session goes to another gateway, and so do new
	// browsers' sessions.
	if n := h.open(s.cookie, echo); n.gw == d {
		t.Errorf("a new session of the drained gateway's browser went to it")
	} else {
		h.echo(n, "on another gateway")
		n.c.ws.sendClose()
	}
	for range 4 {
		n := h.open(h.browser(), echo)
		if n.gw == d {
			t.Fatalf("a new browser's session went to the drained gateway")
		}
		n.c.ws.sendClose()
	}
	// And the drain was still on meanwhile (it was not a gateway gone).
	if d := time.Since(began); d > haproxyDrainDelay-500*time.Millisecond {
		t.Fatalf("the checks above took %v, too close to -drain-delay %v to show a drain; is the machine that slow?", d, haproxyDrainDelay)
	}
	h.echo(s, "still here after new sessions went elsewhere")

	// At the end of the delay the gateway ends the session with 1001 (the
	// page says it is shutting down), and exits.
	closed, code, reason := readEnd(s.c)
	if code != 1001 || !strings.Contains(reason, "shutting down") {
		t.Errorf("the drained gateway's session ended with %d %q (closed %q), want 1001 saying it shuts down", code, reason, closed)
	}
	if d := time.Since(began); d < haproxyDrainDelay-200*time.Millisecond {
		t.Errorf("the session ended %v into the drain, before -drain-delay %v", d, haproxyDrainDelay)
	}
	if err := gw.cmd.Wait(); err != nil {
		t.Errorf("the drained gateway exited with %v, want 0:\n%s", err, gw.logs)
	}
}

// kill kills gateway k with SIGKILL: s, a session on it, ends (its
// connection closes, and its resume finds no session); kept, a session on
// another gateway, goes on.
func (h *haproxyHarness) kill(k int, s, kept *haproxySession, echo string) {
	t := h.t
	t.Helper()
	keptDetached := h.count("session detached")[kept.gw]
	if err := h.gws[k].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// HAProxy closes the browser's connection when the gateway's goes, with
	// no close frame: only the gateway could have sent one.
	for {
		op, p, err := s.c.ws.read(10 * time.Second)
		if err != nil {
			if os.IsTimeout(err) {
				t.Fatalf("the killed gateway's session is still open through HAProxy")
			}
			t.Logf("the killed gateway's session: %v", err)
			break
		}
		if op == opClose {
			t.Fatalf("the killed gateway's session got a close frame %q", p)
		}
	}
	// The page resumes, and its resume goes to another gateway (HAProxy
	// redispatches it, or the checks have taken the dead one out), which
	// knows no such session: the page says the session ended. Until then a
	// resume may be refused at the handshake, which the page retries too.
	var fail string
	waitFor(t, "the killed gateway's session's resume to be answered", func() bool {
		ws, _ := dialWSAt(t, h.addr, nil, s.c.path+"?resume=1", s.c.hdr)
		if ws == nil {
			return false
		}
		ws.sendText(fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, s.c.id, len(s.c.got)))
		fail = ws.expectFail()
		return true
	})
	if !strings.Contains(fail, "unknown session") {
		t.Errorf("the resume of the killed gateway's session got FAIL %q, want unknown session", fail)
	}

	// The other gateway's session goes on, and never lost its connection.
	h.echo(kept, "untouched by the crash of another gateway")
	if n := h.count("session detached")[kept.gw]; n != keptDetached {
		t.Errorf("sessions of the surviving gateway lost their connections (%d detached)", n-keptDetached)
	}
	// New sessions land on the gateway left.
	if n := h.open(h.browser(), echo); n.gw != kept.gw {
		t.Errorf("a new session went to gateway %d, not to the one left (%d)", n.gw, kept.gw)
	} else {
		n.c.ws.sendClose()
	}
}

// haproxyFind returns the HAProxy binary, or skips the test without one (fails in CI).
func haproxyFind(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	// Debian puts it in /usr/sbin, which is not on every user's PATH.
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	const hint = "haproxy not found; install it with: apt-get install haproxy"
	if os.Getenv("CI") != "" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// haproxyRender adapts deploy/haproxy.cfg to the test, changing only what
// must differ, and failing if the file no longer has it: the bind lines
// become the socket the test hands over (fd@3), the servers' addresses
// become the gateways', in order, and the check interval becomes
// haproxyCheckInterval.
func haproxyRender(t *testing.T, cfg string, gateways []string) string {
	t.Helper()
	// Every bind line (not the commented ones); the first becomes ours.
	bind := regexp.MustCompile(`(?m)^([ \t]*)bind[ \t][^\n]*\n`)
	n := 0
	cfg = bind.ReplaceAllStringFunc(cfg, func(m string) string {
		if n++; n > 1 {
			return ""
		}
		return bind.ReplaceAllString(m, "${1}bind fd@3\n")
	})
	if n == 0 {
		t.Fatal("deploy/haproxy.cfg has no bind line")
	}
	server := regexp.MustCompile(`(?m)^([ \t]*server[ \t]+\S+[ \t]+)\S+`)
	n = 0
	cfg = server.ReplaceAllStringFunc(cfg, func(m string) string {
		if n++; n > len(gateways) {
			return m
		}
		return server.ReplaceAllString(m, "${1}"+gateways[n-1])
	})
	if n != len(gateways) {
		t.Fatalf("deploy/haproxy.cfg has %d server lines, want one per gateway (%d)", n, len(gateways))
	}
	inter := regexp.MustCompile(`(?m)^([ \t]*default-server[ \t][^\n]*\binter[ \t]+)\S+`)
	if !inter.MatchString(cfg) {
		t.Fatal("deploy/haproxy.cfg has no default-server line with inter")
	}
	return inter.ReplaceAllString(cfg, "${1}"+haproxyCheckInterval)
}

// haproxyStart runs HAProxy in the foreground with deploy/haproxy.cfg in
// front of the gateways until the test ends, and returns its address.
//
// Like nginxStart, the test listens itself and hands the socket over, as
// HAProxy's "bind fd@3" takes it: no port is picked by listening and
// closing, and our copy stays open, so HAProxy cannot have bound that
// address itself. The global section, the process's own business (where
// it logs, which user it runs as), is the test's.
func haproxyStart(t *testing.T, bin, cfg string, gateways []string) string {
	t.Helper()
	dir := t.TempDir()
	addr, f := nginxListen(t)
	global := `# Written by haproxy_test.go: HAProxy in the foreground, logging to its
# standard error, as whoever runs the test.
global
    log stderr format raw local0 info
    nbthread 1
`
	rendered := haproxyRender(t, cfg, gateways)
	for name, text := range map[string]string{"global.cfg": global, "wstelnet.cfg": rendered} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// -db: in the foreground. The files are read in order, as Debian's
	// haproxy.cfg with deploy/haproxy.cfg appended would be.
	cmd := exec.Command(bin, "-db", "-f", filepath.Join(dir, "global.cfg"), "-f", filepath.Join(dir, "wstelnet.cfg"))
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout = testWriter{t}
	cmd.Stderr = testWriter{t}
	// If the test binary dies, HAProxy goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // HAProxy's hard stop: every connection closes
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("haproxy did not stop on SIGTERM; killing it")
			cmd.Process.Kill()
			<-exited
		}
	})

	// The socket listens already, so a request waits for HAProxy instead
	// of failing; the loop is for a HAProxy that exits instead, or hangs,
	// and for its first checks: a gateway counts only once they pass.
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ; ; <-tick.C {
		resp, err := client.Get("http://" + addr + "/telnet/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == "ok\n" {
				break
			}
			err = fmt.Errorf("%s %q", resp.Status, body)
		}
		select {
		case <-exited:
			t.Fatalf("haproxy exited (%v); its configuration:\n%s%s", waitErr, global, rendered)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not serve /telnet/healthz: %v", err)
		}
	}
	return addr
}
