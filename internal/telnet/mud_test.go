package telnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// mudConfig is a Decoder as protocol v2 makes one for a page that asked
// for every MUD option.
var mudCfg = Config{
	TerminalTypes: []string{"WSTELNET", "XTERM-256COLOR", MTTS(MTTSANSI | MTTSUTF8 | MTTS256Colors | MTTSProxy | MTTSMNES)},
	Width:         80, Height: 24,
	MUD: MUD{MCCP: true, EOR: true, GMCP: true, MSDP: true, MSSP: true, UTF8: true,
		Environ: []EnvVar{{"CLIENT_NAME", "WSTELNET"}, {"IPADDRESS", "192.0.2.7"}}},
}

// event is what decodeAll saw, in order: data, or an event with its payload.
type event struct {
	data    string
	ev      Event
	payload string
}

// decodeAll decodes the chunks with DecodeEvent, in place as the engine
// does, and returns the events and data in order (adjacent data joined),
// the replies, and the bytes after an EventCompress (not decoded).
func decodeAll(d *Decoder, chunks ...[]byte) (evs []event, reply []byte, compressed []byte) {
	add := func(e event) {
		if e.ev == EventNone && len(evs) > 0 && evs[len(evs)-1].ev == EventNone {
			evs[len(evs)-1].data += e.data
			return
		}
		evs = append(evs, e)
	}
	for ci, c := range chunks {
		buf := bytes.Clone(c)
		src := buf
		dst := buf[:0]
		for len(src) > 0 {
			var data []byte
			var n int
			var ev Event
			data, reply, n, ev = d.DecodeEvent(dst, reply, src)
			if len(data) > 0 {
				add(event{data: string(data)})
			}
			dst = data[len(data):]
			src = src[n:]
			if ev != EventNone {
				e := event{ev: ev}
				if ev == EventGMCP || ev == EventMSDP || ev == EventMSSP {
					e.payload = string(d.Payload())
				}
				add(e)
			}
			if ev == EventCompress {
				compressed = append(bytes.Clone(src), bytes.Join(chunks[ci+1:], nil)...)
				return evs, reply, compressed
			}
		}
	}
	return evs, reply, nil
}

