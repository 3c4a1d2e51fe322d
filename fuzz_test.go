package main

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"
)

// Fuzz tests for the untrusted inputs that are not parsed in their own
// file: the Origin and Host headers, X-Forwarded-For. (v2's query
// parameters are fuzzed in internal/session.)

// FuzzOrigin: whatever Origin and Host a request carries, the decision is
// made without a panic, and a browser is let in only from the gateway's own
// origin or a listed one.
func FuzzOrigin(f *testing.F) {
	for _, s := range [][2]string{{"http://127.0.0.1:8000", "127.0.0.1:8000"}, {"null", "localhost"}, {"http://evil.example", "127.0.0.1:8000"}, {"HTTP://[::1]:80", "[::1]"}, {"::::", ""}} {
		f.Add(s[0], s[1])
	}
	g := &Gateway{opts: gatewayOptions{Origins: []string{"https://app.example.com:443"}}}
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := &http.Request{Header: http.Header{"Origin": {origin}}, Host: host, RemoteAddr: "127.0.0.1:1"}
		r = withClient(r, g.identify(r))
		isLoopbackHost(host)
		if g.checkOrigin(r) != nil || origin == "" {
			return
		}
		u, err := url.Parse(origin)
		if err != nil {
			t.Fatalf("accepted unparsable origin %q", origin)
		}
		got := normalizeOrigin(u.Scheme, u.Host)
		if got != normalizeOrigin("http", host) && got != "https://app.example.com:443" {
			t.Fatalf("accepted origin %q for host %q", origin, host)
		}
	})
}

// FuzzForwardedFor: a trusted proxy's X-Forwarded-For yields an address
// (or the proxy's own) and never a panic.
func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "198.51.100.7, 127.0.0.1", "garbage, ::1", ",,,", "[::1]:80"} {
		f.Add(s)
	}
	g := &Gateway{opts: gatewayOptions{TrustProxy: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}
	f.Fuzz(func(t *testing.T, xff string) {
		r := &http.Request{Header: http.Header{"X-Forwarded-For": {xff}}, RemoteAddr: "127.0.0.1:5000"}
		c := g.identify(r)
		if _, err := netip.ParseAddr(c.addr); err != nil {
			t.Fatalf("X-Forwarded-For %q gave client address %q", xff, c.addr)
		}
	})
}
