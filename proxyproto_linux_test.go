//go:build linux

// Linux only: nginx is tied to the test with Pdeathsig, and the browser's
// side dials from 127.0.0.2, which needs Linux's 127.0.0.0/8 loopback.

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"wstelnet/internal/policy"
)

// TestProxyProtocolNginx: a real implementation of the PROXY protocol,
// nginx with "listen ... proxy_protocol", logs the visitor's address and
// port ($proxy_protocol_addr, $proxy_protocol_port) from the header the
// gateway writes: v1 for a -proxy-protocol rule, v2 for a token file's
// proxy-protocol=2, and the address a trusted proxy forwarded. A target
// that no rule names gets the browser's bytes and nothing else.
func TestProxyProtocolNginx(t *testing.T) {
	bin := nginxFind(t)
	nginxAddr, visitors := proxyProtocolNginx(t, bin)
	plain, rec := browserRecorder(t, "")

	rules, err := policy.ParseRules("-proxy-protocol", nginxAddr)
	if err != nil {
		t.Fatal(err)
	}
	tg := newTestGateway(t, gatewayOptions{
		ProxyProtocol: rules,
		Targets:       staticTargets(t, "v2: "+nginxAddr+" proxy-protocol=2 # nginx, PROXY v2\nplain: "+plain+"\n"),
		FreeTargets:   true,
		TrustProxy:    []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")},
	})
	gwAddr := tg.srv.Listener.Addr().String()

	// open opens a v1 session from the local address from, with extra headers.
	open := func(from, target string, hdr http.Header) (*wsClient, int) {
		t.Helper()
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", gwAddr)
		if err != nil {
			t.Fatal(err)
		}
		ws, resp := handshakeWS(t, c, gwAddr, "/ws", hdr)
		if ws == nil {
			t.Fatal(resp.Status)
		}
		ws.sendText(target)
		ws.expectText("SUCC")
		return ws, c.LocalAddr().(*net.TCPAddr).Port
	}
	// get asks nginx for path through a session and reads the answer.
	get := func(ws *wsClient, path string) {
		t.Helper()
		ws.sendText("GET " + path + " HTTP/1.0")
		ws.sendText("")
		lines, code := ws.readUntilClose()
		if code != 1000 || len(lines) == 0 || !strings.HasPrefix(lines[0], "HTTP/1.1 200") {
			t.Fatalf("GET %s through the gateway: %q, close %d", path, lines, code)
		}
	}

	ws, port := open("127.0.0.2", nginxAddr, nil)
	get(ws, "/v1-by-rule")
	visitors.expect(t, "/v1-by-rule", "127.0.0.2", strconv.Itoa(port))

	ws, port = open("127.0.0.2", "v2", nil)
	get(ws, "/v2-by-name")
	visitors.expect(t, "/v2-by-name", "127.0.0.2", strconv.Itoa(port))

	// Through a trusted proxy: the browser's address and port, as it forwarded them.
	ws, _ = open("127.0.0.3", nginxAddr, http.Header{"X-Forwarded-For": {"203.0.113.9:4711"}})
	get(ws, "/forwarded")
	visitors.expect(t, "/forwarded", "203.0.113.9", "4711")
	ws, _ = open("127.0.0.3", nginxAddr, http.Header{"X-Forwarded-For": {"2001:db8::9"}})
	get(ws, "/forwarded-v6")
	visitors.expect(t, "/forwarded-v6", "2001:db8::9", "") // port 0, unknown, which nginx logs as nothing

	// A target that does not expect the header gets exactly what was sent.
	ws, _ = open("127.0.0.2", "plain", nil)
	ws.sendText("first line")
	rec.expect("a target without PROXY protocol", []byte("first line\r\n"))
}

// nginxVisitors is nginx's access log: "$proxy_protocol_addr $proxy_protocol_port $request_uri".
type nginxVisitors string

// expect waits for the log line of path and checks the address and port in it.
func (v nginxVisitors) expect(t *testing.T, path, addr, port string) {
	t.Helper()
	var line string
	re := regexp.MustCompile(`(?m)^(\S*) (\S*) ` + regexp.QuoteMeta(path) + `$`)
	ok := pollUntil(10*time.Second, func() bool {
		b, _ := os.ReadFile(string(v))
		if m := re.FindSubmatch(b); m != nil {
			line = fmt.Sprintf("%s %s", m[1], m[2])
			return true
		}
		return false
	})
	if !ok {
		b, _ := os.ReadFile(string(v))
		t.Fatalf("nginx logged no request for %s; its log:\n%s", path, b)
	}
	if want := addr + " " + port; line != want {
		t.Errorf("nginx saw the visitor of %s as %q, want %q", path, line, want)
	}
}

// proxyProtocolNginx runs nginx with an HTTP server that expects the PROXY
// protocol on a socket the test hands over (as nginxStart explains), and
// returns its address and its access log.
func proxyProtocolNginx(t *testing.T, bin string) (string, nginxVisitors) {
	t.Helper()
	dir := t.TempDir()
	addr, f := nginxListen(t)
	conf := `# Written by proxyproto_linux_test.go.
daemon off;
master_process on;
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    log_format visitor '$proxy_protocol_addr $proxy_protocol_port $request_uri';
    access_log visitors.log visitor;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    server {
        listen ` + addr + ` proxy_protocol;
        location / { return 200 "ok\n"; }
    }
}
`
	exited, _ := nginxLaunch(t, bin, dir, map[string]string{"nginx.conf": conf}, f)

	// Ready when it answers a request with a PROXY header of its own.
	ready := pollUntil(10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("nginx exited; its configuration:\n%s", conf)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		io.WriteString(c, "PROXY UNKNOWN\r\nGET /ready HTTP/1.0\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && bytes.Equal(body, []byte("ok\n"))
	})
	if !ready {
		t.Fatal("nginx does not answer")
	}
	return addr, nginxVisitors(filepath.Join(dir, "visitors.log"))
}
