package main

// The browser tests drive the embedded page in headless Chromium against the
// real gateway and the real echo server, the way a person uses them. They
// write screenshots to test-screenshots/ for people to look at.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	// browserTimeout bounds each subtest, browser work and servers included.
	browserTimeout = 60 * time.Second
	// browserWait bounds one wait for the page to reach a state.
	browserWait = 10 * time.Second
	// browserShots is where the screenshots go, at the repository root.
	browserShots = "test-screenshots"
)

func TestBrowser(t *testing.T) {
	browserCtx := browserAllocator(t)
	t.Run("MainFlow", func(t *testing.T) { browserTestMainFlow(t, browserCtx) })
	t.Run("ConnectFails", func(t *testing.T) { browserTestConnectFails(t, browserCtx) })
	t.Run("TargetCloses", func(t *testing.T) { browserTestTargetCloses(t, browserCtx) })
	t.Run("Autoscroll", func(t *testing.T) { browserTestAutoscroll(t, browserCtx) })
	t.Run("PasswordPrompt", func(t *testing.T) { browserTestPasswordPrompt(t, browserCtx) })
	t.Run("NoHTMLInjection", func(t *testing.T) { browserTestNoHTMLInjection(t, browserCtx) })
	t.Run("Flood", func(t *testing.T) { browserTestFlood(t, browserCtx) })
	t.Run("Phone", func(t *testing.T) { browserTestPhone(t, browserCtx) })
}

