package main

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wstelnet/internal/metrics"
	"wstelnet/internal/session"
)

// Tests of the MUD options (README, "For MUD operators") against a fake
// game written here, for what a real one does not produce: start markers
// split across writes, corrupt and endless compressed streams, malformed
// JSON, floods of GMCP. mud_tintin_test.go has the real game.

const (
	oBinary, oEOR, oCharset, oMSDP, oCompress2, oGMCP, oNewEnviron = 0, 25, 42, 69, 86, 201, 39
	tEOR, tGA                                                      = 239, 249
)

// game is the fake game's side of one connection.
type game struct {
	t   testing.TB
	c   net.Conn
	got []byte // everything read from the gateway
	mu  sync.Mutex
}

func newGame(t testing.TB, c net.Conn) *game { return &game{t: goroutineTB{t}, c: c} }

// write writes the pieces one by one, so that a marker can be split
// across the gateway's reads.
func (g *game) write(pieces ...[]byte) {
	for _, p := range pieces {
		if _, err := g.c.Write(p); err != nil {
			g.t.Fatalf("game write: %v", err)
		}
	}
}

// await reads from the gateway until what it has read holds want.
func (g *game) await(want []byte) {
	buf := make([]byte, 4096)
	g.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !bytes.Contains(g.got, want) {
		n, err := g.c.Read(buf)
		g.got = append(g.got, buf[:n]...)
		if err != nil {
			g.t.Fatalf("game: waiting for %q, got %q: %v", want, g.got, err)
		}
	}
	g.c.SetReadDeadline(time.Time{})
}

// wire builds bytes from strings, byte slices and numbers (command and
// option bytes), so that a game's bytes read as the telnet they are.
func wire(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p...)
		case []byte:
			out = append(out, p...)
		case int:
			out = append(out, byte(p))
		default:
			panic(fmt.Sprintf("wire: %T", p))
		}
	}
	return out
}

func deflateTest(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mudText is n bytes of readable lines that compress well but not absurdly.
func mudText(n int) []byte {
	var s bytes.Buffer
	for i := 0; s.Len() < n; i++ {
		fmt.Fprintf(&s, "%06d The Temple of Midgaard. You are in the southern end of the temple hall.\r\n", i)
	}
	return s.Bytes()[:n]
}

// readData reads a v2 session until its data is n bytes, collecting the
// control messages.
func readData(ws *wsClient, n int) (data []byte, controls []session.Control) {
	ws.t.Helper()
	for len(data) < n {
		op, p := ws.next()
		switch op {
		case opBinary:
			data = append(data, p...)
		case opText:
			controls = append(controls, ws.parseControl(p))
		default:
			ws.t.Fatalf("op %d after %d of %d bytes", op, len(data), n)
		}
	}
	return data, controls
}

// TestMCCP2: a game that compresses; the start marker comes split
// across writes, the stream is long, plain text follows its end in the
// same write, and a second stream starts later. The browser gets every
// byte, inflated, in order; v1 gets the lines.
func TestMCCP2(t *testing.T) {
	long := mudText(300 << 10)
	z1 := deflateTest(t, long)
	z2 := deflateTest(t, []byte("second stream\r\n"))
	want := wire("before\r\n", long, "after\r\n", "second stream\r\n", "plain at last\r\n")
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tWILL, oCompress2))
		g.await(wire(tIAC, tDO, oCompress2))
		// The marker split at every byte, the stream in uneven pieces,
		// the first plain bytes in the stream's last write.
		g.write(wire("before\r\n", tIAC), wire(tSB), wire(oCompress2), wire(tIAC), wire(tSE, z1[:1]), z1[1:100])
		for rest := z1[100:]; len(rest) > 0; {
			k := min(len(rest), 7777)
			if k == len(rest) {
				g.write(wire(rest, "after\r\n", tIAC, tSB, oCompress2, tIAC, tSE, z2[:3]))
			} else {
				g.write(rest[:k])
			}
			rest = rest[k:]
		}
		g.write(wire(z2[3:], "plain at last\r\n"))
		io.Copy(io.Discard, c)
	})
	m := metrics.New()
	tg := newTestGateway(t, gatewayOptions{Metrics: m})
	ws := tg.connectV2(t, "?telnet=auto", target)
	got, _ := readData(ws, len(want))
	if !bytes.Equal(got, want) {
		t.Fatalf("inflated output differs from what the game compressed at byte %d of %d", firstDiff(got, want), len(want))
	}
	waitFor(t, "the metrics", func() bool {
		return metricValue(t, m, "wstelnet_mccp_bytes_total", "stage", "inflated") >= float64(len(long)+len("second stream\r\n"))
	})
	if c := metricValue(t, m, "wstelnet_mccp_bytes_total", "stage", "compressed"); c < float64(len(z1)+len(z2)-10) || c > float64(len(z1)+len(z2)+100) {
		t.Errorf("compressed bytes %v, sent %d", c, len(z1)+len(z2))
	}

	// v1: the same, as lines.
	ws1 := tg.connect(t, target)
	var lines []string
	for len(lines) < 3+strings.Count(string(long), "\n") {
		op, p := ws1.next()
		if op != opText {
			t.Fatalf("v1: op %d", op)
		}
		lines = append(lines, string(p))
	}
	if got := strings.Join(lines, "\r\n") + "\r\n"; got != string(want[:len(want)-len("plain at last\r\n")]) {
		t.Fatalf("v1 lines differ at %d", firstDiff([]byte(got), want))
	}
}

