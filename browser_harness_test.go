package main

// The harness of the browser tests (browser_test.go): one headless Chromium
// for every case, a tab per case on a fresh gateway, the page's console
// checked for errors, and helpers that wait for the page, type keys, read
// the terminal and take screenshots.

import (
	"bytes"
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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	// browserTimeout bounds each subtest, browser work and servers included.
	browserTimeout = 90 * time.Second
	// browserWait bounds one wait for the page to reach a state.
	browserWait = 10 * time.Second
	// browserShots is where the screenshots go, at the repository root.
	browserShots = "test-screenshots"
)

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
	gw       *Gateway

	mu       sync.Mutex
	problems []string         // console errors and warnings, exceptions, failed loads
	expected []*regexp.Regexp // problems the test causes on purpose (a refused connection)

	dialogs chan *page.EventJavascriptDialogOpening // alert, confirm, beforeunload...
}

// browserSetup starts an echo server and a gateway, opens a tab (not yet on
// the page) and arranges for the tab's console to be checked at the end.
// configure, if given, changes the gateway's options; it is told the echo
// server's address.
func browserSetup(t *testing.T, browserCtx context.Context, configure ...func(o *gatewayOptions, echoAddr string)) *browserPage {
	t.Helper()
	return browserSetupWith(t, browserCtx, gatewayOptions{}, configure...)
}

// browserSetupWith is browserSetup with a gateway made with opts (Logger,
// LoopbackOnly and EchoAddr are filled in), then configure.
func browserSetupWith(t *testing.T, browserCtx context.Context, opts gatewayOptions, configure ...func(o *gatewayOptions, echoAddr string)) *browserPage {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	echo, err := startEcho("127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger, opts.LoopbackOnly, opts.EchoAddr = logger, true, echo.Addr()
	if opts.ResumeWindow == 0 {
		// As the binary runs by default: the page's sessions are
		// resumable, and their acks are its flow control.
		opts.ResumeWindow = time.Minute
	}
	for _, c := range configure {
		c(&opts, echo.Addr())
	}
	gw, err := newGateway(opts)
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

	p := &browserPage{t: t, ctx: ctx, url: srv.URL + "/", echoAddr: echo.Addr(), gw: gw, dialogs: make(chan *page.EventJavascriptDialogOpening, 4)}
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
	case *page.EventJavascriptDialogOpening:
		select {
		case p.dialogs <- ev:
		default:
		}
		return
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
	defer p.mu.Unlock()
	for _, re := range p.expected {
		if re.MatchString(problem) {
			return
		}
	}
	p.problems = append(p.problems, problem)
}

// expectProblems lets console messages matching re pass: ones the test
// causes on purpose.
func (p *browserPage) expectProblems(re string) {
	p.mu.Lock()
	p.expected = append(p.expected, regexp.MustCompile(re))
	p.mu.Unlock()
}

// expectProblem waits for a console problem containing text, which the
// test provoked on purpose, and takes it off the list checkConsole fails on.
func (p *browserPage) expectProblem(text string) string {
	p.t.Helper()
	var found string
	ok := pollUntil(browserWait, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, problem := range p.problems {
			if strings.Contains(problem, text) {
				found = problem
				p.problems = append(p.problems[:i], p.problems[i+1:]...)
				return true
			}
		}
		return false
	})
	if !ok {
		p.t.Fatalf("the browser did not report %q", text)
	}
	return found
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

// browserJSON writes v as a JavaScript literal.
func browserJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// browserHasLine is a JavaScript test: the console holds a line of the
// kind given ("out", "in", "sys", "in secret") with exactly this text.
func browserHasLine(kind, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#console .line.%s')].some(l => l.textContent === %s)`,
		strings.ReplaceAll(kind, " ", "."), browserJS(text))
}

// browserTermLines is a JavaScript function of one argument: the terminal's
// rows on screen (false) or its whole buffer, scrollback included (true),
// each without trailing blanks. It reads the documented debugging handle
// window.wstelnet.term, the xterm.js Terminal.
const browserTermLines = `((all) => {
	const t = window.wstelnet.term, b = t.buffer.active, out = [];
	const [from, to] = all ? [0, b.length] : [b.viewportY, b.viewportY + t.rows];
	for (let i = from; i < to; i++) out.push(b.getLine(i).translateToString(true));
	return out;
})`

