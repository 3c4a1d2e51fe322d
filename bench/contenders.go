//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// kind is how a contender carries data, which decides how the client
// frames what it sends and counts what it receives.
type kind int

const (
	kindRaw        kind = iota // plain TCP: straight to the target, or through the plain TCP relay
	kindLines                  // wstelnet v1 and the naive relay: a text frame per line, host:port first
	kindStream                 // wstelnet v2: binary frames, host:port first
	kindWebsockify             // binary frames, fixed target, no host:port
)

// contender is one way of reaching the target.
type contender struct {
	key   string // short name for maps and file names
	name  string // name in the tables
	kind  kind
	path  string // WebSocket path and query
	proto string // subprotocol to offer, if any
	srv   *server
}

// server is a relay process the harness started: the gateway, websockify,
// the naive relay or the plain TCP relay. stop ends it and everything it
// forked.
type server struct {
	name    string
	addr    string // host:port of its WebSocket listener
	cmd     *exec.Cmd
	logPath string        // its stderr (and websockify's stdout)
	drained chan struct{} // closed when its stdout pipe reaches EOF; nil if none
	banner  []string      // what it printed before its URL
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// urlLine matches the line the gateway (and the relays written here)
// print when ready.
var urlLine = regexp.MustCompile(`open https?://([0-9.:\[\]]+)/ in your browser`)

// gatewayArgs lift every limit that would otherwise end or refuse the
// benchmark's sessions: thousands from one address, idle for as long as
// the memory test takes, with no pings to disturb the idle RSS.
var gatewayArgs = []string{"-listen", "127.0.0.1:0", "-max-sessions", "0", "-max-sessions-per-client", "0", "-idle-timeout", "0", "-ping-interval", "0"}

// startGateway runs the gateway binary and returns once it has printed its
// URL, with the time that took (the start-up time).
func startGateway(bin, logDir string) (*server, time.Duration, error) {
	return startPrinting("wstelnet", bin, gatewayArgs, logDir)
}

// startSelf runs this program again with args (naiveRelayCommand or
// tcpRelayCommand), so that the relays written here are measured as
// processes of their own, like the gateway and websockify.
func startSelf(name, logDir string, args ...string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the harness binary to run the %s: %w", name, err)
	}
	s, _, err := startPrinting(name, exe, args, logDir)
	return s, err
}

// startPrinting starts a server that prints its URL on stdout when ready.
func startPrinting(name, bin string, args []string, logDir string) (*server, time.Duration, error) {
	logf, err := os.CreateTemp(logDir, strings.ReplaceAll(name, " ", "-")+"-*.log")
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = pw, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if the harness dies
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, 0, fmt.Errorf("start %s: %w", name, err)
	}
	pw.Close()
	s := &server{name: name, cmd: cmd, logPath: logf.Name(), drained: make(chan struct{})}

	// Read stdout in a goroutine, so that a server that never prints its URL
	// times out instead of hanging the harness; the same goroutine then
	// drains stdout until the process exits, and stop waits for it.
	found := make(chan string, 1)
	go func() {
		defer close(s.drained)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
			s.banner = append(s.banner, sc.Text())
		}
		close(found)
		io.Copy(io.Discard, pr)
	}()
	select {
	case addr, ok := <-found:
		if ok {
			s.addr = addr
			return s, time.Since(start), nil
		}
		err = errors.New("it exited without printing its URL")
	case <-time.After(20 * time.Second):
		err = errors.New("it printed no URL within 20s")
	}
	s.stop()
	return nil, 0, fmt.Errorf("start %s: %w%s", name, err, s.logTail())
}

// startWebsockify runs websockify in inetd mode on a listener made here,
// so that no fixed port is needed: the listening socket is its stdin.
// websockify relays every connection to target; by default it forks a
// process per connection, as it is normally deployed.
func startWebsockify(bin, target, logDir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for websockify: %w", err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, fmt.Errorf("listener file for websockify: %w", err)
	}
	defer f.Close()
	logf, err := os.CreateTemp(logDir, "websockify-*.log")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--inetd", target)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start websockify: %w", err)
	}
	// The socket is already listening: connections queue until websockify
	// accepts them, so there is no readiness to wait for.
	return &server{name: "websockify", addr: ln.Addr().String(), cmd: cmd, logPath: logf.Name()}, nil
}

// stop ends the server with SIGTERM (SIGKILL after 5 s), waits for it, and
// kills whatever it forked that outlived it. Safe to call twice.
func (s *server) stop() error {
	if s == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return nil
	}
	descendants := processTree(s.pid())[1:]
	s.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		err = <-exited
	}
	for _, pid := range descendants {
		// Only a process that is still the server's (by its command line);
		// its pid cannot have been reused by anything else this quickly,
		// but a check costs nothing.
		if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmdline), filepath.Base(s.cmd.Path)) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if s.drained != nil {
		<-s.drained
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && !exit.Exited() {
		err = nil // ended by our signal, as asked
	}
	if err != nil {
		return fmt.Errorf("%s: %w%s", s.name, err, s.logTail())
	}
	return nil
}

// waitChildren waits until the server has no child processes (websockify's
// per-connection processes have exited and been reaped), so that their CPU
// time has reached the parent's counters. Reports whether they went.
func (s *server) waitChildren(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for len(children(s.pid())) > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n" + s.name + " log (" + s.logPath + ") ends:\n" + string(b)
}
