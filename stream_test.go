package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"wstelnet/internal/session"
)

// Tests of protocol v2: subprotocol wstelnet.v2, binary data frames, JSON
// control messages, telnet=auto|on|off.

const (
	tIAC, tDONT, tDO, tWONT, tWILL, tSB, tSE, tBRK = 255, 254, 253, 252, 251, 250, 240, 243
	oEcho, oSGA, oTTYPE, oNAWS, oLFLOW             = 1, 3, 24, 31, 33
)

// connectV2 opens a v2 session with the query string q to target.
func (tg *testGateway) connectV2(t testing.TB, q, target string) *wsClient {
	t.Helper()
	ws, resp := tg.dialWS(t, "/ws"+q, http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}})
	if ws == nil {
		t.Fatalf("handshake refused: %s", resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != subprotocolV2 {
		t.Fatalf("subprotocol %q confirmed, want %q", got, subprotocolV2)
	}
	ws.sendText(target)
	ws.expectText("SUCC")
	return ws
}

// readStream reads frames until the stream holds want (binary data only;
// control messages are returned separately), or fails after 10 s.
func (ws *wsClient) readStream(want []byte) (data []byte, controls []session.Control) {
	ws.t.Helper()
	for !bytes.Contains(data, want) {
		op, p := ws.next()
		switch op {
		case opBinary:
			data = append(data, p...)
		case opText:
			controls = append(controls, ws.parseControl(p))
		default:
			ws.t.Fatalf("frame op %d while waiting for %q; have %q", op, want, data)
		}
	}
	return data, controls
}

func (ws *wsClient) parseControl(p []byte) session.Control {
	ws.t.Helper()
	var c session.Control
	if err := json.Unmarshal(p, &c); err != nil || c.Type == "" {
		ws.t.Fatalf("text frame %q is not a control message: %v", p, err)
	}
	return c
}

// expectControl reads frames until a control message of type typ.
func (ws *wsClient) expectControl(typ string) session.Control {
	ws.t.Helper()
	for {
		op, p := ws.next()
		if op == opText {
			if c := ws.parseControl(p); c.Type == typ {
				return c
			}
		} else if op != opBinary {
			ws.t.Fatalf("frame op %d while waiting for control %q", op, typ)
		}
	}
}

func (ws *wsClient) sendControl(c session.Control) {
	ws.t.Helper()
	b, _ := json.Marshal(c)
	ws.sendText(string(b))
}

// readN reads exactly n bytes from c within 10 s.
func readN(t testing.TB, c net.Conn, n int) []byte {
	buf := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Errorf("target read %d bytes: %v (got %q)", n, err, buf)
	}
	return buf
}

func TestV2Subprotocol(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	for _, tc := range []struct{ offer, want string }{
		{"wstelnet.v2", "wstelnet.v2"},
		{"chat, wstelnet.v2", "wstelnet.v2"},
		{"chat", ""},
	} {
		ws, resp := tg.dialWS(t, "/ws", http.Header{"Sec-WebSocket-Protocol": {tc.offer}})
		if ws == nil {
			t.Fatalf("offer %q refused: %s", tc.offer, resp.Status)
		}
		if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
			t.Errorf("offer %q: confirmed %q, want %q", tc.offer, got, tc.want)
		}
		ws.sendText(echo.Addr())
		ws.expectText("SUCC")
		op, p := ws.next()
		if wantOp := map[bool]byte{true: opBinary, false: opText}[tc.want != ""]; op != wantOp {
			t.Errorf("offer %q: greeting came as op %d %q", tc.offer, op, p)
		}
	}
}

