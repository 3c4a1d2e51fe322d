//go:build linux

// Linux only: the nginx process is tied to the test with Pdeathsig, and the
// foreign client below dials from 127.0.0.2, which needs Linux's 127.0.0.0/8
// loopback.

package main

import (
	"bytes"
	"encoding/json"
	"errors"
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

// TestNginx puts a real nginx in front of the gateway, configured with
// deploy/nginx.conf, the file the README shows: the page, the redirect, a
// WebSocket session and the forwarded headers all go through it, and the
// gateway's pings are shown to keep an idle session open past nginx's
// proxy_read_timeout, which does end a session without them.
func TestNginx(t *testing.T) {
	bin := nginxFind(t)
	site, err := os.ReadFile(filepath.Join("deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	nginxReadmeShows(t, string(site))

	// The gateway under test pings every 500ms; the control gateway never does.
	var logs lockedBuffer
	gw, echo := nginxGateway(t, "500ms", &logs)
	quietGW, quietEcho := nginxGateway(t, "0", io.Discard)
	addr := nginxStart(t, bin, string(site), gw)
	quietAddr := nginxStart(t, bin, string(site), quietGW)

	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(client.CloseIdleConnections)
	base := "http://" + addr

	// The page and its files, by the loopback address the test dials and by
	// the public name nginx serves: the gateway listens on loopback, where it
	// refuses other Host names, except from a -trust-proxy peer.
	for _, host := range []string{addr, "telnet.example.org"} {
		resp, body := nginxGet(t, client, host, base+"/telnet/")
		if resp.StatusCode != 200 || !strings.Contains(body, `id="connect-button"`) {
			t.Errorf("GET /telnet/ with Host %s: %s, connect button: %v", host, resp.Status, strings.Contains(body, `id="connect-button"`))
		}
		if resp, _ := nginxGet(t, client, host, base+"/telnet/wstelnet.js"); resp.StatusCode != 200 {
			t.Errorf("GET /telnet/wstelnet.js with Host %s: %s", host, resp.Status)
		}
	}
	resp, _ := nginxGet(t, client, addr, base+"/telnet")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || !strings.HasSuffix(loc, "/telnet/") {
		t.Errorf("GET /telnet: %s to %q, want a redirect to /telnet/", resp.Status, loc)
	}

	// A session on each gateway, as the page served by nginx opens it.
	ws := nginxConnect(t, addr, echo)
	quiet := nginxConnect(t, quietAddr, quietEcho)
	cut := nginxAwaitCut(quiet)

	// Idle for more than twice proxy_read_timeout, with only the gateway's
	// pings and our pongs going through nginx, and the session still works.
	idle := 5 * time.Second
	if idle <= 2*nginxReadTimeout {
		t.Fatal("the idle spell must outlast proxy_read_timeout twice over")
	}
	start := time.Now()
	pings := 0
	for time.Since(start) < idle {
		pings += nginxPong(t, ws)
	}
	if pings < 6 {
		t.Errorf("%d pings in %v, want at least 6 at -ping-interval 500ms", pings, time.Since(start).Round(time.Millisecond))
	}
	nginxEcho(t, ws, "still there after "+idle.String())

	// Meanwhile nginx ended the session without pings, after proxy_read_timeout.
	// (nginx's timers may fire up to 300ms early.)
	switch c := <-cut; {
	case errors.Is(c.err, os.ErrDeadlineExceeded):
		t.Errorf("nginx did not end the session without pings within %v", c.after)
	case c.err == nil && c.op != opClose:
		t.Errorf("the session without pings got frame op %d instead of its end", c.op)
	case c.after < nginxReadTimeout-500*time.Millisecond || c.after > nginxReadTimeout+3*time.Second:
		t.Errorf("nginx ended the session without pings after %v idle, want about %v", c.after, nginxReadTimeout)
	default:
		t.Logf("nginx ended the idle session without pings after %v (%v); the one with pings lived %v idle with %d pings",
			c.after.Round(time.Millisecond), c.err, time.Since(start).Round(time.Millisecond), pings)
	}

	// Our close, and the gateway's answer through nginx. Pings that cross
	// it go unanswered, as browsers do once they have sent close.
	ws.sendClose()
	for {
		op, p := ws.next()
		if op == opClose {
			if len(p) < 2 || p[0] != 0x03 || p[1] != 0xe8 {
				t.Errorf("the gateway answered our close with %q, want code 1000", p)
			}
			break
		}
		if op != opPing {
			t.Fatalf("got frame op %d %q after our close, want the gateway's", op, trunc(p))
		}
	}

	// The gateway logs the client address nginx forwards. The sessions above
	// come from 127.0.0.1, nginx's own address too, so a browser on
	// 127.0.0.2 shows the difference; it is refused for its foreign Origin,
	// and the gateway logs refusals before answering, so the log has it now.
	nginxForeignClient(t, addr)
	log := strings.Join(logs.lines(), "\n")
	if m := regexp.MustCompile(`msg="session started".* client=(\S+)`).FindStringSubmatch(log); m == nil || m[1] != "127.0.0.1" {
		t.Errorf("session start logged with client %v, want 127.0.0.1", m)
	}
	if !regexp.MustCompile(`msg="WebSocket refused" client=127\.0\.0\.2 origin=http://evil\.example`).MatchString(log) {
		t.Error("the refused WebSocket is not logged with the address nginx forwarded, 127.0.0.2")
	}
	if strings.Contains(log, "Host is not a loopback name") {
		t.Error("the gateway refused a request for its Host header behind a trusted proxy")
	}
}

// nginxReadTimeout is the proxy_read_timeout the test gives nginx: short, so
// that its effect shows in seconds.
const nginxReadTimeout = 2 * time.Second

// nginxFind returns the nginx binary, or skips the test without one (fails in CI).
func nginxFind(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	// Debian puts it in /usr/sbin, which is not on every user's PATH.
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	const hint = "nginx not found; install it with: apt-get install nginx-light"
	if os.Getenv("CI") != "" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// nginxReadmeShows checks that the nginx configuration in README.md is
// the tested one (see readmeShows).
func nginxReadmeShows(t *testing.T, site string) {
	t.Helper()
	readmeShows(t, "nginx", "deploy/nginx.conf", site)
}

// readmeShows checks that README.md's first ```lang block is the tested
// configuration: every line of it is in text, the file name's contents, in
// the same order (the file has more: comments, and lines the README leaves
// out).
func readmeShows(t *testing.T, lang, name, text string) {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n```" + regexp.QuoteMeta(lang) + "\n(.*?)\n```").FindStringSubmatch(string(readme))
	if m == nil {
		t.Fatalf("README.md has no %s block", lang)
	}
	rest := strings.Split(text, "\n")
	for _, line := range strings.Split(m[1], "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		for len(rest) > 0 && strings.TrimSpace(rest[0]) != line {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			t.Fatalf("README.md's %s block says %q, which %s does not (in that order)", lang, line, name)
		}
		rest = rest[1:]
	}
}

// nginxGateway runs the whole program as deploy/nginx.conf expects it, with
// its echo server, and returns the gateway's and the echo server's addresses.
func nginxGateway(t *testing.T, pingInterval string, logs io.Writer) (addr, echo string) {
	t.Helper()
	var out lockedBuffer
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0",
		"-base-path", "/telnet/", "-trust-proxy", "127.0.0.1", "-allow", "127.0.0.1", "-ping-interval", pingInterval,
		"-log-format", "text"},
		io.MultiWriter(testWriter{t}, &out, logs))
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	// The echo server logs its address before the gateway prints its URL.
	m := regexp.MustCompile(`msg="echo server listening" addr=(\S+)`).FindStringSubmatch(strings.Join(out.lines(), "\n"))
	if m == nil {
		t.Fatalf("no echo server address in the log: %q", out.lines())
	}
	return strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/telnet/"), m[1]
}

// nginxRender adapts the site file to the test, changing only what must
// differ, and failing if the file no longer has it: the listen lines become
// the test's listener, the upstream's servers become the test's gateways,
// and proxy_read_timeout becomes nginxReadTimeout.
func nginxRender(t *testing.T, site, listen string, gateways []string) string {
	t.Helper()
	servers := ""
	for _, g := range gateways {
		servers += "${1}server " + g + "${2}"
	}
	for _, r := range []struct{ re, first string }{
		// Every listen line; the first becomes ours, the others go.
		{`(?m)^([ \t]*)listen[ \t][^;\n]*;[^\n]*\n`, "${1}listen " + listen + ";\n"},
		// The upstream's server lines (not "server {", not server_name):
		// the first becomes ours, one per gateway, the others go.
		{`(?m)^([ \t]*)server[ \t]+[^\s{;]+([^;{\n]*;[^\n]*\n)`, servers},
		{`(?m)^([ \t]*)proxy_read_timeout[ \t][^;\n]*;`, fmt.Sprintf("${1}proxy_read_timeout %ds;", int(nginxReadTimeout.Seconds()))},
	} {
		re := regexp.MustCompile(r.re)
		n := 0
		site = re.ReplaceAllStringFunc(site, func(m string) string {
			if n++; n > 1 {
				return ""
			}
			return re.ReplaceAllString(m, r.first)
		})
		if n == 0 {
			t.Fatalf("deploy/nginx.conf has no line matching %s", r.re)
		}
	}
	return site
}

// nginxStart runs nginx in the foreground, serving the site for the
// gateways, until the test ends, and returns the address it serves on.
//
// nginx cannot say which port it took, and picking a free port by listening
// and closing races with everything else on the machine. So the test listens
// itself and hands the socket over the way an nginx binary upgrade does: the
// socket is the child's descriptor 3, the environment says NGINX=3;, and
// nginx adopts it because its address matches the listen directive (it logs
// "using inherited sockets"). Our copy stays open until nginx answers, so
// nginx cannot have bound that address itself: an answer proves the adoption.
func nginxStart(t *testing.T, bin, site string, gateways ...string) string {
	t.Helper()
	dir := t.TempDir()
	addr, f := nginxListen(t)
	mainConf := `# Written by nginx_test.go: nginx in the foreground with everything in ` + dir + `.
daemon off;
master_process on;
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    access_log /dev/stderr;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    include site.conf;
}
`
	exited, waitErr := nginxLaunch(t, bin, dir, map[string]string{"nginx.conf": mainConf, "site.conf": nginxRender(t, site, addr, gateways)}, f)

	// The socket listens already, so a request waits for nginx instead of
	// failing; the loop is for an nginx that exits instead, or hangs.
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
			t.Fatalf("nginx exited (%v); its configuration:\n%s", waitErr(), nginxRender(t, site, addr, gateways))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not serve /telnet/healthz: %v", err)
		}
	}
	return addr
}

