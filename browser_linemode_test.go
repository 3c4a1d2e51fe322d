package main

// Browser tests of terminal mode with hosts that do not echo (issue 18):
// until the host agrees to ECHO, the terminal edits a line locally and
// sends it with CR LF at Enter, as a telnet client does (RFC 1184's
// "kludge" line mode); when the host echoes, every key goes as typed.
// Against the built-in echo server, a real TinyMUX, a host that hides a
// password with ECHO, and one that ends its lines with a bare LF.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browserTermRowCount is a JavaScript expression: how many rows of the
// terminal's buffer are exactly s (trailing blanks aside).
func browserTermRowCount(s string) string {
	return fmt.Sprintf(`%s(true).filter(l => l.trimEnd() === %s).length`, browserTermLines, browserJS(s))
}

// openTerminal opens the page in terminal mode on addr and waits for the session.
func (p *browserPage) openTerminal(addr string) {
	p.t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
}

// browserTestTerminalEchoServer: the built-in echo server never negotiates,
// so terminal mode edits the line locally: what is typed is shown, edited,
// sent at Enter, and the echo server's answer comes back once.
func browserTestTerminalEchoServer(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.openTerminal(p.echoAddr)
	p.wait("the greeting", browserTermHas("wstelnet echo server"))
	if !browserEval[bool](p, `document.querySelector('#terminal-hint .typing-line').getClientRects().length > 0 &&
		document.querySelector('#terminal-hint .typing-char').getClientRects().length === 0`) {
		t.Error("the hint does not say that the line is edited here")
	}

	// "helo", Left, "l": hello; End, "!", Backspace: hello.
	p.typeKeys("helo")
	p.wait("the typed text echoed", browserTermHasLine("helo"))
	p.typeKeys(kb.ArrowLeft + "l" + kb.End + "!" + kb.Backspace)
	p.wait("the edited line", browserTermHasLine("hello"))
	p.typeKeys("\r")
	// One row of what was typed, then one of the answer: not twice, not none.
	p.wait("the answer", browserTermRowCount("hello")+` === 2`)
	rows := p.termLines(true)
	i := indexOf(rows, "hello")
	if i < 0 || i+1 >= len(rows) || strings.TrimRight(rows[i+1], " ") != "hello" {
		t.Errorf("want the typed line and the answer on two rows one after the other; rows: %q", rows)
	}
	// Up brings the line back; sent again, it comes back again.
	p.typeKeys(kb.ArrowUp + "\r")
	p.wait("the line again and its answer", browserTermRowCount("hello")+` === 4`)
	p.screenshot("terminal-echo-server.png")
}

// indexOf is the index of the first row that is s (trailing blanks aside), or -1.
func indexOf(rows []string, s string) int {
	for i, r := range rows {
		if strings.TrimRight(r, " ") == s {
			return i
		}
	}
	return -1
}

// browserTestTerminalLineBytes: in local line mode the host gets exactly
// the edited line and CR LF, a paste's lines each with CR LF, and Ctrl+C
// and Ctrl+D at once, as typed.
func browserTestTerminalLineBytes(t *testing.T, browserCtx context.Context) {
	addr, rec := browserRecorder(t, "ready\r\n")
	p := browserSetup(t, browserCtx)
	p.openTerminal(addr)
	p.wait("the greeting", browserTermHasLine("ready"))
	ctrl := chromedp.KeyModifiers(chromedp.ModifierCtrl)

	p.typeKeys("get lamp" + kb.Home + kb.ArrowRight + kb.ArrowRight + kb.ArrowRight + kb.Delete + "\r")
	rec.expect("the edited line", []byte("getlamp\r\n"))
	p.typeKeys("junk words")
	p.typeKeys("w", ctrl) // Ctrl+W: the word before the cursor
	p.typeKeys("u", ctrl) // Ctrl+U: the rest
	p.typeKeys("ok\r")
	rec.expect("the line after Ctrl+W and Ctrl+U", []byte("ok\r\n"))
	p.typeKeys("\r")
	rec.expect("an empty line", []byte("\r\n"))
	p.typeKeys("half")
	p.typeKeys("c", ctrl)
	rec.expect("Ctrl+C, at once, the line thrown away", []byte{0x03})
	p.wait("^C shown", browserTermHasLine("half^C"))
	p.typeKeys("d", ctrl)
	rec.expect("Ctrl+D, at once", []byte{0x04})
	p.typeKeys("F1 and PgUp are dropped" + kb.F1 + kb.PageUp + "\r")
	rec.expect("no escape sequences in the line", []byte("F1 and PgUp are dropped\r\n"))
	// A paste of two lines: each its own line, with CR LF.
	p.do(chromedp.Evaluate[chromedp.Void](`wstelnet.term.paste('north\nsouth\n')`))
	rec.expect("the pasted lines", []byte("north\r\nsouth\r\n"))
	// The key bar types into the line too.
	p.typeKeys("ab")
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#keybar [data-key="left"]').click()`))
	p.typeKeys("X\r")
	rec.expect("the key bar's Left in the line", []byte("aXb\r\n"))

	// Disconnected, typing in the terminal is not echoed as if it went somewhere.
	p.click("connect-button")
	p.wait("the end", `document.body.dataset.state === 'idle'`)
	p.do(chromedp.Evaluate[chromedp.Void](`wstelnet.term.focus()`))
	p.typeKeys("nowhere")
	// A marker written after the keys is parsed after any echo of them.
	p.do(chromedp.Evaluate[chromedp.Void](`wstelnet.term.write('\r\n[marker]')`))
	p.wait("the marker", browserTermHas("[marker]"))
	if browserEval[bool](p, browserTermHas("nowhere")) {
		t.Error("keys typed without a session are echoed")
	}
}

