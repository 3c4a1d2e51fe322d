package main

// Browser tests of the page's MUD side (issue 16) against a fake game in
// this file: a TCP server that offers GMCP and EOR as MUDs do, sends
// Char.Vitals and EOR- or GA-marked prompts, and records what it gets. The
// page shows the vitals, dispatches its events, shows prompts as prompts
// in line mode, says what it supports in its MTTS bits, and, framed by
// examples/mud-embed.html on an origin of -frame-ancestors, posts the
// game's GMCP to it and takes its commands, but nothing from a frame of
// another origin.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"wstelnet/internal/metrics"
)

// browserMUDTests are the MUD cases of TestBrowser.
func browserMUDTests(t *testing.T, browserCtx context.Context) {
	t.Run("MUDLine", func(t *testing.T) { browserTestMUDLine(t, browserCtx) })
	t.Run("MUDTerminal", func(t *testing.T) { browserTestMUDTerminal(t, browserCtx) })
	t.Run("MUDEmbed", func(t *testing.T) { browserTestMUDEmbed(t, browserCtx) })
	t.Run("MUDResume", func(t *testing.T) { browserTestMUDResume(t, browserCtx) })
	t.Run("MUDTintin", func(t *testing.T) { browserTestMUDTintin(t, browserCtx) })
	t.Run("MUDMSDP", func(t *testing.T) { browserTestMUDMSDP(t, browserCtx) })
	t.Run("MUDMenu", func(t *testing.T) { browserTestMUDMenu(t, browserCtx) })
}

// Telnet bytes the fake game speaks.
const (
	mudIAC    = 255
	mudDONT   = 254
	mudDO     = 253
	mudWONT   = 252
	mudWILL   = 251
	mudSB     = 250
	mudGA     = 249
	mudSE     = 240
	mudEOR    = 239
	mudECHO   = 1
	mudTTYPE  = 24
	mudOptEOR = 25
	mudGMCP   = 201
	mudMSDP   = 69
)

// fakeMUD is one player's connection to the fake game. What the gateway
// sends is parsed as telnet by the connection's own goroutine and handed
// over on the channels; the test writes the game's side with the methods.
type fakeMUD struct {
	t     *testing.T
	c     net.Conn
	neg   chan [2]byte   // DO, DONT, WILL, WONT and the option
	gmcp  chan [2]string // package, data
	ttype chan string    // TTYPE IS answers
	lines chan string    // lines typed, without their line ending
}

// startFakeMUD starts the game on loopback. Each connection offers GMCP
// and EOR (IAC WILL GMCP, IAC WILL EOR) and is then given to the test.
func startFakeMUD(t *testing.T) (addr string, players <-chan *fakeMUD) {
	t.Helper()
	ch := make(chan *fakeMUD, 4)
	done := make(chan struct{})
	addr = startTarget(t, func(c net.Conn) {
		m := &fakeMUD{t: t, c: c, neg: make(chan [2]byte, 64), gmcp: make(chan [2]string, 64), ttype: make(chan string, 8), lines: make(chan string, 64)}
		c.Write([]byte{mudIAC, mudWILL, mudGMCP, mudIAC, mudWILL, mudOptEOR})
		ch <- m
		m.read(done)
	})
	t.Cleanup(func() { close(done) }) // before startTarget's cleanup waits for the handlers
	return addr, ch
}

// player waits for the page's connection to the game.
func (p *browserPage) player(players <-chan *fakeMUD) *fakeMUD {
	p.t.Helper()
	select {
	case m := <-players:
		return m
	case <-time.After(browserWait):
		p.t.Fatalf("the page did not connect to the game%s", p.state())
		return nil
	}
}

// read parses what the gateway sends until the connection ends.
func (m *fakeMUD) read(done <-chan struct{}) {
	var line []byte
	buf := make([]byte, 4096)
	var pending []byte
	for {
		n, err := m.c.Read(buf)
		pending = append(pending, buf[:n]...)
		for len(pending) > 0 {
			used, ok := m.take(pending, &line, done)
			if !ok {
				break // an incomplete command: wait for more
			}
			pending = pending[used:]
		}
		if err != nil {
			return
		}
	}
}