// nginxListen listens on a loopback port for nginx and returns the address
// and the socket as a file to hand over (see nginxStart). Our copy stays
// open until the test's end, so that nginx cannot have bound the address
// itself: an answer proves it adopted ours.
func nginxListen(t *testing.T) (string, *os.File) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); ln.Close() })
	return ln.Addr().String(), f
}

// nginxLaunch writes files into dir and starts nginx on dir/nginx.conf,
// with the socket f as its descriptor 3; nginx stops at the test's end.
// It returns a channel closed when nginx exits, and then its error.
func nginxLaunch(t *testing.T, bin, dir string, files map[string]string, f *os.File) (<-chan struct{}, func() error) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", "nginx.conf")
	cmd.Env = append(os.Environ(), "NGINX=3;")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout = testWriter{t}
	cmd.Stderr = testWriter{t}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group, so that the cleanup can tell that the
		// workers are gone too.
		Setpgid: true,
		// If the test binary dies, nginx shuts down (SIGTERM ends the workers too).
		Pdeathsig: syscall.SIGTERM,
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	// Start cleared O_NONBLOCK on the socket (os.File.Fd does), for nginx's
	// copy as well: they share it. nginx expects inherited sockets to be
	// non-blocking, as its own are on an upgrade, and does not set it.
	if err := syscall.SetNonblock(int(f.Fd()), true); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { nginxStop(t, cmd.Process.Pid, exited) })
	return exited, func() error { <-exited; return waitErr }
}

