package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserSave: the Save button downloads what the page shows, as
// text, in line mode (the console) and terminal mode (scrollback and
// screen), in a file named after the target and the time.
func TestBrowserSave(t *testing.T) {
	browserCtx := browserAllocator(t)
	t.Run("Line", func(t *testing.T) { browserTestSaveLine(t, browserCtx) })
	t.Run("Terminal", func(t *testing.T) { browserTestSaveTerminal(t, browserCtx) })
	t.Run("AfterEnd", func(t *testing.T) { browserTestSaveAfterEnd(t, browserCtx) })
}

// browserSaveShown is JavaScript: the Save button is on the page.
const browserSaveShown = `document.getElementById('save-button').checkVisibility()`

// browserTestSaveAfterEnd: when the session has ended (the target said
// quit), Save is still there, which is when a transcript is wanted, and
// saves the whole session; a new Connect takes it away until that
// session opens.
func browserTestSaveAfterEnd(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	dir := p.allowDownloads()
	p.open()
	if browserEval[bool](p, browserSaveShown) {
		t.Error("Save is shown before any session: there is nothing to save")
	}
	p.click("connect-button")
	p.waitConnected(1)
	p.sendLine("hello transcript")
	p.wait("the echo", browserHasLine("out", "hello transcript"))
	p.sendLine("quit")
	p.wait("the end", `document.getElementById('connect-button').textContent === 'Connect' &&
		document.getElementById('status').textContent.startsWith('Disconnected')`)
	if !browserEval[bool](p, browserSaveShown) {
		t.Fatal("Save is gone once the session has ended")
	}
	p.screenshot("save-after-end.png")
	p.click("save-button")
	_, text := p.download(dir)
	for _, want := range []string{"hello transcript\n", "quit\n", "Disconnected: the target closed the connection.\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("saved text %q lacks %q", text, want)
		}
	}
	// A new session: Save waits for it to open, then saves that one.
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('connect-button').click(); window.saveWhileConnecting = document.getElementById('save-button').checkVisibility()`))
	if browserEval[bool](p, `window.saveWhileConnecting`) {
		t.Error("Save is shown while a new session is connecting")
	}
	p.waitConnected(1)
	if !browserEval[bool](p, browserSaveShown) {
		t.Error("Save is not shown in the new session")
	}
}

func browserTestSaveLine(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	dir := p.allowDownloads()
	p.open()
	p.click("connect-button")
	p.waitConnected(1)
	p.sendLine("hello transcript")
	p.wait("the echo", browserHasLine("out", "hello transcript"))

	p.click("save-button")
	name, text := p.download(dir)
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(strings.ReplaceAll(p.echoAddr, ":", "_")) + `-\d{8}T\d{6}Z\.txt$`).MatchString(name) {
		t.Errorf("saved as %q, want <target>-<time>.txt", name)
	}
	want := strings.Join([]string{
		"Connected to " + p.echoAddr + ".",
		strings.TrimRight(echoGreeting, "\r\n"),
		"hello transcript", // as sent
		"hello transcript", // as echoed
	}, "\n") + "\n"
	if text != want {
		t.Errorf("saved text %q, want %q", text, want)
	}
}

func browserTestSaveTerminal(t *testing.T, browserCtx context.Context) {
	long := strings.Repeat("0123456789", 40) // wider than the terminal: it wraps
	addr := browserTarget(t, func(c net.Conn) {
		io.WriteString(c, "\x1b[1;31mfirst\x1b[0m line\r\n"+long+"\r\nlast line\r\n$ ")
	})
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	dir := p.allowDownloads()
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the target's output", browserTermHas("last line"))
	if cols := browserEval[int](p, `wstelnet.term.cols`); cols >= len(long) {
		t.Fatalf("the terminal is %d columns wide; the long line does not wrap", cols)
	}

	p.click("save-button")
	name, text := p.download(dir)
	if !regexp.MustCompile(`^127\.0\.0\.1_` + port + `-\d{8}T\d{6}Z\.txt$`).MatchString(name) {
		t.Errorf("saved as %q, want <target>-<time>.txt", name)
	}
	if want := "first line\n" + long + "\nlast line\n$\n"; !strings.HasSuffix(text, want) {
		t.Errorf("saved text %q, want it to end in %q (colours gone, the wrapped line whole)", text, want)
	}
}

// allowDownloads makes the browser save downloads in a new directory,
// which it returns.
func (p *browserPage) allowDownloads() string {
	p.t.Helper()
	dir := p.t.TempDir()
	if _, err := chromedp.CallBrowser(p.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		p.t.Fatalf("allow downloads: %v", err)
	}
	return dir
}

// download waits for the one file the page downloads into dir and
// returns its name and content.
func (p *browserPage) download(dir string) (name, content string) {
	p.t.Helper()
	deadline := time.Now().Add(browserWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 1 && !strings.HasSuffix(entries[0].Name(), ".crdownload") {
			b, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
			if err != nil {
				p.t.Fatal(err)
			}
			return entries[0].Name(), string(b)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no download in %s within %v: %v", dir, browserWait, entries)
		}
		<-tick.C // the browser signals nothing we listen to: poll
	}
}