// browserTestMainFlow: prefilled form, connect, echo, history, disconnect, reconnect.
func browserTestMainFlow(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()

	host, port, _ := net.SplitHostPort(p.echoAddr)
	if got := p.value("host"); got != host {
		t.Errorf("host field = %q, want the echo server's host %q", got, host)
	}
	if got := p.value("port"); got != port {
		t.Errorf("port field = %q, want the echo server's port %q", got, port)
	}
	p.screenshot("start.png")

	p.click("connect-button")
	p.waitConnected(1)
	if got := p.text("connect-button"); got != "Disconnect" {
		t.Errorf("button reads %q while connected, want Disconnect", got)
	}
	if got := browserEval[string](p, `document.activeElement && document.activeElement.id`); got != "command" {
		t.Errorf("focus is on %q after SUCC, want the command box", got)
	}

	p.sendLine("hello from chromium")
	p.wait("the echoed line", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === "hello from chromium")`)
	if !browserEval[bool](p, `[...document.querySelectorAll('#console .line.in')].some(l => l.textContent === "hello from chromium")`) {
		t.Error("the sent line is not shown in the console")
	}
	if got := p.value("command"); got != "" {
		t.Errorf("command box holds %q after sending, want it empty", got)
	}
	// The Send button sends too.
	p.do(chromedp.SendKeys(chromedp.ID("command"), "a second line"))
	p.click("send-button")
	p.wait("the second echoed line", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === "a second line")`)

	// History: ArrowUp walks back; ArrowDown past the newest gives back what was being typed.
	p.do(chromedp.SendKeys(chromedp.ID("command"), "draft"))
	p.do(chromedp.SendKeys(chromedp.ID("command"), kb.ArrowUp))
	if got := p.value("command"); got != "a second line" {
		t.Errorf("after ArrowUp the command box holds %q, want the last command", got)
	}
	p.do(chromedp.SendKeys(chromedp.ID("command"), kb.ArrowUp))
	if got := p.value("command"); got != "hello from chromium" {
		t.Errorf("after ArrowUp twice the command box holds %q, want %q", got, "hello from chromium")
	}
	p.do(chromedp.SendKeys(chromedp.ID("command"), kb.ArrowDown+kb.ArrowDown))
	if got := p.value("command"); got != "draft" {
		t.Errorf("after ArrowDown past the newest the command box holds %q, want what was typed (%q)", got, "draft")
	}
	p.do(chromedp.SendKeys(chromedp.ID("command"), kb.ArrowUp))
	p.screenshot("connected.png")

	// The same state in dark mode, for the people who look at screenshots.
	p.setColorScheme("dark")
	p.screenshot("connected-dark.png")
	p.setColorScheme("")

	p.click("connect-button")
	p.wait("the disconnected state", `document.getElementById('status').textContent.startsWith('Disconnected') && document.getElementById('connect-button').textContent === 'Connect'`)
	if !browserEval[bool](p, `document.getElementById('command').disabled && document.getElementById('send-button').disabled`) {
		t.Error("the command box and Send are enabled after disconnecting")
	}

	// A fresh socket for the second session.
	p.click("connect-button")
	p.waitConnected(2)
	p.sendLine("hello again")
	p.wait("the echoed line after reconnecting", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === "hello again")`)
}

// browserTestConnectFails: FAIL shows the reason in words, and a retry works.
func browserTestConnectFails(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()

	// A port where nothing listens: listen, note the port, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, deadPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()

	p.setValue("port", deadPort)
	p.click("connect-button")
	p.wait("the FAIL reason", `document.getElementById('status').textContent.startsWith('Could not connect:') && document.getElementById('connect-button').textContent === 'Connect'`)
	status := p.text("status")
	if !strings.Contains(status, "refused") {
		t.Errorf("status after a refused connection = %q, want it to say refused", status)
	}
	t.Logf("status: %s", status)
	p.screenshot("failed.png")

	// An IPv6 literal goes in brackets; the gateway's answer names the target.
	p.setValue("host", " ::1 ")
	p.click("connect-button")
	p.wait("the FAIL reason for ::1", `document.getElementById('status').textContent.startsWith('Could not connect:')`)
	if status := p.text("status"); !strings.Contains(status, "[::1]:"+deadPort) {
		t.Errorf("status after connecting to ::1 = %q, want it to name [::1]:%s", status, deadPort)
	}

	// An empty port means 80, as in the tutorial. Something may listen there,
	// so accept either answer; what matters is the address.
	p.setValue("host", "127.0.0.1")
	p.setValue("port", "")
	p.click("connect-button")
	p.wait("an answer for port 80", `/^(Could not connect|Connected)/.test(document.getElementById('status').textContent)`)
	if status := p.text("status"); !strings.Contains(status, "127.0.0.1:80") {
		t.Errorf("status after connecting with an empty port = %q, want it to name 127.0.0.1:80", status)
	}
	if p.text("connect-button") == "Disconnect" {
		p.click("connect-button")
	}

	host, echoPort, _ := net.SplitHostPort(p.echoAddr)
	p.setValue("host", host)
	p.setValue("port", echoPort)
	p.click("connect-button")
	p.waitConnected(1)
}

// browserTestAutoscroll: the console follows new output unless the user has
// scrolled up, and follows again once they are back at the bottom.
func browserTestAutoscroll(t *testing.T, browserCtx context.Context) {
	more := make(chan string)
	addr := browserTarget(t, func(c net.Conn) {
		for i := 1; i <= 60; i++ {
			fmt.Fprintf(c, "scroll %02d\r\n", i)
		}
		for line := range more {
			io.WriteString(c, line+"\r\n")
		}
	})
	t.Cleanup(func() { close(more) })
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(addr)
	p.waitConnected(1)
	p.wait("the 60th line", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'scroll 60')`)
	const atBottom = `(() => { const c = document.getElementById('console'); return c.scrollHeight - c.scrollTop - c.clientHeight < 8; })()`
	if !browserEval[bool](p, atBottom) {
		t.Fatal("the console did not follow the output to the bottom")
	}

	// Scroll up and let the page see the scroll event, which comes with the next frame.
	const settle = `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('console').scrollTop = 0`),
		chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise))
	more <- "while you read"
	p.wait("the new line", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'while you read')`)
	p.do(chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise))
	if top := browserEval[float64](p, `document.getElementById('console').scrollTop`); top != 0 {
		t.Errorf("the console scrolled to %v while the user was reading at the top", top)
	}

	p.do(chromedp.Evaluate[chromedp.Void](`(c => c.scrollTop = c.scrollHeight)(document.getElementById('console'))`),
		chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise))
	more <- "back at the bottom"
	p.wait("the console following again", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'back at the bottom') && `+atBottom)
}

