package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
		want string // in the error
	}{
		{[]string{}, true, ""},
		{[]string{"8000"}, true, ""},
		{[]string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0", "-origin", "https://a.example, http://b.example:8080", "-dial-timeout", "3s"}, true, ""},
		{[]string{"-bogus"}, false, "not defined"},
		{[]string{"abc"}, false, "not a port number"},
		{[]string{"0"}, false, "not a port number"},
		{[]string{"70000"}, false, "not a port number"},
		{[]string{"8000", "9000"}, false, "too many arguments"},
		{[]string{"-listen", "127.0.0.1:1", "8000"}, false, "not both"},
		{[]string{"-listen", "nonsense"}, false, "want host:port"},
		{[]string{"-listen", "127.0.0.1:http"}, false, "port must be a number"},
		{[]string{"-echo", "7000"}, false, "want host:port"},
		{[]string{"-dial-timeout", "soon"}, false, "invalid value"},
		{[]string{"-dial-timeout", "0s"}, false, "must be positive"},
		{[]string{"-origin", "app.example.com"}, false, "want an origin"},
		{[]string{"-origin", "https://app.example.com/path"}, false, "want an origin"},
		{[]string{"-origin", "ftp://app.example.com"}, false, "want an origin"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cfg, err := parseConfig(tc.args, io.Discard)
			switch {
			case tc.ok && err != nil:
				t.Fatal(err)
			case !tc.ok && !errors.As(err, new(usageError)):
				t.Fatalf("got %v, want a usage error", err)
			case !tc.ok && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if len(tc.args) == 1 && tc.args[0] == "8000" && cfg.listen != "127.0.0.1:8000" {
				t.Errorf("a bare port listens on %q", cfg.listen)
			}
		})
	}
	cfg, _ := parseConfig(nil, io.Discard)
	if cfg.listen != "127.0.0.1:8000" || cfg.dialTimeout != 10*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
}

// TestHelpListsEveryFlag checks -h against every flag the FlagSet defines:
// each is listed, with its default where it has one.
func TestHelpListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseConfig([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	// PrintDefaults writes "  -name ..." and then indented lines of usage.
	blocks := map[string]string{}
	for _, b := range regexp.MustCompile(`(?m)^  -`).Split(out.String(), -1)[1:] {
		name, _, _ := strings.Cut(b, " ")
		blocks[strings.TrimSpace(strings.SplitN(name, "\n", 2)[0])] = b
	}
	n := 0
	newFlagSet(&config{}, &rawFlags{}).VisitAll(func(f *flag.Flag) {
		n++
		b, ok := blocks[f.Name]
		switch {
		case !ok:
			t.Errorf("-h does not list -%s", f.Name)
		case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false" || f.DefValue == "0s":
			// PrintDefaults leaves out zero defaults; the usage says what 0 means.
		case !strings.Contains(b, "(default "+f.DefValue+")") && !strings.Contains(b, `(default "`+f.DefValue+`")`):
			t.Errorf("-h does not give the default of -%s (%s):\n%s", f.Name, f.DefValue, b)
		}
	})
	if n < 20 {
		t.Errorf("only %d flags defined; the test expects the whole FlagSet", n)
	}
}

// lineWriter hands each line written to it to the test, without blocking the writer.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		select {
		case w.lines <- l:
		default:
		}
	}
	return len(p), nil
}

