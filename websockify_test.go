package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// pythonWebsockify returns the Python that has Debian's websockify
// module, or skips the test (fails it in CI).
func pythonWebsockify(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import websockify.websocket, websockify.token_plugins").Run(); err != nil {
		const hint = "python3 with websockify not found; install it with: apt-get install websockify"
		if os.Getenv("CI") != "" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	return py
}

// websockifyResult is what testdata/websockify_client.py prints.
type websockifyResult struct {
	Protocol        *string `json:"protocol"`
	Data            []byte  `json:"data"`
	ClosedByGateway bool    `json:"closed_by_gateway"`
	CloseCode       int     `json:"close_code"`
	CloseReason     string  `json:"close_reason"`
}

// runWebsockifyClient runs websockify's own client class against url.
func runWebsockifyClient(t *testing.T, py, url, origin, protocols, send, expect string) (websockifyResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "websockify_client.py"), url, origin, protocols, send, expect)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return websockifyResult{}, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	var r websockifyResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	return r, nil
}

// TestWebsockifyClient: websockify's own Python client class, as a client
// made for websockify uses it, talks to a named target through /websockify.
func TestWebsockifyClient(t *testing.T) {
	py := pythonWebsockify(t)
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{
		Targets: staticTargets(t, "echo: "+echo.Addr()+" # the echo server\n"),
		Origins: []string{"http://bbs.example.org:80"},
	})
	base := "ws://" + tg.srv.Listener.Addr().String()
	greeting := strings.TrimSuffix(echoGreeting, "\r\n")
	for _, tc := range []struct {
		name, path, origin, protocols string
		wantProtocol                  any // nil: no Sec-WebSocket-Protocol
	}{
		{"binary", "/websockify?token=echo", "", "binary", "binary"},
		{"binary among others", "/websockify?token=echo", "", "wstelnet.v2,binary", "binary"},
		{"no subprotocol", "/websockify?token=echo", "", "", nil},
		{"path parameter", "/websockify?path=websockify%3Ftoken%3Decho", "", "binary", "binary"},
		{"listed origin", "/websockify?token=echo", "http://bbs.example.org", "binary", "binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := runWebsockifyClient(t, py, base+tc.path, tc.origin, tc.protocols, "hello websockify\r\n", "hello websockify")
			if err != nil {
				t.Fatalf("%v: %s", err, err.(*exec.ExitError).Stderr)
			}
			var got any
			if r.Protocol != nil {
				got = *r.Protocol
			}
			if got != tc.wantProtocol {
				t.Errorf("subprotocol %v, want %v", got, tc.wantProtocol)
			}
			// Raw bytes both ways: the greeting with its CR LF, the echo.
			if want := echoGreeting + "hello websockify"; !strings.HasPrefix(string(r.Data), want) {
				t.Errorf("got %q, want %q first", r.Data, want)
			}
			if r.ClosedByGateway {
				t.Errorf("the gateway closed: %d %q", r.CloseCode, r.CloseReason)
			}
		})
	}

	t.Run("unknown token", func(t *testing.T) {
		r, err := runWebsockifyClient(t, py, base+"/websockify?token=nosuch", "", "binary", "", "never")
		if err != nil {
			t.Fatalf("%v: %s", err, err.(*exec.ExitError).Stderr)
		}
		if !r.ClosedByGateway || r.CloseCode != 1000 || !strings.Contains(r.CloseReason, `no target named "nosuch"`) || len(r.Data) != 0 {
			t.Errorf("got %+v, want a close saying the name is unknown, and no data", r)
		}
		_ = greeting
	})
	t.Run("other site's origin", func(t *testing.T) {
		_, err := runWebsockifyClient(t, py, base+"/websockify?token=echo", "http://evil.example", "binary", "", "never")
		if err == nil || !strings.Contains(string(err.(*exec.ExitError).Stderr), "403") {
			t.Errorf("got %v, want the handshake refused with 403", err)
		}
	})
}

