package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
	"wstelnet/internal/session"
)

// Tests against GNU inetutils' telnetd (startTelnetd): 8-bit text typed by
// a person reaches the program exactly, Enter is one line end, and urgent
// data (IAC DM) never reaches the browser.

// telnetdShell is a v2 session with a shell behind telnetd.
type telnetdShell struct {
	t   *testing.T
	ws  *wsClient
	out []byte // everything received so far
}

// openTelnetdShell connects a v2 session, as the page does, and waits for
// the shell to run a command.
func openTelnetdShell(t *testing.T) *telnetdShell {
	t.Helper()
	addr := startTelnetd(t)
	tg := newTestGateway(t, gatewayOptions{})
	sh := &telnetdShell{t: t, ws: tg.connectV2(t, "?cols=80&rows=24", addr)}
	sh.run("echo READY$((1+1))", "READY2")
	return sh
}

// send writes one binary message, as the page sends what is typed.
func (sh *telnetdShell) send(b string) {
	sh.t.Helper()
	if err := sh.ws.writeFrame(opBinary, []byte(b)); err != nil {
		sh.t.Fatalf("send %q: %v", b, err)
	}
}

// wait reads until the stream holds want and returns what came meanwhile.
func (sh *telnetdShell) wait(want string) []byte {
	sh.t.Helper()
	data, _ := sh.ws.readStream([]byte(want))
	sh.out = append(sh.out, data...)
	return data
}

// run types cmd and Enter (CR, as a terminal sends it) and waits for want,
// which must be something only the command's output holds (write
// $((1+1)) in cmd and 2 in want), not the tty's echo of cmd.
func (sh *telnetdShell) run(cmd, want string) []byte {
	sh.t.Helper()
	sh.send(cmd + "\r")
	return sh.wait(want)
}

// hexLine is how the shell commands below print bytes: <<hex>>.
var hexLine = regexp.MustCompile(`<<([0-9a-f]*)>>`)

// showHex is a shell pipeline printing its input as <<hex>> (the sed
// program's own echo does not match hexLine).
const showHex = `od -An -tx1 | tr -d ' \n' | sed 's/^/<</;s/$/>>/'; echo`