// TestMCCP2Refused: with -mccp=false, or the target's no-mccp, the
// gateway says DONT COMPRESS2, and a game that starts anyway is read as
// plain telnet (its marker is dropped as a refused option's).
func TestMCCP2Refused(t *testing.T) {
	answers := make(chan []byte, 2)
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tWILL, oCompress2, tIAC, tWILL, oEcho))
		g.await(wire(tIAC, tDO, oEcho))
		answers <- g.got
		g.write([]byte("plain\r\n"))
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{NoMCCP: true})
	ws := tg.connectV2(t, "", target)
	ws.readStream([]byte("plain\r\n"))
	if got := <-answers; !bytes.Contains(got, wire(tIAC, tDONT, oCompress2)) {
		t.Errorf("with -mccp=false the game got %q, want DONT COMPRESS2", got)
	}
}

// TestMCCP2Corrupt: a stream zlib refuses ends the session with words
// that say so, after the output before it.
func TestMCCP2Corrupt(t *testing.T) {
	z := deflateTest(t, mudText(10000))
	z[len(z)/2] ^= 0x5a
	z[len(z)/2+1] ^= 0xa5
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tWILL, oCompress2))
		g.await(wire(tIAC, tDO, oCompress2))
		g.write(wire("welcome\r\n", tIAC, tSB, oCompress2, tIAC, tSE, z))
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "", target)
	ws.readStream([]byte("welcome\r\n"))
	closed := ws.expectControl("closed")
	if !strings.Contains(closed.Reason, "compressed output (MCCP2) is corrupt") || !strings.Contains(closed.Reason, "no-mccp") {
		t.Errorf("closed: %q", closed.Reason)
	}
	if code := ws.expectClose(1000); !strings.Contains(code, "corrupt") {
		t.Errorf("close reason %q", code)
	}
	waitFor(t, "the log line", func() bool { return strings.Contains(tg.logs(), "target's compressed output corrupt") })
}

