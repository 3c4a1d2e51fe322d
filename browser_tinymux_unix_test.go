//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
)

// startTinyMUX runs a fresh TinyMUX (Debian's tinymux package, installed
// for the test by tinymux-install) on loopback and returns its address.
//
// TinyMUX takes its port as a number in netmux.conf and cannot be given
// a listening socket, so a free port cannot be taken without opening and
// closing one first, which STYLE.md rules out (another process may take
// it in between). Running it in a network namespace of its own (unshare
// -n) would free 2860, but the gateway in this process could not reach
// it there. So a random high port is tried, and another if it is taken:
// netmux does not exit when its bind fails, so the test recognises its
// own TinyMUX by a random word in the welcome screen (connect.txt).
// ip_address keeps it on loopback. netmux is started as Startmux starts
// it, but in the foreground, so that the test owns the process.
func startTinyMUX(t *testing.T) string {
	t.Helper()
	const install = "/usr/games/tinymux-install"
	if _, err := os.Stat(install); err != nil {
		const hint = "tinymux not found; install it with: apt-get install tinymux"
		if os.Getenv("CI") != "" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	dir := t.TempDir()
	cmd := exec.Command(install)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tinymux-install: %v\n%s", err, out)
	}
	game := filepath.Join(dir, "tinymux", "game")
	conf, err := os.ReadFile(filepath.Join(game, "netmux.conf"))
	if err != nil {
		t.Fatal(err)
	}
	word := make([]byte, 8)
	rand.Read(word)
	marker := "wstelnet-test-" + hex.EncodeToString(word)
	welcome := filepath.Join(game, "text", "connect.txt")
	os.Remove(welcome) // a link to the package's file
	if err := os.WriteFile(welcome, []byte("Welcome to TinyMUX ("+marker+")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 5; try++ {
		port := 20000 + mathrand.IntN(30000)
		c := strings.Replace(string(conf), "\nport 2860\n", fmt.Sprintf("\nport %d\nip_address 127.0.0.1\n", port), 1)
		if err := os.WriteFile(filepath.Join(game, "netmux.conf"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		mux := exec.Command("./bin/netmux", "-c", "netmux.conf", "-p", "netmux.pid", "-e", ".")
		mux.Dir = game
		mux.Env = []string{"LD_LIBRARY_PATH=./bin", "PATH=/usr/bin:/bin"}
		mux.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its slaves go with it
		if err := mux.Start(); err != nil {
			t.Fatalf("start netmux: %v", err)
		}
		stop := func() {
			syscall.Kill(-mux.Process.Pid, syscall.SIGKILL)
			mux.Wait()
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if tinyMUXAnswers(addr, marker) {
			t.Cleanup(stop)
			return addr
		}
		stop()
		t.Logf("TinyMUX on port %d did not answer (taken?); trying another", port)
	}
	t.Fatal("TinyMUX did not start on any of 5 ports; see its log in the game directory")
	return ""
}

// tinyMUXAnswers polls addr until the TinyMUX there shows the welcome
// screen with marker: false if another program answers or none does.
func tinyMUXAnswers(addr, marker string) bool {
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond) // polling for the listener, with a deadline
	defer tick.Stop()
	for ; time.Now().Before(deadline); <-tick.C {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		var seen bytes.Buffer
		buf := make([]byte, 4096)
		for !strings.Contains(seen.String(), marker) {
			n, err := c.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				break
			}
		}
		c.Close()
		return strings.Contains(seen.String(), marker)
	}
	return false
}

// browserTestTerminalTinyMUX: a real MUD that never offers ECHO. In
// terminal mode the wizard logs in, sees what is typed, and talks.
func browserTestTerminalTinyMUX(t *testing.T, browserCtx context.Context) {
	addr := startTinyMUX(t)
	p := browserSetup(t, browserCtx)
	p.openTerminal(addr)
	p.wait("the welcome screen", browserTermHas("Welcome to TinyMUX"))
	p.typeKeys("connect wizx" + kb.Backspace + "ard potrzebie")
	p.wait("what is typed, shown", browserTermHasLine("connect wizard potrzebie"))
	p.typeKeys("\r")
	p.wait("the wizard in the game", browserTermHas("MAIL:"))
	p.typeKeys("say hello\r")
	// The page says it decodes UTF-8 (charset=utf-8), the gateway agrees
	// to TinyMUX's CHARSET UTF-8, and TinyMUX quotes typographically.
	p.wait("the answer to say, in UTF-8", browserTermHasLine(`You say, “hello”`))
	if !browserEval[bool](p, browserTermHasLine("say hello")) {
		t.Error("the typed command is not shown")
	}
	p.typeKeys("think 6 times 7 is [mul(6,7)]\r")
	p.wait("the answer to think", browserTermHasLine("6 times 7 is 42"))
	p.screenshot("terminal-tinymux.png")
	p.typeKeys("QUIT\r")
	p.wait("the end", `document.body.dataset.state === 'idle'`)
}

// browserTestLineTinyMUX: the same game in line mode: the console shows
// what is typed and the game's answers.
func browserTestLineTinyMUX(t *testing.T, browserCtx context.Context) {
	addr := startTinyMUX(t)
	host, port, _ := net.SplitHostPort(addr)
	p := browserSetup(t, browserCtx)
	p.openHash(url.Values{"mode": {"line"}, "host": {host}, "port": {port}}.Encode()) // connects
	has := func(text string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('#console .line.out')].some(l => l.textContent.includes(%s))`, browserJS(text))
	}
	p.wait("the welcome screen", has("Welcome to TinyMUX"))
	p.sendLine("connect wizard potrzebie")
	p.wait("the wizard in the game", has("MAIL:"))
	p.sendLine("say hello")
	p.wait("the answer to say, in UTF-8", browserHasLine("out", `You say, “hello”`))
	if !browserEval[bool](p, browserHasLine("in", "say hello")) {
		t.Error("the typed command is not shown in the console")
	}
	p.screenshot("line-tinymux.png")
}
