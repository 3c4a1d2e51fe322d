package main

// Session resume in headless Chromium: the page reaches the gateway
// through a TCP proxy the test controls, which cuts every connection at
// once (a reset, as a network loss or a dying proxy does) and refuses new
// ones for a while; the page must say so, keep the view and the typing,
// reconnect, and go on with nothing lost or repeated either way.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wstelnet/internal/wsframe"
)

func TestBrowserResume(t *testing.T) {
	browserCtx := browserAllocator(t)
	t.Run("Line", func(t *testing.T) { browserTestResume(t, browserCtx, "line") })
	t.Run("Terminal", func(t *testing.T) { browserTestResume(t, browserCtx, "terminal") })
	t.Run("GatewayRestarted", func(t *testing.T) { browserTestResumeGone(t, browserCtx) })
	t.Run("DisconnectWhileReconnecting", func(t *testing.T) { browserTestResumeDisconnect(t, browserCtx) })
	t.Run("Frozen", func(t *testing.T) { browserTestResumeFrozen(t, browserCtx) })
	t.Run("Ends", func(t *testing.T) { browserTestEnds(t, browserCtx) })
	t.Run("GatewayShutdown", func(t *testing.T) { browserTestGatewayShutdown(t, browserCtx) })
}

// browserTestGatewayShutdown: the real gateway shuts down under a
// resumable session (the page's default): the page says the gateway is
// shutting down, with 1001, and does not try to resume.
func browserTestGatewayShutdown(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(p.echoAddr)
	p.waitConnected(1)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), browserWait)
		defer cancel()
		done <- p.gw.Shutdown(ctx)
	}()
	p.wait("the end", `document.getElementById('connect-button').textContent === 'Connect' &&
		document.getElementById('status').textContent.startsWith('Disconnected')`)
	if got, want := p.text("status"), "Disconnected: the gateway is shutting down (close code 1001)."; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if !browserEval[bool](p, `document.getElementById('banner').hidden`) {
		t.Errorf("the banner shows %q: the page tried to resume a session the gateway ended", p.text("banner-text"))
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// resumeLines is how many numbered lines the target prints, one every
// resumeLineEvery: long enough to span the cut and the reconnection.
const (
	resumeLines     = 300
	resumeLineEvery = 20 * time.Millisecond
)

// browserTestResume: the target prints numbered lines steadily; every
// connection through the proxy is cut and new ones are refused for 2 s;
// the page shows the banner, reconnects, and ends with every line exactly
// once, in order; what was typed during the cut reaches the target once.
func browserTestResume(t *testing.T, browserCtx context.Context, mode string) {
	p := browserSetupWith(t, browserCtx, gatewayOptions{ResumeWindow: time.Minute})
	// The refused connections are the point; Chromium logs each one.
	p.expectProblems(`WebSocket connection to '.*' failed`)
	proxy := startCutProxy(t, strings.TrimPrefix(strings.TrimSuffix(p.url, "/"), "http://"))
	p.url = "http://" + proxy.addr() + "/"
	typed := &lockedBuffer{}
	target := numberedTarget(t, resumeLines, resumeLineEvery, typed)

	p.openHash("mode=" + mode)
	p.connectTo(target)
	lines := resumeConsoleLines
	if mode == "terminal" {
		p.waitTerminalConnected()
		lines = resumeTermLines
	} else {
		p.wait("the connected state", `document.getElementById('status').textContent.startsWith('Connected to ')`)
	}
	type1, type2 := "before the cut", "typed during the cut"
	p.waitFor("line 50", browserWait, fmt.Sprintf(`%s.includes('line 0050')`, lines))
	p.typeLine(mode, type1)
	waitFor(t, "the first typing at the target", func() bool { return strings.Contains(typed.String(), type1+"\r") })

	// The banner is drawn over the view: the view keeps its size, and the
	// terminal its rows and columns (no resize goes to the host).
	before := browserEval[viewSize](p, browserViewSize)
	cutAt := time.Now()
	proxy.cut(2 * time.Second)
	p.wait("the banner", `!document.getElementById('banner').hidden &&
		document.getElementById('banner-text').textContent.startsWith('Connection lost, reconnecting…')`)
	// The second attempt is refused too (about 1.5 s in); the banner counts.
	p.wait("the second attempt", `document.getElementById('banner-text').textContent === 'Connection lost, reconnecting… (attempt 2)'`)
	if got := p.text("connect-button"); got != "Disconnect" {
		t.Errorf("the button reads %q while reconnecting, want Disconnect (which ends the session)", got)
	}
	if during := browserEval[viewSize](p, browserViewSize); during != before {
		t.Errorf("with the banner shown the view is %+v, want %+v as before: the banner must not take the view's room", during, before)
	}
	p.typeLine(mode, type2)
	p.screenshot("resume-" + mode + "-banner.png")

	p.waitFor("the reconnection", 15*time.Second, `!document.getElementById('banner').hidden &&
		document.getElementById('banner-text').textContent === 'Reconnected'`)
	t.Logf("reconnected %v after the cut (refused for 2 s)", time.Since(cutAt).Round(time.Millisecond))
	p.screenshot("resume-" + mode + "-reconnected.png")
	last := fmt.Sprintf("line %04d", resumeLines)
	p.waitFor(last, 20*time.Second, fmt.Sprintf(`%s.includes(%s)`, lines, browserJS(last)))
	p.screenshot("resume-" + mode + "-recovered.png")

	got := browserEval[[]string](p, lines)
	want := make([]string, resumeLines)
	for i := range want {
		want[i] = fmt.Sprintf("line %04d", i+1)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the %s shows %d numbered lines, want 1 to %d exactly once, in order; first difference: %s", mode, len(got), resumeLines, firstLineDiff(got, want))
	}
	// What was typed arrived once each, in order, and nothing else.
	// The target does not echo, so terminal mode sends lines too, with CR LF.
	end := "\r\n"
	p.typeLine(mode, "after")
	waitFor(t, "the last typing at the target", func() bool { return strings.Contains(typed.String(), "after"+end) })
	if got, want := typed.String(), type1+end+type2+end+"after"+end; got != want {
		t.Errorf("the target got %q, want %q", got, want)
	}
	if got := p.text("status"); !strings.HasPrefix(got, "Connected to ") {
		t.Errorf("status %q after the reconnection", got)
	}
	// Disconnect ends the session for good: the target is closed.
	p.click("connect-button")
	waitFor(t, "the target to be closed", func() bool { return strings.HasSuffix(typed.String(), targetClosed) })
}

// browserTestResumeDisconnect: Disconnect while the page is reconnecting
// ends the session for good (the gateway would otherwise keep it, and
// its target, for the window): the target is closed.
func browserTestResumeDisconnect(t *testing.T, browserCtx context.Context) {
	p := browserSetupWith(t, browserCtx, gatewayOptions{ResumeWindow: time.Minute})
	p.expectProblems(`WebSocket connection to '.*' failed`)
	proxy := startCutProxy(t, strings.TrimPrefix(strings.TrimSuffix(p.url, "/"), "http://"))
	p.url = "http://" + proxy.addr() + "/"
	typed := &lockedBuffer{}
	target := numberedTarget(t, 100000, 100*time.Millisecond, typed)
	p.open()
	p.connectTo(target)
	p.wait("line 3", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'line 0003')`)
	proxy.cut(time.Minute)
	p.wait("the second attempt", `document.getElementById('banner-text').textContent === 'Connection lost, reconnecting… (attempt 2)'`)
	proxy.allow()
	p.click("connect-button")
	p.wait("the idle page", `document.getElementById('connect-button').textContent === 'Connect' && document.getElementById('banner').hidden`)
	waitFor(t, "the target to be closed", func() bool { return strings.HasSuffix(typed.String(), targetClosed) })
	if status := p.text("status"); status != "Disconnected." {
		t.Errorf("status %q, want Disconnected.", status)
	}
}

// browserTestResumeGone: the gateway behind the proxy is replaced by a
// fresh one (a restart); the resume is refused, and the page says the
// session ended and offers to connect again, which works.
func browserTestResumeGone(t *testing.T, browserCtx context.Context) {
	p := browserSetupWith(t, browserCtx, gatewayOptions{ResumeWindow: time.Minute})
	p.expectProblems(`WebSocket connection to '.*' failed`)
	proxy := startCutProxy(t, strings.TrimPrefix(strings.TrimSuffix(p.url, "/"), "http://"))
	p.url = "http://" + proxy.addr() + "/"
	target := numberedTarget(t, 100000, 100*time.Millisecond, &lockedBuffer{})
	p.open()
	p.connectTo(target)
	p.wait("line 3", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'line 0003')`)

	fresh := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
	proxy.setBackend(fresh.srv.Listener.Addr().String())
	proxy.cut(0)
	p.wait("the end of the session", `!document.getElementById('banner').hidden &&
		document.getElementById('banner-text').textContent === 'The session ended while you were disconnected.' &&
		!document.getElementById('banner-connect').hidden && document.getElementById('connect-button').textContent === 'Connect'`)
	if status := p.text("status"); !strings.Contains(status, "unknown session") {
		t.Errorf("status %q, want the gateway's reason (unknown session)", status)
	}
	if !browserEval[bool](p, browserHasLine("out", "line 0003")) {
		t.Error("the console was cleared when the session ended; it should stay for reading")
	}
	if !browserEval[bool](p, `document.getElementById('save-button').checkVisibility()`) {
		t.Error("Save is gone after the session ended while disconnected: that transcript is what one wants now")
	}
	p.screenshot("resume-gone.png")
	p.click("banner-connect")
	p.wait("a new session", `document.getElementById('status').textContent.startsWith('Connected to ') && document.getElementById('banner').hidden`)
}

