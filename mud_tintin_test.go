package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"wstelnet/internal/metrics"
	"wstelnet/internal/session"
)

// Tests against a real MUD server: tintin++ (Debian's tintin++,
// /usr/games/tt++) acting as one with #port init. On connecting it
// offers TTYPE, NAWS, NEW-ENVIRON, CHARSET, MSDP, MSSP, MCCP2, MCCP3 and
// GMCP, compresses what it sends once MCCP2 is agreed, and with
// "#config telnet info" prints what it receives (the TTYPE answers,
// NEW-ENVIRON's variables), which the tests read.

const tintinBin = "/usr/games/tt++"

// tintinScript is the game: commands typed by the player make it send
// GMCP, an EOR-marked prompt, a long compressed output, or ask for every
// NEW-ENVIRON variable.
const tintinScript = `#config {telnet} {info}
#event {PORT CONNECTION} {#port send %0 {Welcome to the test game}}
#event {PORT RECEIVED MESSAGE} {
	#if {"%4" == "gmcp"} {#port send %0 {\xFF\xFA\xC9Char.Vitals {"hp":10,"maxhp":12}\xFF\xF0}};
	#if {"%4" == "prompt"} {#port send %0 {HP 10/12> \xFF\xEF}};
	#if {"%4" == "env"} {#port send %0 {\xFF\xFA\x27\x01\xFF\xF0}};
	#if {"%4" == "long"} {
		#port send %0 {BEGIN};
		#loop 1 3000 cnt {#port send %0 {line $cnt of the long output that the game compresses with MCCP2}};
		#port send %0 {END}
	};
	#if {"%4" == "utf8"} {#port send %0 {caf\xC3\xA9}};
}
`

// tintin is a running tt++ game.
type tintin struct {
	addr string
	out  *lockedBuffer
}

var ansiEscape = regexp.MustCompile("\x1b(\\[[0-9;?]*[a-zA-Z]|\\][^\a]*\a|.)")

// printed is what tt++ has printed so far, without terminal escapes.
func (tt *tintin) printed() string { return ansiEscape.ReplaceAllString(tt.out.String(), "") }

// waitPrinted waits until tt++ has printed want.
func (tt *tintin) waitPrinted(t *testing.T, want string) {
	t.Helper()
	waitFor(t, "tt++ to print "+want, func() bool { return strings.Contains(tt.printed(), want) })
}

// startTintin runs tt++ with the script as a game on a free loopback
// port: a port the kernel just gave out, and another if tt++ finds it
// taken (it listens on every address, where a port free on loopback may
// not be).
func startTintin(t *testing.T, script string) *tintin {
	t.Helper()
	if _, err := os.Stat(tintinBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tt++ not found; install it with: apt-get install tintin++")
		}
		t.Skip("tt++ not found; install it with: apt-get install tintin++")
	}
	dir := t.TempDir()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		file := filepath.Join(dir, "game.tin")
		if err := os.WriteFile(file, []byte(fmt.Sprintf("#port init game %d\n%s", port, script)), 0o644); err != nil {
			t.Fatal(err)
		}
		tt := &tintin{addr: fmt.Sprintf("127.0.0.1:%d", port), out: &lockedBuffer{}}
		cmd := exec.Command(tintinBin, "-G", "-H", "-r", file)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + dir, "TERM=dumb", "PATH=/usr/bin:/bin"}
		cmd.Stdout, cmd.Stderr = tt.out, tt.out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
		}
		var listening bool
		waitFor(t, "tt++ to listen", func() bool {
			p := tt.printed()
			listening = strings.Contains(p, "IS LISTENING ON PORT")
			select {
			case <-exited:
				return true
			default:
			}
			return listening || strings.Contains(p, "ALREADY IN USE")
		})
		if listening {
			t.Cleanup(stop)
			return tt
		}
		stop()
		t.Logf("tt++ could not listen on %d, trying another port: %s", port, tt.printed())
	}
	t.Fatal("tt++ found no free port in 20 tries")
	return nil
}

