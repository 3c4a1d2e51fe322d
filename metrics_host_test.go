package main

import (
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"wstelnet/internal/netns"
)

// TestMetricsHost: the metrics listener refuses a Host that a rebinding
// page would send (a name not given with -metrics-hosts) and answers IP
// addresses, localhost and the names given.
func TestMetricsHost(t *testing.T) {
	var logs lockedBuffer
	_, out, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0", "-metrics-hosts", "prom-target.example.org"}, &logs)
	defer stop()
	m := regexp.MustCompile(`http://(\S+)/metrics`).FindStringSubmatch(strings.Join(out, "\n"))
	if m == nil {
		t.Fatalf("no metrics address printed: %q", out)
	}
	for _, tc := range []struct {
		host string
		want int
	}{
		{"rebound.attacker.example:9100", 403},
		{"rebound.attacker.example", 403},
		{"prom-target.example.org:9100", 200},
		{"PROM-TARGET.example.org.", 200},
		{m[1], 200},
		{"localhost:9100", 200},
		{"[::1]:9100", 200},
		{"192.0.2.7:9100", 200},
	} {
		req, _ := http.NewRequest("GET", "http://"+m[1]+"/metrics", nil)
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %q: %s, want %d", tc.host, resp.Status, tc.want)
		}
	}
	if strings.Contains(logs.String(), "reachable beyond this machine") {
		t.Error("a loopback metrics listener is warned about")
	}
}

// TestMetricsListenWarning: a metrics listener on every interface is
// warned about at start. It listens on every interface, so it runs in a
// network namespace with only loopback.
func TestMetricsListenWarning(t *testing.T) {
	if netns.LoopbackOnly(t) {
		return
	}
	var logs lockedBuffer
	_, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-metrics-listen", "0.0.0.0:0"}, &logs)
	stop()
	if !strings.Contains(logs.String(), "-metrics-listen is reachable beyond this machine") {
		t.Errorf("no warning for -metrics-listen 0.0.0.0:0; log:\n%s", logs.String())
	}
}

// FuzzMetricsHost: the Host check never panics, and lets in only IP
// addresses, loopback names and the names listed.
func FuzzMetricsHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1:9100", "[::1]:9100", "localhost", "a.localhost:1", "prom-target.example.org", "evil.example:80", "[", ":", "1.2.3.4.5", ""} {
		f.Add(s)
	}
	names := []string{"prom-target.example.org"}
	f.Fuzz(func(t *testing.T, host string) {
		if !metricsHostAllowed(host, names) {
			return
		}
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			h = host
		}
		h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
		if _, err := netip.ParseAddr(h); err != nil && !isLoopbackHost(h) && h != names[0] {
			t.Fatalf("Host %q let in", host)
		}
	})
}
