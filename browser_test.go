package main

// The browser tests drive the embedded page in headless Chromium against the
// real gateway (protocol v2), the real echo server, GNU inetutils' telnetd
// and small loopback targets, the way a person uses them. They write
// screenshots to test-screenshots/ for people to look at.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestBrowser(t *testing.T) {
	browserCtx := browserAllocator(t)
	t.Run("MainFlow", func(t *testing.T) { browserTestMainFlow(t, browserCtx) })
	t.Run("ConnectFails", func(t *testing.T) { browserTestConnectFails(t, browserCtx) })
	t.Run("TargetCloses", func(t *testing.T) { browserTestTargetCloses(t, browserCtx) })
	t.Run("Autoscroll", func(t *testing.T) { browserTestAutoscroll(t, browserCtx) })
	t.Run("PasswordPrompt", func(t *testing.T) { browserTestPasswordPrompt(t, browserCtx) })
	t.Run("NoHTMLInjection", func(t *testing.T) { browserTestNoHTMLInjection(t, browserCtx) })
	t.Run("LineControls", func(t *testing.T) { browserTestLineControls(t, browserCtx) })
	t.Run("Colours", func(t *testing.T) { browserTestColours(t, browserCtx) })
	t.Run("Charsets", func(t *testing.T) { browserTestCharsets(t, browserCtx) })
	t.Run("CP437", func(t *testing.T) { browserTestCP437(t, browserCtx) })
	t.Run("LineTelnetd", func(t *testing.T) { browserTestLineTelnetd(t, browserCtx) })
	t.Run("TerminalTelnetd", func(t *testing.T) { browserTestTerminalTelnetd(t, browserCtx) })
	t.Run("TerminalClipboard", func(t *testing.T) { browserTestTerminalClipboard(t, browserCtx) })
	t.Run("Flood", func(t *testing.T) { browserTestFlood(t, browserCtx, "line") })
	t.Run("FloodTerminal", func(t *testing.T) { browserTestFlood(t, browserCtx, "terminal") })
	t.Run("Phone", func(t *testing.T) { browserTestPhone(t, browserCtx) })
	t.Run("PhoneTerminal", func(t *testing.T) { browserTestPhoneTerminal(t, browserCtx) })
	t.Run("TerminalKeys", func(t *testing.T) { browserTestTerminalKeys(t, browserCtx) })
	t.Run("LeaveShortcut", func(t *testing.T) { browserTestLeaveShortcut(t, browserCtx) })
	t.Run("LeavePrompt", func(t *testing.T) { browserTestLeavePrompt(t, browserCtx) })
	t.Run("PortDefault", func(t *testing.T) { browserTestPortDefault(t, browserCtx) })
	t.Run("Palette", func(t *testing.T) { browserTestPalette(t, browserCtx) })
	t.Run("WideChars", func(t *testing.T) { browserTestWideChars(t, browserCtx) })
	t.Run("Dialog", func(t *testing.T) { browserTestDialog(t, browserCtx) })
	t.Run("PhoneKeyBar", func(t *testing.T) { browserTestPhoneKeyBar(t, browserCtx) })
	t.Run("NonASCII", func(t *testing.T) { browserTestNonASCII(t, browserCtx) })
	t.Run("TelnetdCtrlV", func(t *testing.T) { browserTestTelnetdCtrlV(t, browserCtx) })
	t.Run("TelnetdBreak", func(t *testing.T) { browserTestTelnetdBreak(t, browserCtx) })
	t.Run("Menu", func(t *testing.T) { browserTestMenu(t, browserCtx) })
	t.Run("TargetLink", func(t *testing.T) { browserTestTargetLink(t, browserCtx) })
	t.Run("Embed", func(t *testing.T) { browserTestEmbed(t, browserCtx) })
	t.Run("Framed", func(t *testing.T) { browserTestFramed(t, browserCtx) })
	t.Run("TerminalEchoServer", func(t *testing.T) { browserTestTerminalEchoServer(t, browserCtx) })
	t.Run("TerminalLineBytes", func(t *testing.T) { browserTestTerminalLineBytes(t, browserCtx) })
	t.Run("TerminalBareLF", func(t *testing.T) { browserTestTerminalBareLF(t, browserCtx) })
	t.Run("TerminalPasswordEcho", func(t *testing.T) { browserTestTerminalPasswordEcho(t, browserCtx) })
	t.Run("TerminalTinyMUX", func(t *testing.T) { browserTestTerminalTinyMUX(t, browserCtx) })
	t.Run("LineTinyMUX", func(t *testing.T) { browserTestLineTinyMUX(t, browserCtx) })
	t.Run("PhonePortrait", func(t *testing.T) { browserTestPhonePortrait(t, browserCtx) })
	browserMUDTests(t, browserCtx)
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
	if got := p.value("mode"); got != "line" {
		t.Errorf("mode = %q, want line by default", got)
	}
	if got := p.value("charset"); got != "utf-8" {
		t.Errorf("charset = %q, want utf-8 by default", got)
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
	// The address names the session, so that it can be copied.
	want := url.Values{"mode": {"line"}, "host": {host}, "port": {port}, "charset": {"utf-8"}}.Encode()
	if got := browserEval[string](p, `location.hash`); !strings.HasPrefix(got, "#") || !sameQuery(got[1:], want) {
		t.Errorf("location.hash = %q after connecting, want #%s", got, want)
	}

	p.sendLine("hello from chromium")
	p.wait("the echoed line", browserHasLine("out", "hello from chromium"))
	if !browserEval[bool](p, browserHasLine("in", "hello from chromium")) {
		t.Error("the sent line is not shown in the console")
	}
	if got := p.value("command"); got != "" {
		t.Errorf("command box holds %q after sending, want it empty", got)
	}
	// The Send button sends too; an empty line is a bare CR LF.
	p.do(chromedp.SendKeys(chromedp.ID("command"), "a second line"))
	p.click("send-button")
	p.wait("the second echoed line", browserHasLine("out", "a second line"))
	before := browserEval[int](p, `document.querySelectorAll('#console .line.out').length`)
	p.sendLine("")
	p.wait("the echoed empty line", fmt.Sprintf(`document.querySelectorAll('#console .line.out').length > %d && document.querySelector('#console').lastElementChild.textContent === ''`, before))

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
	p.wait("the echoed line after reconnecting", browserHasLine("out", "hello again"))
}

