package main

// Browser tests of a faithful terminal (issue 9): keys reach the host as
// xterm sends them, the page asks before a session is closed with its tab,
// the palette is readable, wide characters take two cells, keyboard and
// touch users can get around.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browserTestTerminalKeys: in terminal mode the keys a terminal user presses
// arrive at the host as the bytes xterm sends; the page keeps only its
// copy, paste and leave shortcuts.
func browserTestTerminalKeys(t *testing.T, browserCtx context.Context) {
	addr, rec := browserEchoingRecorder(t, "ready\r\n")
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the greeting", browserTermHasLine("ready"))
	if !browserEval[bool](p, `document.querySelector('#terminal-hint .typing-char').getClientRects().length > 0`) {
		t.Error("the hint does not say that keys go to the host, which echoes")
	}

	ctrl := chromedp.KeyModifiers(chromedp.ModifierCtrl)
	for _, k := range []struct {
		name string
		keys string
		opts []chromedp.KeyOption
		want string
	}{
		{"Ctrl+V", "v", []chromedp.KeyOption{ctrl}, "\x16"},
		{"Ctrl+W", "w", []chromedp.KeyOption{ctrl}, "\x17"},
		{"Ctrl+C", "c", []chromedp.KeyOption{ctrl}, "\x03"},
		{"Ctrl+L", "l", []chromedp.KeyOption{ctrl}, "\x0c"},
		{"Alt+x", "x", []chromedp.KeyOption{chromedp.KeyModifiers(chromedp.ModifierAlt)}, "\x1bx"},
		{"F5", kb.F5, nil, "\x1b[15~"},
		{"F1", kb.F1, nil, "\x1bOP"},
		{"Home", kb.Home, nil, "\x1b[H"},
		{"End", kb.End, nil, "\x1b[F"},
		{"PgUp", kb.PageUp, nil, "\x1b[5~"},
		{"PgDn", kb.PageDown, nil, "\x1b[6~"},
		{"Insert", kb.Insert, nil, "\x1b[2~"},
		{"Delete", kb.Delete, nil, "\x1b[3~"},
		{"ArrowUp", kb.ArrowUp, nil, "\x1b[A"},
		{"Tab", "\t", nil, "\t"},
		{"Esc", kb.Escape, nil, "\x1b"},
		{"Backspace", kb.Backspace, nil, "\x7f"},
		{"Enter", "\r", nil, "\r"},
	} {
		p.typeKeys(k.keys, k.opts...)
		rec.expect(k.name, []byte(k.want))
	}
	// The keypad, as a keyboard sends it (location 3): digits and operators
	// as characters, its Enter as Enter (xterm's normal keypad mode).
	for _, k := range []struct{ key, code, text, want string }{
		{"7", "Numpad7", "7", "7"},
		{"+", "NumpadAdd", "+", "+"},
		{"Enter", "NumpadEnter", "\r", "\r"},
	} {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: k.key, Code: k.code, Text: k.text, UnmodifiedText: k.text, Location: 3}
		if k.code == "NumpadEnter" {
			down.WindowsVirtualKeyCode, down.NativeVirtualKeyCode = 13, 13
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: k.key, Code: k.code, Location: 3}
		for _, e := range []input.DispatchKeyEventParams{down, up} {
			if _, err := chromedp.Call(p.ctx, input.DispatchKeyEvent, e); err != nil {
				t.Fatal(err)
			}
		}
		rec.expect("keypad "+k.code, []byte(k.want))
	}
	// Tab and Esc went to the host: the focus is still in the terminal.
	if !browserEval[bool](p, `document.activeElement.classList.contains('xterm-helper-textarea')`) {
		t.Errorf("the focus left the terminal after Tab and Esc: it is on %s", browserEval[string](p, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	// Ctrl+Shift+V and Shift+Insert are the browser's paste: nothing is
	// typed (a headless browser has an empty clipboard); the next key is.
	p.typeKeys("V", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift))
	p.typeKeys(kb.Insert, chromedp.KeyModifiers(chromedp.ModifierShift))
	p.typeKeys("z")
	rec.expect("z after the paste keys", []byte("z"))
}

// browserTestLeaveShortcut: Ctrl+Shift+L takes the focus out of the
// terminal to the page's controls, as announced to screen readers and in
// the hint; the screen reader mode is an option; the page has a <main>.
func browserTestLeaveShortcut(t *testing.T, browserCtx context.Context) {
	addr, _ := browserRecorder(t, "ready\r\n")
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the greeting", browserTermHasLine("ready"))

	a11y := browserEval[struct {
		Main, Terminal, Textarea, Hint string
		HintVisible                    bool
	}](p, `(() => {
		const hint = document.getElementById('terminal-hint');
		return {
			Main: document.querySelector('main')?.contains(document.getElementById('terminal')) ? 'main' : '',
			Terminal: document.getElementById('terminal').getAttribute('aria-keyshortcuts'),
			Textarea: document.querySelector('#terminal .xterm-helper-textarea').getAttribute('aria-keyshortcuts'),
			Hint: hint.textContent,
			HintVisible: hint.getBoundingClientRect().height > 0,
		};
	})()`)
	if a11y.Main != "main" {
		t.Error("the terminal is not inside a <main> landmark")
	}
	if a11y.Terminal != "Control+Shift+L" || a11y.Textarea != "Control+Shift+L" {
		t.Errorf("aria-keyshortcuts: terminal %q, its textarea %q, want Control+Shift+L", a11y.Terminal, a11y.Textarea)
	}
	if !a11y.HintVisible || !strings.Contains(a11y.Hint, "Ctrl+Shift+L") {
		t.Errorf("the hint %q (visible: %v) does not show the shortcut", a11y.Hint, a11y.HintVisible)
	}

	p.typeKeys("L", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift))
	p.wait("the focus on Disconnect", `document.activeElement === document.getElementById('connect-button')`)
	// Shift+Tab from there reaches the form, as on any page.
	p.do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	if id := browserEval[string](p, `document.activeElement.id`); id != "charset" {
		t.Errorf("Shift+Tab from Disconnect went to #%s, want #charset", id)
	}

	// Screen reader mode: xterm.js's accessible buffer.
	p.click("screen-reader")
	p.wait("screen reader mode", `wstelnet.term.options.screenReaderMode === true && document.querySelector('#terminal .xterm-accessibility') !== null`)
	p.click("screen-reader")
	p.wait("screen reader mode off", `wstelnet.term.options.screenReaderMode === false`)
	p.screenshot("terminal-hint.png")
}