// hexOf returns the bytes the last <<hex>> in out stands for.
func hexOf(t *testing.T, out []byte) []byte {
	t.Helper()
	m := hexLine.FindAllSubmatch(out, -1)
	if m == nil {
		t.Fatalf("no <<hex>> in %q", out)
	}
	b, err := hex.DecodeString(string(m[len(m)-1][1]))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inputs are texts as the page sends them in each of its charsets.
var inputs = []struct {
	name string
	text string
}{
	{"UTF-8", "é日😀"},
	{"ISO-8859-1", "caf\xe9 \xff\xfe\xa0"},
	{"CP437", "\x82" + cp437Box()},
}

// cp437Box is CP437's box-drawing and block range, 0xB0 to 0xDF.
func cp437Box() string {
	var b []byte
	for c := 0xB0; c <= 0xDF; c++ {
		b = append(b, byte(c))
	}
	return string(b)
}

// typeStyles are the two ways the page sends a line: terminal mode sends
// each key as typed and CR for Enter; line mode sends the line and CR LF.
var typeStyles = []struct {
	name string
	line func(sh *telnetdShell, text string)
}{
	{"terminal", func(sh *telnetdShell, text string) {
		for len(text) > 0 {
			_, n := utf8.DecodeRuneInString(text) // one byte for invalid UTF-8: one key of an 8-bit charset
			sh.send(text[:n])
			text = text[n:]
		}
		sh.send("\r")
	}},
	{"line", func(sh *telnetdShell, text string) { sh.send(text + "\r\n") }},
}

// TestTelnetd8BitInput: typed bytes of every charset reach the program
// exactly, and Enter is one line end, in both of the page's styles.
func TestTelnetd8BitInput(t *testing.T) {
	sh := openTelnetdShell(t)
	out := sh.run("stty -a", "isig")
	if !bytes.Contains(out, []byte("-istrip")) || !bytes.Contains(out, []byte(" cs8")) {
		t.Errorf("the pty still strips the 8th bit: %q", out)
	}
	for _, style := range typeStyles {
		for _, in := range inputs {
			t.Run(style.name+"/"+in.name, func(t *testing.T) {
				// Two lines, then end of file (^D): od sees exactly two LFs.
				sh.send(showHex + "; echo DONE$((1+1))\r")
				sh.wait("DONE$((1+1))") // the tty's echo: od is reading
				style.line(sh, in.text)
				style.line(sh, "x")
				sh.send("\x04")
				got := hexOf(t, sh.wait("DONE2"))
				if want := in.text + "\nx\n"; string(got) != want {
					t.Errorf("the program read %q, want %q", got, want)
				}
			})
		}
	}
	// No empty line between two reads.
	for _, style := range typeStyles {
		sh.send(`read a; read b; echo "[$a|$b]" R$((1+1))` + "\r")
		style.line(sh, "one")
		style.line(sh, "two")
		if out := sh.wait(" R2"); !bytes.Contains(out, []byte("[one|two] R2")) {
			t.Errorf("%s: two lines did not reach two reads: %q", style.name, out)
		}
	}
}

// TestTelnetdPassword: a password typed with the tty's echo off arrives
// exactly, whatever its characters, and is not shown.
func TestTelnetdPassword(t *testing.T) {
	sh := openTelnetdShell(t)
	for _, style := range typeStyles {
		for _, pw := range []string{"pässwörd€😀", "caf\xe9\xff"} {
			sh.send(`stty -echo; printf 'P%sW: ' AS; read -r pw; stty echo; printf '%s' "$pw" | ` + showHex + "\r")
			sh.wait("PASW: ")
			style.line(sh, pw)
			out := sh.wait(">>")
			if got := hexOf(t, out); string(got) != pw {
				t.Errorf("%s: the shell read %q, want %q", style.name, got, pw)
			}
			if bytes.Contains(out, []byte(pw)) {
				t.Errorf("%s: the password was echoed: %q", style.name, out)
			}
		}
	}
}

// TestTelnetdVim: text typed into vim is saved as typed, and Enter starts
// one new line, in both styles. vim -u NONE runs in the C locale, where
// every byte is a character of its own.
func TestTelnetdVim(t *testing.T) {
	if _, err := os.Stat("/usr/bin/vim"); err != nil {
		t.Skip("vim not found; install it with: apt-get install vim")
	}
	sh := openTelnetdShell(t)
	dir := t.TempDir()
	for _, style := range typeStyles {
		for i, in := range inputs {
			t.Run(style.name+"/"+in.name, func(t *testing.T) {
				file := filepath.Join(dir, fmt.Sprintf("%s-%d", style.name, i))
				sh.send(fmt.Sprintf("vim -u NONE -N -n %s; echo VIM$((1+1))\r", file))
				sh.wait("[New")
				sh.send("i")
				style.line(sh, in.text)
				style.line(sh, "two")
				sh.send("\x1b")
				style.line(sh, ":wq")
				sh.wait("VIM2")
				got, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				// vim ends the last line, which is empty here, itself.
				if want := in.text + "\ntwo\n\n"; string(got) != want {
					t.Errorf("vim saved %q, want %q", got, want)
				}
			})
		}
	}
}

// TestTelnetdV1: the seed protocol still works against telnetd: it refuses
// every option, BINARY included, and its CR LF is one line end in NVT mode.
func TestTelnetdV1(t *testing.T) {
	addr := startTelnetd(t)
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, addr)
	// The prompt: telnetd drops what arrives while it negotiates.
	for op, p := ws.next(); !bytes.HasSuffix(p, []byte("# ")) && !bytes.HasSuffix(p, []byte("$ ")); op, p = ws.next() {
		if op != opText {
			t.Fatalf("frame op %d %q while waiting for the prompt", op, p)
		}
	}
	ws.sendText("echo v1 $((2+3))")
	ws.sendText(`read a; read b; echo "[$a|$b]" R$((1+1))`)
	ws.sendText("one")
	ws.sendText("two")
	want := []string{"v1 5", "[one|two] R2"}
	for len(want) > 0 {
		op, p := ws.next()
		if op != opText {
			t.Fatalf("frame op %d %q while waiting for %q", op, p, want[0])
		}
		if strings.HasSuffix(string(p), want[0]) { // after the prompt, as the tty does not echo
			want = want[1:]
		}
		if bytes.Contains(p, []byte("[one|]")) {
			t.Fatalf("two lines did not reach two reads: %q", p)
		}
	}
}

// TestTelnetdInterrupt: Ctrl-C and a break during a flood of output make
// telnetd flush it and send a Synch (IAC DM, the IAC as TCP urgent data).
// Nothing of it reaches the browser, and the session goes on.
func TestTelnetdInterrupt(t *testing.T) {
	sh := openTelnetdShell(t)
	for i, interrupt := range []struct {
		name string
		send func()
	}{
		{"ctrl-c", func() { sh.send("\x03") }},
		{"break", func() { sh.ws.sendControl(session.Control{Type: "break"}) }},
	} {
		t.Run(interrupt.name, func(t *testing.T) {
			sh.send("yes\r")
			out := sh.wait("y\r\ny\r\ny\r\n")
			interrupt.send()
			want := fmt.Sprintf("ok%d", i)
			sh.send(fmt.Sprintf("echo ok$((%d))\r", i))
			out = append(out, sh.wait(want)...)
			// The flood, the tty's ^C or telnetd's "Quit", prompts and
			// echoes: printable ASCII and line ends, nothing else.
			if k := bytes.IndexFunc(out, func(r rune) bool { return (r < ' ' || r > '~') && r != '\r' && r != '\n' }); k >= 0 {
				t.Errorf("stray byte %#x in the output: %q", out[k], out[max(0, k-20):min(len(out), k+20)])
			}
		})
	}
}
