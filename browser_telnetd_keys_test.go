package main

// Browser tests of keys and urgent data against a real telnet host (GNU
// inetutils' telnetd and a shell): what a person does at a desktop telnet
// client, done in the page's terminal.

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserTestTelnetdCtrlV: Ctrl+V reaches the host, where the tty takes it
// as "literal next": Ctrl+V Ctrl+C gives the program a 0x03 byte instead
// of interrupting it. (The page used to turn Ctrl+V into a paste.)
func browserTestTelnetdCtrlV(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the shell's prompt", browserTermHas("#"))
	ctrl := chromedp.KeyModifiers(chromedp.ModifierCtrl)
	p.typeKeys("echo B''EGIN; od -An -tx1; echo E''ND\r")
	p.wait("od to start", browserTermHas("BEGIN"))
	p.typeKeys("v", ctrl)
	p.typeKeys("c", ctrl)
	p.typeKeys("\r")
	p.typeKeys("d", ctrl)
	p.wait("od's output", browserTermHas("END"))
	text := strings.Join(p.termLines(true), "\n")
	// Between the markers: the tty's echo of what was typed ("^C", as
	// echoctl shows a control character) and od's hex.
	var got []string
	for _, f := range strings.Fields(text[strings.LastIndex(text, "BEGIN")+len("BEGIN") : strings.LastIndex(text, "END")]) {
		if len(f) == 2 && strings.Trim(f, "0123456789abcdef") == "" {
			got = append(got, f)
		}
	}
	if strings.Join(got, " ") != "03 0a" {
		t.Errorf("od read %q after Ctrl+V Ctrl+C Enter, want 03 0a", got)
	}
}

// browserTestTelnetdBreak: Break (and Ctrl+C) while the host floods the
// terminal makes telnetd send TCP urgent data with IAC DM: nothing of it
// reaches the screen (no "\uFFFD" from a lone 0xF2), and the session goes
// on.
func browserTestTelnetdBreak(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the shell's prompt", browserTermHas("#"))
	p.typeKeys("yes flood\r")
	p.wait("the flood", browserTermHas("flood"))
	p.click("break-button")
	p.typeKeys("c", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	// The prompt first: typed ahead during the flood's tail, the command
	// would be echoed by the tty and share a line with the prompts.
	p.wait("the prompt after the flood", `(() => { const b = wstelnet.term.buffer.active; return b.getLine(b.baseY + b.cursorY).translateToString(true).trimEnd().endsWith('#'); })()`)
	p.typeKeys("echo o''k\r")
	p.wait("the shell again", browserTermHasLine("ok"))
	// Everything on the screen is what yes, the shell and the tty wrote:
	// printable ASCII. A byte of the telnet Synch would show as something else.
	for _, line := range p.termLines(true) {
		for _, r := range line {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("a stray character %U reached the screen: %q", r, line)
			}
		}
	}
	p.screenshot("telnetd-break.png")
}