// browserTermHas is a JavaScript test: some row of the terminal holds s.
func browserTermHas(s string) string {
	return fmt.Sprintf(`window.wstelnet.term !== null && %s(true).some(l => l.includes(%s))`, browserTermLines, browserJS(s))
}

// browserTermHasLine is a JavaScript test: some row of the terminal is s
// (and blanks: xterm.js keeps the spaces written at the end of a row).
func browserTermHasLine(s string) string {
	return fmt.Sprintf(`window.wstelnet.term !== null && %s(true).some(l => l.trimEnd() === %s)`, browserTermLines, browserJS(s))
}

// termLines returns the terminal's rows (see browserTermLines).
func (p *browserPage) termLines(all bool) []string {
	p.t.Helper()
	return browserEval[[]string](p, fmt.Sprintf(`%s(%v)`, browserTermLines, all))
}

// typeKeys types into whatever has the focus (the terminal, in terminal
// mode) as a keyboard does: each key is one keyDown event carrying its text,
// whose keypress the page may cancel. (chromedp.KeyEvent sends the text as a
// separate char event, which a cancelled keydown cannot stop: xterm.js,
// which handles keys on keydown, would see every key twice.)
func (p *browserPage) typeKeys(keys string, opts ...chromedp.KeyOption) {
	p.t.Helper()
	for _, r := range keys {
		events := kb.Encode(r)
		if len(events) == 3 { // keyDown, char, keyUp
			events[0].Text, events[0].UnmodifiedText = events[1].Text, events[1].UnmodifiedText
			events = []*input.DispatchKeyEventParams{events[0], events[2]}
		}
		for _, e := range events {
			for _, o := range opts {
				o(e)
			}
			if e.Modifiers&^int64(chromedp.ModifierShift) != 0 {
				e.Text, e.UnmodifiedText = "", "" // a shortcut types nothing
			}
			if _, err := chromedp.Call(p.ctx, input.DispatchKeyEvent, *e); err != nil {
				p.t.Fatalf("type %q: %v", keys, err)
			}
		}
	}
}

func (p *browserPage) open() {
	p.t.Helper()
	p.do(chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.ID("connect-button")))
}

// openHash opens the page at url#hash, which may name a session to open at once.
func (p *browserPage) openHash(hash string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.url+"#"+hash), chromedp.WaitVisible(chromedp.ID("connect-button")))
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

// waitTerminalConnected waits for a session in terminal mode.
func (p *browserPage) waitTerminalConnected() {
	p.t.Helper()
	p.wait("the connected state in terminal mode", `document.body.dataset.mode === 'terminal' &&
		document.getElementById('status').textContent.startsWith('Connected to ') &&
		document.getElementById('connect-button').textContent === 'Disconnect' && window.wstelnet.term !== null`)
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
		let lines = [...document.querySelectorAll('#console .line')].slice(-5).map(l => '    ' + l.className + ': ' + JSON.stringify(l.textContent.slice(0, 200)));
		let what = 'console lines';
		if (document.body.dataset.mode === 'terminal' && window.wstelnet.term) {
			what = 'terminal rows';
			lines = `+browserTermLines+`(false).filter(l => l !== '').slice(-8).map(l => '    ' + JSON.stringify(l));
		}
		return 'status: ' + document.getElementById('status').textContent +
			'\nbutton: ' + document.getElementById('connect-button').textContent +
			'\nlast ' + what + ':\n' + lines.join('\n');
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
	return startTarget(t, func(c net.Conn) {
		serve(c)
		io.Copy(io.Discard, c) // stay open; returns when closed
	})
}