// take handles the first byte or telnet command of b and says how many
// bytes it used; ok is false if b holds only part of a command.
func (m *fakeMUD) take(b []byte, line *[]byte, done <-chan struct{}) (used int, ok bool) {
	if b[0] != mudIAC {
		switch c := b[0]; c {
		case '\n':
			s := strings.TrimSuffix(string(*line), "\r")
			*line = (*line)[:0]
			select {
			case m.lines <- s:
			case <-done:
			}
		case 0:
			// CR NUL: a CR
		default:
			*line = append(*line, c)
		}
		return 1, true
	}
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case mudIAC:
		*line = append(*line, mudIAC)
		return 2, true
	case mudDO, mudDONT, mudWILL, mudWONT:
		if len(b) < 3 {
			return 0, false
		}
		select {
		case m.neg <- [2]byte{b[1], b[2]}:
		case <-done:
		}
		return 3, true
	case mudSB:
		end := bytes.Index(b, []byte{mudIAC, mudSE})
		if end < 0 {
			return 0, false
		}
		body := bytes.ReplaceAll(b[2:end], []byte{mudIAC, mudIAC}, []byte{mudIAC})
		if len(body) > 0 {
			switch body[0] {
			case mudGMCP:
				pkg, data, _ := strings.Cut(string(body[1:]), " ")
				select {
				case m.gmcp <- [2]string{pkg, data}:
				case <-done:
				}
			case mudTTYPE:
				if len(body) > 1 && body[1] == 0 { // IS
					select {
					case m.ttype <- string(body[2:]):
					case <-done:
					}
				}
			}
		}
		return end + 2, true
	default:
		return 2, true // NOP, AYT and friends
	}
}

// send writes the game's bytes as they are.
func (m *fakeMUD) send(s string) {
	m.t.Helper()
	if _, err := m.c.Write([]byte(s)); err != nil {
		m.t.Fatalf("the game could not send %q: %v", s, err)
	}
}

// sendGMCP sends a GMCP message: IAC SB GMCP package data IAC SE.
func (m *fakeMUD) sendGMCP(pkg, data string) {
	m.t.Helper()
	m.send("\xff\xfa\xc9" + pkg + " " + strings.ReplaceAll(data, "\xff", "\xff\xff") + "\xff\xf0")
}

// prompt sends a prompt and marks its end with IAC EOR.
func (m *fakeMUD) prompt(text string) {
	m.t.Helper()
	m.send(text + "\xff\xef")
}

// expectNeg waits for the gateway's answer cmd (DO, WILL...) for opt,
// skipping others.
func (m *fakeMUD) expectNeg(what string, cmd, opt byte) {
	m.t.Helper()
	timeout := time.After(browserWait)
	for {
		select {
		case n := <-m.neg:
			if n == [2]byte{cmd, opt} {
				return
			}
		case <-timeout:
			m.t.Fatalf("the game did not get %s", what)
		}
	}
}

// expectGMCP waits for the next GMCP message and checks its package.
func (m *fakeMUD) expectGMCP(pkg string) string {
	m.t.Helper()
	select {
	case g := <-m.gmcp:
		if g[0] != pkg {
			m.t.Fatalf("the game got GMCP %s %s, want %s", g[0], g[1], pkg)
		}
		return g[1]
	case <-time.After(browserWait):
		m.t.Fatalf("the game did not get GMCP %s", pkg)
		return ""
	}
}

// expectLine waits for the next line typed and checks it.
func (m *fakeMUD) expectLine(want string) {
	m.t.Helper()
	select {
	case got := <-m.lines:
		if got != want {
			m.t.Fatalf("the game got the line %q, want %q", got, want)
		}
	case <-time.After(browserWait):
		m.t.Fatalf("the game did not get the line %q", want)
	}
}

// expectTTYPE asks for the terminal type (IAC SB TTYPE SEND IAC SE) and
// returns the answer.
func (m *fakeMUD) expectTTYPE() string {
	m.t.Helper()
	m.send("\xff\xfa\x18\x01\xff\xf0")
	select {
	case s := <-m.ttype:
		return s
	case <-time.After(browserWait):
		m.t.Fatal("the game got no answer to TTYPE SEND")
		return ""
	}
}