// TestWebsockifyFrames: the endpoint's exact frames, with a raw client.
func TestWebsockifyFrames(t *testing.T) {
	echo := startTestEcho(t)
	closing := startTarget(t, func(c net.Conn) { c.Write([]byte("bye\xff\x00")) })
	tg := newTestGateway(t, gatewayOptions{Targets: staticTargets(t, "echo: "+echo.Addr()+"\nbye: "+closing+"\n")})
	dial := func(path, protocols string) (*wsClient, *http.Response) {
		h := http.Header{"Origin": {tg.origin()}}
		if protocols != "" {
			h.Set("Sec-WebSocket-Protocol", protocols)
		}
		ws, resp := tg.dialWS(t, path, h)
		if ws == nil {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return ws, resp
	}

	t.Run("binary", func(t *testing.T) {
		ws, resp := dial("/websockify?token=bye", "base64, binary")
		if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "binary" {
			t.Errorf("subprotocol %q, want binary", p)
		}
		// No SUCC: the target's bytes, as they are (no telnet: 255 stays), then 1000.
		if op, p := ws.next(); op != opBinary || string(p) != "bye\xff\x00" {
			t.Fatalf("got op %d %q", op, p)
		}
		ws.expectClose(1000)
	})
	t.Run("base64", func(t *testing.T) {
		ws, resp := dial("/websockify?token=echo", "base64")
		if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "base64" {
			t.Errorf("subprotocol %q, want base64", p)
		}
		var got []byte
		for !bytes.Contains(got, []byte(echoGreeting)) {
			op, p := ws.next()
			b, err := base64.StdEncoding.DecodeString(string(p))
			if op != opText || err != nil {
				t.Fatalf("got op %d %q (%v), want base64 text", op, p, err)
			}
			got = append(got, b...)
		}
		ws.sendText(base64.StdEncoding.EncodeToString([]byte("hi\r\n")))
		if op, p := ws.next(); op != opText || string(p) != base64.StdEncoding.EncodeToString([]byte("hi\r\n")) {
			t.Errorf("echo: op %d %q", op, p)
		}
		ws.sendText("not base64!")
		ws.expectClose(1003)
	})
	t.Run("no subprotocol", func(t *testing.T) {
		ws, resp := dial("/websockify?token=echo", "")
		if _, ok := resp.Header["Sec-Websocket-Protocol"]; ok {
			t.Error("a subprotocol was confirmed that the client did not offer")
		}
		if op, p := ws.next(); op != opBinary || !strings.HasPrefix(string(p), strings.TrimSuffix(echoGreeting, "\n")) {
			t.Fatalf("got op %d %q", op, p)
		}
		// A text frame's bytes go to the target too, as in websockify.
		ws.sendText("text\r\n")
		if op, p := ws.next(); op != opBinary || string(p) != "text\r\n" {
			t.Errorf("got op %d %q", op, p)
		}
		ws.sendClose()
		ws.expectClose(1000)
	})
	for _, tc := range []struct{ name, path, want string }{
		{"no token", "/websockify", "no target: connect to websockify?token=NAME"},
		{"unknown token", "/websockify?token=nosuch", `there is no target named "nosuch"`},
		{"host:port is no token", "/websockify?token=" + echo.Addr(), "not a target name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, _ := dial(tc.path, "binary")
			if reason := ws.expectClose(1000); !strings.Contains(reason, tc.want) {
				t.Errorf("close reason %q, want %q", reason, tc.want)
			}
		})
	}
	t.Run("without -targets", func(t *testing.T) {
		tg := newTestGateway(t, gatewayOptions{})
		ws, _ := tg.dialWS(t, "/websockify?token=echo", nil)
		if reason := ws.expectClose(1000); !strings.Contains(reason, "no named targets") {
			t.Errorf("close reason %q", reason)
		}
	})
}

// TestWebsockifyTokenFile: a token file written for websockify means the
// same to websockify's own TokenFile plugin and to wstelnet.
func TestWebsockifyTokenFile(t *testing.T) {
	py := pythonWebsockify(t)
	dir := t.TempDir()
	writeTokens(t, dir, "a.tokens", "# websockify's format\nmybbs: bbs.example.org:23\nmud:\tmud.example.org:4000\n\n  # indented comment\n  lab-1:   10.1.0.1:2001   \r\nlocal: 127.0.0.1:7000\nmybbs: bbs2.example.org:2323\n")
	writeTokens(t, dir, "b.tokens", "vnc-host: 192.168.1.20:5901\nx_y.z: h.example.org:1\n")
	for _, src := range []string{filepath.Join(dir, "a.tokens"), dir} {
		out, err := exec.Command(py, filepath.Join("testdata", "websockify_tokens.py"), src).Output()
		if err != nil {
			t.Fatalf("websockify's TokenFile on %s: %v", src, err)
		}
		var theirs map[string][2]string
		if err := json.Unmarshal(out, &theirs); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		set, _, err := readTargets(src)
		if err != nil {
			t.Fatal(err)
		}
		ours := map[string][2]string{}
		for _, tg := range set.All() {
			host, port, _ := net.SplitHostPort(tg.Addr)
			ours[tg.Name] = [2]string{host, port}
		}
		if !reflect.DeepEqual(ours, theirs) || len(ours) < 4 {
			t.Errorf("%s:\nwstelnet:   %v\nwebsockify: %v", src, ours, theirs)
		}
	}
}