// browserTestTargetCloses: quit makes the echo server hang up.
func browserTestTargetCloses(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()
	p.click("connect-button")
	p.waitConnected(1)
	p.sendLine("quit")
	p.wait("the target's close", `document.getElementById('status').textContent === 'Disconnected: the target closed the connection.' && document.getElementById('connect-button').textContent === 'Connect'`)
	if !browserEval[bool](p, `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'bye')`) {
		t.Error(`the echo server's last line "bye" is not in the console`)
	}
	if !browserEval[bool](p, `document.getElementById('command').disabled`) {
		t.Error("the command box is enabled after the target closed the connection")
	}
}

// browserTestPasswordPrompt: after a "Password:" prompt the line typed is
// masked, not shown in the console and not kept in the history.
func browserTestPasswordPrompt(t *testing.T, browserCtx context.Context) {
	got := make(chan string, 1)
	addr := browserTarget(t, func(c net.Conn) {
		io.WriteString(c, "Password: ") // a prompt: no line ending
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
		io.WriteString(c, "\r\nwelcome\r\n")
	})
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(addr)
	p.waitConnected(1)
	p.wait("the masked command box", `document.getElementById('command').type === 'password'`)
	p.sendLine("hunter2")
	if line := <-got; line != "hunter2\r\n" {
		t.Errorf("the target got %q, want %q", line, "hunter2\r\n")
	}
	p.wait("the line after the password", `[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === 'welcome')`)
	if browserEval[bool](p, `document.getElementById('console').textContent.includes('hunter2')`) {
		t.Error("the password is shown in the console")
	}
	if typ := browserEval[string](p, `document.getElementById('command').type`); typ != "text" {
		t.Errorf("the command box is of type %q after the password was sent, want text", typ)
	}
	p.do(chromedp.SendKeys(chromedp.ID("command"), kb.ArrowUp))
	if v := p.value("command"); v != "" {
		t.Errorf("ArrowUp brings back %q: the password must not be in the history", v)
	}
}

// browserTestNoHTMLInjection: the target's text is text, never markup.
func browserTestNoHTMLInjection(t *testing.T, browserCtx context.Context) {
	const payload = `<img src=x onerror=alert(1)><b>bold</b>`
	addr := browserTarget(t, func(c net.Conn) {
		io.WriteString(c, payload+"\r\n")
	})
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(addr)
	p.waitConnected(1)
	p.wait("the payload line", fmt.Sprintf(`[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === %s)`, browserJS(payload)))
	if n := browserEval[int](p, `document.querySelectorAll('#console img, #console b, #console [onerror]').length`); n != 0 {
		t.Errorf("the console holds %d elements made from the target's text", n)
	}
}