// browserTestLeavePrompt: closing or reloading the tab while connected asks
// first (beforeunload); not while disconnected.
func browserTestLeavePrompt(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()
	p.click("connect-button") // a click: browsers ask only on pages that were used
	p.waitConnected(1)

	// navigate starts leaving the page; the result arrives when it is done.
	navigate := func() <-chan error {
		done := make(chan error, 1)
		go func() {
			res, err := chromedp.Call(p.ctx, page.Navigate, page.NavigateParams{URL: p.url + "?left"})
			if err == nil && res.ErrorText != "" {
				err = errors.New(res.ErrorText)
			}
			done <- err
		}()
		return done
	}
	done := navigate()
	select {
	case d := <-p.dialogs:
		if d.Type != page.DialogTypeBeforeunload {
			t.Fatalf("a %s dialog opened, want beforeunload", d.Type)
		}
	case err := <-done:
		t.Fatalf("the page was left without asking (navigate: %v)", err)
	case <-time.After(browserWait):
		t.Fatal("no dialog within the wait")
	}
	// Stay.
	if _, err := chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}); err != nil {
		t.Fatalf("dismiss the dialog: %v", err)
	}
	<-done
	p.sendLine("still here")
	p.wait("the session after staying", browserHasLine("out", "still here"))

	// Disconnected: leaving asks nothing.
	p.click("connect-button")
	p.wait("the disconnected state", `document.getElementById('connect-button').textContent === 'Connect'`)
	loaded := make(chan error, 1)
	go func() { loaded <- chromedp.Do(p.ctx, chromedp.Navigate(p.url+"?left")) }()
	select {
	case d := <-p.dialogs:
		chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		t.Fatalf("a %s dialog opened on a page without a session", d.Type)
	case err := <-loaded:
		if err != nil {
			t.Fatalf("navigate: %v", err)
		}
	}
	if search := browserEval[string](p, `location.search`); search != "?left" {
		t.Errorf("the page is at %q after leaving, want ?left", search)
	}
}