// TestRun runs the whole program in-process: it prints the URL, serves the
// page prefilled with its echo server, and shuts down when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := lineWriter{make(chan string, 10)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0"}, stdout, testWriter{t})
	}()
	var url string
	select {
	case line := <-stdout.lines:
		url = regexp.MustCompile(`http://\S+/`).FindString(line)
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	}
	if url == "" {
		t.Fatal("run printed no URL")
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`id="port"[^>]*value="\d+"`).Match(body) && !regexp.MustCompile(`value="\d+"[^>]*id="port"`).Match(body) {
		t.Errorf("the page is not prefilled with the echo port")
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// buildWstelnet builds the binary into the test's temporary directory.
func buildWstelnet(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wstelnet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary builds wstelnet and checks what a person sees at the command
// line: exit codes, messages, and a clean exit on SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWstelnet(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "-dial-timeout"},
		{[]string{"-bogus"}, 2, "flag provided but not defined"},
		{[]string{"abc"}, 2, "not a port number"},
		{[]string{"-dial-timeout", "x"}, 2, "invalid value"},
		{[]string{"-allow", "10.0.0.0/33"}, 2, "-allow"},
		{[]string{"-listen", "0.0.0.0:0"}, 2, "-allow '*'"},
	} {
		cmd := exec.Command(bin, tc.args...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("wstelnet %v: exit %d, output %q; want exit %d and %q", tc.args, code, out, tc.code, tc.want)
		}
	}

	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "http://127.0.0.1:") {
		cmd.Process.Kill()
		t.Fatalf("first line %q, %v", line, err)
	}
	url := regexp.MustCompile(`http://\S+/`).FindString(line)
	resp, err := http.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	// SIGTERM with a live session: the browser is told the gateway is going
	// away, and the process exits 0.
	echo := startTestEcho(t)
	ws, _ := dialWSAt(t, strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"), nil, "/ws", nil)
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
	ws.next()
	cmd.Process.Signal(syscall.SIGTERM)
	if reason := ws.expectClose(1001); !strings.Contains(reason, "shutting down") {
		t.Errorf("close reason %q", reason)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
}

// TestLogs: one JSON line when a session starts and one when it ends, with
// what an operator needs, and never the data.
func TestLogs(t *testing.T) {
	var logs lockedBuffer
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0", "-log-format", "json"}, &logs)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	var echoAddr string
	for _, l := range logs.lines() {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "echo server listening" {
			echoAddr, _ = m["addr"].(string)
		}
	}
	ws, _ := dialWSAt(t, addr, nil, "/ws", nil)
	ws.sendText(echoAddr)
	ws.expectText("SUCC")
	ws.next()
	ws.sendText("my password is hunter2")
	ws.next()
	ws.sendClose()
	ws.readUntilClose()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var ended map[string]any
	for _, l := range logs.lines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if strings.Contains(l, "hunter2") {
			t.Errorf("the log holds session data: %q", l)
		}
		if m["msg"] == "session ended" {
			ended = m
		}
	}
	if ended == nil {
		t.Fatalf("no 'session ended' line in %q", logs.lines())
	}
	for _, k := range []string{"session", "client", "target", "bytes_up", "bytes_down", "duration", "reason"} {
		if _, ok := ended[k]; !ok {
			t.Errorf("'session ended' has no %q: %v", k, ended)
		}
	}
	if ended["reason"] != "client closed" || ended["bytes_up"].(float64) != float64(len("my password is hunter2\r\n")) {
		t.Errorf("session ended: %v", ended)
	}
}

// TestStartupRefusals: configurations that would be unsafe or broken stop
// the program before it listens, with a message saying what to do.
func TestStartupRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0"}, "-allow '*'"},
		{[]string{"-listen", ":0"}, "-allow"},
		{[]string{"-trust-proxy", "127.0.0.1"}, "-allow"},
		{[]string{"-allow", "10.0.0.0/33"}, "-allow"},
		{[]string{"-deny", "*:0"}, "-deny"},
		{[]string{"-htpasswd", "/nonexistent/htpasswd"}, "-htpasswd"},
		{[]string{"-tls-cert", "/nonexistent/cert.pem", "-tls-key", "/nonexistent/key.pem"}, "-tls-cert"},
		{[]string{"-tls-cert", "x.pem"}, "go together"},
		{[]string{"-base-path", "telnet"}, "-base-path"},
		{[]string{"-trust-proxy", "nginx"}, "-trust-proxy"},
		{[]string{"-log-format", "xml"}, "-log-format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error mentioning %q", err, tc.want)
			}
		})
	}
}