// TestMCCP2Bomb: 64 MiB of zeros, about 64 KiB compressed, to a
// resumable session that acknowledges nothing: the gateway inflates no
// more than its resume buffer and its memory does not grow with the
// ratio; acknowledged, every byte arrives.
func TestMCCP2Bomb(t *testing.T) {
	const total = 64 << 20
	var zbuf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&zbuf, zlib.BestCompression)
	zero := make([]byte, 1<<20)
	for range total >> 20 {
		w.Write(zero)
	}
	w.Close()
	bomb := zbuf.Bytes()
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tWILL, oCompress2))
		g.await(wire(tIAC, tDO, oCompress2))
		g.write(wire(tIAC, tSB, oCompress2, tIAC, tSE), bomb, []byte("end of the bomb\r\n"))
		io.Copy(io.Discard, c)
	})
	const buffer = 256 << 10
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, ResumeBuffer: buffer})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := tg.openResumableWith(t, "telnet=auto", target, nil)
	for len(c.got) < buffer {
		op, p := c.ws.next()
		if op == opBinary {
			c.got = append(c.got, p...)
		}
	}
	if op, p, err := c.ws.read(300 * time.Millisecond); err == nil && op == opBinary {
		t.Fatalf("%d more bytes beyond the %d-byte buffer without an ack", len(p), buffer)
	}
	var held runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&held)
	if grew := int64(held.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Errorf("the heap grew by %d bytes while the bomb was held back", grew)
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	c.resume()
	n := len(c.got)
	c.got = nil // count, do not keep, 64 MiB
	for n < total+len("end of the bomb\r\n") {
		op, p := c.ws.next()
		if op == opBinary {
			if z := p[:min(len(p), max(0, total-n))]; len(bytes.Trim(z, "\x00")) != 0 {
				t.Fatalf("non-zero bytes near %d", n)
			}
			n += len(p)
			c.got = append(c.got[:0], p...)
			if int64(n)-c.acked >= 64<<10 {
				c.acked = int64(n)
				c.ws.sendText(fmt.Sprintf(`{"type":"ack","offset":%d}`, n))
			}
		}
	}
	if !bytes.HasSuffix(c.got, []byte("end of the bomb\r\n")) {
		t.Errorf("the end: %q", c.got)
	}
}

// TestGMCP: both ways, the page's Core.Hello held until the game agrees,
// messages in order with the data, malformed JSON passed on as a string,
// a message without data, prompts marked by EOR and GA.
func TestGMCP(t *testing.T) {
	gameGot := make(chan []byte, 1)
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		// The page's hello comes before the game offers GMCP.
		g.await([]byte("?")) // the browser's sign that it has sent it
		g.write(wire(tIAC, tWILL, oGMCP, tIAC, tWILL, oEOR))
		g.await(wire(tIAC, tSB, oGMCP, `Core.Hello {"client":"test"}`, tIAC, tSE))
		g.write(wire("Welcome\r\n", tIAC, tSB, oGMCP, `Char.Vitals {"hp":10,"maxhp":12}`, tIAC, tSE),
			wire("HP 10> ", tIAC, tEOR),
			wire(tIAC, tSB, oGMCP, `Room.Info {"name": broken`, tIAC, tSE, tIAC, tSB, oGMCP, "Core.Goodbye", tIAC, tSE),
			wire("login: ", tIAC, tGA))
		g.await(wire(tIAC, tSB, oGMCP, `Char.Skills.Get {"group":"é"}`, tIAC, tSE))
		gameGot <- g.got
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?gmcp=1", target)
	ws.sendControl(session.Control{Type: "gmcp", Package: "Core.Hello", Data: json.RawMessage(`{"client":"test"}`)})
	ws.writeFrame(opBinary, []byte("?"))
	var seq []string
	for len(seq) < 8 {
		op, p := ws.next()
		if op == opBinary {
			seq = append(seq, "data "+string(p))
			continue
		}
		m := ws.parseControl(p)
		switch m.Type {
		case "gmcp":
			seq = append(seq, "gmcp "+m.Package+" "+string(m.Data))
		case "prompt":
			seq = append(seq, "prompt")
		}
	}
	want := []string{"data Welcome\r\n", `gmcp Char.Vitals {"hp":10,"maxhp":12}`, "data HP 10> ", "prompt",
		`gmcp Room.Info "{\"name\": broken"`, "gmcp Core.Goodbye ", "data login: ", "prompt"}
	if strings.Join(seq, "|") != strings.Join(want, "|") {
		t.Errorf("got\n%q\nwant\n%q", seq, want)
	}
	ws.sendControl(session.Control{Type: "gmcp", Package: "Char.Skills.Get", Data: json.RawMessage(`{"group":"é"}`)})
	select {
	case <-gameGot:
	case <-time.After(10 * time.Second):
		t.Fatal("the game did not get Char.Skills.Get")
	}
}