// recordMUDEvents makes the page keep the events it dispatches, as a
// script of the page's own would see them, in window.mudEvents.
func (p *browserPage) recordMUDEvents() {
	p.t.Helper()
	const src = `window.mudEvents = [];
for (const type of ['gmcp', 'msdp', 'prompt']) {
	document.addEventListener('wstelnet:' + type, (e) => window.mudEvents.push(e.type + ' ' + JSON.stringify(e.detail)));
}`
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		p.t.Fatal(err)
	}
}

// browserVital is a JavaScript test: the vitals bar shows key's numbers as text.
func browserVital(key, text string) string {
	return fmt.Sprintf(`!document.getElementById('vitals').hidden &&
		document.querySelector('#vitals .vital[data-key=%s] .vital-value')?.textContent === %s`, browserJS(key), browserJS(text))
}

// browserConsoleLines is a JavaScript expression: the console's last n
// lines as "kind: text".
func browserConsoleLines(n int) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#console .line')].slice(-%d).map(l => l.className.replace(/^line /, '') + ': ' + l.textContent)`, n)
}

// mudHello checks the GMCP the page sends at the start: Core.Hello with
// the gateway's name and version, then Core.Supports.Set: the page's own
// list, or exactly supports (a named target's gmcp= option) when given.
func mudHello(t *testing.T, m *fakeMUD, supports ...string) {
	t.Helper()
	m.expectNeg("DO GMCP", mudDO, mudGMCP)
	var hello struct{ Client, Version string }
	if data := m.expectGMCP("Core.Hello"); json.Unmarshal([]byte(data), &hello) != nil || hello.Client != "wstelnet" || hello.Version != version() {
		t.Errorf("Core.Hello %s, want client wstelnet, version %q", data, version())
	}
	var got []string
	data := m.expectGMCP("Core.Supports.Set")
	switch {
	case json.Unmarshal([]byte(data), &got) != nil:
		t.Errorf("Core.Supports.Set %s, want a list", data)
	case supports != nil && !slices.Equal(got, supports):
		t.Errorf("Core.Supports.Set %s, want the target's list %q", data, supports)
	case supports == nil && !slices.Contains(got, "Char.Vitals 1"):
		t.Errorf("Core.Supports.Set %s, want a list with Char.Vitals 1", data)
	}
}