// TestV2RawTransparency: with telnet=off every byte value goes through
// unchanged, both ways.
func TestV2RawTransparency(t *testing.T) {
	all := make([]byte, 0, 1024)
	for range 4 {
		for b := range 256 {
			all = append(all, byte(b))
		}
	}
	got := make(chan []byte, 1)
	addr := startTarget(t, func(c net.Conn) {
		b := readN(t, c, len(all))
		got <- b
		c.Write(b) // and back
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?telnet=off", addr)
	ws.writeFrame(opBinary, all)
	if b := <-got; !bytes.Equal(b, all) {
		t.Errorf("target got %q", b)
	}
	data, controls := ws.readStream(all[len(all)-256:])
	if !bytes.Equal(data, all) || len(controls) != 0 {
		t.Errorf("browser got %d bytes %q, controls %v", len(data), data, controls)
	}
	if c := ws.expectControl("closed"); c.Reason != "the target closed the connection" {
		t.Errorf("closed: %+v", c)
	}
	ws.expectClose(1000)
}

// TestV2StreamFraming: bytes arrive as read, line endings untouched, and
// the last bytes before the target closes are delivered.
func TestV2StreamFraming(t *testing.T) {
	const out = "line 1\r\nline 2\nno ending\rlone CR\x1b[1mbold\x1b[0m"
	addr := startTarget(t, func(c net.Conn) { c.Write([]byte(out)) })
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "", addr)
	var data []byte
	for {
		op, p := ws.next()
		if op == opText {
			if c := ws.parseControl(p); c.Type != "closed" {
				t.Fatalf("control %+v", c)
			}
			break
		}
		data = append(data, p...)
	}
	ws.expectClose(1000)
	if string(data) != out {
		t.Errorf("got %q, want %q", data, out)
	}
}

// TestV2Negotiation checks the gateway's telnet answers byte for byte, and
// the control messages both ways.
func TestV2Negotiation(t *testing.T) {
	type step struct {
		send []byte // from the target
		want []byte // the gateway's answer to the target
	}
	ttypeIS := append([]byte{tIAC, tSB, oTTYPE, 0}, "XTERM-256COLOR"...)
	ttypeIS = append(ttypeIS, tIAC, tSE)
	steps := []step{
		{[]byte{tIAC, tDO, oTTYPE, tIAC, tDO, oNAWS, tIAC, tWILL, oSGA, tIAC, tDO, oLFLOW},
			[]byte{tIAC, tWILL, oTTYPE, tIAC, tWILL, oNAWS, tIAC, tSB, oNAWS, 0, 100, 0, 30, tIAC, tSE, tIAC, tDO, oSGA, tIAC, tWONT, oLFLOW}},
		{[]byte{tIAC, tSB, oTTYPE, 1, tIAC, tSE}, ttypeIS},
		{append([]byte{tIAC, tWILL, oEcho}, "Password: "...), []byte{tIAC, tDO, oEcho}},
	}
	answers := make(chan []byte, len(steps))
	next := make(chan struct{})
	fromBrowser := make(chan []byte, 1)
	addr := startTarget(t, func(c net.Conn) {
		for _, s := range steps {
			c.Write(s.send)
			answers <- readN(t, c, len(s.want))
		}
		<-next
		// resize, break, then data with 0xFF and a lone CR
		fromBrowser <- readN(t, c, 9+2+6)
		c.Write([]byte{tIAC, tWONT, oEcho})
		answers <- readN(t, c, 3)
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?cols=100&rows=30", addr)
	for _, s := range steps {
		if got := <-answers; !bytes.Equal(got, s.want) {
			t.Errorf("after %v the target got %v, want %v", s.send, got, s.want)
		}
	}
	data, controls := ws.readStream([]byte("Password: "))
	if string(data) != "Password: " {
		t.Errorf("telnet commands reached the browser: %q", data)
	}
	if len(controls) != 1 || controls[0].Type != "echo" || controls[0].Remote == nil || !*controls[0].Remote {
		t.Errorf("controls %+v, want one echo remote=true", controls)
	}
	close(next)
	ws.sendControl(session.Control{Type: "resize", Cols: 120, Rows: 40})
	ws.sendControl(session.Control{Type: "break"})
	ws.writeFrame(opBinary, []byte("a\xffb\r"))
	want := []byte{tIAC, tSB, oNAWS, 0, 120, 0, 40, tIAC, tSE, tIAC, tBRK, 'a', 0xff, 0xff, 'b', '\r', 0}
	if got := <-fromBrowser; !bytes.Equal(got, want) {
		t.Errorf("target got %v, want %v", got, want)
	}
	if got := <-answers; !bytes.Equal(got, []byte{tIAC, tDONT, oEcho}) {
		t.Errorf("WONT ECHO answered with %v", got)
	}
	if c := ws.expectControl("echo"); c.Remote == nil || *c.Remote {
		t.Errorf("echo control %+v, want remote=false", c)
	}
}

// TestV2TelnetOn: the gateway opens the negotiation itself.
func TestV2TelnetOn(t *testing.T) {
	got := make(chan []byte, 1)
	addr := startTarget(t, func(c net.Conn) {
		got <- readN(t, c, 9)
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	tg.connectV2(t, "?telnet=on&cols=80&rows=24", addr)
	want := []byte{tIAC, tDO, oSGA, tIAC, tWILL, oTTYPE, tIAC, tWILL, oNAWS}
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("target got %v, want %v", b, want)
	}
}

// TestV2AutoPlainTarget: until a target speaks telnet, telnet=auto leaves
// the browser's bytes alone.
func TestV2AutoPlainTarget(t *testing.T) {
	got := make(chan []byte, 1)
	addr := startTarget(t, func(c net.Conn) {
		got <- readN(t, c, 3)
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?telnet=auto", addr)
	ws.writeFrame(opBinary, []byte("\xff\r\x00"))
	if b := <-got; !bytes.Equal(b, []byte("\xff\r\x00")) {
		t.Errorf("target got %v", b)
	}
}

func TestV2BadControlMessages(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "", echo.Addr())
	ws.readStream([]byte("quit to leave.\r\n"))
	for _, bad := range []string{`not json`, `{"type":"dance"}`, `{"type":"resize","cols":0,"rows":10}`, `{"type":"resize","cols":"wide"}`, `[]`} {
		ws.sendText(bad)
		if c := ws.expectControl("error"); c.Message == "" {
			t.Errorf("%s: error without a message", bad)
		}
	}
	// The session is unharmed.
	ws.writeFrame(opBinary, []byte("still fine\r\n"))
	ws.readStream([]byte("still fine\r\n"))
}

func TestV2BadOptions(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{})
	for q, words := range map[string]string{
		"?telnet=maybe":                          "telnet",
		"?cols=0":                                "cols",
		"?rows=70000":                            "rows",
		"?term=VT100%20X":                        "term",
		"?term=" + strings.Repeat("A,", 9) + "A": "at most 8",
	} {
		ws, _ := tg.dialWS(t, "/ws"+q, http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
		ws.sendText(echo.Addr())
		ws.expectFail(words)
	}
	if n := tg.dials.Load(); n != 0 {
		t.Errorf("%d dials with bad options", n)
	}
}

// TestV2RealTelnetd talks to GNU inetutils' telnetd: a full negotiation,
// then a shell that sees the window size the browser gave and its changes.
func TestV2RealTelnetd(t *testing.T) {
	addr := startTelnetd(t)
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?cols=77&rows=19", addr)
	var all []byte
	run := func(cmd, want string) {
		t.Helper()
		ws.writeFrame(opBinary, []byte(cmd+"\r"))
		data, _ := ws.readStream([]byte(want))
		all = append(all, data...)
	}
	run("stty size", "19 77")
	ws.sendControl(session.Control{Type: "resize", Cols: 90, Rows: 33})
	run("stty size", "33 90")
	run("echo $((6*7))", "42")
	run("echo $TERM", "xterm-256color")
	if bytes.IndexByte(all, 0xff) >= 0 {
		t.Errorf("telnet commands reached the browser: %q", all)
	}
	ws.writeFrame(opBinary, []byte("exit\r"))
	ws.expectControl("closed")
	ws.expectClose(1000)
}

// TestControlPing: the page's heartbeat, {"type":"ping"}, is answered
// with exactly {"type":"pong"} as a text frame, with and without resume,
// and does not reach the target.
func TestControlPing(t *testing.T) {
	for _, q := range []string{"?telnet=off", "?telnet=off&resume=1"} {
		t.Run(q, func(t *testing.T) {
			got := make(chan []byte, 1)
			target := startTarget(t, func(c net.Conn) {
				b, _ := io.ReadAll(c)
				got <- b
			})
			tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute})
			ws := tg.connectV2(t, q, target)
			if strings.Contains(q, "resume") {
				ws.expectControl("session")
			}
			ws.sendText(`{"type":"ping"}`)
			if op, p := ws.next(); op != opText || string(p) != `{"type":"pong"}` {
				t.Errorf("got op %d %q, want the text frame {\"type\":\"pong\"}", op, p)
			}
			ws.sendClose()
			if b := <-got; len(b) != 0 {
				t.Errorf("the target got %q, want nothing", b)
			}
		})
	}
}
