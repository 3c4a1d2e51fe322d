package main

// Browser tests of named targets: the menu, #target= links, the embedded
// view, and the page framed by another origin under -frame-ancestors.

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserTargets gives the gateway named targets: the echo server and two
// that are never dialled, one with HTML in its name and description.
func browserTargets(free bool) func(o *gatewayOptions, echoAddr string) {
	return func(o *gatewayOptions, echoAddr string) {
		set := "echo: " + echoAddr + " # The echo server: says what you say\n" +
			"mybbs: 127.0.0.1:1 # My BBS, est. 1994\n" +
			"<b>lab</b>: 127.0.0.1:2 # <i>not HTML</i> & more\n"
		ts, err := parseTokensForTest(set)
		if err != nil {
			panic(err)
		}
		o.Targets = ts
		o.FreeTargets = free
	}
}

// browserVisible is a JavaScript test: the element with this id is shown.
func browserVisible(id string) string {
	return fmt.Sprintf(`document.getElementById(%s).getClientRects().length > 0`, browserJS(id))
}

// browserTestMenu: the menu lists names and descriptions as text, host and
// port are not offered without free targets, and a click connects.
func browserTestMenu(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx, browserTargets(false))
	p.open()
	p.wait("the menu", `document.querySelectorAll('#menu-list .menu-item').length === 3 && document.getElementById('menu').getClientRects().length > 0`)
	items := browserEval[[]string](p, `[...document.querySelectorAll('#menu-list .menu-item')].map(b => b.textContent)`)
	// In the file's order, not sorted.
	want := []string{"echoThe echo server: says what you say", "mybbsMy BBS, est. 1994", "<b>lab</b><i>not HTML</i> & more"}
	if strings.Join(items, "|") != strings.Join(want, "|") {
		t.Errorf("menu items %q, want %q", items, want)
	}
	// The cards are even: one has a description of two words, another of six.
	heights := browserEval[[]float64](p, `[...document.querySelectorAll('#menu-list .menu-item')].map(b => b.getBoundingClientRect().height)`)
	for _, h := range heights {
		if h != heights[0] {
			t.Errorf("menu cards of heights %v, want them even", heights)
			break
		}
	}
	if browserEval[bool](p, `document.querySelector('#menu b, #menu i, #target b') !== null`) {
		t.Error("a name or description became HTML")
	}
	if browserEval[bool](p, browserVisible("host")) || browserEval[bool](p, browserVisible("port")) {
		t.Error("host and port are offered, but the gateway allows only named targets")
	}
	if browserEval[bool](p, browserVisible("target")) {
		t.Error("the target drop-down is shown beside the menu, which lists the same targets")
	}
	p.screenshot("menu.png")

	p.do(chromedp.Click(chromedp.CSS(`#menu-list button[data-name="echo"]`)))
	p.wait("the session to echo", `document.getElementById('status').textContent === 'Connected to echo.'`)
	p.wait("the greeting", browserHasLine("out", strings.TrimRight(echoGreeting, "\r\n")))
	if h := browserEval[string](p, `location.hash`); !strings.Contains(h, "target=echo") {
		t.Errorf("hash %q does not name the target, so the address cannot be shared", h)
	}
	if browserEval[bool](p, browserVisible("menu")) {
		t.Error("the menu is still shown during the session")
	}
	p.sendLine("hello menu")
	p.wait("the echo", browserHasLine("out", "hello menu"))
	p.screenshot("menu-connected.png")
}

// browserTestTargetLink: #target=NAME connects straight to it; with free
// targets allowed, "Other" offers host and port.
func browserTestTargetLink(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx, browserTargets(true))
	p.openHash("target=echo&mode=line")
	p.wait("the session to echo", `document.getElementById('status').textContent === 'Connected to echo.'`)
	p.wait("the greeting", browserHasLine("out", strings.TrimRight(echoGreeting, "\r\n")))
	p.click("connect-button") // disconnect
	// Three targets and "Other", for a host and port of one's own.
	p.wait("the menu", `document.querySelectorAll('#menu-list .menu-item').length === 4`)
	if browserEval[bool](p, browserVisible("host")) {
		t.Error("host is offered while a named target is chosen")
	}
	p.do(chromedp.Click(chromedp.CSS(`#menu-list button[data-free]`)))
	p.wait("host and port", browserVisible("host")+` && `+browserVisible("port")+` && document.activeElement.id === 'host'`)
	p.connectTo(p.echoAddr)
	p.waitConnected(2)
}