// browserTestMUDLine: in line mode, the vitals bar follows Char.Vitals,
// events fire, a prompt shows at once as a prompt and the game's next
// message starts a line of its own, and the password field still comes
// when the game turns echo off. Then the same on a phone.
func browserTestMUDLine(t *testing.T, browserCtx context.Context) {
	addr, players := startFakeMUD(t)
	p := browserSetup(t, browserCtx)
	p.recordMUDEvents()
	host, port, _ := net.SplitHostPort(addr)
	p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode())
	m := p.player(players)
	mudHello(t, m)
	m.expectNeg("DO EOR", mudDO, mudOptEOR)

	m.send("Welcome to FakeMUD, the game of tests.\r\n")
	m.sendGMCP("Char.Vitals", `{"hp":45,"maxhp":50,"mp":20,"maxmp":30,"moves":80,"maxmoves":100}`)
	m.prompt("HP 45/50 > ")
	p.wait("the vitals", browserVital("hp", "45/50")+" && "+browserVital("mp", "20/30")+" && "+browserVital("moves", "80/100"))
	// At once: nothing follows the prompt, no line ending, no timer.
	p.wait("the prompt, as a prompt", `(() => { const l = document.querySelector('#console').lastElementChild;
		return l.classList.contains('prompt') && l.textContent === 'HP 45/50 > '; })()`)
	events := browserEval[[]string](p, `window.mudEvents`)
	want := []string{
		`wstelnet:gmcp {"type":"gmcp","package":"Char.Vitals","data":{"hp":45,"maxhp":50,"mp":20,"maxmp":30,"moves":80,"maxmoves":100}}`,
		`wstelnet:prompt {"type":"prompt"}`,
	}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}

	// A command at the prompt; the answer, new vitals and the next prompt.
	p.sendLine("kill rat")
	m.expectLine("kill rat")
	m.send("You hit the rat.\r\n")
	m.sendGMCP("Char.Vitals", `{"hp":"40","maxhp":"50","mp":"20","maxmp":"30","moves":"79","maxmoves":"100"}`) // IRE games send strings
	m.prompt("HP 40/50 > ")
	p.wait("the new vitals", browserVital("hp", "40/50"))
	// Something happens while the player thinks: its own line, not after the prompt.
	m.send("The rat bites you!\r\n")
	m.prompt("HP 38/50 > ")
	p.wait("the rat's bite", browserHasLine("out", "The rat bites you!"))
	// A message after a line ending: no empty line between.
	m.send("\r\nThe rat flees.\r\n")
	m.prompt("HP 38/50 > ")
	p.wait("the rat flees", browserHasLine("out", "The rat flees."))
	p.wait("the last prompt", `document.querySelector('#console').lastElementChild.classList.contains('prompt')`)
	got := browserEval[[]string](p, browserConsoleLines(8))
	wantLines := []string{
		"out prompt: HP 45/50 > ",
		"in: kill rat",
		"out: You hit the rat.",
		"out prompt: HP 40/50 > ",
		"out: The rat bites you!",
		"out prompt: HP 38/50 > ",
		"out: The rat flees.",
		"out prompt: HP 38/50 > ",
	}
	if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("console:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}
	p.screenshot("mud-line.png")
	p.setColorScheme("dark")
	p.screenshot("mud-line-dark.png")
	p.setColorScheme("")

	// A password prompt marked by GA, with echo turned off: the password field.
	m.send("\r\nYour password, to save: \xff\xfb\x01\xff\xf9")
	p.wait("the password field", `document.getElementById('command').type === 'password'`)
	p.wait("the password prompt, as a prompt", `(() => { const l = document.querySelector('#console').lastElementChild;
		return l.classList.contains('prompt') && l.textContent === 'Your password, to save: '; })()`)
	p.sendLine("sekrit")
	m.expectLine("sekrit")
	p.wait("the password shown as sent, not as typed", browserHasLine("in secret", "(password sent)"))
	m.send("\xff\xfc\x01Saved.\r\n")
	m.prompt("HP 38/50 > ")
	p.wait("the command box back", `document.getElementById('command').type === 'text'`)

	// On a phone: the bar fits beside everything else.
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(3)))
	p.wait("the phone layout", `innerWidth === 390`)
	p.checkFits("vitals", "command", "console")
	p.checkApart("vitals", "command", "console")
	if h := browserEval[float64](p, `document.getElementById('vitals').getBoundingClientRect().height`); h > 40 {
		t.Errorf("the vitals bar is %v px tall on a phone; it should be one row", h)
	}
	p.screenshot("mud-phone.png")
}

// browserTestMUDTerminal: in terminal mode the page says so in its MTTS
// bits (ANSI, VT100, UTF-8, 256 colours, mouse, OSC palette, truecolor,
// with the gateway's proxy and MNES), and the vitals bar and events work
// as in line mode.
func browserTestMUDTerminal(t *testing.T, browserCtx context.Context) {
	addr, players := startFakeMUD(t)
	p := browserSetup(t, browserCtx)
	p.recordMUDEvents()
	p.openTerminalAsync(addr)
	m := p.player(players)
	mudHello(t, m)
	m.send("\xff\xfd\x18") // DO TTYPE
	m.expectNeg("WILL TTYPE", mudWILL, mudTTYPE)
	var answers []string
	for range 4 {
		answers = append(answers, m.expectTTYPE())
	}
	if len(answers) == 4 && (answers[0] != "WSTELNET" || answers[1] != "XTERM-256COLOR" || !strings.HasPrefix(answers[2], "MTTS ") || answers[3] != answers[2]) {
		t.Errorf("TTYPE answers %q, want WSTELNET, XTERM-256COLOR, MTTS n, MTTS n", answers)
	}
	if bits, err := strconv.Atoi(strings.TrimPrefix(answers[2], "MTTS ")); err == nil {
		const want = 1 | 2 | 4 | 8 | 16 | 32 | 256 | 128 | 512 // the page's, then the gateway's proxy and MNES
		if bits != want {
			t.Errorf("MTTS %d, want %d (ANSI, VT100, UTF-8, 256 colours, mouse, OSC palette, truecolor, proxy, MNES)", bits, want)
		}
	} else {
		t.Errorf("the third TTYPE answer %q is not MTTS and a number", answers[2])
	}

	m.send("Welcome to FakeMUD.\r\n")
	m.sendGMCP("Char.Vitals", `{"hp":45,"maxhp":50,"mp":20,"maxmp":30}`)
	m.prompt("\x1b[1;32mHP 45/50\x1b[0m > ")
	p.waitTerminalConnected()
	p.wait("the vitals", browserVital("hp", "45/50"))
	p.wait("the prompt", browserTermHas("HP 45/50 > "))
	p.wait("the events", `window.mudEvents.length === 2 && window.mudEvents[1] === 'wstelnet:prompt {"type":"prompt"}'`)
	p.typeKeys("look\r")
	m.expectLine("look")
	m.sendGMCP("Char.Vitals", `{"hp":50,"maxhp":50,"mp":30,"maxmp":30}`)
	p.wait("the new vitals", browserVital("hp", "50/50"))
	p.screenshot("mud-terminal.png")
}

