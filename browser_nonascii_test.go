package main

// Browser tests of non-ASCII text typed into a real telnet host (GNU
// inetutils' telnetd and a shell), in both modes and three charsets: the
// bytes that reach the program, what vim saves, and one line end per Enter.
// They need the gateway to negotiate telnet BINARY both ways (without it,
// telnetd strips the eighth bit: "é", c3 a9, reaches the shell as "C)").

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// nonASCIICases: what is typed in each charset and the bytes it must become.
var nonASCIICases = []struct {
	charset string
	typed   string
	bytes   string // what the program reads
	lang    string // the locale vim runs in
}{
	{"utf-8", "é日😀", "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", "C.UTF-8"},
	// Characters the charset lacks become "?".
	{"iso-8859-1", "é日😀", "\xe9??", "C"},
	{"cp437", "é日😀", "\x82??", "C"},
}

// odHex is how `od -An -tx1` writes bytes, as one string of " xx" groups.
func odHex(b string) string {
	var s strings.Builder
	for i := 0; i < len(b); i++ {
		fmt.Fprintf(&s, " %02x", b[i])
	}
	return s.String()
}

// browserTestNonASCII: for each mode and charset, two lines typed into
// `read` come back byte for byte from od (so each Enter was exactly one
// line end), and in terminal mode vim saves what is typed intact.
func browserTestNonASCII(t *testing.T, browserCtx context.Context) {
	addr := startTelnetd(t)
	host, port, _ := net.SplitHostPort(addr)
	for _, mode := range []string{"line", "terminal"} {
		for _, tc := range nonASCIICases {
			t.Run(mode+"/"+tc.charset, func(t *testing.T) {
				p := browserSetup(t, browserCtx)
				p.openHash(url.Values{"mode": {mode}, "host": {host}, "port": {port}, "charset": {tc.charset}}.Encode())
				// output is the text the page shows, rows or lines, joined.
				output := `document.getElementById('console').innerText`
				if mode == "terminal" {
					p.waitTerminalConnected()
					output = browserTermLines + `(true).join('\n')`
				} else {
					p.waitConnected(1)
				}
				p.wait("the shell's prompt", output+`.includes('#')`)
				// typeLine types text and Enter as a person does in this mode.
				typeLine := func(text string) {
					t.Helper()
					if mode == "line" {
						p.sendLine(text)
						return
					}
					if text != "" {
						if _, err := chromedp.Call(p.ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
							t.Fatalf("type %q: %v", text, err)
						}
					}
					p.typeKeys("\r")
				}
				// The markers are written with quotes in the command, so its
				// echo does not match them.
				typeLine(`IFS= read -r x; IFS= read -r y; echo B''EGIN; printf '%s|%s' "$x" "$y" | od -An -tx1; echo E''ND`)
				typeLine(tc.typed)
				typeLine("second")
				p.wait("od's output", fmt.Sprintf(`/BEGIN\n[^]*\nEND/.test(%s)`, output))
				text := browserEval[string](p, output)
				got := text[strings.LastIndex(text, "BEGIN")+len("BEGIN") : strings.LastIndex(text, "END")]
				got = " " + strings.Join(strings.Fields(got), " ")
				if want := odHex(tc.bytes + "|second"); got != want {
					t.Errorf("typed %q and %q, the shell read%s, want%s (%q|second)", tc.typed, "second", got, want, tc.bytes)
				}
				if mode != "terminal" {
					return
				}

				// vim, in insert mode, then :wq.
				file := filepath.Join(t.TempDir(), "typed.txt")
				typeLine(fmt.Sprintf("LANG=%s vim -u NONE -N -n %s", tc.lang, file))
				p.wait("vim", browserTermHas("~"))
				p.typeKeys("i")
				if _, err := chromedp.Call(p.ctx, input.InsertText, input.InsertTextParams{Text: tc.typed}); err != nil {
					t.Fatal(err)
				}
				p.typeKeys("\x1b:wq\r")
				p.wait("the prompt after vim", `(() => { const b = wstelnet.term.buffer.active; return b.getLine(b.baseY + b.cursorY).translateToString(true).trimEnd().endsWith('#'); })()`)
				saved, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("vim saved nothing: %v", err)
				}
				if string(saved) != tc.bytes+"\n" {
					t.Errorf("vim saved %q, want %q", saved, tc.bytes+"\n")
				}
			})
		}
	}
}