// browserTestResumeFrozen: the path between the page and the gateway
// freezes (the proxy stops forwarding either way, closing nothing), which
// no socket event reveals; the page's heartbeat notices and it resumes on
// a new connection, with every line once and what was typed into the
// frozen socket sent again. The heartbeat is shortened to 1 s and 0.5 s
// through window.wstelnet.heartbeat (15 s and 5 s by default: within 20 s).
func browserTestResumeFrozen(t *testing.T, browserCtx context.Context) {
	p := browserSetupWith(t, browserCtx, gatewayOptions{ResumeWindow: time.Minute})
	proxy := startCutProxy(t, strings.TrimPrefix(strings.TrimSuffix(p.url, "/"), "http://"))
	p.url = "http://" + proxy.addr() + "/"
	typed := &lockedBuffer{}
	target := numberedTarget(t, resumeLines, resumeLineEvery, typed)
	p.open()
	p.do(chromedp.Evaluate[chromedp.Void](`window.wstelnet.heartbeat = { idle: 1000, wait: 500 }`))
	p.connectTo(target)
	p.waitFor("line 50", browserWait, resumeConsoleLines+`.includes('line 0050')`)

	frozenAt := time.Now()
	proxy.freeze()
	typedFrozen := "typed into the frozen path"
	p.typeLine("line", typedFrozen)
	p.waitFor("the loss to be noticed", 20*time.Second, `document.getElementById('banner-text').textContent.startsWith('Connection lost')
		|| document.getElementById('banner-text').textContent === 'Reconnected'`)
	p.waitFor("the reconnection", 20*time.Second, `document.getElementById('banner-text').textContent === 'Reconnected'`)
	took := time.Since(frozenAt)
	t.Logf("a frozen path noticed and resumed in %v (heartbeat 1 s + 0.5 s)", took.Round(time.Millisecond))
	if took > 20*time.Second {
		t.Errorf("resumed %v after the freeze, want within 20 s", took)
	}
	last := fmt.Sprintf("line %04d", resumeLines)
	p.waitFor(last, 20*time.Second, fmt.Sprintf(`%s.includes(%s)`, resumeConsoleLines, browserJS(last)))
	got := browserEval[[]string](p, resumeConsoleLines)
	want := make([]string, resumeLines)
	for i := range want {
		want[i] = fmt.Sprintf("line %04d", i+1)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the console shows %d numbered lines, want 1 to %d exactly once, in order; first difference: %s", len(got), resumeLines, firstLineDiff(got, want))
	}
	waitFor(t, "the typing at the target", func() bool { return strings.Contains(typed.String(), typedFrozen+"\r\n") })
	if got, want := typed.String(), typedFrozen+"\r\n"; got != want {
		t.Errorf("the target got %q, want %q once", got, want)
	}
}