// openTerminalAsync opens the page in terminal mode on addr, without
// waiting for the session (the game speaks first).
func (p *browserPage) openTerminalAsync(addr string) {
	p.t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p.openHash(url.Values{"mode": {"terminal"}, "host": {host}, "port": {port}}.Encode())
}

// browserTestMUDEmbed: examples/mud-embed.html, on an origin that
// -frame-ancestors lists, embeds the game: its health bar follows the
// game's Char.Vitals posted by the page in its frame, and its buttons
// type commands. A frame of another origin in the same site posts a
// command to the page and fake vitals to the site: both are ignored.
func browserTestMUDEmbed(t *testing.T, browserCtx context.Context) {
	example, err := os.ReadFile("examples/mud-embed.html")
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(example)
	}))
	defer site.Close()
	// The other frame: on another origin, it tries to drive the game and
	// fool the site, then says it has.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>ad</title><p>An advertisement</p><script>
parent.frames[0].postMessage({type: 'send', text: 'drop all'}, '*');
parent.frames[0].postMessage({type: 'gmcp', package: 'Char.Evil', data: {}}, '*');
parent.postMessage({source: 'wstelnet', type: 'gmcp', package: 'Char.Vitals', data: {hp: 1, maxhp: 1000}}, '*');
parent.postMessage('evil-done', '*');
</script>`)
	}))
	defer evil.Close()
	_, sitePort, _ := net.SplitHostPort(site.Listener.Addr().String())
	_, evilPort, _ := net.SplitHostPort(evil.Listener.Addr().String())
	siteOrigin := "http://localhost:" + sitePort // the gateway is 127.0.0.1: another origin

	addr, players := startFakeMUD(t)
	p := browserSetup(t, browserCtx, func(o *gatewayOptions, _ string) {
		ts, err := parseTokensForTest("mygame: " + addr + " gmcp=Char.Vitals,Room.Info:2 # FakeMUD\n")
		if err != nil {
			t.Fatal(err)
		}
		o.Targets = ts
		o.FrameAncestors = []string{siteOrigin}
	})
	p.do(chromedp.Navigate(siteOrigin + "/?" + url.Values{"gateway": {strings.TrimSuffix(p.url, "/")}, "game": {"mygame"}}.Encode()))
	m := p.player(players)
	mudHello(t, m, "Char.Vitals 1", "Room.Info 2") // the target's gmcp= option
	m.send("Welcome to FakeMUD.\r\n")
	m.sendGMCP("Char.Vitals", `{"hp":45,"maxhp":50}`)
	m.prompt("> ")
	p.wait("the site's health bar", `document.getElementById('health-text').textContent === 'Health 45 / 50'`)

	// A frame of another origin tries its luck.
	p.do(chromedp.Evaluate[chromedp.Void](`window.addEventListener('message', (e) => { if (e.data === 'evil-done') document.body.dataset.evilDone = ''; });
		const f = document.createElement('iframe');
		f.src = 'http://localhost:` + evilPort + `/';
		f.title = 'An advertisement';
		f.style.flex = '0 0 60px';
		document.body.append(f);`))
	p.wait("the other frame's messages", `'evilDone' in document.body.dataset`)
	if got := browserEval[string](p, `document.getElementById('health-text').textContent`); got != "Health 45 / 50" {
		t.Errorf("the site's health bar says %q after another origin's message: it took it for the game's", got)
	}
	// The site's buttons type commands; the other frame's did not.
	p.do(chromedp.Click(`button[data-send="look"]`))
	m.expectLine("look")
	p.do(chromedp.Click(`button[data-send="score"]`))
	m.expectLine("score")
	select {
	case g := <-m.gmcp:
		t.Errorf("the game got GMCP %s %s from a frame of another origin", g[0], g[1])
	default:
	}

	m.sendGMCP("Char.Vitals", `{"hp":20,"maxhp":50}`)
	// Drawn, once its transition is over: 40% of the bar.
	healthDrawn := `document.getElementById('health-text').textContent === 'Health 20 / 50' && (() => {
		const bar = document.getElementById('health').getBoundingClientRect(), fill = document.getElementById('health-fill').getBoundingClientRect();
		return Math.abs(fill.width - 0.4 * bar.width) < 1; })()`
	p.wait("the health bar, lower", healthDrawn)
	p.screenshot("mud-embed.png")

	// The same site on a phone.
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(3)))
	p.wait("the phone layout", `innerWidth === 390 && `+healthDrawn)
	p.screenshot("mud-embed-phone.png")

	// /embed/NAME?vitals=0, as the example asks for it: no vitals bar.
	p.recordMUDEvents()
	p.do(chromedp.Navigate(p.url + "embed/mygame?mode=line&vitals=0"))
	m = p.player(players)
	m.sendGMCP("Char.Vitals", `{"hp":45,"maxhp":50}`)
	m.prompt("> ")
	p.wait("the vitals' event", `window.mudEvents.includes('wstelnet:prompt {"type":"prompt"}') && location.hash.includes('vitals=0')`)
	if browserEval[bool](p, browserVisible("vitals")) {
		t.Error("the vitals bar is shown with vitals=0")
	}
}

// browserTestMUDResume: the connection to the gateway drops (a Wi-Fi
// change) while the game sends new vitals; when the page is back, it
// shows them, because the gateway replays the last message of each GMCP
// package on resume, and the page dispatches them as events again.
func browserTestMUDResume(t *testing.T, browserCtx context.Context) {
	addr, players := startFakeMUD(t)
	p := browserSetupWith(t, browserCtx, gatewayOptions{ResumeWindow: time.Minute})
	p.expectProblems(`WebSocket connection to '.*' failed`) // the refused attempts
	proxy := startCutProxy(t, strings.TrimPrefix(strings.TrimSuffix(p.url, "/"), "http://"))
	p.url = "http://" + proxy.addr() + "/"
	p.recordMUDEvents()
	host, port, _ := net.SplitHostPort(addr)
	p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode())
	m := p.player(players)
	mudHello(t, m)
	m.sendGMCP("Char.Vitals", `{"hp":45,"maxhp":50}`)
	m.prompt("HP 45/50 > ")
	p.wait("the vitals", browserVital("hp", "45/50"))

	proxy.cut(time.Minute) // refused until allowed
	p.wait("the banner", `document.getElementById('banner-text').textContent.startsWith('Connection lost, reconnecting…')`)
	m.send("You are hit while away!\r\n")
	m.sendGMCP("Char.Vitals", `{"hp":30,"maxhp":50}`)
	m.prompt("HP 30/50 > ")
	before := browserEval[int](p, `window.mudEvents.length`)
	proxy.allow()
	p.waitFor("the reconnection", 15*time.Second, `document.getElementById('banner-text').textContent === 'Reconnected'`)
	p.wait("the vitals of now", browserVital("hp", "30/50"))
	p.wait("the replayed event", fmt.Sprintf(`window.mudEvents.slice(%d).includes('wstelnet:gmcp {"type":"gmcp","package":"Char.Vitals","data":{"hp":30,"maxhp":50}}')`, before))
	p.wait("what was said meanwhile", browserHasLine("out", "You are hit while away!"))
	// The prompt the game marked while the page was away is a prompt.
	p.wait("the prompt marked while away", browserHasLine("out prompt", "HP 30/50 > "))
	p.wait("its event", fmt.Sprintf(`window.mudEvents.slice(%d).includes('wstelnet:prompt {"type":"prompt"}')`, before))
	select {
	case g := <-m.gmcp:
		t.Errorf("the game got GMCP %s %s after the resume: the page says hello once per session", g[0], g[1])
	default:
	}
	p.screenshot("mud-resumed.png")
}

// browserTintinScript is the game for browserTestMUDTintin: vitals and a
// prompt on connecting, and at each command; "long" sends a long output,
// which tt++ compresses (MCCP2). (#port send ends what it sends with a
// line feed: the GMCP goes with the prompt, so as to add no empty line.)
const browserTintinScript = `#config {telnet} {info}
#event {PORT CONNECTION} {
	#port send %0 {Welcome to the tintin game};
	#port send %0 {\xFF\xFA\xC9Char.Vitals {"hp":10,"maxhp":12,"mp":5,"maxmp":8}\xFF\xF0HP 10/12> \xFF\xEF}
}
#event {PORT RECEIVED MESSAGE} {
	#if {"%4" == "look"} {
		#port send %0 {You see a tintin room.};
		#port send %0 {\xFF\xFA\xC9Char.Vitals {"hp":9,"maxhp":12,"mp":5,"maxmp":8}\xFF\xF0HP 9/12> \xFF\xEF}
	};
	#if {"%4" == "long"} {
		#loop 1 2000 cnt {#port send %0 {line $cnt of a long output, compressed by the game}};
		#port send %0 {HP 9/12> \xFF\xEF}
	}
}
`

// browserTestMUDTintin: tintin++ as the game, in line mode then terminal
// mode: the vitals bar, the events, prompts as prompts, the page's GMCP
// and MTTS bits at the game, and a long compressed output shown whole.
func browserTestMUDTintin(t *testing.T, browserCtx context.Context) {
	tt := startTintin(t, browserTintinScript)
	m := metrics.New()
	p := browserSetup(t, browserCtx, func(o *gatewayOptions, _ string) { o.Metrics = m })
	p.recordMUDEvents()
	host, port, _ := net.SplitHostPort(tt.addr)
	p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode())
	p.wait("the vitals", browserVital("hp", "10/12")+" && "+browserVital("mp", "5/8"))
	p.wait("the prompt, as a prompt", `[...document.querySelectorAll('#console .line.prompt')].some(l => l.textContent === 'HP 10/12> ')`)
	p.wait("the events", `window.mudEvents.includes('wstelnet:gmcp {"type":"gmcp","package":"Char.Vitals","data":{"hp":10,"maxhp":12,"mp":5,"maxmp":8}}') &&
		window.mudEvents.includes('wstelnet:prompt {"type":"prompt"}')`)
	// Line mode's bits (269), with the gateway's proxy and MNES.
	tt.waitPrinted(t, "TTYPE RCVD VAL MTTS 909.")
	tt.waitPrinted(t, "RCVD IAC SB GMCP") // the page's Core.Hello

	p.sendLine("look")
	p.wait("the answer", browserHasLine("out", "You see a tintin room."))
	p.wait("the new vitals", browserVital("hp", "9/12"))
	p.sendLine("long")
	p.wait("the long output, whole", browserHasLine("out", "line 2000 of a long output, compressed by the game"))
	if n := browserEval[int](p, `[...document.querySelectorAll('#console .line.out')].filter(l => / of a long output, compressed by the game$/.test(l.textContent)).length`); n != 2000 {
		t.Errorf("%d lines of the long output, want 2000", n)
	}
	p.wait("the prompt after it", `document.querySelector('#console').lastElementChild.textContent === 'HP 9/12> '`)
	if c, in := metricValue(t, m, "wstelnet_mccp_bytes_total", "stage", "compressed"), metricValue(t, m, "wstelnet_mccp_bytes_total", "stage", "inflated"); c == 0 || c*2 > in { // about 4 to 1 here: tt++ flushes at every #port send
		t.Errorf("MCCP2: %v bytes compressed, %v inflated: the game's output was not compressed", c, in)
	}
	p.screenshot("mud-tintin.png")

	// Terminal mode says more of itself (319), here with a screen reader
	// (64), and shows the same vitals.
	p.click("connect-button") // Disconnect
	p.wait("the end", `document.body.dataset.state === 'idle'`)
	p.do(chromedp.SetValue(chromedp.ID("mode"), "terminal"))
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('mode').dispatchEvent(new Event('change'))`))
	p.click("screen-reader")
	p.click("connect-button")
	p.waitTerminalConnected()
	tt.waitPrinted(t, "TTYPE RCVD VAL MTTS 1023.")
	p.wait("the vitals", browserVital("hp", "10/12"))
	p.wait("the prompt", browserTermHas("HP 10/12> "))
	p.screenshot("mud-tintin-terminal.png")
}