// checkFits fails the test if the page scrolls sideways or if one of the
// elements with the given ids is not wholly within the viewport.
func (p *browserPage) checkFits(ids ...string) {
	p.t.Helper()
	got := browserEval[struct {
		ScrollWidth    float64 `json:"scrollWidth"`
		InnerWidth     float64 `json:"innerWidth"`
		InnerHeight    float64 `json:"innerHeight"`
		ConsoleOverrun float64 `json:"consoleOverrun"`
		Boxes          map[string]struct {
			Left, Top, Right, Bottom float64
		} `json:"boxes"`
	}](p, `((ids) => {
		const boxes = {};
		for (const id of ids) {
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
	})(`+browserJSON(ids)+`)`)
	if got.ScrollWidth > got.InnerWidth {
		p.t.Errorf("the page is %v px wide in a %v px viewport: it scrolls sideways", got.ScrollWidth, got.InnerWidth)
	}
	if got.ConsoleOverrun > 0 {
		p.t.Errorf("the console's content is %v px wider than the console: long lines do not wrap", got.ConsoleOverrun)
	}
	for id, b := range got.Boxes {
		if b.Left < 0 || b.Top < 0 || b.Right > got.InnerWidth || b.Bottom > got.InnerHeight {
			p.t.Errorf("#%s at (%v,%v)-(%v,%v) is not within the %vx%v viewport", id, b.Left, b.Top, b.Right, b.Bottom, got.InnerWidth, got.InnerHeight)
		}
	}
}

// tap touches the middle of the element matching the CSS selector, as a
// finger does (touch events, then the click the browser makes of them).
func (p *browserPage) tap(selector string) {
	p.t.Helper()
	c := browserEval[struct{ X, Y float64 }](p, fmt.Sprintf(`(() => {
		const r = document.querySelector(%s).getBoundingClientRect();
		return { X: r.left + r.width / 2, Y: r.top + r.height / 2 };
	})()`, browserJS(selector)))
	p.do(chromedp.TapXY(c.X, c.Y))
}

// browserRecorder is a TCP target that sends greeting and then records
// every byte it receives, for tests of exactly what the page sends.
func browserRecorder(t *testing.T, greeting string) (addr string, r *byteRecorder) {
	t.Helper()
	r = &byteRecorder{t: t, got: make(chan []byte), done: make(chan struct{})}
	addr = startTarget(t, func(c net.Conn) {
		io.WriteString(c, greeting)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				select {
				case r.got <- bytes.Clone(buf[:n]):
				case <-r.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	t.Cleanup(func() { close(r.done) }) // runs before the target's cleanup waits for it
	return addr, r
}

// browserEchoingRecorder is a browserRecorder that says it echoes (IAC
// WILL ECHO) and asks for 8-bit input (IAC DO BINARY), as a telnetd does,
// so that terminal mode sends every key as typed (character mode) and
// Enter as a lone CR. The gateway's answers are taken off the record.
func browserEchoingRecorder(t *testing.T, greeting string) (addr string, r *byteRecorder) {
	t.Helper()
	addr, r = browserRecorder(t, "\xff\xfb\x01\xff\xfd\x00"+greeting)
	r.skip = []byte("\xff\xfd\x01\xff\xfb\x00") // IAC DO ECHO, IAC WILL BINARY
	return addr, r
}

// byteRecorder holds what a browserRecorder target received.
type byteRecorder struct {
	t       *testing.T
	got     chan []byte
	done    chan struct{}
	pending []byte // received, not yet expected
	skip    []byte // the gateway's telnet answers, expected before anything else
}

// expect waits for the next bytes to be exactly want: nothing before them,
// nothing else in their place.
func (r *byteRecorder) expect(what string, want []byte) {
	r.t.Helper()
	if skip := r.skip; skip != nil {
		r.skip = nil
		r.expect("the gateway's telnet answers", skip)
	}
	timeout := time.After(browserWait)
	for len(r.pending) < len(want) {
		select {
		case b := <-r.got:
			r.pending = append(r.pending, b...)
		case <-timeout:
			r.t.Fatalf("%s: the target got %q, want %q", what, r.pending, want)
		}
	}
	if !bytes.Equal(r.pending[:len(want)], want) {
		r.t.Fatalf("%s: the target got %q, want %q", what, r.pending, want)
	}
	r.pending = r.pending[len(want):]
}