// TestTintin: a real MUD server through the gateway, as the page uses it
// (v2, gmcp=1, mtts, charset=utf-8, a named target with ipaddress): the
// TTYPE cycle it records, GMCP both ways, a prompt marked with EOR,
// CHARSET, NEW-ENVIRON with the player's address, and a long output it
// compresses, byte for byte after inflation.
func TestTintin(t *testing.T) {
	tt := startTintin(t, tintinScript)
	m := metrics.New()
	tg := newTestGateway(t, gatewayOptions{Metrics: m, Targets: staticTargets(t, "game: "+tt.addr+" ipaddress mssp\n")})
	ws := tg.connectV2(t, "?cols=80&rows=24&gmcp=1&msdp=1&mtts=137&charset=utf-8", "game")
	ws.readStream([]byte("Welcome to the test game"))

	// MTTS: client name, terminal type, bits; 137 (ANSI, 256 colours,
	// proxy) with UTF-8 and MNES added by the gateway.
	for _, want := range []string{"TTYPE RCVD VAL WSTELNET.", "TTYPE RCVD VAL XTERM-256COLOR.", "TTYPE RCVD VAL MTTS 653."} {
		tt.waitPrinted(t, want)
	}
	tt.waitPrinted(t, "RCVD IAC SB CHARSET")

	say := func(line string) { ws.writeFrame(opBinary, []byte(line+"\r\n")) }

	t.Run("GMCP", func(t *testing.T) {
		ws.sendControl(session.Control{Type: "gmcp", Package: "Core.Hello", Data: json.RawMessage(`{"client":"wstelnet","version":"test"}`)})
		tt.waitPrinted(t, "RCVD IAC SB GMCP")
		say("gmcp")
		m := ws.expectControl("gmcp")
		if m.Package != "Char.Vitals" || string(m.Data) != `{"hp":10,"maxhp":12}` {
			t.Errorf("gmcp %q %s", m.Package, m.Data)
		}
	})

	t.Run("prompt", func(t *testing.T) {
		say("prompt")
		var data []byte
		for {
			op, p := ws.next()
			if op == opBinary {
				data = append(data, p...)
				continue
			}
			if ws.parseControl(p).Type == "prompt" {
				break
			}
		}
		if !bytes.HasSuffix(data, []byte("HP 10/12> ")) {
			t.Errorf("the prompt mark came after %q", data)
		}
	})

	t.Run("NEW-ENVIRON", func(t *testing.T) {
		say("env")
		tt.waitPrinted(t, "VAR IPADDRESS VAL 127.0.0.1")
		tt.waitPrinted(t, "VAR CLIENT_NAME VAL WSTELNET")
		tt.waitPrinted(t, "VAR MTTS VAL 653")
	})

	t.Run("MCCP2", func(t *testing.T) {
		say("long")
		data, _ := ws.readStream([]byte("END\n"))
		var want strings.Builder
		want.WriteString("BEGIN\n")
		for i := 1; i <= 3000; i++ {
			fmt.Fprintf(&want, "line %d of the long output that the game compresses with MCCP2\n", i)
		}
		want.WriteString("END\n")
		i := bytes.Index(data, []byte("BEGIN\n"))
		if i < 0 || string(data[i:]) != want.String() {
			t.Fatalf("the long output differs (%d bytes, want %d)", len(data)-max(i, 0), want.Len())
		}
		c := metricValue(t, m, "wstelnet_mccp_bytes_total", "stage", "compressed")
		in := metricValue(t, m, "wstelnet_mccp_bytes_total", "stage", "inflated")
		if c == 0 || in < float64(want.Len()) || c*5 > in {
			t.Errorf("compressed %v, inflated %v: the game's output was not compressed", c, in)
		}
	})

	t.Run("UTF-8", func(t *testing.T) {
		say("utf8")
		ws.readStream([]byte("café"))
	})

	// MSSP: the menu learns what the game says about itself.
	t.Run("MSSP", func(t *testing.T) {
		var list struct {
			Targets []struct {
				Name string
				MSSP map[string]any
			}
		}
		waitFor(t, "the game's MSSP answer in /targets.json", func() bool {
			resp, err := http.Get(tg.srv.URL + "/targets.json")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
				t.Fatal(err)
			}
			return len(list.Targets) == 1 && list.Targets[0].MSSP != nil
		})
		if m := list.Targets[0].MSSP; m["NAME"] == nil || m["PLAYERS"] == nil || m["CODEBASE"] != "TinTin++" {
			t.Errorf("MSSP %v", m)
		}
	})
}

// TestTintinV1: a v1 client gets the game's lines, inflated, and its
// GMCP refused.
func TestTintinV1(t *testing.T) {
	tt := startTintin(t, tintinScript)
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connect(t, tt.addr)
	ws.expectText("Welcome to the test game")
	ws.sendText("long")
	var lines []string
	for len(lines) == 0 || lines[len(lines)-1] != "END" {
		op, p := ws.next()
		if op != opText {
			t.Fatalf("op %d", op)
		}
		lines = append(lines, string(p))
	}
	if len(lines) != 3002 || lines[0] != "BEGIN" || lines[3000] != "line 3000 of the long output that the game compresses with MCCP2" {
		t.Errorf("%d lines: %q ... %q", len(lines), lines[0], lines[len(lines)-1])
	}
	tt.waitPrinted(t, "RCVD IAC DONT GMCP")
	tt.waitPrinted(t, "RCVD IAC DO MCCP2")
}