func TestMUDOptions(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		in    string
		evs   []event
		reply string
		rest  string
	}{
		{name: "offers agreed", cfg: mudCfg,
			in:    cat(IAC, WILL, OptCompress2, IAC, WILL, OptGMCP, IAC, WILL, OptMSDP, IAC, WILL, OptMSSP, IAC, WILL, OptEOR, IAC, DO, OptCharset, IAC, DO, OptNewEnviron),
			reply: cat(IAC, DO, OptCompress2, IAC, DO, OptGMCP, IAC, DO, OptMSDP, IAC, DO, OptMSSP, IAC, DO, OptEOR, IAC, WILL, OptCharset, IAC, WILL, OptNewEnviron)},
		{name: "offers refused without MUD", cfg: stdConfig,
			in:    cat(IAC, WILL, OptCompress2, IAC, WILL, OptGMCP, IAC, WILL, OptEOR, IAC, DO, OptCharset, IAC, DO, OptNewEnviron),
			reply: cat(IAC, DONT, OptCompress2, IAC, DONT, OptGMCP, IAC, DONT, OptEOR, IAC, WONT, OptCharset, IAC, WONT, OptNewEnviron)},
		{name: "MUD only refuses terminal options", cfg: Config{TerminalTypes: []string{"X"}, MUD: MUD{Only: true, MCCP: true, EOR: true}},
			in:    cat(IAC, WILL, OptEcho, IAC, DO, OptTTYPE, IAC, DO, OptBinary, IAC, WILL, OptCompress2, IAC, WILL, OptEOR, IAC, WILL, OptGMCP),
			reply: cat(IAC, DONT, OptEcho, IAC, WONT, OptTTYPE, IAC, WONT, OptBinary, IAC, DO, OptCompress2, IAC, DO, OptEOR, IAC, DONT, OptGMCP)},
		{name: "prompt by EOR", cfg: mudCfg,
			in:  cat(IAC, WILL, OptEOR, "HP 10> ", IAC, EOR, "more"),
			evs: []event{{data: "HP 10> "}, {ev: EventPrompt}, {data: "more"}}, reply: cat(IAC, DO, OptEOR)},
		{name: "prompt by GA", cfg: mudCfg,
			in:  cat("login: ", IAC, GA),
			evs: []event{{data: "login: "}, {ev: EventPrompt}}},
		{name: "GMCP", cfg: mudCfg,
			in:  cat(IAC, WILL, OptGMCP, "a", IAC, SB, OptGMCP, `Char.Vitals {"hp":10,"x":"`, IAC, IAC, `"}`, IAC, SE, "b"),
			evs: []event{{data: "a"}, {ev: EventGMCP, payload: "Char.Vitals {\"hp\":10,\"x\":\"\xff\"}"}, {data: "b"}}, reply: cat(IAC, DO, OptGMCP)},
		{name: "GMCP refused is dropped", cfg: mudCfg,
			in:  cat("a", IAC, SB, OptGMCP, `Char.Vitals {}`, IAC, SE, "b"),
			evs: []event{{data: "ab"}}},
		{name: "GMCP without SE", cfg: mudCfg,
			in:  cat(IAC, WILL, OptGMCP, IAC, SB, OptGMCP, "Core.Ping", IAC, WILL, OptEcho, "x"),
			evs: []event{{data: "x"}}, reply: cat(IAC, DO, OptGMCP, IAC, DO, OptEcho)},
		{name: "MSDP", cfg: mudCfg,
			in:  cat(IAC, WILL, OptMSDP, IAC, SB, OptMSDP, 1, "HEALTH", 2, "10", IAC, SE),
			evs: []event{{ev: EventMSDP, payload: "\x01HEALTH\x0210"}}, reply: cat(IAC, DO, OptMSDP)},
		{name: "compress", cfg: mudCfg,
			in:  cat(IAC, WILL, OptCompress2, "plain", IAC, SB, OptCompress2, IAC, SE, "\x78\x9c\xff"),
			evs: []event{{data: "plain"}, {ev: EventCompress}}, reply: cat(IAC, DO, OptCompress2), rest: "\x78\x9c\xff"},
		{name: "compress refused is plain", cfg: stdConfig,
			in:  cat(IAC, WILL, OptCompress2, IAC, SB, OptCompress2, IAC, SE, "x"),
			evs: []event{{data: "x"}}, reply: cat(IAC, DONT, OptCompress2)},
		{name: "compress with a payload is not a start", cfg: mudCfg,
			in:  cat(IAC, WILL, OptCompress2, IAC, SB, OptCompress2, "x", IAC, SE, "y"),
			evs: []event{{data: "y"}}, reply: cat(IAC, DO, OptCompress2)},
		{name: "charset accepted", cfg: mudCfg,
			in:    cat(IAC, WILL, OptCharset, IAC, SB, OptCharset, charsetREQUEST, ";ISO-8859-1;utf-8", IAC, SE),
			reply: cat(IAC, DO, OptCharset, IAC, SB, OptCharset, charsetACCEPTED, "utf-8", IAC, SE)},
		{name: "charset TTABLE", cfg: mudCfg,
			in:    cat(IAC, DO, OptCharset, IAC, SB, OptCharset, charsetREQUEST, "[TTABLE]", 1, " UTF-8", IAC, SE),
			reply: cat(IAC, WILL, OptCharset, IAC, SB, OptCharset, charsetACCEPTED, "UTF-8", IAC, SE)},
		{name: "charset without UTF-8 rejected", cfg: mudCfg,
			in:    cat(IAC, DO, OptCharset, IAC, SB, OptCharset, charsetREQUEST, ";CP437", IAC, SE),
			reply: cat(IAC, WILL, OptCharset, IAC, SB, OptCharset, charsetREJECTED, IAC, SE)},
		{name: "charset refused when not UTF-8", cfg: Config{MUD: MUD{GMCP: true}},
			in:    cat(IAC, DO, OptCharset, IAC, SB, OptCharset, charsetREQUEST, ";UTF-8", IAC, SE),
			reply: cat(IAC, WONT, OptCharset)},
		{name: "environ all", cfg: mudCfg,
			in:    cat(IAC, DO, OptNewEnviron, IAC, SB, OptNewEnviron, envSEND, IAC, SE),
			reply: cat(IAC, WILL, OptNewEnviron, IAC, SB, OptNewEnviron, envIS, envVAR, "CLIENT_NAME", envVALUE, "WSTELNET", envVAR, "IPADDRESS", envVALUE, "192.0.2.7", IAC, SE)},
		{name: "environ asked", cfg: mudCfg,
			in:    cat(IAC, DO, OptNewEnviron, IAC, SB, OptNewEnviron, envSEND, envVAR, "IPADDRESS", envUSERVAR, "USER", IAC, SE),
			reply: cat(IAC, WILL, OptNewEnviron, IAC, SB, OptNewEnviron, envIS, envVAR, "IPADDRESS", envVALUE, "192.0.2.7", envUSERVAR, "USER", IAC, SE)},
		{name: "MTTS cycle", cfg: mudCfg,
			in: cat(IAC, DO, OptTTYPE, IAC, SB, OptTTYPE, ttypeSEND, IAC, SE, IAC, SB, OptTTYPE, ttypeSEND, IAC, SE,
				IAC, SB, OptTTYPE, ttypeSEND, IAC, SE, IAC, SB, OptTTYPE, ttypeSEND, IAC, SE),
			reply: cat(IAC, WILL, OptTTYPE, IAC, SB, OptTTYPE, ttypeIS, "WSTELNET", IAC, SE, IAC, SB, OptTTYPE, ttypeIS, "XTERM-256COLOR", IAC, SE,
				IAC, SB, OptTTYPE, ttypeIS, "MTTS 653", IAC, SE, IAC, SB, OptTTYPE, ttypeIS, "MTTS 653", IAC, SE)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how string, evs []event, reply, rest []byte) {
				t.Helper()
				if fmt.Sprint(evs) != fmt.Sprint(tt.evs) {
					t.Errorf("%s: events %q, want %q", how, evs, tt.evs)
				}
				if string(reply) != tt.reply {
					t.Errorf("%s: reply %q, want %q", how, reply, tt.reply)
				}
				if string(rest) != tt.rest {
					t.Errorf("%s: compressed rest %q, want %q", how, rest, tt.rest)
				}
			}
			evs, reply, rest := decodeAll(NewDecoder(tt.cfg), []byte(tt.in))
			check("one read", evs, reply, rest)
			for k := 0; k <= len(tt.in); k++ {
				evs, reply, rest := decodeAll(NewDecoder(tt.cfg), []byte(tt.in[:k]), []byte(tt.in[k:]))
				check(fmt.Sprintf("split at %d", k), evs, reply, rest)
			}
		})
	}
}