// browserTestTerminalBareLF: a host that ends its lines with a bare LF (a
// scripted MUD, a Unix program over raw TCP) shows each line at the left
// margin, as a telnet client does, not as a staircase.
func browserTestTerminalBareLF(t *testing.T, browserCtx context.Context) {
	addr := browserTarget(t, func(c net.Conn) {
		io.WriteString(c, "one\ntwo\n")
		io.WriteString(c, "\x1b[1mthree\x1b[0m\n\r\nfour\r\n")
	})
	p := browserSetup(t, browserCtx)
	p.openTerminal(addr)
	p.wait("the lines", browserTermHas("four"))
	rows := p.termLines(true)
	i := indexOf(rows, "one")
	want := []string{"one", "two", "three", "", "four"}
	if i < 0 || i+len(want) > len(rows) {
		t.Fatalf("rows %q, want %q at the left margin", rows, want)
	}
	for j, w := range want {
		if got := strings.TrimRight(rows[i+j], " "); got != w {
			t.Errorf("row %d is %q, want %q (rows %q)", j, got, w, rows[i:i+len(want)])
		}
	}
}

// telnetLineReader reads what a telnet client sends, dropping the
// client's option negotiation (IAC and the two bytes after it) and the
// NUL of CR NUL.
type telnetLineReader struct{ r *bufio.Reader }

// readUntil returns the bytes up to and including delim.
func (tr telnetLineReader) readUntil(delim byte) (string, error) {
	var b []byte
	for {
		c, err := tr.r.ReadByte()
		if err != nil {
			return string(b), err
		}
		switch {
		case c == 0xff:
			if _, err := tr.r.Discard(2); err != nil {
				return string(b), err
			}
			continue
		case c == 0:
			continue
		}
		b = append(b, c)
		if c == delim {
			return string(b), nil
		}
	}
}

// browserTestTerminalPasswordEcho: a host that turns ECHO on to hide a
// password and off again. The terminal follows: the password is sent as
// typed and shown nowhere; afterwards the line is edited locally again.
func browserTestTerminalPasswordEcho(t *testing.T, browserCtx context.Context) {
	const iac, will, wont, echo = 0xff, 0xfb, 0xfc, 0x01
	got := make(chan string, 3)
	addr := browserTarget(t, func(c net.Conn) {
		r := telnetLineReader{bufio.NewReader(c)}
		io.WriteString(c, "Welcome.\r\nlogin: ")
		user, err := r.readUntil('\n')
		if err != nil {
			return
		}
		got <- user
		c.Write(append([]byte{iac, will, echo}, "Password: "...))
		pass, err := r.readUntil('\r')
		if err != nil {
			return
		}
		got <- pass
		c.Write(append([]byte{iac, wont, echo}, "\r\nHello, "+strings.TrimSpace(user)+".\r\n> "...))
		cmd, err := r.readUntil('\n')
		if err != nil {
			return
		}
		got <- cmd
		io.WriteString(c, "You see nothing special.\r\n> ")
	})
	next := func(what string) string {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(browserWait):
			t.Fatalf("the host got no %s", what)
			return ""
		}
	}
	p := browserSetup(t, browserCtx)
	p.openTerminal(addr)
	p.wait("the login prompt", browserTermHas("login:"))
	p.typeKeys("alice\r")
	if s := next("user name"); s != "alice\r\n" {
		t.Errorf("the user name arrived as %q, want a line ending in CR LF", s)
	}
	p.wait("the password prompt", browserTermHas("Password:"))
	p.typeKeys("s3cret\r")
	if s := next("password"); s != "s3cret\r" {
		t.Errorf("the password arrived as %q", s)
	}
	p.wait("the greeting after the password", browserTermHas("Hello, alice."))
	if browserEval[bool](p, browserTermHas("s3cret")) {
		t.Error("the password is shown: the terminal echoed it while the host had echo")
	}
	// Echo is back here: the line is edited and shown locally again.
	p.typeKeys("lok" + kb.ArrowLeft + "o\r")
	if s := next("command"); s != "look\r\n" {
		t.Errorf("the command after the password arrived as %q, want look and CR LF", s)
	}
	p.wait("the command shown and answered", browserTermHasLine("> look")+` && `+browserTermHas("You see nothing special."))
	p.screenshot("terminal-password-echo.png")
}