// browserTestMUDMSDP: a game that speaks MSDP instead of GMCP: its
// variables come as wstelnet:msdp events, and HEALTH, MANA and their
// maxima, sent one at a time as they change, feed the vitals bar.
func browserTestMUDMSDP(t *testing.T, browserCtx context.Context) {
	addr, players := startFakeMUD(t)
	p := browserSetup(t, browserCtx)
	p.recordMUDEvents()
	host, port, _ := net.SplitHostPort(addr)
	p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode())
	m := p.player(players)
	m.send("\xff\xfb\x45") // IAC WILL MSDP
	m.expectNeg("DO MSDP", mudDO, mudMSDP)
	// IAC SB MSDP VAR name VAL value ... IAC SE
	msdp := func(pairs ...string) {
		var b strings.Builder
		b.WriteString("\xff\xfa\x45")
		for i := 0; i+1 < len(pairs); i += 2 {
			b.WriteString("\x01" + pairs[i] + "\x02" + pairs[i+1])
		}
		b.WriteString("\xff\xf0")
		m.send(b.String())
	}
	msdp("HEALTH", "30", "HEALTH_MAX", "50", "ROOM_NAME", "A cave")
	msdp("MANA", "7")
	m.prompt("> ")
	p.wait("the vitals", browserVital("HEALTH", "30/50")+" && "+browserVital("MANA", "7"))
	p.wait("the events", `window.mudEvents.includes('wstelnet:msdp {"type":"msdp","data":{"MANA":"7"}}') &&
		window.mudEvents.some(e => e.startsWith('wstelnet:msdp ') && JSON.parse(e.slice(14)).data.ROOM_NAME === 'A cave')`)
	msdp("HEALTH", "25")
	p.wait("the health, lower", browserVital("HEALTH", "25/50"))
	if got := browserEval[string](p, `document.querySelector('#vitals .vital[data-key=HEALTH] .vital-label').textContent`); got != "Health" {
		t.Errorf("the vital's label is %q, want Health", got)
	}
	p.screenshot("mud-msdp.png")
}