func TestParseGMCP(t *testing.T) {
	for _, c := range []struct{ in, pkg, data string }{
		{`Char.Vitals {"hp":10}`, "Char.Vitals", `{"hp":10}`},
		{`Core.Ping`, "Core.Ping", ``},
		{`Core.Ping `, "Core.Ping", ``},
		{`Room.Info {"name":`, "Room.Info", `"{\"name\":"`},
		{"Comm.Channel.Text\n\"hi\"", "Comm.Channel.Text", `"hi"`},
		{"X \xff", "X", "\"\ufffd\""},
	} {
		pkg, data := ParseGMCP([]byte(c.in))
		if pkg != c.pkg || string(data) != c.data {
			t.Errorf("ParseGMCP(%q) = %q, %s; want %q, %s", c.in, pkg, data, c.pkg, c.data)
		}
	}
	if got := GMCP(nil, "Core.Hello", []byte(`{"client":"wstelnet","x":"\u00ff"}`)); !bytes.Equal(got, []byte(cat(IAC, SB, OptGMCP, `Core.Hello {"client":"wstelnet","x":"\u00ff"}`, IAC, SE))) {
		t.Errorf("GMCP = %q", got)
	}
	if got := GMCP(nil, "A", []byte("\xff")); !bytes.Equal(got, []byte(cat(IAC, SB, OptGMCP, "A ", IAC, IAC, IAC, SE))) {
		t.Errorf("GMCP escaping = %q", got)
	}
}

