//go:build linux

// Linux only: the Prometheus process is tied to the test with Pdeathsig.

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPrometheus runs the program with -metrics-listen, points a real
// Prometheus server at it, opens and closes sessions, and asks Prometheus,
// over its HTTP API, for the counts the test caused.
func TestPrometheus(t *testing.T) {
	bin := findProgram(t, "prometheus", "prometheus")
	url, out, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0"}, testWriter{t})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	var metricsAddr string
	for _, line := range out {
		if m := regexp.MustCompile(`metrics at http://(\S+)/metrics`).FindStringSubmatch(line); m != nil {
			metricsAddr = m[1]
		}
	}
	if metricsAddr == "" {
		t.Fatalf("run did not print the metrics address: %q", out)
	}
	prom := startPrometheus(t, bin, metricsAddr)

	// The echo server's address is in the page.
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`id="host"[^>]*value="([^"]+)"[\s\S]*?id="port"[^>]*value="(\d+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no echo server address in the page")
	}
	echo := string(m[1]) + ":" + string(m[2])
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")

	// Two v1 sessions and a v2 one.
	var open []*wsClient
	for _, hdr := range []http.Header{nil, nil, {"Sec-WebSocket-Protocol": {subprotocolV2}}} {
		ws, _ := dialWSAt(t, addr, nil, "/ws", hdr)
		ws.sendText(echo)
		ws.expectText("SUCC")
		open = append(open, ws)
	}
	prom.waitFor(t, `sum by (protocol) (wstelnet_sessions_open)`, map[string]string{"v1": "2", "v2": "1", "websockify": "0"})

	// One ends.
	open[0].sendClose()
	for op, _ := open[0].next(); op != opClose; op, _ = open[0].next() {
	}
	prom.waitFor(t, `sum by (protocol) (wstelnet_sessions_open)`, map[string]string{"v1": "1", "v2": "1", "websockify": "0"})
	prom.waitFor(t, `sum(wstelnet_sessions_started_total)`, map[string]string{"": "3"})
	prom.waitFor(t, `sum by (reason) (wstelnet_sessions_ended_total{protocol="v1"} > 0)`, map[string]string{"client_closed": "1"})
	prom.waitFor(t, `wstelnet_ready`, map[string]string{"": "1"})
}

// promServer is a Prometheus server run by a test.
type promServer struct{ api string }

// startPrometheus runs Prometheus scraping target every second, with its
// web server on 127.0.0.1:0: it binds a free port itself and logs which
// ("Listening on" address=...), so no port is picked for it. It is killed
// when the test ends, or when the test process dies.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: wstelnet
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cmd.Process.Kill()
		wg.Wait() // the log reader, which ends with the process's stderr
		cmd.Wait()
	})
	listening := make(chan string, 1)
	var mu sync.Mutex
	var log []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			log = append(log, line)
			mu.Unlock()
			if m := regexp.MustCompile(`msg="Listening on" address=(\S+)`).FindStringSubmatch(line); m != nil {
				listening <- m[1]
			}
		}
		close(listening)
	}()
	var api string
	select {
	case a, ok := <-listening:
		if !ok {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("prometheus exited before listening:\n%s", strings.Join(log, "\n"))
		}
		api = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("prometheus did not say where it listens within 30s")
	}
	p := &promServer{api: api}
	waitFor(t, "prometheus to be ready", func() bool {
		resp, err := http.Get(api + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// query asks Prometheus for an instant vector and returns each series'
// value by the value of its one label ("" for a series without labels).
func (p *promServer) query(q string) (map[string]string, error) {
	resp, err := http.Get(p.api + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	out := map[string]string{}
	for _, s := range r.Data.Result {
		key := ""
		for k, v := range s.Metric {
			if k != "__name__" && k != "job" && k != "instance" {
				key = v
			}
		}
		out[key], _ = s.Value[1].(string)
	}
	return out, nil
}

// waitFor polls a query until Prometheus answers want, for 30 s: the
// scrapes come every second.
func (p *promServer) waitFor(t *testing.T, q string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var got map[string]string
	var err error
	for time.Now().Before(deadline) {
		if got, err = p.query(q); err == nil && fmt.Sprint(got) == fmt.Sprint(want) {
			t.Logf("prometheus: %s = %v", q, got)
			return
		}
		<-tick.C
	}
	t.Fatalf("prometheus: %s = %v (%v), want %v", q, got, err, want)
}