// nginxStop ends nginx with SIGTERM, which closes every connection at once
// (SIGQUIT would wait for the open WebSockets), and checks that the master
// and its workers are all gone.
func nginxStop(t *testing.T, pid int, exited <-chan struct{}) {
	t.Helper()
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.After(10 * time.Second)
	select {
	case <-exited:
	case <-deadline:
		t.Errorf("nginx did not stop on SIGTERM; killing it")
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	// The master reaps its workers before it exits; signal 0 finds any left.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for syscall.Kill(-pid, 0) == nil {
		select {
		case <-tick.C:
		case <-deadline:
			t.Errorf("nginx processes outlived the master; killing them")
			syscall.Kill(-pid, syscall.SIGKILL)
			return
		}
	}
}

// nginxGet fetches url with the given Host header.
func nginxGet(t *testing.T, client *http.Client, host, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// nginxConnect opens a session through nginx at addr to the echo server, as
// the page nginx served would, and checks the greeting and one echo.
func nginxConnect(t *testing.T, addr, echo string) *wsClient {
	t.Helper()
	ws, resp := dialWSAt(t, addr, nil, "/telnet/ws", http.Header{"Origin": {"http://" + addr}})
	if ws == nil {
		t.Fatalf("WebSocket through nginx refused: %s", resp.Status)
	}
	ws.sendText(echo)
	nginxExpectText(t, ws, "SUCC")
	nginxExpectText(t, ws, strings.TrimSuffix(echoGreeting, "\r\n"))
	nginxEcho(t, ws, "hello through nginx")
	return ws
}

// nginxEcho sends a line and expects it back.
func nginxEcho(t *testing.T, ws *wsClient, line string) {
	t.Helper()
	ws.sendText(line)
	nginxExpectText(t, ws, line)
}

// nginxExpectText reads frames up to the text frame want, answering pings.
func nginxExpectText(t *testing.T, ws *wsClient, want string) {
	t.Helper()
	for {
		op, p := ws.next()
		switch {
		case op == opPing:
			ws.writeFrame(opPong, p)
		case op == opText && string(p) == want:
			return
		default:
			t.Fatalf("got frame op %d %q, want text %q", op, trunc(p), want)
		}
	}
}

// nginxPong reads one frame, which must be a ping, and answers it as a
// browser does; it returns 1 for counting.
func nginxPong(t *testing.T, ws *wsClient) int {
	t.Helper()
	op, p := ws.next()
	if op != opPing {
		t.Fatalf("got frame op %d %q on an idle session, want a ping", op, trunc(p))
	}
	ws.writeFrame(opPong, p)
	return 1
}

// nginxCut is how an idle session ended: the frame or error that ended the
// wait, and how long after the wait started.
type nginxCut struct {
	op    byte
	err   error
	after time.Duration
}

// nginxAwaitCut waits in the background for the end of an idle session (EOF
// from nginx, or a close frame), for at most 15 s.
func nginxAwaitCut(ws *wsClient) <-chan nginxCut {
	c := make(chan nginxCut, 1)
	start := time.Now()
	go func() {
		op, _, err := ws.read(15 * time.Second)
		c <- nginxCut{op: op, err: err, after: time.Since(start)}
	}()
	return c
}

// nginxForeignClient opens a WebSocket through nginx from 127.0.0.2 with
// another site's Origin, which the gateway refuses (and logs, with the
// client address it believes).
func nginxForeignClient(t *testing.T, addr string) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest("GET", "http://"+addr+"/telnet/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = http.Header{
		"Origin": {"http://evil.example"}, "Connection": {"Upgrade"}, "Upgrade": {"websocket"},
		"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket from another site's page: %s, want 403", resp.Status)
	}
}