// browserTestEmbed: the embedded view shows only the terminal (or the
// console and its command box), fills the window and connects at once;
// /embed/NAME leads to it.
func browserTestEmbed(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx, browserTargets(false))
	p.do(chromedp.Navigate(p.url + "#target=echo&embed=1&mode=terminal"))
	p.waitTerminalConnected()
	p.wait("the greeting", browserTermHas("wstelnet echo server"))
	for _, id := range []string{"target-form", "menu", "status", "terminal-hint"} {
		if browserEval[bool](p, browserVisible(id)) {
			t.Errorf("#%s is shown in the embedded view", id)
		}
	}
	fill := browserEval[[]float64](p, `(() => { const r = document.querySelector('.terminal-frame').getBoundingClientRect(); return [r.width / innerWidth, r.height / innerHeight]; })()`)
	if fill[0] < 0.99 || fill[1] < 0.95 {
		t.Errorf("the terminal fills %.0f%% x %.0f%% of the window", fill[0]*100, fill[1]*100)
	}
	p.screenshot("embed-terminal.png")

	// Ended from the page (a hidden button's click), so that leaving asks nothing.
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('connect-button').click()`))
	p.wait("the end", `document.body.dataset.state === 'idle'`)
	if !browserEval[bool](p, browserVisible("again-button")) {
		t.Error("the embedded view offers no way to connect again")
	}
	// Its label sits in the middle of the button, not at its top.
	off := browserEval[float64](p, `(() => {
		const b = document.getElementById('again-button'), r = document.createRange();
		r.selectNodeContents(b);
		const t = r.getBoundingClientRect(), o = b.getBoundingClientRect();
		return (t.top + t.bottom) / 2 - (o.top + o.bottom) / 2;
	})()`)
	if math.Abs(off) > 2 {
		t.Errorf("the label of Connect again is %.1f px off the middle of its button", off)
	}
	p.screenshot("embed-again.png")

	// /embed/NAME, in line mode: the console and the command box.
	p.do(chromedp.Navigate(p.url + "embed/echo?mode=line"))
	p.wait("the session to echo", `document.getElementById('status').textContent === 'Connected to echo.' && location.hash.includes('embed=1')`)
	p.wait("the greeting", browserHasLine("out", strings.TrimRight(echoGreeting, "\r\n")))
	if !browserEval[bool](p, browserVisible("command")) || browserEval[bool](p, browserVisible("target-form")) {
		t.Error("the embedded line view should show the command box and nothing of the form")
	}
	p.sendLine("embedded")
	p.wait("the echo", browserHasLine("out", "embedded"))
	p.screenshot("embed-line.png")
}

// browserTestFramed: a page on another origin (localhost, while the
// gateway is 127.0.0.1) frames the gateway's embedded view. It works when
// -frame-ancestors lists that origin, and the browser blocks it when not.
func browserTestFramed(t *testing.T, browserCtx context.Context) {
	for _, listed := range []bool{true, false} {
		t.Run(fmt.Sprintf("listed=%v", listed), func(t *testing.T) {
			var src atomic.Value
			parent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><title>My BBS</title><h1 style="font:20px sans-serif">My BBS's own site</h1>
<iframe id="wstelnet" src="%s" width="900" height="480" title="My BBS"></iframe>`, src.Load())
			}))
			defer parent.Close()
			_, port, _ := net.SplitHostPort(parent.Listener.Addr().String())
			parentOrigin := "http://localhost:" + port
			var logs lockedBuffer
			p := browserSetup(t, browserCtx, browserTargets(false), func(o *gatewayOptions, _ string) {
				o.Logger = newLogger("text", &logs)
				if listed {
					o.FrameAncestors = []string{parentOrigin}
				}
			})
			src.Store(p.url + "#target=echo&embed=1&mode=terminal")
			p.do(chromedp.Navigate(parentOrigin + "/"))
			if listed {
				// Logged once SUCC has gone to the page in the frame.
				if !pollUntil(browserWait, func() bool { return strings.Contains(strings.Join(logs.lines(), "\n"), `msg="session started"`) }) {
					t.Fatalf("the framed page did not open its session; log:\n%s", strings.Join(logs.lines(), "\n"))
				}
				p.screenshot("framed.png")
				return
			}
			problem := p.expectProblem("frame-ancestors")
			t.Logf("the browser says: %s", problem)
			if n := p.gw.Sessions(); n != 0 {
				t.Errorf("%d sessions from a page the browser should not have shown", n)
			}
			p.screenshot("framed-refused.png")
		})
	}
}