// sameQuery compares two query strings regardless of the order of their keys.
func sameQuery(a, b string) bool {
	qa, err1 := url.ParseQuery(a)
	qb, err2 := url.ParseQuery(b)
	if err1 != nil || err2 != nil || len(qa) != len(qb) {
		return false
	}
	for k, v := range qa {
		if len(qb[k]) != 1 || len(v) != 1 || qb[k][0] != v[0] {
			return false
		}
	}
	return true
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
	p.wait("the 60th line", browserHasLine("out", "scroll 60"))
	const atBottom = `(() => { const c = document.getElementById('console'); return c.scrollHeight - c.scrollTop - c.clientHeight < 8; })()`
	if !browserEval[bool](p, atBottom) {
		t.Fatal("the console did not follow the output to the bottom")
	}

	// Scroll up and let the page see the scroll event, which comes with the next frame.
	const settle = `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('console').scrollTop = 0`),
		chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise))
	more <- "while you read"
	p.wait("the new line", browserHasLine("out", "while you read"))
	p.do(chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise))
	if top := browserEval[float64](p, `document.getElementById('console').scrollTop`); top != 0 {
		t.Errorf("the console scrolled to %v while the user was reading at the top", top)
	}

	p.do(chromedp.Evaluate[chromedp.Void](`(c => c.scrollTop = c.scrollHeight)(document.getElementById('console'))`),
		chromedp.Evaluate[chromedp.Void](settle, chromedp.EvalAwaitPromise))
	more <- "back at the bottom"
	p.wait("the console following again", browserHasLine("out", "back at the bottom")+` && `+atBottom)
}

// browserTestTargetCloses: quit makes the echo server hang up.
func browserTestTargetCloses(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()
	p.click("connect-button")
	p.waitConnected(1)
	p.sendLine("quit")
	p.wait("the target's close", `document.getElementById('status').textContent === 'Disconnected: the target closed the connection.' && document.getElementById('connect-button').textContent === 'Connect'`)
	// The console draws once per animation frame: the last line may come
	// a frame after the status.
	p.wait(`the echo server's last line "bye"`, browserHasLine("out", "bye"))
	if !browserEval[bool](p, `document.getElementById('command').disabled`) {
		t.Error("the command box is enabled after the target closed the connection")
	}
}