// TestGMCPRefused: v1, v2 without gmcp=1, and /websockify refuse GMCP as
// ever; a v2 client without gmcp=1 that sends GMCP is told why.
func TestGMCPRefused(t *testing.T) {
	answers := make(chan []byte, 2)
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tWILL, oGMCP, tIAC, tWILL, oMSDP, tIAC, tWILL, oEcho))
		g.await(wire(tIAC, tDONT, oMSDP))
		answers <- g.got
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "", target)
	if got := <-answers; !bytes.Contains(got, wire(tIAC, tDONT, oGMCP)) {
		t.Errorf("v2 without gmcp=1: the game got %q", got)
	}
	ws.sendControl(session.Control{Type: "gmcp", Package: "Core.Hello"})
	if m := ws.expectControl("error"); !strings.Contains(m.Message, "gmcp=1") {
		t.Errorf("error %q", m.Message)
	}
	tg.connect(t, target)
	if got := <-answers; !bytes.Contains(got, wire(tIAC, tDONT, oGMCP)) {
		t.Errorf("v1: the game got %q", got)
	}
}

// TestGMCPResume: a page that comes back after a lost connection gets at
// once the last message of each GMCP package and the last value of each
// MSDP variable, in no offset; a flood of packages keeps only the most
// recent 64.
func TestGMCPResume(t *testing.T) {
	more := make(chan struct{})
	wrote := make(chan int, 1)
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		first := [][]byte{wire(tIAC, tWILL, oGMCP, tIAC, tWILL, oMSDP), wire(tIAC, tSB, oGMCP, `Char.Vitals {"hp":10}`, tIAC, tSE,
			tIAC, tSB, oMSDP, 1, "HEALTH", 2, "10", 1, "MANA", 2, "5", tIAC, tSE, "one\r\n")}
		g.write(first[0])
		g.await(wire(tIAC, tDO, oGMCP, tIAC, tDO, oMSDP))
		g.write(first[1])
		<-more
		var flood []byte
		for i := range 100 {
			flood = append(flood, wire(tIAC, tSB, oGMCP, fmt.Sprintf(`Flood.P%d {"i":%d,"pad":%q}`, i, i, strings.Repeat("x", 100)), tIAC, tSE)...)
		}
		second := [][]byte{flood, wire(tIAC, tSB, oGMCP, `Char.Vitals {"hp":9}`, tIAC, tSE), wire(tIAC, tSB, oMSDP, 1, "HEALTH", 2, "9", tIAC, tSE),
			wire(tIAC, tSB, oGMCP, `Room.Info {"name":"Temple"}`, tIAC, tSE, "two\r\n")}
		g.write(second...)
		wrote <- len(bytes.Join(append(first, second...), nil))
		io.Copy(io.Discard, c)
	})
	m := metrics.New()
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, Metrics: m})
	c := tg.openResumableWith(t, "telnet=auto&gmcp=1&msdp=1", target, nil)
	for !bytes.Contains(c.got, []byte("one\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	close(more) // while detached: the browser misses these messages
	// Wait until the gateway has read it all (the output is kept for the resume).
	n := <-wrote
	waitFor(t, "the game's output", func() bool {
		return metricValue(t, m, "wstelnet_relayed_bytes_total", "direction", "to_client") >= float64(n)
	})
	c.ctrl = nil
	c.resume()
	for !bytes.Contains(c.got, []byte("two\r\n")) {
		c.read()
	}
	var pkgs []string
	vitals := ""
	msdp := map[string]string{}
	for _, m := range c.ctrl {
		switch m.Type {
		case "gmcp":
			pkgs = append(pkgs, m.Package)
			if m.Package == "Char.Vitals" {
				vitals = string(m.Data)
			}
		case "msdp":
			var vars map[string]string
			json.Unmarshal(m.Data, &vars)
			maps.Copy(msdp, vars)
		}
	}
	if msdp["HEALTH"] != "9" || msdp["MANA"] != "5" {
		t.Errorf("after the resume MSDP says %v, want HEALTH 9 (sent while away) and MANA 5 (sent before)", msdp)
	}
	if vitals != `{"hp":9}` {
		t.Errorf("after the resume Char.Vitals is %q, want the last, hp 9 (packages %q)", vitals, pkgs)
	}
	if len(pkgs) > 64 || !slices.Contains(pkgs, "Room.Info") || slices.Contains(pkgs, "Flood.P0") {
		t.Errorf("replayed %d packages: %q", len(pkgs), pkgs)
	}
	if !bytes.Equal(c.got, []byte("one\r\ntwo\r\n")) {
		t.Errorf("data %q: GMCP must count in no offset", c.got)
	}
}

// TestPromptResume: a prompt marked while the page was away comes after
// the backlog that ends with its bytes, so that the page shows it as a
// prompt; a page that had the prompt's bytes does not get the mark again.
func TestPromptResume(t *testing.T) {
	next, failed := make(chan struct{}), make(chan struct{})
	wait := func() bool {
		select {
		case <-next:
			return true
		case <-failed:
			return false
		}
	}
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tWILL, oEOR))
		g.await(wire(tIAC, tDO, oEOR))
		g.write(wire("one\r\n"))
		if !wait() { // while detached
			return
		}
		g.write(wire("HP 10> ", tIAC, tEOR))
		if !wait() { // resumed, then cut and resumed again
			return
		}
		g.write(wire("two\r\n"))
		io.Copy(io.Discard, c)
	})
	t.Cleanup(func() { close(failed) }) // before startTarget's, which waits for the game
	m := metrics.New()
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, Metrics: m})
	c := tg.openResumableWith(t, "telnet=auto", target, nil)
	for !bytes.Contains(c.got, []byte("one\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	next <- struct{}{}
	waitFor(t, "the prompt read", func() bool {
		return metricValue(t, m, "wstelnet_relayed_bytes_total", "direction", "to_client") >= float64(len("one\r\nHP 10> "))
	})
	c.ctrl = nil
	c.resume()
	// Pings keep the socket busy: a missing prompt fails here, not at the
	// test's timeout.
	give := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(c.ctrl, func(m session.Control) bool { return m.Type == "prompt" }) {
		if time.Now().After(give) {
			t.Fatalf("no prompt after the resume's backlog %q (control messages %+v)", c.got, c.ctrl)
		}
		if c.read() == opText && !bytes.HasSuffix(c.got, []byte("HP 10> ")) {
			t.Fatalf("a control message %+v before the prompt's bytes came (got %q)", c.ctrl[len(c.ctrl)-1], c.got)
		}
	}
	if string(c.got) != "one\r\nHP 10> " {
		t.Fatalf("got %q with the prompt", c.got)
	}

	// Cut again: the page has the prompt's bytes; no second mark.
	c.cut()
	waitFor(t, "the session to detach again", func() bool { return strings.Count(tg.logs(), "session detached") == 2 })
	c.ctrl = nil
	c.resume()
	next <- struct{}{}
	for !bytes.HasSuffix(c.got, []byte("two\r\n")) {
		c.read()
	}
	for _, m := range c.ctrl {
		if m.Type == "prompt" {
			t.Fatalf("a second prompt after a resume that missed nothing: %+v", c.ctrl)
		}
	}
}

// TestMUDNegotiation: what the game learns of the player: TTYPE's MTTS
// cycle, NEW-ENVIRON with MNES (IPADDRESS only for a target that opts
// in), CHARSET UTF-8 for a UTF-8 page; MSDP both ways; and in BINARY to a
// game that does not echo (TinyMUX, once CHARSET is UTF-8), the page's
// CR LF as it is.
func TestMUDNegotiation(t *testing.T) {
	results := make(chan []byte, 2)
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.write(wire(tIAC, tDO, oTTYPE, tIAC, tDO, oNewEnviron, tIAC, tWILL, oCharset, tIAC, tWILL, oMSDP, tIAC, tDO, oBinary))
		g.await(wire(tIAC, tWILL, oBinary))
		for range 4 {
			g.write(wire(tIAC, tSB, oTTYPE, 1, tIAC, tSE))
		}
		g.write(wire(tIAC, tSB, oNewEnviron, 1, tIAC, tSE))
		g.write(wire(tIAC, tSB, oCharset, 1, ";ISO-8859-1;UTF-8", tIAC, tSE))
		g.write(wire(tIAC, tSB, oMSDP, 1, "ROOM", 2, 3, 1, "VNUM", 2, "6008", 1, "EXITS", 2, 5, 2, "n", 2, "s", 6, 4, tIAC, tSE, "ready\r\n"))
		g.await([]byte("say hi\r\n"))
		g.await(wire(tIAC, tSB, oMSDP, 1, "REPORT", 2, 5, 2, "HEALTH", 6, tIAC, tSE))
		results <- g.got
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{Targets: staticTargets(t, "plain: "+target+"\nmud: "+target+" ipaddress\n")})
	for _, name := range []string{"plain", "mud"} {
		t.Run(name, func(t *testing.T) {
			ws := tg.connectV2(t, "?msdp=1&mtts=137&charset=utf-8&term=XTERM-256COLOR", name)
			_, controls := ws.readStream([]byte("ready\r\n"))
			var msdp string
			for _, m := range controls {
				if m.Type == "msdp" {
					msdp = string(m.Data)
				}
			}
			if msdp != `{"ROOM":{"VNUM":"6008","EXITS":["n","s"]}}` {
				t.Errorf("msdp %s", msdp)
			}
			ws.writeFrame(opBinary, []byte("say hi\r\n"))
			ws.sendControl(session.Control{Type: "msdp", Data: json.RawMessage(`{"REPORT":["HEALTH"]}`)})
			got := <-results
			// 137 (ANSI, 256 colours, proxy) + UTF-8 4 + MNES 512 + proxy 128.
			const bits = "MTTS 653"
			for _, want := range [][]byte{
				wire(tIAC, tSB, oTTYPE, 0, "WSTELNET", tIAC, tSE, tIAC, tSB, oTTYPE, 0, "XTERM-256COLOR", tIAC, tSE,
					tIAC, tSB, oTTYPE, 0, bits, tIAC, tSE, tIAC, tSB, oTTYPE, 0, bits, tIAC, tSE),
				wire(tIAC, tSB, oCharset, 2, "UTF-8", tIAC, tSE),
				wire(0, "CLIENT_NAME", 1, "WSTELNET", 0, "CLIENT_VERSION", 1),
				wire(0, "TERMINAL_TYPE", 1, "XTERM-256COLOR", 0, "MTTS", 1, "653", 0, "CHARSET", 1, "UTF-8"),
				wire("say hi\r\n"),
			} {
				if !bytes.Contains(got, want) {
					t.Errorf("the game did not get %q in %q", want, got)
				}
			}
			if ip := bytes.Contains(got, []byte("IPADDRESS\x01127.0.0.1")); ip != (name == "mud") {
				t.Errorf("IPADDRESS sent %v to %s: %q", ip, name, got)
			}
		})
	}
}

