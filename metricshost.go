package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// The metrics listener has no authentication, so a web page must not be
// able to read it through the visitor's browser (DNS rebinding: a name
// of the attacker's that resolves to the listener's address). A browser
// sends the name it resolved in Host; an IP address in Host cannot have
// been rebound. So the listener answers Host values that are IP
// addresses, localhost, or names listed with -metrics-hosts (the name
// Prometheus scrapes it by), and refuses the rest with 403.

// checkMetricsHost wraps the metrics handler with the Host check.
func checkMetricsHost(h http.Handler, names []string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !metricsHostAllowed(r.Host, names) {
			log.Warn("metrics request refused: Host is not an IP address, localhost or a -metrics-hosts name", "host", r.Host, "client", remoteIP(r.RemoteAddr))
			http.Error(w, fmt.Sprintf("403 Forbidden: the metrics answer to Host names given with -metrics-hosts, IP addresses and localhost, not %q.", r.Host), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsHostAllowed reports whether a Host header may reach the metrics.
func metricsHostAllowed(hostport string, names []string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return isLoopbackHost(host) || slices.Contains(names, host)
}

var hostNameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// parseHostNames parses -metrics-hosts: comma-separated host names.
func parseHostNames(flagName, list string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n == "" {
			continue
		}
		if !hostNameRE.MatchString(n) {
			return nil, usagef("%s %q: want host names such as prometheus-target.example.org, without a port", flagName, n)
		}
		out = append(out, n)
	}
	return out, nil
}