// browserTestFlood: 200,000 lines neither freeze the page nor fill memory.
func browserTestFlood(t *testing.T, browserCtx context.Context) {
	const lines = 200_000
	addr := browserTarget(t, func(c net.Conn) {
		w := bufio.NewWriterSize(c, 64<<10)
		for i := 1; i <= lines; i++ {
			fmt.Fprintf(w, "line %06d\r\n", i)
		}
		w.Flush()
	})
	p := browserSetup(t, browserCtx)
	p.open()

	// Measure the longest main-thread block: the longest gap between
	// animation frames, and the longest task the browser reports.
	p.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const probe = window.wstelnetProbe = { maxFrameGap: 0, maxLongTask: 0, longTasks: 0 };
		let last = performance.now();
		const tick = (now) => {
			probe.maxFrameGap = Math.max(probe.maxFrameGap, now - last);
			last = now;
			requestAnimationFrame(tick);
		};
		requestAnimationFrame(tick);
		if (PerformanceObserver.supportedEntryTypes.includes('longtask')) {
			new PerformanceObserver((list) => {
				for (const e of list.getEntries()) {
					probe.longTasks++;
					probe.maxLongTask = Math.max(probe.maxLongTask, e.duration);
				}
			}).observe({ type: 'longtask' });
		}
	})()`))

	// DevTools would report every WebSocket frame (Network domain) and every
	// line added to or trimmed from the console (DOM domain) as an event, and
	// chromedp's copy of the DOM tree would fall far behind: the test, not the
	// page, would freeze. So from here on, no DOM queries: JavaScript and raw
	// key events only.
	if _, err := chromedp.Call(p.ctx, network.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("disable the network domain: %v", err)
	}
	if _, err := chromedp.Call(p.ctx, dom.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("disable the DOM domain: %v", err)
	}

	host, port, _ := net.SplitHostPort(addr)
	start := time.Now()
	p.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`
		document.getElementById('host').value = %s;
		document.getElementById('port').value = %s;
		document.getElementById('connect-button').click();`, browserJS(host), browserJS(port))))
	last := fmt.Sprintf("line %06d", lines)
	p.waitFor("the last line of the flood", 30*time.Second,
		fmt.Sprintf(`document.getElementById('console').lastElementChild?.textContent === %s`, browserJS(last)))
	elapsed := time.Since(start)

	type floodResult struct {
		Count       int     `json:"count"`
		First       string  `json:"first"`
		Last        string  `json:"last"`
		MaxFrameGap float64 `json:"maxFrameGap"`
		MaxLongTask float64 `json:"maxLongTask"`
		LongTasks   int     `json:"longTasks"`
		HeapMB      float64 `json:"heapMB"`
	}
	got := browserEval[floodResult](p, `(() => {
		const c = document.getElementById('console');
		return {
			count: c.childElementCount,
			first: c.firstElementChild.textContent,
			last: c.lastElementChild.textContent,
			maxFrameGap: wstelnetProbe.maxFrameGap,
			maxLongTask: wstelnetProbe.maxLongTask,
			longTasks: wstelnetProbe.longTasks,
			heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : 0,
		};
	})()`)
	t.Logf("flood: %d lines arrived in %v; longest main-thread block: %.0f ms between animation frames, longest task %.0f ms (%d long tasks); JS heap %.1f MB",
		lines, elapsed.Round(time.Millisecond), got.MaxFrameGap, got.MaxLongTask, got.LongTasks, got.HeapMB)
	if got.Count > 5000 {
		t.Errorf("the console holds %d lines, want at most 5000", got.Count)
	}
	if got.Last != last {
		t.Errorf("the last console line is %q, want %q", got.Last, last)
	}
	if want := fmt.Sprintf("line %06d", lines-got.Count+1); got.First != want {
		t.Errorf("the first console line is %q, want %q: the scrollback must be the last lines, in order", got.First, want)
	}

	// The page still answers: typing works.
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('command').focus()`),
		chromedp.KeyEvent("still responsive"))
	if v := browserEval[string](p, `document.getElementById('command').value`); v != "still responsive" {
		t.Errorf("command box holds %q after typing, want %q", v, "still responsive")
	}
	p.screenshot("flood.png")
}