// browserTestEnds: each way a session ends reaches the page in its own
// words. A scripted gateway (the page from the real one, /ws from the
// test) opens a resumable session and ends it with a given closed
// message and close frame; the page shows them as they are, and resumes
// none of them.
func browserTestEnds(t *testing.T, browserCtx context.Context) {
	for _, c := range []struct {
		name, said string
		code       int
		reason     string
		want       string
	}{
		{"Shutdown", "the gateway is shutting down", 1001, "the gateway is shutting down",
			"Disconnected: the gateway is shutting down (close code 1001)."},
		{"TwoReasons", "the connection to the target was lost", 1001, "the gateway is shutting down",
			"Disconnected: the connection to the target was lost; the gateway is shutting down (close code 1001)."},
		{"Idle", "closed after 30m0s without activity", 1000, "closed after 30m0s without activity",
			"Disconnected: closed after 30m0s without activity."},
		{"TakenOver", "", 4001, "the session was resumed on another connection",
			"Disconnected: the session was resumed on another connection (close code 4001)."},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := browserSetup(t, browserCtx)
			mux := http.NewServeMux()
			mux.Handle("/", p.gw)
			mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
				ws, err := wsframe.Upgrade(w, r, []string{subprotocolV2}, wsframe.Options{WriteTimeout: browserWait})
				if err != nil {
					t.Errorf("upgrade: %v", err)
					return
				}
				defer ws.Close()
				if _, err := ws.ReadMessage(); err != nil { // the target
					t.Errorf("first message: %v", err)
					return
				}
				text := func(s string) { ws.Writer().WriteFrame(wsframe.OpText, []byte(s)) }
				text("SUCC")
				text(`{"type":"session","id":"QUJDREVGR0hJSktMTU5PUA","window":60}`)
				ws.Writer().WriteFrame(wsframe.OpBinary, []byte("before the end\r\n"))
				if c.said != "" {
					text(browserJSON(map[string]string{"type": "closed", "reason": c.said}))
				}
				ws.WriteClose(c.code, c.reason)
				for { // until the page answers the close frame
					if _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			p.url = srv.URL + "/"
			p.open()
			p.click("connect-button")
			p.wait("the end", `document.getElementById('connect-button').textContent === 'Connect' &&
				document.getElementById('status').textContent.startsWith('Disconnected')`)
			if got := p.text("status"); got != c.want {
				t.Errorf("status %q, want %q", got, c.want)
			}
			if !browserEval[bool](p, browserHasLine("out", "before the end")) {
				t.Error("the output before the end is not shown")
			}
			if !browserEval[bool](p, `document.getElementById('banner').hidden`) {
				t.Errorf("the banner shows %q: the page tried to resume a session that ended", p.text("banner-text"))
			}
		})
	}
}