// browserTestPortDefault: an empty port means 23 in terminal mode and 80 in
// line mode, and the form says so next to the field.
func browserTestPortDefault(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	p.open()
	hint := func() string {
		return p.text("port-default") + " " + browserEval[string](p, `document.getElementById('port').placeholder`)
	}
	if got := hint(); got != "(empty: 80) 80" {
		t.Errorf("in line mode the port hint is %q, want (empty: 80) and placeholder 80", got)
	}
	p.do(chromedp.SetValue(chromedp.ID("mode"), "terminal"), chromedp.Evaluate[chromedp.Void](`document.getElementById('mode').dispatchEvent(new Event('change'))`))
	p.wait("the terminal", `window.wstelnet.term !== null`)
	if got := hint(); got != "(empty: 23) 23" {
		t.Errorf("in terminal mode the port hint is %q, want (empty: 23) and placeholder 23", got)
	}
	p.screenshot("port-default.png")
	// Something may listen on 23, so accept either answer; what matters is the address.
	p.setValue("host", "127.0.0.1")
	p.setValue("port", "")
	p.click("connect-button")
	p.wait("an answer for port 23", `/^(Could not connect|Connected)/.test(document.getElementById('status').textContent)`)
	if status := p.text("status"); !strings.Contains(status, "127.0.0.1:23") {
		t.Errorf("status after connecting with an empty port in terminal mode = %q, want it to name 127.0.0.1:23", status)
	}
}