// TestNginxResume runs two gateways behind one nginx configured with
// deploy/nginx.conf, whose upstream hashes the routing cookie the page
// sets: browsers (each with the cookie its page load got) land on both
// gateways; each loses its connection to nginx (a reset) in the middle of
// a download, and its resume, sent with its cookie, reaches the gateway
// that holds its session and continues byte for byte. The same resume
// with the other browser's cookie reaches the other gateway, which knows
// no such session: the cookie is what routes it.
func TestNginxResume(t *testing.T) {
	bin := nginxFind(t)
	site, err := os.ReadFile(filepath.Join("deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var logs [2]lockedBuffer
	gwA, _ := nginxGateway(t, "0", &logs[0])
	gwB, _ := nginxGateway(t, "0", &logs[1])
	addr := nginxStart(t, bin, string(site), gwA, gwB)

	const total = 4 << 20 // beyond the default -resume-buffer: back-pressure holds the target
	want := pattern(total)
	target := startTarget(t, func(c net.Conn) {
		c.Write(want)
		io.Copy(io.Discard, c)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	started := func(i int) int { return strings.Count(logs[i].String(), `msg="session started"`) }

	// Browsers load the page (which sets their cookie) and open a session,
	// until each gateway holds one: a random cookie picks either gateway,
	// so 40 tries fail to reach both once in 2^39.
	var on [2]*rclient
	var cookies [2]string
	for tries := 0; on[0] == nil || on[1] == nil; tries++ {
		if tries == 40 {
			t.Fatalf("40 browsers' sessions all landed on one gateway: the cookie does not spread them")
		}
		resp, _ := nginxGet(t, client, addr, "http://"+addr+"/telnet/")
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == routeCookie {
				cookie = c.Name + "=" + c.Value
			}
		}
		if cookie == "" {
			t.Fatalf("the page through nginx set no %s cookie: %q", routeCookie, resp.Header["Set-Cookie"])
		}
		before := [2]int{started(0), started(1)}
		c := nginxOpenResumable(t, addr, cookie, target)
		var which int
		waitFor(t, "a gateway to log the session", func() bool {
			for i := range 2 {
				if started(i) > before[i] {
					which = i
					return true
				}
			}
			return false
		})
		if on[which] != nil {
			c.ws.sendClose() // this gateway has one already
			continue
		}
		on[which], cookies[which] = c, cookie
	}

	for i, c := range on {
		other := 1 - i
		for len(c.got) < total/4+i*100_000 {
			c.read()
		}
		// The client's connection to nginx is reset. nginx then closes its
		// connection to the gateway: with a FIN, or with a reset when output
		// of the gateway's is still unread in that socket (Linux resets a
		// socket closed with unread data; both happen here, depending on
		// timing), never with a close frame, which only a client makes. The
		// gateway takes either as a lost connection and detaches the session.
		detached := strings.Count(logs[i].String(), `msg="session detached"`)
		c.cut()
		waitFor(t, "the session to detach", func() bool {
			return strings.Count(logs[i].String(), `msg="session detached"`) > detached
		})
		// What nginx did: cause=<nil> is an EOF (a FIN); a reset shows
		// "connection reset by peer".
		t.Logf("gateway %d: %s", i, regexp.MustCompile(`msg="session detached".*`).FindAllString(logs[i].String(), -1))

		// With the other browser's cookie, nginx sends the resume to the
		// other gateway, which knows no such session.
		hdr := c.hdr.Clone()
		hdr.Set("Cookie", cookies[other])
		ws, resp := dialWSAt(t, addr, nil, "/telnet/ws?resume=1", hdr)
		if ws == nil {
			t.Fatalf("resume handshake through nginx refused: %s", resp.Status)
		}
		ws.sendText(fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got)))
		if fail := ws.expectFail(); !strings.Contains(fail, "unknown session") {
			t.Errorf("a resume routed to the other gateway got FAIL %q, want unknown session", fail)
		}

		// With its own cookie the resume reaches its gateway, and the
		// download goes on where it was.
		c.resume()
		for len(c.got) < total {
			c.read()
		}
		if !bytes.Equal(c.got, want) {
			t.Fatalf("browser %d received %d bytes that differ from the %d sent (first difference at %d)", i, len(c.got), total, firstDiff(c.got, want))
		}
		if !strings.Contains(logs[i].String(), `msg="session resumed"`) {
			t.Errorf("gateway %d did not log the resume", i)
		}
		c.ws.sendClose()
	}
}

// nginxOpenResumable opens a resumable v2 session through a proxy (nginx,
// HAProxy) at addr to target, as the page does, with the browser's cookie.
func nginxOpenResumable(t *testing.T, addr, cookie, target string) *rclient {
	t.Helper()
	hdr := http.Header{"Origin": {"http://" + addr}, "Sec-Websocket-Protocol": {subprotocolV2}}
	if cookie != "" { // "": a browser that refuses cookies
		hdr.Set("Cookie", cookie)
	}
	dial := func(path string, hdr http.Header) (*wsClient, *http.Response) {
		return dialWSAt(t, addr, nil, path, hdr)
	}
	ws, resp := dial("/telnet/ws?resume=1&telnet=off", hdr)
	if ws == nil {
		t.Fatalf("WebSocket through the proxy refused: %s", resp.Status)
	}
	ws.sendText(target)
	ws.expectText("SUCC")
	op, p := ws.next()
	var m struct {
		Type string
		ID   string
	}
	if op != opText || json.Unmarshal(p, &m) != nil || m.Type != "session" {
		t.Fatalf("got op %d %q after SUCC, want the session message", op, trunc(p))
	}
	return &rclient{t: t, dial: dial, path: "/telnet/ws", hdr: hdr, ws: ws, id: m.ID}
}