// browserTestMUDMenu: a named target with the mssp option (tintin++,
// which answers MSSP): once the gateway has asked it, the menu shows its
// players and uptime under its description.
func browserTestMUDMenu(t *testing.T, browserCtx context.Context) {
	tt := startTintin(t, browserTintinScript)
	p := browserSetup(t, browserCtx, func(o *gatewayOptions, echoAddr string) {
		ts, err := parseTokensForTest("tintin: " + tt.addr + " mssp # The tintin game\necho: " + echoAddr + " # The echo server\n")
		if err != nil {
			t.Fatal(err)
		}
		o.Targets = ts
	})
	// The first request for the list starts the gateway's asking.
	waitFor(t, "the game's MSSP answer in /targets.json", func() bool {
		resp, err := http.Get(p.url + "targets.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list struct {
			Targets []struct{ MSSP map[string]any }
		}
		return json.NewDecoder(resp.Body).Decode(&list) == nil && len(list.Targets) == 2 && list.Targets[0].MSSP != nil
	})
	p.open()
	p.wait("the menu", `document.querySelectorAll('#menu-list .menu-item').length === 2`)
	got := browserEval[[]string](p, `[...document.querySelectorAll('#menu-list .menu-item')].map(b => b.querySelector('.menu-mssp')?.textContent ?? '')`)
	if len(got) != 2 || !regexp.MustCompile(`^\d+ players?( · up (\d+ min|under a minute))?$`).MatchString(got[0]) || got[1] != "" {
		t.Errorf("the menu's MSSP lines are %q, want players (and uptime) for tintin only", got)
	}
	p.screenshot("mud-menu.png")
}