func TestMSDP(t *testing.T) {
	for _, c := range []struct{ msdp, json string }{
		{"\x01HEALTH\x0210", `{"HEALTH":"10"}`},
		{"\x01ROOM\x02\x03\x01VNUM\x026008\x01EXITS\x02\x03\x01n\x026011\x04\x04", `{"ROOM":{"VNUM":"6008","EXITS":{"n":"6011"}}}`},
		{"\x01LIST\x02\x05\x02a\x02b\x06", `{"LIST":["a","b"]}`},
		{"\x01A\x021\x022", `{"A":["1","2"]}`},
		{"\x01A", `{"A":""}`},
		{"\x01A\x02\x03\x01B\x02x", `{"A":{"B":"x"}}`}, // unclosed table
		{"\x04\x06junk\x01A\x02x", `{"A":"x"}`},
		{"", `{}`},
	} {
		got := MSDPToJSON([]byte(c.msdp))
		if string(got) != c.json {
			t.Errorf("MSDPToJSON(%q) = %s, want %s", c.msdp, got, c.json)
		}
		checkMSDPVars(t, []byte(c.msdp))
	}
	if _, vars := MSDPVars([]byte("\x01HP\x0210\x01ROOM\x02\x03\x01VNUM\x021\x04\x01HP\x029")); len(vars) != 3 ||
		vars[0].Name != "HP" || string(vars[1].Member) != `"ROOM":{"VNUM":"1"}` || string(vars[2].Member) != `"HP":"9"` {
		t.Errorf("MSDPVars: %q", vars)
	}
	got, err := MSDP(nil, []byte(`{"REPORT":["HEALTH","MANA"],"X":{"a":1,"b":true,"c":null}}`))
	want := cat(IAC, SB, OptMSDP, 1, "REPORT", 2, 5, 2, "HEALTH", 2, "MANA", 6, 1, "X", 2, 3, 1, "a", 2, "1", 1, "b", 2, "1", 1, "c", 2, 4, IAC, SE)
	if err != nil || string(got) != want {
		t.Errorf("MSDP = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":`, `{"a":1} {}`, strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)} {
		if _, err := MSDP(nil, []byte(bad)); err == nil {
			t.Errorf("MSDP(%q): no error", bad)
		}
	}
}

// FuzzDecodeEvent: the MUD options' decoding gives the same events, data
// and replies however the input is split, never buffers more than
// MaxPayload, and MSDP payloads always become valid JSON.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		cat(IAC, WILL, OptGMCP, IAC, SB, OptGMCP, `Char.Vitals {"hp":1}`, IAC, SE, "x", IAC, EOR),
		cat(IAC, WILL, OptMSDP, IAC, SB, OptMSDP, 1, "A", 2, 3, 1, "B", 2, "x", 4, IAC, SE),
		cat(IAC, WILL, OptCompress2, IAC, SB, OptCompress2, IAC, SE, "zz"),
		cat(IAC, DO, OptCharset, IAC, SB, OptCharset, 1, ";UTF-8", IAC, SE),
		cat(IAC, DO, OptNewEnviron, IAC, SB, OptNewEnviron, 1, 0, "IPADDRESS", 2, IAC, IAC, IAC, SE),
		cat(IAC, WILL, OptGMCP, IAC, SB, OptGMCP, "no end", IAC, GA),
		cat(IAC, WILL, OptMSSP, IAC, SB, OptMSSP, 1, "NAME", 2, "Game", IAC, SE),
	} {
		f.Add([]byte(s), uint(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint) {
		k := int(split % uint(len(in)+1))
		evs, reply, rest := decodeAll(NewDecoder(mudCfg), in)
		sevs, sreply, srest := decodeAll(NewDecoder(mudCfg), in[:k], in[k:])
		if fmt.Sprint(evs) != fmt.Sprint(sevs) || !bytes.Equal(reply, sreply) || !bytes.Equal(rest, srest) {
			t.Fatalf("split at %d: %q %q %q; one read: %q %q %q", k, sevs, sreply, srest, evs, reply, rest)
		}
		for _, e := range evs {
			if len(e.payload) > MaxPayload {
				t.Fatalf("payload of %d bytes", len(e.payload))
			}
			if e.ev == EventMSDP || e.ev == EventMSSP {
				if j := MSDPToJSON([]byte(e.payload)); !json.Valid(j) {
					t.Fatalf("MSDPToJSON(%q) = %s: not JSON", e.payload, j)
				}
			}
			if e.ev == EventGMCP {
				if _, data := ParseGMCP([]byte(e.payload)); data != nil && !json.Valid(data) {
					t.Fatalf("ParseGMCP(%q) data %s: not JSON", e.payload, data)
				}
			}
		}
	})
}

// checkMSDPVars: MSDPVars gives MSDPToJSON's object, and its variables'
// members, each an object of its own once braced, make up that object.
func checkMSDPVars(t *testing.T, in []byte) {
	t.Helper()
	object, vars := MSDPVars(in)
	if want := MSDPToJSON(in); !bytes.Equal(object, want) {
		t.Fatalf("MSDPVars(%q) object %s, want %s", in, object, want)
	}
	members := make([][]byte, len(vars))
	for i, v := range vars {
		var one map[string]json.RawMessage
		if json.Unmarshal(append(append([]byte{'{'}, v.Member...), '}'), &one) != nil || len(one) != 1 {
			t.Fatalf("MSDPVars(%q): member %q is not one variable", in, v.Member)
		}
		members[i] = v.Member
	}
	if whole := append(append([]byte{'{'}, bytes.Join(members, []byte{','})...), '}'); !bytes.Equal(whole, object) {
		t.Fatalf("MSDPVars(%q): members make %s, not the object %s", in, whole, object)
	}
}

// FuzzMSDP: any JSON object MSDP accepts comes back through MSDPToJSON as
// valid JSON, MSDPToJSON never fails on any bytes, and MSDPVars splits
// its object into its variables.
func FuzzMSDP(f *testing.F) {
	f.Add([]byte(`{"REPORT":["HEALTH","MANA"],"X":{"a":"1"}}`))
	f.Add([]byte("\x01A\x02\x03\x01B\x02\x05\x02x\x06\x04"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if j := MSDPToJSON(in); !json.Valid(j) {
			t.Fatalf("MSDPToJSON(%q) = %s", in, j)
		}
		checkMSDPVars(t, in)
		m, err := MSDP(nil, in)
		if err != nil {
			return
		}
		evs, _, _ := decodeAll(NewDecoder(mudCfg), []byte(cat(IAC, WILL, OptMSDP)), m)
		if len(evs) != 1 || evs[0].ev != EventMSDP || !json.Valid(MSDPToJSON([]byte(evs[0].payload))) {
			if len(m) <= MaxPayload {
				t.Fatalf("MSDP(%s) = %q decoded as %q", in, m, evs)
			}
		}
	})
}

// TestPayloadBound: a GMCP message without end is never buffered past
// MaxPayload, and the stream goes on after it.
func TestPayloadBound(t *testing.T) {
	d := NewDecoder(mudCfg)
	d.Decode(nil, nil, []byte{IAC, WILL, OptGMCP, IAC, SB, OptGMCP})
	chunk := bytes.Repeat([]byte("x"), 4096)
	for range 1000 {
		d.Decode(nil, nil, chunk)
	}
	if cap(d.sb) > MaxPayload+sbMax || d.sbKeep {
		t.Errorf("buffered %d bytes, keep %v", cap(d.sb), d.sbKeep)
	}
	evs, _, _ := decodeAll(d, []byte(cat(IAC, SE, "after", IAC, SB, OptGMCP, "Core.Ping", IAC, SE)))
	if fmt.Sprint(evs) != fmt.Sprint([]event{{data: "after"}, {ev: EventGMCP, payload: "Core.Ping"}}) {
		t.Errorf("after the flood: %q", evs)
	}
}
