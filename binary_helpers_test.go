package main

import (
	"bufio"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// gatewayProcess is the binary running in a process of its own, for what
// only a process shows: its limits, its memory.
type gatewayProcess struct {
	cmd     *exec.Cmd
	addr    string        // host:port of the page and /ws
	metrics string        // the metrics URL, with -metrics-listen
	logs    *lockedBuffer // its standard error
}

// startGatewayProcess starts bin with args (under sh -c with shell, e.g.
// "ulimit -n 1500 &&", when not empty) and reads what it prints before
// serving: the page's address and, with -metrics-listen, the metrics URL.
func startGatewayProcess(t *testing.T, bin, shell string, args ...string) *gatewayProcess {
	t.Helper()
	var cmd *exec.Cmd
	if shell != "" {
		cmd = exec.Command("sh", append([]string{"-c", shell + ` exec "$0" "$@"`, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	p := &gatewayProcess{cmd: cmd, logs: &lockedBuffer{}}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	url := regexp.MustCompile(`http://\S+`)
	for sc.Scan() {
		line := sc.Text()
		u := url.FindString(line)
		switch {
		case strings.Contains(line, "Prometheus metrics at"):
			p.metrics = u
		case strings.Contains(line, "open http://"):
			p.addr = strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/")
		}
		if p.addr != "" {
			break // the last line before serving
		}
	}
	if p.addr == "" {
		t.Fatalf("the gateway printed no address:\n%s", p.logs.String())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return p
}
