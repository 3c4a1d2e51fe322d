package session

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func FuzzV2Options(f *testing.F) {
	for _, q := range []string{"", "telnet=on&cols=80&rows=24", "telnet=off", "term=ANSI,DUMB", "cols=0", "term=" + strings.Repeat("A,", 9), "telnet=maybe&term=%00", "resume=1", "resume=2",
		"gmcp=1&msdp=1&mtts=2349&charset=UTF-8", "mtts=4096", "gmcp=yes", "charset=utf%208"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		o, err := ParseV2Options(q)
		if err != nil {
			return
		}
		if o.Cols < 0 || o.Cols > 65535 || o.Rows < 0 || o.Rows > 65535 || len(o.Term) == 0 || len(o.Term) > 8 ||
			o.MTTS < -1 || o.MTTS > 4095 || len(o.Charset) > 40 || strings.ToLower(o.Charset) != o.Charset {
			t.Fatalf("accepted %q as %+v", raw, o)
		}
		for _, name := range o.Term {
			if name == "" || len(name) > 40 || strings.ToUpper(name) != name || strings.ContainsAny(name, " ,\x00\xff") {
				t.Fatalf("accepted terminal type %q from %q", name, raw)
			}
		}
	})
}

// TestControlRoundTrip: every control message the gateway builds is one
// JSON object with its type, and reads back as it was.
func TestControlRoundTrip(t *testing.T) {
	n := int64(7)
	remote := true
	for _, m := range []Control{
		{Type: "session", ID: "abc", Window: 60},
		{Type: "resumed", Offset: &n, Received: &n},
		{Type: "ack", Offset: &n},
		{Type: "echo", Remote: &remote},
		{Type: "closed", Reason: "the target closed the connection"},
		{Type: "error", Message: "x"},
		{Type: "pong"},
	} {
		b := m.encode()
		if !strings.HasPrefix(string(b), `{"type":"`+m.Type+`"`) {
			t.Errorf("%+v encodes as %s", m, b)
		}
	}
	if got := string(Control{Type: "resumed", Offset: new(int64), Received: &n}.encode()); got != `{"type":"resumed","offset":0,"received":7}` {
		t.Errorf("resumed encodes as %s", got)
	}
}

// TestQuickAck: the fast reading of an ack agrees with encoding/json on
// what it accepts, and leaves everything else to it.
func TestQuickAck(t *testing.T) {
	for in, want := range map[string]int64{
		`{"type":"ack","offset":0}`:                   0,
		`{"type":"ack","offset":65536}`:               65536,
		`{"type":"ack","offset":999999999999999999}`:  999999999999999999,
		`{"type":"ack","offset":-1}`:                  -2,
		`{"type":"ack","offset":1e3}`:                 -2,
		`{"type":"ack","offset":"7"}`:                 -2,
		`{"type":"ack","offset":1} `:                  -2,
		`{"type":"ack", "offset":1}`:                  -2,
		`{"type":"ack","offset":}`:                    -2,
		`{"type":"ack","offset":9999999999999999999}`: -2,
	} {
		n, ok := quickAck([]byte(in))
		if want == -2 {
			if ok {
				t.Errorf("quickAck(%s) took it as %d; it should go the long way", in, n)
			}
			continue
		}
		var m Control
		if !ok || n != want || json.Unmarshal([]byte(in), &m) != nil || *m.Offset != n {
			t.Errorf("quickAck(%s) = %d, %v; want %d", in, n, ok, want)
		}
	}
}

// TestV2MUDOptions: the MUD options' query parameters, and their words
// when wrong.
func TestV2MUDOptions(t *testing.T) {
	q, _ := url.ParseQuery("gmcp=1&msdp=1&mtts=137&charset=UTF-8")
	o, err := ParseV2Options(q)
	if err != nil || !o.GMCP || !o.MSDP || o.MTTS != 137 || o.Charset != "utf-8" || !o.UTF8() {
		t.Errorf("%+v, %v", o, err)
	}
	if o, _ := ParseV2Options(url.Values{}); o.GMCP || o.MSDP || o.MTTS != -1 || o.Charset != "" {
		t.Errorf("defaults %+v", o)
	}
	for q, words := range map[string]string{
		"gmcp=yes":      "gmcp=\"yes\": use 1",
		"mtts=4096":     "from 0 to 4095",
		"mtts=-1":       "from 0 to 4095",
		"charset=a%20b": "e.g. utf-8",
		"msdp=true":     "msdp=\"true\"",
	} {
		v, _ := url.ParseQuery(q)
		if _, err := ParseV2Options(v); err == nil || !strings.Contains(err.Error(), words) {
			t.Errorf("%s: %v, want %q", q, err, words)
		}
	}
}

// TestGMCPState: the last message per package, the oldest forgotten past
// the bounds.
func TestGMCPState(t *testing.T) {
	var g kept
	g.keep("Char.Vitals", []byte("a"))
	g.keep("Room.Info", []byte("b"))
	g.keep("Char.Vitals", []byte("c"))
	if got := g.append(nil); len(got) != 2 || string(got[0]) != "b" || string(got[1]) != "c" {
		t.Errorf("%q", got)
	}
	for i := range 100 {
		g.keep(fmt.Sprint("P", i), make([]byte, 2000))
	}
	if len(g.order) > maxKeptKeys || g.size > maxKeptBytes || g.msg["P99"] == nil || g.msg["P0"] != nil {
		t.Errorf("%d packages, %d bytes", len(g.order), g.size)
	}
	g.keep("Huge", make([]byte, maxKeptBytes+1))
	if g.msg["Huge"] != nil {
		t.Error("a message over the bound was kept")
	}
}
