package main

import (
	"net"
	"sync"
	"testing"

	"wstelnet/internal/policy"
)

func TestNormalizeOrigin(t *testing.T) {
	for _, tc := range [][3]string{
		{"http", "example.org", "http://example.org:80"},
		{"HTTPS", "Example.org", "https://example.org:443"},
		{"http", "example.org:8080", "http://example.org:8080"},
		{"http", "[::1]:8000", "http://[::1]:8000"},
		{"http", "[::1]", "http://[::1]:80"},
	} {
		if got := normalizeOrigin(tc[0], tc[1]); got != tc[2] {
			t.Errorf("normalizeOrigin(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost:80": true, "localhost.": true, "a.localhost:1": true,
		"127.0.0.1": true, "127.255.0.1:8000": true, "[::1]:8000": true, "::1": true,
		"[::ffff:127.0.0.1]:80": true, "example.org": false, "localhost.example.org": false,
		"10.0.0.1": false, "0.0.0.0": false, "": false, "[::]:80": false, "notlocalhost": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestIsLoopbackAddr: a listening address is loopback for the same hosts as
// a Host header, except the names a browser keeps on loopback by itself but
// net.Listen would ask the system resolver about.
func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8000": true, "127.255.0.1:0": true, "[::1]:8000": true, "[::1%lo]:8000": true,
		"[::ffff:127.0.0.1]:80": true, "localhost:8000": true, "LocalHost:0": true,
		"0.0.0.0:8000": false, "[::]:8000": false, ":8000": false, "10.0.0.1:8000": false,
		"example.org:80": false, "localhost.example.org:80": false, "notlocalhost:80": false,
		// Loopback in a Host header, not here.
		"a.localhost:8000": false, "localhost.:8000": false,
		// A long s (U+017F) folds to s in strings.EqualFold, not in a host name.
		"localhoſt:8000": false,
		// Not host:port.
		"localhost": false, "127.0.0.1": false, "::1": false, "[::1]": false, "": false,
		// A host:port inside the brackets is not a host.
		"[localhost:1]:8000": false, "[127.0.0.1:1]:8000": false,
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestDeniedTarget: the policy refuses before any connection is attempted.
func TestDeniedTarget(t *testing.T) {
	var mu sync.Mutex
	accepted := 0
	addr := startTarget(t, func(net.Conn) { mu.Lock(); accepted++; mu.Unlock() })
	deny, err := policy.ParseRules("-deny", "127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	d := &policy.Dialer{Policy: policy.New(nil, deny, nil)}
	tg := newTestGateway(t, gatewayOptions{Dial: d.DialContext})
	_, port, _ := net.SplitHostPort(addr)
	tg.open(t, addr).expectFail("not allowed", "127.0.0.0/8")
	tg.open(t, "localhost:"+port).expectFail("not allowed")
	mu.Lock()
	defer mu.Unlock()
	if accepted != 0 {
		t.Errorf("the target got %d connections", accepted)
	}
}