// browserTestPhone: a 360x640 screen wraps the form, keeps the command row
// visible and never scrolls sideways.
func browserTestPhone(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.do(chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
	p.open()
	p.click("connect-button")
	p.waitConnected(1)
	long := strings.Repeat("0123456789abcdef", 24) // no spaces: must wrap anyway
	p.sendLine("hello from a phone")
	p.sendLine(long)
	p.wait("the long echoed line", fmt.Sprintf(`[...document.querySelectorAll('#console .line.out')].some(l => l.textContent === %s)`, browserJS(long)))
	p.screenshot("phone.png")

	got := browserEval[struct {
		ScrollWidth    float64 `json:"scrollWidth"`
		InnerWidth     float64 `json:"innerWidth"`
		InnerHeight    float64 `json:"innerHeight"`
		ConsoleOverrun float64 `json:"consoleOverrun"`
		Boxes          map[string]struct {
			Left, Top, Right, Bottom float64
		} `json:"boxes"`
	}](p, `(() => {
		const boxes = {};
		for (const id of ['command', 'send-button', 'connect-button', 'host', 'port', 'console']) {
			const r = document.getElementById(id).getBoundingClientRect();
			boxes[id] = { Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom };
		}
		const c = document.getElementById('console');
		return {
			scrollWidth: document.documentElement.scrollWidth,
			innerWidth: innerWidth,
			innerHeight: innerHeight,
			consoleOverrun: c.scrollWidth - c.clientWidth,
			boxes,
		};
	})()`)
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("the page is %v px wide in a %v px viewport: it scrolls sideways", got.ScrollWidth, got.InnerWidth)
	}
	if got.ConsoleOverrun > 0 {
		t.Errorf("the console's content is %v px wider than the console: long lines do not wrap", got.ConsoleOverrun)
	}
	for id, b := range got.Boxes {
		if b.Left < 0 || b.Top < 0 || b.Right > got.InnerWidth || b.Bottom > got.InnerHeight {
			t.Errorf("#%s at (%v,%v)-(%v,%v) is not within the %vx%v viewport", id, b.Left, b.Top, b.Right, b.Bottom, got.InnerWidth, got.InnerHeight)
		}
	}
	if c := got.Boxes["console"]; c.Bottom-c.Top < 200 {
		t.Errorf("the console is only %v px high on a phone", c.Bottom-c.Top)
	}
}

// ---- helpers ---------------------------------------------------------------

// browserAllocator starts one headless Chromium for all subtests and returns
// a context of it. It skips the test when there is no Chromium, except in CI.
func browserAllocator(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		const hint = "chromium not found; install it with: apt-get install chromium"
		if os.Getenv("CI") != "" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root, where the sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now, with no timeout: the context of the first Run
	// owns the browser's life.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// browserPage is one tab on the page of a fresh gateway with its echo server.
type browserPage struct {
	t        *testing.T
	ctx      context.Context
	url      string
	echoAddr string

	mu       sync.Mutex
	problems []string // console errors and warnings, exceptions, failed loads
}

// browserSetup starts an echo server and a gateway, opens a tab (not yet on
// the page) and arranges for the tab's console to be checked at the end.
func browserSetup(t *testing.T, browserCtx context.Context) *browserPage {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	echo, err := startEcho("127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := newGateway(gatewayOptions{Logger: logger, LoopbackOnly: true, EchoAddr: echo.Addr()})
	if err != nil {
		echo.Close()
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
		srv.Close()
		echo.Close()
	})

	timeoutCtx, cancelTimeout := context.WithTimeout(browserCtx, browserTimeout)
	ctx, cancelTab := chromedp.NewContext(timeoutCtx)
	t.Cleanup(func() { cancelTab(); cancelTimeout() })

	p := &browserPage{t: t, ctx: ctx, url: srv.URL + "/", echoAddr: echo.Addr()}
	if err := chromedp.Listen(ctx, p.listen); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	t.Cleanup(p.checkConsole) // runs before the tab closes
	return p
}

// listen records what the page should never produce. It runs in the tab's
// event loop, so it only appends.
func (p *browserPage) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
		default:
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		problem = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		problem = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level != cdplog.EntryLevelError && ev.Entry.Level != cdplog.EntryLevelWarning {
			return
		}
		problem = fmt.Sprintf("browser log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	p.mu.Lock()
	p.problems = append(p.problems, problem)
	p.mu.Unlock()
}

func (p *browserPage) checkConsole() {
	// A round trip, so that events sent before it have been seen.
	chromedp.Do(p.ctx, chromedp.Evaluate[chromedp.Void](`0`))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, problem := range p.problems {
		p.t.Errorf("browser console: %s", problem)
	}
}

// do runs actions in the tab and fails the test on error.
func (p *browserPage) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v%s", err, p.state())
	}
}