// TestTelnetdMUDOptions: a Unix telnetd behind a page that asks for the
// MUD options (as the page does for every target) still gets a terminal:
// TERM is the terminal type, not the client name MTTS answers first, and
// NEW-ENVIRON and CHARSET change nothing it relies on.
func TestTelnetdMUDOptions(t *testing.T) {
	addr := startTelnetd(t)
	tg := newTestGateway(t, gatewayOptions{})
	sh := &telnetdShell{t: t, ws: tg.connectV2(t, "?cols=80&rows=24&gmcp=1&msdp=1&mtts=2349&charset=utf-8", addr)}
	sh.run("echo READY$((1+1))", "READY2")
	if out := sh.run(`echo "[$TERM]" T$((1+1))`, "T2"); !bytes.Contains(out, []byte("[xterm-256color] T2")) {
		t.Errorf("TERM: %q", out)
	}
	sh.send("printf '\\303\\251' | od -An -tx1; echo E$((1+1))\r")
	if out := sh.wait("E2"); !bytes.Contains(out, []byte("c3 a9")) {
		t.Errorf("é: %q", out)
	}
}

// TestMSSPPoll: a named target with the mssp option is asked about itself
// on a connection of its own (with the PROXY header it expects, saying no
// visitor is behind it), and /targets.json carries the answer; a target
// without the option is never dialled for it.
func TestMSSPPoll(t *testing.T) {
	header := make(chan string, 4)
	game := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		g.await([]byte("\r\n"))
		header <- string(g.got)
		g.write(wire(tIAC, tWILL, 70))
		g.await(wire(tIAC, tDO, 70))
		g.write(wire(tIAC, tSB, 70, 1, "NAME", 2, "Fake MUD", 1, "PLAYERS", 2, "7", 1, "PORT", 2, "23", 2, "4000", tIAC, tSE))
		io.Copy(io.Discard, c)
	})
	other := startTarget(t, func(c net.Conn) { t.Error("a target without mssp was dialled") })
	tg := newTestGateway(t, gatewayOptions{
		Targets:      staticTargets(t, "fake: "+game+" mssp proxy-protocol\nother: "+other+"\n"),
		MSSPInterval: time.Hour,
	})
	var list struct {
		Targets []struct {
			Name string
			MSSP json.RawMessage
		}
	}
	waitFor(t, "the MSSP answer", func() bool {
		resp, err := http.Get(tg.srv.URL + "/targets.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&list)
		return len(list.Targets) == 2 && list.Targets[0].MSSP != nil
	})
	if got := string(list.Targets[0].MSSP); got != `{"NAME":"Fake MUD","PLAYERS":"7","PORT":["23","4000"]}` {
		t.Errorf("mssp %s", got)
	}
	if list.Targets[1].MSSP != nil {
		t.Errorf("other: %s", list.Targets[1].MSSP)
	}
	if h := <-header; h != "PROXY UNKNOWN\r\n" {
		t.Errorf("the poll's PROXY header: %q", h)
	}
}