// viewSize is the size of the console or terminal frame, and the
// terminal's rows and columns.
type viewSize struct{ Width, Height, Rows, Cols float64 }

// browserViewSize is JavaScript returning a viewSize of the current mode's view.
const browserViewSize = `(() => {
	const terminal = document.body.dataset.mode === 'terminal';
	const r = document.querySelector(terminal ? '.terminal-frame' : '#console').getBoundingClientRect();
	const t = terminal ? window.wstelnet.term : null;
	return { Width: r.width, Height: r.height, Rows: t ? t.rows : 0, Cols: t ? t.cols : 0 };
})()`

// resumeConsoleLines and resumeTermLines are JavaScript: the numbered
// lines the console (its target output) and the terminal (its whole
// buffer) show, in order.
const resumeConsoleLines = `[...document.querySelectorAll('#console .line.out')].map(l => l.textContent).filter(t => /^line \d+$/.test(t))`

var resumeTermLines = `(window.wstelnet.term ? ` + browserTermLines + `(true) : []).map(l => l.trimEnd()).filter(t => /^line \d+$/.test(t))`

// typeLine types a line the way the mode takes one: the command box, or
// keys into the terminal and Enter.
func (p *browserPage) typeLine(mode, line string) {
	p.t.Helper()
	if mode == "terminal" {
		p.typeKeys(line + "\r")
		return
	}
	p.sendLine(line)
}

func firstLineDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d, %q where %q belongs", i, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("%q after the last", got[len(want)])
	}
	if len(got) < len(want) {
		return fmt.Sprintf("the lines from %q on are missing", want[len(got)])
	}
	return "none"
}

