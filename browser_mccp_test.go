package main

// The MUD options in headless Chromium, against tintin++ acting as a MUD
// (mud_tintin_test.go): the game compresses its output (MCCP2), which the
// gateway inflates, and the page shows every line of a long output, in
// order, in both modes; a prompt the game marks with EOR shows as one.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
)

func TestBrowserMUDCompressed(t *testing.T) {
	browserCtx := browserAllocator(t)
	t.Run("Line", func(t *testing.T) { browserTestMUDCompressed(t, browserCtx, "line") })
	t.Run("Terminal", func(t *testing.T) { browserTestMUDCompressed(t, browserCtx, "terminal") })
}

func browserTestMUDCompressed(t *testing.T, browserCtx context.Context, mode string) {
	tt := startTintin(t, tintinScript)
	p := browserSetup(t, browserCtx)
	host, port, _ := net.SplitHostPort(tt.addr)
	p.openHash(url.Values{"mode": {mode}, "host": {host}, "port": {port}}.Encode())
	// What a row of output is, in each mode's view.
	rows := `[...document.querySelectorAll('#console .line.out')].map(l => l.textContent)`
	send := p.sendLine
	if mode == "terminal" {
		p.waitTerminalConnected()
		rows = browserTermLines + `(true).map(l => l.trimEnd())`
		send = func(line string) { p.typeKeys(line + "\r") }
	}
	p.wait("the game's welcome", rows+`.includes('Welcome to the test game')`)
	tt.waitPrinted(t, "RCVD IAC DO MCCP2")

	send("long")
	p.wait("the end of the long output", rows+`.includes('END')`)
	got := browserEval[[]string](p, rows)
	begin := -1
	for i, r := range got {
		if r == "BEGIN" {
			begin = i
		}
	}
	if begin < 0 || len(got) < begin+3002 {
		t.Fatalf("BEGIN at %d of %d rows", begin, len(got))
	}
	for i := 1; i <= 3000; i++ {
		if want := fmt.Sprintf("line %d of the long output that the game compresses with MCCP2", i); got[begin+i] != want {
			t.Fatalf("row %d is %q, want %q", begin+i, got[begin+i], want)
		}
	}

	send("prompt")
	if mode == "terminal" {
		p.wait("the prompt", browserTermHas("HP 10/12> "))
	} else {
		p.wait("the prompt", `[...document.querySelectorAll('#console .line')].some(l => l.textContent.startsWith('HP 10/12>'))`)
	}
	p.screenshot(mode + "-mud.png")
}