// TestGMCPHeldBound: what a page sends before the game agrees to GMCP is
// held, up to 16 KiB; past that it is refused with an error, not kept;
// once the game agrees, what was held goes, in order.
func TestGMCPHeldBound(t *testing.T) {
	agree := make(chan struct{})
	got := make(chan []byte, 1)
	target := startTarget(t, func(c net.Conn) {
		g := newGame(t, c)
		<-agree
		g.write(wire(tIAC, tWILL, oGMCP))
		g.await(wire(`Test.N {"n":14`))
		got <- g.got
		io.Copy(io.Discard, c)
	})
	tg := newTestGateway(t, gatewayOptions{})
	ws := tg.connectV2(t, "?gmcp=1", target)
	pad := strings.Repeat("x", 1000)
	for i := range 20 {
		ws.sendControl(session.Control{Type: "gmcp", Package: "Test.N", Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, pad))})
	}
	// Messages 15 to 19 do not fit, and each gets its error. Waiting for all
	// five means the gateway has read every message before the game agrees;
	// agreeing after the first error let the later ones go straight through.
	for range 5 {
		if m := ws.expectControl("error"); !strings.Contains(m.Message, "the message was dropped") {
			t.Errorf("error %q", m.Message)
		}
	}
	close(agree)
	g := <-got
	for i := range 15 {
		if !bytes.Contains(g, []byte(fmt.Sprintf(`Test.N {"n":%d,`, i))) {
			t.Errorf("message %d was not sent once agreed", i)
		}
	}
	if bytes.Contains(g, []byte(`Test.N {"n":19,`)) {
		t.Error("a message past the bound was kept")
	}
}