// browserTestPasswordPrompt: the command box is masked for a password, the
// password is neither shown in the console nor kept in the history, and the
// box is a text field again afterwards.
//
// The masking comes from the target taking over echo (IAC WILL ECHO, which
// the gateway reports as {"type":"echo","remote":true}) after it has said
// something, as MUDs do at their password prompt, or from a prompt that
// looks like one ("Password:"). GNU inetutils telnetd cannot be used for
// this: it takes echo over once, at the start, and says nothing when a
// program turns the terminal's echo off (see browserTestLineTelnetd), so
// these targets behave like a MUD's login instead.
func browserTestPasswordPrompt(t *testing.T, browserCtx context.Context) {
	for _, tc := range []struct {
		name   string
		greet  bool   // ask for a name first, without taking echo over
		prompt string // sent with IAC WILL ECHO
	}{
		// Echo only: the prompt does not look like a password prompt.
		{"MUDLogin", true, "Secret phrase> "},
		{"MUDPasswordPrompt", true, "Password: "},
		// IAC WILL ECHO + "Password: " as the very first bytes: masked by the prompt.
		{"PasswordFirst", false, "Password: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := make(chan string, 1)
			got := make(chan string, 1)
			addr := browserTarget(t, func(c net.Conn) {
				r := bufio.NewReader(c)
				if tc.greet {
					io.WriteString(c, "Welcome to TestMUD.\r\nBy what name are you known? ")
					name, _ := r.ReadString('\n')
					names <- name
				}
				c.Write(append([]byte{255, 251, 1}, tc.prompt...)) // IAC WILL ECHO
				line, _ := r.ReadString('\n')
				got <- line
				c.Write([]byte{255, 252, 1}) // IAC WONT ECHO
				io.WriteString(c, "\r\nWelcome, traveller.\r\n")
			})
			p := browserSetup(t, browserCtx)
			p.open()
			p.connectTo(addr)
			p.waitConnected(1)
			if tc.greet {
				p.wait("the name prompt", `document.getElementById('console').lastElementChild.textContent === 'By what name are you known? '`)
				if typ := browserEval[string](p, `document.getElementById('command').type`); typ != "text" {
					t.Errorf("the command box is of type %q at the name prompt, want text", typ)
				}
				p.sendLine("gandalf")
				if name := <-names; name != "gandalf\r\n" {
					t.Errorf("the target got the name %q", name)
				}
				p.wait("the name typed, in the console", browserHasLine("in", "gandalf"))
			}
			p.wait("the masked command box", `document.getElementById('command').type === 'password'`)
			p.screenshot("password-" + strings.ToLower(tc.name) + ".png")
			p.sendLine("hunter2")
			// The gateway answered WILL ECHO with DO ECHO before the line.
			if line := <-got; line != "\xff\xfd\x01hunter2\r\n" {
				t.Errorf("the target got %q, want IAC DO ECHO and %q", line, "hunter2\r\n")
			}
			p.wait("the line after the password", browserHasLine("out", "Welcome, traveller."))
			if browserEval[bool](p, `document.getElementById('console').textContent.includes('hunter2')`) {
				t.Error("the password is shown in the console")
			}
			if !browserEval[bool](p, browserHasLine("in secret", "(password sent)")) {
				t.Error("the console does not say that a password was sent")
			}
			p.wait("the text command box after WONT ECHO", `document.getElementById('command').type === 'text'`)
			p.do(chromedp.SendKeys(chromedp.ID("command"), kb.ArrowUp))
			want := ""
			if tc.greet {
				want = "gandalf"
			}
			if v := p.value("command"); v != want {
				t.Errorf("ArrowUp brings back %q, want %q: the password must not be in the history", v, want)
			}
		})
	}
}

// browserTestNoHTMLInjection: the target's text is text, never markup.
func browserTestNoHTMLInjection(t *testing.T, browserCtx context.Context) {
	const payload = `<img src=x onerror=alert(1)><b>bold</b>`
	addr := browserTarget(t, func(c net.Conn) {
		io.WriteString(c, payload+"\r\n\x1b[31m"+payload+"\x1b[0m\r\n")
	})
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(addr)
	p.waitConnected(1)
	p.wait("the payload lines", fmt.Sprintf(`[...document.querySelectorAll('#console .line.out')].filter(l => l.textContent === %s).length === 2`, browserJS(payload)))
	if n := browserEval[int](p, `document.querySelectorAll('#console img, #console b, #console [onerror]').length`); n != 0 {
		t.Errorf("the console holds %d elements made from the target's text", n)
	}
}

// browserTestLineControls: line endings, CR, BS, other controls and escape
// sequences split across frames, in line mode.
func browserTestLineControls(t *testing.T, browserCtx context.Context) {
	// Each step is written separately and waited for, so that it arrives in
	// a frame of its own: sequences and characters split between frames.
	steps := []string{
		"one\r\ntwo\nthree\r\n",
		"progress 10%\r", "progress 50%\r", "progress 100%\r\n",
		"abc\bX\b\bYZ\r\n",
		"bell\x07 nul\x00 tab\tend\x0e\r\n",
		"split \x1b", "[3", "1mred\x1b[", "0m \x1b]0;ti", "tle\x1b", "\\done \xe2\x82", "\xac\r\n",
		"\x1b(Bcharset \x1b[?25lcursor\x1b[?25h \x1b[2J\x1b[Hclear \x1bMrev \x1bP1;2q\x1b\\dcs\r\n",
		"prompt> ",
	}
	want := []string{"one", "two", "three", "progress 100%", "aYZ", "bell nul tab\tend", "split red done €", "charset cursor clear rev dcs"}
	next := make(chan struct{})
	addr := browserTarget(t, func(c net.Conn) {
		for _, s := range steps {
			if _, ok := <-next; !ok {
				return
			}
			io.WriteString(c, s)
		}
	})
	t.Cleanup(func() { close(next) })
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(addr)
	p.waitConnected(1)
	const outLines = `[...document.querySelectorAll('#console .line.out')].map(l => l.textContent)`
	received := 0
	for i, s := range steps {
		next <- struct{}{}
		// Wait until the page has seen this step: counted in bytes received.
		received += len(s)
		p.wait(fmt.Sprintf("step %d (%q)", i, s), fmt.Sprintf(`window.wstelnet.received >= %d`, received))
	}
	p.wait("the prompt", `document.getElementById('console').lastElementChild.textContent === 'prompt> '`)
	got := browserEval[[]string](p, outLines)
	if len(got) == 0 || got[len(got)-1] != "prompt> " {
		t.Fatalf("console lines %q", got)
	}
	got = got[:len(got)-1]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("console lines:\n%q\nwant:\n%q", got, want)
	}
	if n := browserEval[int](p, `document.querySelectorAll('#console span.fg-1').length`); n != 1 {
		t.Errorf("%d red spans, want 1 (the sequence split across frames)", n)
	}
}