// contrast is the WCAG 2 contrast ratio of two colours "rgb(r, g, b)".
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	lum := func(c string) float64 {
		var r, g, bl float64
		if _, err := fmt.Sscanf(c, "rgb(%g, %g, %g)", &r, &g, &bl); err != nil {
			t.Fatalf("colour %q: %v", c, err)
		}
		lin := func(v float64) float64 {
			v /= 255
			if v <= 0.03928 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
		return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(bl)
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// browserTestPalette: the colours as drawn, in both modes, are readable,
// and the same in both.
//
// The thresholds: white, grey and yellow (normal and bright) and bright
// cyan on blue is what mc and dialog draw, and must reach WCAG AA for
// text, 4.5:1. On black, every colour but black itself (the background)
// must reach 3:1 (WCAG's minimum for large text; terminal palettes are
// made of saturated primaries, and xterm's red is 3.6:1), blue included:
// xterm's #0000ee is 2.2:1 and VGA's navy 1.3:1. Bold text in one of the
// eight normal colours is drawn in the bright one, as xterm draws it.
func browserTestPalette(t *testing.T, browserCtx context.Context) {
	var b strings.Builder
	// Each sample is its own word, "sNN" (SGR NN) or "bNN" (bold and NN),
	// in its colours.
	b.WriteString("\x1b[44m\x1b[37m s37 \x1b[97m s97 \x1b[33m s33 \x1b[93m s93 \x1b[96m s96 \x1b[0m\r\n")
	for i := range 16 {
		code := 30 + i
		if i >= 8 {
			code = 90 + i - 8
		}
		fmt.Fprintf(&b, "\x1b[40;%dm s%d ", code, code)
	}
	b.WriteString("\x1b[0m\r\n")
	for code := 31; code <= 37; code++ {
		fmt.Fprintf(&b, "\x1b[40;1;%dm b%d \x1b[0m", code, code)
	}
	b.WriteString("\r\n")
	samples := b.String()
	addr := browserTarget(t, func(c net.Conn) { fmt.Fprint(c, samples) })
	host, port, _ := net.SplitHostPort(addr)

	const onBlue, plain, bold = 5, 16, 7 // samples of each row
	type sample struct{ Text, Color, Background string }
	check := func(t *testing.T, got []sample) map[string]sample {
		t.Helper()
		min := map[string]float64{"blue s37": 4.5, "blue s97": 4.5, "blue s33": 4.5, "blue s93": 4.5, "blue s96": 4.5, "s30": 0}
		byName := map[string]sample{}
		for i, s := range got {
			name := strings.TrimSpace(s.Text)
			key := name
			if i < onBlue {
				key = "blue " + name
			}
			byName[key] = s
			var r, g, bl int
			fmt.Sscanf(s.Background, "rgb(%d, %d, %d)", &r, &g, &bl)
			if i < onBlue && !(bl > 150 && bl > 2*max(r, g)) {
				t.Errorf("%q is on %s, not blue", s.Text, s.Background)
			}
			if i >= onBlue && r+g+bl > 30 {
				t.Errorf("%q is on %s, not black", s.Text, s.Background)
			}
			if name[0] == 'b' {
				continue // checked against its bright colour below
			}
			want, ok := min[key]
			if !ok {
				want = 3
			}
			c := contrast(t, s.Color, s.Background)
			t.Logf("%s: %s on %s, %.2f:1", key, s.Color, s.Background, c)
			if c < want {
				t.Errorf("%s: %s on %s has a contrast of %.2f:1, want at least %.1f:1", key, s.Color, s.Background, c, want)
			}
		}
		if len(got) != onBlue+plain+bold || len(byName) != len(got) {
			t.Errorf("%d samples measured (%d different), want %d", len(got), len(byName), onBlue+plain+bold)
		}
		for code := 31; code <= 37; code++ {
			bo, bright := byName[fmt.Sprintf("b%d", code)], byName[fmt.Sprintf("s%d", code+60)]
			if bo.Color != bright.Color {
				t.Errorf("bold SGR %d is drawn in %s, want the bright colour %s", code, bo.Color, bright.Color)
			}
		}
		return byName
	}

	var line map[string]sample
	t.Run("Line", func(t *testing.T) {
		p := browserSetup(t, browserCtx)
		p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode())
		p.waitConnected(1)
		p.wait("the samples", `document.querySelectorAll('#console span').length >= 28`)
		got := browserEval[[]sample](p, `[...document.querySelectorAll('#console span')].filter(s => /^ [sb]\d+ $/.test(s.textContent)).map(s => {
			const cs = getComputedStyle(s);
			return { Text: s.textContent, Color: cs.color, Background: cs.backgroundColor };
		})`)
		line = check(t, got)
		p.screenshot("palette-line.png")
	})
	t.Run("Terminal", func(t *testing.T) {
		p := browserSetup(t, browserCtx)
		p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
		p.waitTerminalConnected()
		// xterm.js's DOM renderer draws each run of cells as a span, on an
		// animation frame after the buffer has the text: wait for the
		// spans, then read the colours they were drawn in.
		p.wait("the samples drawn", `[...document.querySelectorAll('#terminal .xterm-rows span')].some(s => s.textContent.includes('b37'))`)
		got := browserEval[[]sample](p, `(() => {
			const out = [];
			for (const s of document.querySelectorAll('#terminal .xterm-rows span')) {
				for (const m of s.textContent.matchAll(/[sb]\d+/g)) {
					const cs = getComputedStyle(s);
					out.push({ Text: m[0], Color: cs.color, Background: cs.backgroundColor });
				}
			}
			return out;
		})()`)
		term := check(t, got)
		p.screenshot("palette-terminal.png")
		// One palette: each sample in the same colours in both modes.
		for name, s := range term {
			if l, ok := line[name]; ok && (l.Color != s.Color || l.Background != s.Background) {
				t.Errorf("%s: %s on %s in terminal mode, %s on %s in line mode", name, s.Color, s.Background, l.Color, l.Background)
			}
		}
	})
}

// browserTestWideChars: with Unicode 11 widths an emoji and a CJK
// character take two cells each, as the host's programs count them.
func browserTestWideChars(t *testing.T, browserCtx context.Context) {
	addr := browserTarget(t, func(c net.Conn) { fmt.Fprint(c, "😀日a|\r\n") })
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the line", browserTermHas("a|"))
	got := browserEval[struct {
		Version string
		Cells   []string
		Widths  []int
	}](p, `(() => {
		const t = wstelnet.term, b = t.buffer.active;
		let y = 0;
		while (!b.getLine(y).translateToString(true).includes('a|')) y++;
		const line = b.getLine(y), cells = [], widths = [];
		for (let x = 0; x < 6; x++) {
			const c = line.getCell(x);
			cells.push(c.getChars());
			widths.push(c.getWidth());
		}
		return { Version: t.unicode.activeVersion, Cells: cells, Widths: widths };
	})()`)
	if got.Version != "11" {
		t.Errorf("Unicode version %q, want 11", got.Version)
	}
	// A wide character is a cell of width 2 and an empty one of width 0.
	wantCells := []string{"😀", "", "日", "", "a", "|"}
	wantWidths := []int{2, 0, 2, 0, 1, 1}
	if fmt.Sprint(got.Cells) != fmt.Sprint(wantCells) || fmt.Sprint(got.Widths) != fmt.Sprint(wantWidths) {
		t.Errorf("cells %q widths %v, want %q %v", got.Cells, got.Widths, wantCells, wantWidths)
	}
}

// browserTestDialog: dialog's message box and mc over the real telnetd, for
// the screenshots (the palette, box drawing, full-screen programs).
func browserTestDialog(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the shell's prompt", browserTermHas("#"))
	p.typeKeys("dialog --title wstelnet --msgbox 'Hello from dialog, white on blue.' 8 40\r")
	p.wait("dialog's box", browserTermHas("Hello from dialog")+` && `+browserTermHas("OK"))
	// dialog's screen is blue: the cells around the box are drawn on blue.
	bg := browserEval[string](p, `getComputedStyle([...document.querySelectorAll('#terminal .xterm-rows span')].find(s => s.textContent.includes('Hello from dialog'))).backgroundColor`)
	t.Logf("dialog's box is drawn on %s", bg)
	p.screenshot("terminal-dialog.png")
	p.typeKeys("\r")
	p.wait("the prompt after dialog", `(() => { const b = wstelnet.term.buffer.active; return b.getLine(b.baseY + b.cursorY).translateToString(true).trimEnd().endsWith('#'); })()`)

	p.typeKeys("HOME=/tmp mc -u /usr /etc\r")
	p.waitFor("mc's panels", 20*time.Second, browserTermHas("Name")+` && `+browserTermHas("Quit"))
	p.screenshot("terminal-mc.png")
	p.typeKeys(kb.F10)
	p.wait("the prompt after mc", `(() => { const b = wstelnet.term.buffer.active; return b.getLine(b.baseY + b.cursorY).translateToString(true).trimEnd().endsWith('#'); })()`)
}

// browserTestPhoneKeyBar: on a touch phone, terminal mode has a key bar
// whose keys reach the host; held sideways, the form folds away while
// connected.
func browserTestPhoneKeyBar(t *testing.T, browserCtx context.Context) {
	addr, rec := browserEchoingRecorder(t, "ready\r\n")
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.do(chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
	p.waitTerminalConnected()
	p.wait("the greeting", browserTermHasLine("ready"))
	if !browserEval[bool](p, `getComputedStyle(document.getElementById('keybar')).display === 'flex'`) {
		t.Fatal("no key bar on a touch screen")
	}
	p.checkFits("keybar", "terminal", "connect-button")
	if n := browserEval[int](p, `[...document.querySelectorAll('#keybar button')].filter(b => { const r = b.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth && r.width >= 24; }).length`); n != 10 {
		t.Errorf("%d of the 10 keys of the key bar are whole on the screen and at least 24 px wide", n)
	}

	// Ctrl is sticky: tap it, then type c on the (on-screen) keyboard.
	p.tap("#ctrl-key")
	p.wait("Ctrl pressed", `document.getElementById('ctrl-key').getAttribute('aria-pressed') === 'true'`)
	p.typeKeys("c")
	rec.expect("Ctrl (sticky) then c", []byte{0x03})
	if browserEval[string](p, `document.getElementById('ctrl-key').getAttribute('aria-pressed')`) != "false" {
		t.Error("Ctrl stays pressed after one key")
	}
	for _, k := range []struct{ key, want string }{
		{"up", "\x1b[A"}, {"down", "\x1b[B"}, {"right", "\x1b[C"}, {"left", "\x1b[D"},
		{"esc", "\x1b"}, {"tab", "\t"}, {"ctrl-c", "\x03"}, {"ctrl-d", "\x04"}, {"ctrl-z", "\x1a"},
	} {
		p.tap(fmt.Sprintf(`#keybar [data-key=%q]`, k.key))
		rec.expect("key bar "+k.key, []byte(k.want))
	}
	// Ctrl and an arrow of the bar: xterm's Ctrl+Up.
	p.tap("#ctrl-key")
	p.tap(`#keybar [data-key="up"]`)
	rec.expect("Ctrl and Up", []byte("\x1b[1;5A"))
	// The bar never takes the focus: the on-screen keyboard stays up.
	if !browserEval[bool](p, `document.activeElement.classList.contains('xterm-helper-textarea')`) {
		t.Error("the key bar took the focus from the terminal")
	}
	p.screenshot("phone-keybar.png")

	// Sideways: the form folds away; Disconnect and the status stay.
	portrait := browserEval[int](p, `wstelnet.term.rows`)
	p.do(chromedp.EmulateViewport(640, 360, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateLandscape, chromedp.EmulateScale(2)))
	p.wait("the form folded", `getComputedStyle(document.getElementById('host').parentElement).display === 'none'`)
	// The refit follows the resize a frame later: wait for the new row count,
	// not just any count (the upright one would pass a bare lower bound).
	p.wait("the terminal refitted", fmt.Sprintf(`wstelnet.term.rows !== %d && wstelnet.term.rows >= 12`, portrait))
	p.checkFits("keybar", "terminal", "connect-button", "status")
	p.checkApart("connect-button", "form-toggle", "copy-button", "paste-button", "break-button", "save-button", "terminal")
	rows := browserEval[int](p, `wstelnet.term.rows`)
	t.Logf("terminal rows: %d upright, %d sideways", portrait, rows)
	p.screenshot("phone-keybar-landscape.png")
	p.typeKeys("x")
	rec.expect("a key sideways", []byte("x"))

	// Disconnected, the form is back.
	p.click("connect-button")
	p.wait("the form back", `getComputedStyle(document.getElementById('host').parentElement).display !== 'none'`)
}