// browserEval evaluates a JavaScript expression in the page.
func browserEval[T any](p *browserPage, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// browserJS quotes a Go string as a JavaScript string literal.
func browserJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (p *browserPage) open() {
	p.t.Helper()
	p.do(chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.ID("connect-button")))
}

func (p *browserPage) value(id string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		p.t.Fatalf("read #%s: %v", id, err)
	}
	return v
}

func (p *browserPage) text(id string) string {
	p.t.Helper()
	return browserEval[string](p, fmt.Sprintf(`document.getElementById(%s).textContent`, browserJS(id)))
}

func (p *browserPage) click(id string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.ID(id)))
}

// setValue sets an input's value. (chromedp.SetValue cannot set "".)
func (p *browserPage) setValue(id, value string) {
	p.t.Helper()
	p.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%s).value = %s`, browserJS(id), browserJS(value))))
}

// sendLine types a line into the empty command box and presses Enter.
func (p *browserPage) sendLine(line string) {
	p.t.Helper()
	p.setValue("command", "")
	p.do(chromedp.SendKeys(chromedp.ID("command"), line+kb.Enter))
}

// connectTo fills in the form with addr and presses Connect.
func (p *browserPage) connectTo(addr string) {
	p.t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p.setValue("host", host)
	p.setValue("port", port)
	p.click("connect-button")
}

// waitConnected waits for the nth successful session of this page: the
// status says so and, for the echo server, its greeting has arrived.
func (p *browserPage) waitConnected(n int) {
	p.t.Helper()
	p.wait("the connected state", fmt.Sprintf(`document.getElementById('status').textContent.startsWith('Connected to ') &&
		document.getElementById('connect-button').textContent === 'Disconnect' &&
		[...document.querySelectorAll('#console .line.sys')].filter(l => l.textContent.startsWith('Connected to ')).length >= %d`, n))
	host, port, _ := net.SplitHostPort(p.echoAddr)
	if p.value("host") == host && p.value("port") == port {
		greeting := strings.TrimRight(echoGreeting, "\r\n")
		p.wait("the echo server's greeting", fmt.Sprintf(`[...document.querySelectorAll('#console .line.out')].filter(l => l.textContent === %s).length >= %d`, browserJS(greeting), n))
	}
}

func (p *browserPage) wait(what, expr string) {
	p.t.Helper()
	p.waitFor(what, browserWait, expr)
}

// waitFor polls a JavaScript expression until it is true.
func (p *browserPage) waitFor(what string, timeout time.Duration, expr string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			err = fmt.Errorf("not reached within %v", timeout)
		}
		p.t.Fatalf("waiting for %s: %v%s", what, err, p.state())
	}
}

// state describes the page for a failure message.
func (p *browserPage) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const lines = [...document.querySelectorAll('#console .line')].slice(-5).map(l => '    ' + l.className + ': ' + l.textContent.slice(0, 200));
		return 'status: ' + document.getElementById('status').textContent +
			'\nbutton: ' + document.getElementById('connect-button').textContent +
			'\nlast console lines:\n' + lines.join('\n');
	})()`))
	if err != nil {
		return ""
	}
	return "\n" + s
}

func (p *browserPage) screenshot(name string) {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(browserShots, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(browserShots, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

// setColorScheme emulates prefers-color-scheme; "" ends the emulation.
func (p *browserPage) setColorScheme(scheme string) {
	p.t.Helper()
	params := emulation.SetEmulatedMediaParams{}
	if scheme != "" {
		params.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, params); err != nil {
		p.t.Fatalf("emulate prefers-color-scheme %q: %v", scheme, err)
	}
}

// browserTarget starts a TCP service on loopback that runs serve on each
// connection and then keeps it open until the test ends.
func browserTarget(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				serve(c)
				io.Copy(io.Discard, c) // stay open; returns when closed
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
