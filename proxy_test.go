package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"testing"
)

// Tests of running behind a reverse proxy: -base-path and -trust-proxy.

func TestBasePath(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{BasePath: "/telnet/"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{
		"/telnet/": 200, "/telnet/index.html": 200, "/telnet/wstelnet.js": 200, "/telnet/healthz": 200, "/telnet/readyz": 200,
		"/telnet": 301, "/": 404, "/healthz": 404, "/wstelnet.js": 404, "/telnet/ws": 426,
	} {
		resp, err := client.Get(tg.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, want)
		}
	}
	ws, resp := tg.dialWS(t, "/telnet/ws", http.Header{"Origin": {tg.origin()}})
	if ws == nil {
		t.Fatalf("WebSocket under the base path: %s", resp.Status)
	}
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
}

func TestTrustProxy(t *testing.T) {
	echo := startTestEcho(t)
	port := func(tg *testGateway) int { return tg.srv.Listener.Addr().(*net.TCPAddr).Port }
	trusting := newTestGateway(t, gatewayOptions{TrustProxy: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	wary := newTestGateway(t, gatewayOptions{})
	for _, tc := range []struct {
		name string
		tg   *testGateway
		hdr  http.Header
		ok   bool
	}{
		{"public name via trusted proxy", trusting, http.Header{"Host": {"telnet.example.org"}, "Origin": {"https://telnet.example.org"}, "X-Forwarded-Proto": {"https"}}, true},
		{"forwarded host with a port", trusting, http.Header{"Host": {"telnet.example.org"}, "X-Forwarded-Host": {"telnet.example.org:8443"}, "Origin": {"https://telnet.example.org:8443"}, "X-Forwarded-Proto": {"https"}}, true},
		{"forwarded host ignored without trust", wary, http.Header{"X-Forwarded-Host": {"telnet.example.org"}, "Origin": {"http://telnet.example.org"}}, false},
		{"forwarded proto must match the origin", trusting, http.Header{"Host": {"telnet.example.org"}, "Origin": {"https://telnet.example.org"}}, false},
		{"public name without trust", wary, http.Header{"Host": {"telnet.example.org"}, "Origin": {"https://telnet.example.org"}, "X-Forwarded-Proto": {"https"}}, false},
		{"forwarded proto ignored without trust", wary, http.Header{"Origin": {fmt.Sprintf("https://127.0.0.1:%d", port(wary))}, "X-Forwarded-Proto": {"https"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp := tc.tg.dialWS(t, "/ws", tc.hdr)
			if (ws != nil) != tc.ok {
				t.Fatalf("got %s, want ok=%v", resp.Status, tc.ok)
			}
			if ws != nil {
				ws.sendText(echo.Addr())
				ws.expectText("SUCC")
			}
		})
	}
	// The client address used for limits is the forwarded one only when trusted.
	req := &http.Request{RemoteAddr: "127.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {"198.51.100.7, 127.0.0.1"}}}
	if c := trusting.gw.identify(req); c.addr != "198.51.100.7" || !c.viaProxy {
		t.Errorf("trusted: %+v", c)
	}
	if c := wary.gw.identify(req); c.addr != "127.0.0.1" || c.viaProxy {
		t.Errorf("not trusted: %+v", c)
	}
	req.Header.Set("X-Forwarded-For", "garbage, 198.51.100.8")
	if c := trusting.gw.identify(req); c.addr != "198.51.100.8" {
		t.Errorf("rightmost untrusted address: %+v", c)
	}
}

// TestRouteCookie: the page sets the routing cookie a load balancer hashes
// (deploy/nginx.conf), once per browser, under the base path, out of
// scripts' and other sites' reach, and Secure when the browser used https.
func TestRouteCookie(t *testing.T) {
	tg := newTestGateway(t, gatewayOptions{BasePath: "/telnet/", TrustProxy: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	get := func(path string, hdr http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", tg.srv.URL+path, nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get("/telnet/", nil)
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != "wstelnet_route" {
		t.Fatalf("the page set cookies %v, want wstelnet_route", resp.Header["Set-Cookie"])
	}
	c := cs[0]
	if len(c.Value) < 16 || c.Path != "/telnet/" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure {
		t.Errorf("cookie %q: want a random value, Path=/telnet/, HttpOnly, SameSite=Strict, not Secure over http", resp.Header.Get("Set-Cookie"))
	}
	if other := get("/telnet/", nil).Cookies(); len(other) != 1 || other[0].Value == c.Value {
		t.Errorf("a second browser got %v, want a cookie of its own", other)
	}
	if again := get("/telnet/", http.Header{"Cookie": {"wstelnet_route=" + c.Value}}); len(again.Cookies()) != 0 {
		t.Errorf("a browser with the cookie got %v, want none: the route must not change", again.Header["Set-Cookie"])
	}
	if files := get("/telnet/wstelnet.js", nil); len(files.Cookies()) != 0 {
		t.Errorf("a script set %v: only the page sets the cookie", files.Header["Set-Cookie"])
	}
	if tls := get("/telnet/", http.Header{"X-Forwarded-Proto": {"https"}}).Cookies(); len(tls) != 1 || !tls[0].Secure {
		t.Errorf("behind a TLS proxy the cookie is %v, want Secure", tls)
	}
}
