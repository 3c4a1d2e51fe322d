package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"wstelnet/internal/metrics"
	"wstelnet/internal/policy"
)

// metricValue is the value of the series name{labels} (pairs of name and
// value) in m, or -1 if there is none. A histogram gives its count.
func metricValue(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				if !hasLabel(s, labels[i], labels[i+1]) {
					continue series
				}
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue()
			case s.Gauge != nil:
				return s.Gauge.GetValue()
			case s.Histogram != nil:
				return float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return -1
}

func hasLabel(s *dto.Metric, name, value string) bool {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue() == value
		}
	}
	return false
}

// TestMetrics runs sessions that end in each way the gateway counts and
// reads the counts back; promtool checks the exposition.
func TestMetrics(t *testing.T) {
	m := metrics.New()
	deny, err := policy.ParseRules("-deny", "127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	dialer := &policy.Dialer{Policy: policy.New(nil, deny, nil)}
	tg := newTestGateway(t, gatewayOptions{Metrics: m, MaxPerClient: 3, Dial: dialer.DialContext})
	echo := startTestEcho(t)
	greeting := strings.TrimRight(echoGreeting, "\r\n")
	want := func(v float64, name string, labels ...string) {
		t.Helper()
		waitFor(t, name+" "+strings.Join(labels, "=")+" to be "+strconv.FormatFloat(v, 'g', -1, 64), func() bool { return metricValue(t, m, name, labels...) == v })
	}

	// Before anything: every series exists, at 0.
	for _, p := range []string{"v1", "v2", "websockify"} {
		want(0, "wstelnet_sessions_open", "protocol", p)
		for _, r := range []string{"target_closed", "target_lost", "client_closed", "client_lost", "idle", "too_big", "protocol_error", "shutdown", "resume_expired", "other"} {
			want(0, "wstelnet_sessions_ended_total", "protocol", p, "reason", r)
		}
	}
	want(1, "wstelnet_ready")

	// Two v1 sessions and a v2 one: open.
	a := tg.connect(t, echo.Addr())
	a.expectText(greeting)
	b := tg.connect(t, echo.Addr())
	b.expectText(greeting)
	c, _ := tg.dialWS(t, "/ws", http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
	c.sendText(echo.Addr())
	c.expectText("SUCC")
	want(2, "wstelnet_sessions_open", "protocol", "v1")
	want(1, "wstelnet_sessions_open", "protocol", "v2")
	want(3, "wstelnet_dial_duration_seconds", "result", "ok")

	// A fourth from the same address is over -max-sessions-per-client.
	tg.open(t, echo.Addr()).expectFailCode(1013, "busy")
	want(1, "wstelnet_refusals_total", "reason", "limit")

	// The browser closes one, the target another.
	b.sendClose()
	b.expectClose(1000)
	c.writeFrame(opBinary, []byte("quit\r\n"))
	for op, _ := c.next(); op != opClose; op, _ = c.next() {
	}
	c.writeFrame(opClose, []byte{0x03, 0xe8})
	want(1, "wstelnet_sessions_ended_total", "protocol", "v1", "reason", "client_closed")
	want(1, "wstelnet_sessions_ended_total", "protocol", "v2", "reason", "target_closed")
	want(1, "wstelnet_sessions_open", "protocol", "v1")
	want(0, "wstelnet_sessions_open", "protocol", "v2")
	want(2, "wstelnet_sessions_started_total", "protocol", "v1")
	want(1, "wstelnet_session_duration_seconds", "protocol", "v2")

	// Refusals and a failed dial.
	tg.open(t, "no port here").expectFail()
	want(1, "wstelnet_refusals_total", "reason", "malformed")
	tg.open(t, "127.0.0.3:23").expectFail("not allowed")
	want(1, "wstelnet_refusals_total", "reason", "target_rule")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	tg.open(t, dead).expectFail("refused")
	want(1, "wstelnet_dial_failures_total", "kind", "refused")
	want(1, "wstelnet_dial_duration_seconds", "result", "error")
	if ws, resp := tg.dialWS(t, "/ws", http.Header{"Origin": {"http://evil.example"}}); ws != nil || resp.StatusCode != 403 {
		t.Fatal("a foreign origin was not refused")
	}
	want(1, "wstelnet_refusals_total", "reason", "origin")
	// A browser that leaves before naming a target.
	gone, _ := tg.dialWS(t, "/ws", nil)
	gone.sendClose()
	gone.expectClose(1000)
	want(1, "wstelnet_sessions_abandoned_total")

	// Bytes: the greetings, the echoes and what was sent.
	if v := metricValue(t, m, "wstelnet_relayed_bytes_total", "direction", "to_client"); v < 3*float64(len(echoGreeting)) {
		t.Errorf("%v bytes to clients, want at least three greetings", v)
	}
	if v := metricValue(t, m, "wstelnet_relayed_bytes_total", "direction", "to_target"); v != float64(len("quit\r\n")) {
		t.Errorf("%v bytes to targets, want %d", v, len("quit\r\n"))
	}

	// The exposition, as Prometheus reads it, passes promtool's checks.
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	promtoolCheck(t, body)
	for _, name := range []string{"wstelnet_sessions_open", "go_goroutines", "process_resident_memory_bytes", "wstelnet_sessions_detached", "wstelnet_session_resumes_total"} {
		if !bytes.Contains(body, []byte("\n"+name)) {
			t.Errorf("the exposition has no %s", name)
		}
	}

	a.sendClose()
	a.expectClose(1000)
	want(0, "wstelnet_sessions_open", "protocol", "v1")
	tg.gw.Drain()
	want(0, "wstelnet_ready")
	http.DefaultClient.CloseIdleConnections()
}

// promtoolCheck runs `promtool check metrics` on an exposition: it fails
// on anything that breaks Prometheus's naming and format conventions.
func promtoolCheck(t *testing.T, exposition []byte) {
	t.Helper()
	bin := findProgram(t, "promtool", "prometheus")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// findProgram finds a program on PATH, or skips the test (fails under CI)
// saying which Debian package has it.
func findProgram(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		hint := name + " not found; install it with: apt-get install " + pkg
		if os.Getenv("CI") != "" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	return p
}