// browserTestColours: SGR colours and attributes become styled spans; every
// other escape sequence disappears.
func browserTestColours(t *testing.T, browserCtx context.Context) {
	addr := browserTarget(t, func(c net.Conn) {
		io.WriteString(c, "\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[0m \x1b[38;5;208morange\x1b[0m \x1b[38;2;10;20;30mrgb\x1b[0m \x1b]0;title\x07\x1b[2Kdone\r\n")
		io.WriteString(c, "\x1b[7minverse\x1b[27m \x1b[2mdim\x1b[22m \x1b[3mitalic\x1b[23m \x1b[4munderline\x1b[24m \x1b[44;97m white on blue \x1b[0m \x1b[48;5;226;30m black on yellow \x1b[0m\r\n")
		var b strings.Builder
		for i := range 16 {
			fmt.Fprintf(&b, "\x1b[%dm%X", map[bool]int{true: 30 + i, false: 90 + i - 8}[i < 8], i)
		}
		b.WriteString("\x1b[0m palette\r\n")
		io.WriteString(c, b.String())
	})
	p := browserSetup(t, browserCtx)
	p.open()
	p.connectTo(addr)
	p.waitConnected(1)
	p.wait("the coloured line", browserHasLine("out", "red bold green orange rgb done"))
	p.wait("the palette line", browserHasLine("out", "0123456789ABCDEF palette"))

	type span struct {
		Text       string `json:"text"`
		Color      string `json:"color"`
		Background string `json:"background"`
		Weight     string `json:"weight"`
	}
	spans := browserEval[[]span](p, `Array.from([...document.querySelectorAll('#console .line.out')].find(l => l.textContent.startsWith('red ')).querySelectorAll('span'), s => {
		const cs = getComputedStyle(s);
		return { text: s.textContent, color: cs.color, background: cs.backgroundColor, weight: cs.fontWeight };
	})`)
	want := []span{
		{"red", "rgb(205, 0, 0)", "rgba(0, 0, 0, 0)", "400"},
		{"bold green", "rgb(0, 255, 0)", "rgba(0, 0, 0, 0)", "700"}, // bold is bright, as in xterm
		{"orange", "rgb(255, 135, 0)", "rgba(0, 0, 0, 0)", "400"},
		{"rgb", "rgb(10, 20, 30)", "rgba(0, 0, 0, 0)", "400"},
	}
	if fmt.Sprint(spans) != fmt.Sprint(want) {
		t.Errorf("spans:\n%v\nwant:\n%v", spans, want)
	}
	spans = browserEval[[]span](p, `Array.from([...document.querySelectorAll('#console .line.out')].find(l => l.textContent.startsWith('inverse')).querySelectorAll('span'), s => {
		const cs = getComputedStyle(s);
		return { text: s.textContent, color: cs.color, background: cs.backgroundColor, weight: cs.fontStyle + ' ' + cs.textDecorationLine + ' ' + cs.opacity };
	})`)
	want = []span{
		{"inverse", "rgb(0, 0, 0)", "rgb(229, 229, 229)", "normal none 1"},
		{"dim", "rgb(229, 229, 229)", "rgba(0, 0, 0, 0)", "normal none 0.62"},
		{"italic", "rgb(229, 229, 229)", "rgba(0, 0, 0, 0)", "italic none 1"},
		{"underline", "rgb(229, 229, 229)", "rgba(0, 0, 0, 0)", "normal underline 1"},
		{" white on blue ", "rgb(255, 255, 255)", "rgb(26, 68, 240)", "normal none 1"},
		{" black on yellow ", "rgb(0, 0, 0)", "rgb(255, 255, 0)", "normal none 1"},
	}
	if fmt.Sprint(spans) != fmt.Sprint(want) {
		t.Errorf("spans:\n%v\nwant:\n%v", spans, want)
	}
	p.screenshot("colours.png")
	p.setColorScheme("dark")
	p.screenshot("colours-dark.png")
	p.setColorScheme("")
}