// targetClosed is what numberedTarget records when its connection ends.
const targetClosed = "<closed>"

// numberedTarget is a TCP target that prints n lines "line 0001" ... one
// every interval, and records everything it receives into typed, then
// targetClosed.
func numberedTarget(t *testing.T, n int, every time.Duration, typed io.Writer) string {
	t.Helper()
	return startTarget(t, func(c net.Conn) {
		done := make(chan struct{})
		printed := make(chan struct{})
		go func() {
			defer close(printed)
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := 1; i <= n; i++ {
				select {
				case <-tick.C:
				case <-done:
					return
				}
				if _, err := fmt.Fprintf(c, "line %04d\r\n", i); err != nil {
					return
				}
			}
		}()
		io.Copy(typed, c) // until the session ends
		io.WriteString(typed, targetClosed)
		close(done)
		<-printed
	})
}

// cutProxy is a TCP proxy on loopback in front of a gateway, which the
// test can cut: every connection through it reset on both sides at once,
// and new ones reset as they come for a while.
type cutProxy struct {
	t  testing.TB
	ln net.Listener
	wg sync.WaitGroup

	mu          sync.Mutex
	backend     string
	conns       map[net.Conn]struct{}
	pairs       map[*proxyPair]struct{}
	refuseUntil time.Time
}

// proxyPair is one connection through the proxy, both sides.
type proxyPair struct {
	frozen chan struct{} // closed by freeze: nothing more is forwarded
	dead   chan struct{} // closed by cut: a frozen copy lets go
}

func startCutProxy(t testing.TB, backend string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{t: t, ln: ln, backend: backend, conns: map[net.Conn]struct{}{}, pairs: map[*proxyPair]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut(0)
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

// setBackend sends the connections that come next to another gateway.
func (p *cutProxy) setBackend(addr string) {
	p.mu.Lock()
	p.backend = addr
	p.mu.Unlock()
}

// allow ends a refusal.
func (p *cutProxy) allow() {
	p.mu.Lock()
	p.refuseUntil = time.Time{}
	p.mu.Unlock()
}

// cut resets every connection through the proxy, both sides, and resets
// those that come within refuse.
func (p *cutProxy) cut(refuse time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuseUntil = time.Now().Add(refuse)
	for c := range p.conns {
		resetConn(c)
	}
	for pair := range p.pairs {
		close(pair.dead)
		delete(p.pairs, pair)
	}
}

// freeze stops forwarding on every connection through the proxy, both
// ways, closing nothing: a path that went silent (a NAT box that forgot
// it, a hung proxy). Neither end sees anything happen. New connections
// are forwarded as usual.
func (p *cutProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pair := range p.pairs {
		select {
		case <-pair.frozen:
		default:
			close(pair.frozen)
		}
	}
}

// resetConn closes c with a TCP reset: no close frame, no FIN.
func resetConn(c net.Conn) {
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if time.Now().Before(p.refuseUntil) {
			p.mu.Unlock()
			resetConn(c)
			continue
		}
		backend := p.backend
		p.mu.Unlock()
		p.wg.Add(1)
		go p.relay(c, backend)
	}
}

// relay copies both ways until both directions end (a half-close passes
// on), or until a cut.
func (p *cutProxy) relay(c net.Conn, backend string) {
	defer p.wg.Done()
	b, err := net.Dial("tcp", backend)
	if err != nil {
		resetConn(c)
		return
	}
	pair := &proxyPair{frozen: make(chan struct{}), dead: make(chan struct{})}
	p.mu.Lock()
	p.conns[c], p.conns[b] = struct{}{}, struct{}{}
	p.pairs[pair] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		delete(p.conns, b)
		if _, ok := p.pairs[pair]; ok {
			close(pair.dead)
			delete(p.pairs, pair)
		}
		p.mu.Unlock()
		c.Close()
		b.Close()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pair.copy(b, c)
		b.(*net.TCPConn).CloseWrite()
	}()
	pair.copy(c, b)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

// copy copies src to dst until either ends, or until the pair is frozen:
// then it holds what it read, and the connection, until a cut.
func (pair *proxyPair) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-pair.frozen:
				<-pair.dead
				return
			default:
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