// browserTestCharsets: bytes decoded in the charset chosen, typed text
// encoded in it, in line mode.
func browserTestCharsets(t *testing.T, browserCtx context.Context) {
	t.Run("Windows1252Table", func(t *testing.T) {
		// charset.js writes Windows-1252 out (node's TextDecoder gets it
		// wrong); it must decode every byte as the browser's own does.
		p := browserSetup(t, browserCtx)
		p.open()
		diff, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]int](`import('./charset.js').then(({ newDecoder }) => {
			const all = new Uint8Array(256).map((_, i) => i);
			const ours = [...newDecoder('windows-1252')(all)], browsers = [...new TextDecoder('windows-1252').decode(all)];
			return ours.flatMap((ch, i) => ch === browsers[i] ? [] : [i]);
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if len(diff) != 0 {
			t.Errorf("charset.js decodes the bytes %v of Windows-1252 unlike the browser", diff)
		}
	})
	for _, tc := range []struct {
		charset string
		out     string // the target sends it, then CR LF
		shown   string
		typed   string
		sent    string // what the target gets, before CR LF
	}{
		{"utf-8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "café € 😀", "né € 😀", "n\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
		// Real Latin-1: 0x85 is the C1 control NEL (dropped), not "…".
		{"iso-8859-1", "caf\xe9 a\x85b", "café ab", "né € 😀", "n\xe9 ? ?"},
		{"windows-1252", "\x93caf\xe9\x94 \x80 a\x85b", "“café” € a…b", "né € “q”", "n\xe9 \x80 \x93q\x94"},
		{"cp437", "caf\x82 \xc9\xcd\xbb \xb0\xb1\xb2\xdb", "café ╔═╗ ░▒▓█", "né ═ €", "n\x82 \xcd ?"},
	} {
		t.Run(tc.charset, func(t *testing.T) {
			got := make(chan string, 1)
			addr := browserTarget(t, func(c net.Conn) {
				io.WriteString(c, tc.out+"\r\n")
				line, _ := bufio.NewReader(c).ReadString('\n')
				got <- line
			})
			p := browserSetup(t, browserCtx)
			host, port, _ := net.SplitHostPort(addr)
			p.openHash(url.Values{"host": {host}, "port": {port}, "charset": {tc.charset}}.Encode())
			p.waitConnected(1)
			if v := p.value("charset"); v != tc.charset {
				t.Errorf("charset = %q, want %q from the hash", v, tc.charset)
			}
			p.wait("the decoded line", browserHasLine("out", tc.shown))
			p.sendLine(tc.typed)
			if line := <-got; line != tc.sent+"\r\n" {
				t.Errorf("typed %q, the target got %q, want %q", tc.typed, line, tc.sent+"\r\n")
			}
		})
	}
}

// cp437Art is box drawing and shading in CP437, as a BBS sends it, then
// the low bytes that CP437 draws as pictures (hearts, notes, arrows, ⌂),
// mixed with the controls that must keep working: ESC starting colours,
// BS, BEL, TAB, CR LF.
const cp437Art = "\xc9\xcd\xcd\xbb\r\n\xba\x41\x42\xba\r\n\xc8\xcd\xcd\xbc\r\n" +
	"\x1b[1;33m\xdb\xdb\xb2\xb2\xb1\xb1\xb0\xb0\x1b[0m \x1b[36m\xda\xc4\xc4\xc2\xc4\xc4\xbf\x1b[0m \x1b[41;97m BBS \x1b[0m\r\n" +
	"\x1b[31m\x01\x02\x03\x04\x05\x06\x0b\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1c\x1d\x1e\x1f\x7f\x1b[0m\x07 abX\bc\r\n" +
	"\x1b[32mgreen\x1b[0m\tT\r\n"

// cp437Glyphs is how the third line of cp437Art reads.
const cp437Glyphs = "☺☻♥♦♣♠♂♫☼►◄↕‼¶§▬↨↑↓→∟↔▲▼⌂ abc"

// browserTestCP437: BBS box drawing in CP437, in both modes.
func browserTestCP437(t *testing.T, browserCtx context.Context) {
	addr := browserTarget(t, func(c net.Conn) { io.WriteString(c, cp437Art) })
	host, port, _ := net.SplitHostPort(addr)
	box := []string{"╔══╗", "║AB║", "╚══╝"}

	t.Run("Line", func(t *testing.T) {
		p := browserSetup(t, browserCtx)
		p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}, "charset": {"cp437"}}.Encode())
		p.waitConnected(1)
		p.wait("the shading line", browserHasLine("out", "██▓▓▒▒░░ ┌──┬──┐  BBS "))
		got := browserEval[[]string](p, `[...document.querySelectorAll('#console .line.out')].map(l => l.textContent)`)
		if strings.Join(got[:3], "\n") != strings.Join(box, "\n") {
			t.Errorf("console lines %q, want %q first", got, box)
		}
		p.wait("the glyphs", browserHasLine("out", cp437Glyphs))
		p.wait("the green line", browserHasLine("out", "green\tT"))
		if n := browserEval[int](p, `[...document.querySelectorAll('#console span.fg-1')].filter(s => s.textContent.startsWith('☺')).length + [...document.querySelectorAll('#console span.fg-2')].filter(s => s.textContent === 'green').length`); n != 2 {
			t.Errorf("%d of the 2 coloured runs around the glyphs: ESC does not start sequences any more", n)
		}
		p.screenshot("cp437-line.png")
	})
	t.Run("Terminal", func(t *testing.T) {
		p := browserSetup(t, browserCtx)
		p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}, "charset": {"cp437"}}.Encode())
		p.waitTerminalConnected()
		p.wait("the box in the terminal", browserTermHas("╚══╝"))
		p.wait("the last line", browserTermHas("green"))
		screen := p.termLines(false)
		if strings.Join(screen[:3], "\n") != strings.Join(box, "\n") {
			t.Errorf("terminal rows %q, want %q first", screen, box)
		}
		// TAB moves to column 8; the colours came from ESC sequences.
		if len(screen) < 6 || screen[4] != cp437Glyphs || screen[5] != "green   T" {
			t.Errorf("terminal rows %q, want %q and %q after the box", screen, cp437Glyphs, "green   T")
		}
		fg := browserEval[[]int](p, `(() => { const b = wstelnet.term.buffer.active; return [b.getLine(b.viewportY + 4).getCell(0).getFgColor(), b.getLine(b.viewportY + 5).getCell(0).getFgColor()]; })()`)
		if fmt.Sprint(fg) != "[1 2]" {
			t.Errorf("the glyphs and the green word have colours %v, want [1 2] (red, green)", fg)
		}
		p.screenshot("cp437.png")
	})
}

// browserTestLineTelnetd: line mode against GNU inetutils' telnetd and a shell.
func browserTestLineTelnetd(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode())
	p.waitConnected(1)
	// The prompt, on a line of its own (or after an empty prompt: see below).
	const prompt = `/^(# )+$/.test(document.getElementById('console').lastElementChild.textContent)`
	p.wait("the shell's prompt", prompt)
	// telnetd takes echo over at once (IAC WILL ECHO) and echoes every line
	// itself: that is not a password prompt, and lines are not shown twice.
	if typ := browserEval[string](p, `document.getElementById('command').type`); typ != "text" {
		t.Errorf("the command box is of type %q with telnetd, want text", typ)
	}
	p.sendLine("echo $((6*7))")
	p.wait("the answer", browserHasLine("out", "42"))
	if !browserEval[bool](p, browserHasLine("out", "# echo $((6*7))")) {
		t.Error("telnetd's echo of the command does not follow the prompt on its line")
	}
	if n := browserEval[int](p, `document.querySelectorAll('#console .line.in').length`); n != 0 {
		t.Errorf("%d lines echoed by the page too: the target echoes them", n)
	}
	// 8-bit text typed in the page reaches the shell whole (BINARY) and
	// comes back.
	p.sendLine("echo café 日本 | tr a-z A-Z")
	p.wait("the non-ASCII answer", browserHasLine("out", "CAFé 日本"))
	p.sendLine("echo $TERM; printf '\\033[1;31mRED\\033[0m plain\\n'")
	p.wait("the terminal type", browserHasLine("out", "ansi"))
	p.wait("the coloured line", browserHasLine("out", "RED plain"))
	if n := browserEval[int](p, `document.querySelectorAll('#console span.fg-9.bold').length`); n != 1 {
		t.Errorf("%d bold red spans (drawn bright red), want 1", n)
	}

	// The finding: inetutils telnetd does not tell the client when a program
	// turns echo off (no IAC WONT/WILL ECHO on stty -echo; it would only in
	// its "kludge linemode"). The command box stays a text field, and the
	// secret is still never shown: the tty does not echo it and neither does
	// the page, since the target does the echoing.
	//
	// One read gets the line: in binary mode the gateway sends the page's
	// CR LF as CR, which the pty makes one line end.
	// The secret is typed once the shell says the tty's echo is off: the
	// echo of the command line comes before stty has run.
	const readCmd = `stty -echo; echo echo off $((1+1)); read x; stty echo; echo got ${#x}`
	p.sendLine(readCmd)
	p.wait("the read", browserHasLine("out", "echo off 2"))
	if typ := browserEval[string](p, `document.getElementById('command').type`); typ != "text" {
		t.Logf("the command box became %q during stty -echo: telnetd now reports echo changes", typ)
	}
	p.sendLine("s3cret")
	p.wait("the read's result", browserHasLine("out", "got 6"))
	if browserEval[bool](p, `document.getElementById('console').textContent.includes('s3cret')`) {
		t.Error("the secret typed with stty -echo is shown in the console")
	}
	p.wait("the prompt again", prompt)
	// No telnet commands, no escape sequences: in the output, not counting
	// the echoed commands (which hold a printf's escapes as typed).
	sgrLeft := regexp.MustCompile(`\[[0-9;]*m`)
	for _, line := range browserEval[[]string](p, `[...document.querySelectorAll('#console .line.out')].map(l => l.textContent)`) {
		if strings.ContainsAny(line, "\xff\ufffd\x1bÿ") || (!strings.HasPrefix(line, "# ") && sgrLeft.MatchString(line)) {
			t.Errorf("telnet or escape garbage in the console: %q", line)
		}
	}
	p.screenshot("line-telnetd.png")
}

// browserTestTerminalTelnetd: terminal mode against telnetd: the window size
// reaches the shell and follows the window, commands run, full-screen
// programs draw.
func browserTestTerminalTelnetd(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	if id := browserEval[string](p, `document.activeElement.className`); !strings.Contains(id, "xterm-helper-textarea") {
		t.Errorf("focus is on %q after SUCC, want the terminal", id)
	}
	if browserEval[bool](p, `getComputedStyle(document.getElementById('command-form')).display !== 'none'`) {
		t.Error("the command row is visible in terminal mode")
	}
	p.wait("the shell's prompt", browserTermHas("#"))

	stty := func(when string) {
		t.Helper()
		size := browserEval[struct{ Cols, Rows int }](p, `({Cols: wstelnet.term.cols, Rows: wstelnet.term.rows})`)
		if size.Cols < 40 || size.Rows < 10 {
			t.Errorf("%s: the terminal is %dx%d", when, size.Cols, size.Rows)
		}
		mark := fmt.Sprintf("size=%d %d.", size.Rows, size.Cols)
		p.typeKeys("echo size=$(stty size).\r")
		p.wait(when+": stty size "+mark, browserTermHasLine(mark))
		t.Logf("%s: %s", when, mark)
	}
	stty("at first")

	// A smaller window: the terminal fits itself and tells the target.
	cols := browserEval[int](p, `wstelnet.term.cols`)
	p.do(chromedp.EmulateViewport(900, 560))
	p.wait("the terminal to fit the smaller window", fmt.Sprintf(`wstelnet.term.cols < %d`, cols))
	stty("after resizing")

	p.typeKeys("echo $((6*7))\r")
	p.wait("the answer", browserTermHasLine("42"))
	p.typeKeys("echo $TERM\r")
	p.wait("the terminal type", browserTermHasLine("xterm-256color"))
	all := strings.Join(p.termLines(true), "\n")
	if strings.ContainsAny(all, "\xff\ufffdÿ") {
		t.Errorf("telnet garbage in the terminal: %q", all)
	}
	p.screenshot("terminal.png")

	// Cursor addressing: HELLO at row 10, column 10.
	p.typeKeys(`clear; printf '\033[2J\033[10;10HHELLO\033[12;1H'` + "\r")
	p.wait("HELLO at 10;10", `(() => { const b = wstelnet.term.buffer.active; return b.getLine(b.viewportY + 9).translateToString(true) === ' '.repeat(9) + 'HELLO'; })()`)

	// A full-screen program.
	p.typeKeys("top -d 2\r")
	p.wait("top's header", browserTermHas("load average")+` && `+browserTermHas("PID"))
	p.screenshot("terminal-top.png")
	p.typeKeys("q")
	p.wait("the prompt after top", `(() => { const t = wstelnet.term, b = t.buffer.active; return b.getLine(b.baseY + b.cursorY).translateToString(true).trimEnd() === '#'; })()`)

	p.setColorScheme("dark")
	p.typeKeys("ls -l --color=always /usr\r")
	p.wait("the listing", browserTermHas("share"))
	p.screenshot("terminal-dark.png")
	p.setColorScheme("")

	// exit: the target closes; the terminal says so.
	p.typeKeys("exit\r")
	p.wait("the end of the session", `document.getElementById('status').textContent.startsWith('Disconnected') && document.getElementById('connect-button').textContent === 'Connect'`)
	p.wait("the notice in the terminal", browserTermHas("[Disconnected"))
}

// browserTestTerminalClipboard: the selection is copied, pasted text is
// sent, and Break sends a telnet BREAK.
func browserTestTerminalClipboard(t *testing.T, browserCtx context.Context) {
	got := make(chan []byte)
	done := make(chan struct{})
	addr := browserTarget(t, func(c net.Conn) {
		// Speak telnet, so that the gateway sends BREAK as IAC BRK.
		c.Write([]byte{255, 251, 3}) // IAC WILL SGA
		io.WriteString(c, "copy me please\r\n")
		buf := make([]byte, 256)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				select {
				case got <- bytes.Clone(buf[:n]):
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	t.Cleanup(func() { close(done) }) // runs before the target's cleanup waits for it
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the text", browserTermHasLine("copy me please"))
	// IAC DO SGA comes first, as the gateway's answer.
	readUntil := func(want []byte) {
		t.Helper()
		var all []byte
		timeout := time.After(browserWait)
		for !bytes.Contains(all, want) {
			select {
			case b := <-got:
				all = append(all, b...)
			case <-timeout:
				t.Fatalf("the target got %q, want %q in it", all, want)
			}
		}
	}
	readUntil([]byte{255, 253, 3})

	// Select the first row and copy, with the Copy button and with
	// Ctrl+Shift+C. The clipboard is replaced by a recorder: a headless
	// browser has no clipboard to read back.
	p.do(chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = (text) => { window.copied = text; return Promise.resolve(); }`))
	p.do(chromedp.Evaluate[chromedp.Void](`wstelnet.term.select(0, 0, 14)`))
	p.click("copy-button")
	p.wait("the copy by the button", `window.copied === 'copy me please'`)
	p.do(chromedp.Evaluate[chromedp.Void](`window.copied = ''; wstelnet.term.select(5, 0, 2)`))
	p.typeKeys("C", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift))
	p.wait("the copy by Ctrl+Shift+C", `window.copied === 'me'`)

	// Paste: the paste event's text goes to the target (xterm turns LF into CR).
	p.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const dt = new DataTransfer();
		dt.setData('text/plain', 'pasted\n');
		document.querySelector('#terminal .xterm-helper-textarea').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
	})()`))
	readUntil([]byte("pasted\r"))

	p.click("break-button")
	readUntil([]byte{255, 243}) // IAC BRK
}

// browserTestFlood: 200,000 lines neither freeze the page nor fill memory.
// The figures are logged, not asserted: they depend on the machine.
func browserTestFlood(t *testing.T, browserCtx context.Context, mode string) {
	const lines = 200_000
	addr := browserTarget(t, func(c net.Conn) {
		w := bufio.NewWriterSize(c, 64<<10)
		for i := 1; i <= lines; i++ {
			fmt.Fprintf(w, "line %06d\r\n", i)
		}
		w.Flush()
	})
	p := browserSetup(t, browserCtx)
	p.openHash("mode=" + mode)
	if mode == "terminal" {
		p.wait("the terminal", `window.wstelnet.term !== null`)
	}

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
	lastLine := `document.getElementById('console').lastElementChild?.textContent`
	if mode == "terminal" {
		lastLine = `(() => { const b = wstelnet.term.buffer.active; for (let i = b.length - 1; i >= 0; i--) { const s = b.getLine(i).translateToString(true); if (s) return s; } })()`
	}
	p.waitFor("the last line of the flood", 60*time.Second, fmt.Sprintf(`%s === %s`, lastLine, browserJS(last)))
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
	lineList := `[...document.getElementById('console').children].map(l => l.textContent)`
	if mode == "terminal" {
		lineList = `(() => { const b = wstelnet.term.buffer.active, out = []; for (let i = 0; i < b.length; i++) { const s = b.getLine(i).translateToString(true); if (s) out.push(s); } return out; })()`
	}
	got := browserEval[floodResult](p, `(() => {
		const lines = `+lineList+`;
		return {
			count: lines.length,
			first: lines[0],
			last: lines[lines.length - 1],
			maxFrameGap: wstelnetProbe.maxFrameGap,
			maxLongTask: wstelnetProbe.maxLongTask,
			longTasks: wstelnetProbe.longTasks,
			heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : 0,
		};
	})()`)
	t.Logf("flood (%s mode): %d lines arrived in %v; longest main-thread block: %.0f ms between animation frames, longest task %.0f ms (%d long tasks); JS heap %.1f MB; %d lines kept",
		mode, lines, elapsed.Round(time.Millisecond), got.MaxFrameGap, got.MaxLongTask, got.LongTasks, got.HeapMB, got.Count)
	if max := 5000 + browserEval[int](p, `wstelnet.term?.rows ?? 0`); got.Count > max {
		t.Errorf("the scrollback holds %d lines, want at most %d", got.Count, max)
	}
	if got.Last != last {
		t.Errorf("the last line is %q, want %q", got.Last, last)
	}
	if want := fmt.Sprintf("line %06d", lines-got.Count+1); got.First != want {
		t.Errorf("the first line is %q, want %q: the scrollback must be the last lines, in order", got.First, want)
	}

	// The page still answers: typing works.
	if mode == "line" {
		p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('command').focus()`),
			chromedp.KeyEvent("still responsive"))
		if v := browserEval[string](p, `document.getElementById('command').value`); v != "still responsive" {
			t.Errorf("command box holds %q after typing, want %q", v, "still responsive")
		}
		p.screenshot("flood.png")
	} else {
		p.screenshot("flood-terminal.png")
	}
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
	p.wait("the long echoed line", browserHasLine("out", long))
	p.screenshot("phone.png")
	p.checkFits("command", "send-button", "connect-button", "host", "port", "mode", "charset", "console")
	if c := browserEval[float64](p, `document.getElementById('console').getBoundingClientRect().height`); c < 200 {
		t.Errorf("the console is only %v px high on a phone", c)
	}
	p.setColorScheme("dark")
	p.screenshot("phone-dark.png")
	p.setColorScheme("")
}

// browserTestPhoneTerminal: terminal mode on a 360x640 screen.
func browserTestPhoneTerminal(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.do(chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the shell's prompt", browserTermHas("#"))
	p.typeKeys("stty size; ls /\r")
	p.wait("the listing", browserTermHas("usr"))
	size := browserEval[struct{ Cols, Rows int }](p, `({Cols: wstelnet.term.cols, Rows: wstelnet.term.rows})`)
	t.Logf("terminal on a phone: %d columns, %d rows", size.Cols, size.Rows)
	if size.Cols < 30 || size.Rows < 15 {
		t.Errorf("the terminal is only %dx%d on a phone", size.Cols, size.Rows)
	}
	p.wait("the size", browserTermHasLine(fmt.Sprintf("%d %d", size.Rows, size.Cols)))
	p.screenshot("phone-terminal.png")
	p.checkFits("connect-button", "terminal", "break-button", "copy-button")
	// The form is folded while connected; Form shows it, and it fits.
	p.click("form-toggle")
	p.wait("the form shown", browserVisible("host"))
	p.checkFits("connect-button", "host", "port", "mode", "charset", "terminal", "break-button", "copy-button")
	// The terminal's own element must fit its frame once it has been fitted
	// to the new size (xterm.js refits on the next frame): no cut-off columns.
	p.wait("the terminal to fit its frame", `(() => {
		const f = document.querySelector('.terminal-frame').getBoundingClientRect();
		const s = document.querySelector('#terminal .xterm-screen').getBoundingClientRect();
		return Math.max(s.right - f.right, s.bottom - f.bottom) <= 0;
	})()`)
}
