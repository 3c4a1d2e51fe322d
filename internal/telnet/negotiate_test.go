package telnet

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tests of the negotiating Decoder (NewDecoder): RFC 1143 option
// negotiation, TTYPE, NAWS, BINARY and Encode.

// Byte strings used by many cases.
var (
	ttypeSend = cat(IAC, SB, OptTTYPE, ttypeSEND, IAC, SE)
	startMsgs = cat(IAC, DO, OptSGA, IAC, WILL, OptTTYPE, IAC, WILL, OptNAWS)
)

func ttypeIs(name string) string { return cat(IAC, SB, OptTTYPE, ttypeIS, name, IAC, SE) }

// nawsSB spells out IAC SB NAWS ... IAC SE from its four (already escaped)
// parts, so that the expected bytes in a case are visible rather than computed.
func nawsSB(parts ...string) string {
	return cat(IAC, SB, OptNAWS, strings.Join(parts, ""), IAC, SE)
}

// stdConfig is the configuration of a browser terminal.
var stdConfig = Config{TerminalTypes: []string{"XTERM-256COLOR"}, Width: 120, Height: 40}

// negStep is one step of a conversation: either server bytes fed to Decode
// (in) or an action on the Decoder (act), with the data and reply expected
// and optional checks of the state afterwards.
type negStep struct {
	in    string
	act   func(d *Decoder, reply []byte) []byte
	data  string
	reply string
	check func(t *testing.T, d *Decoder)
}

type negCase struct {
	name  string
	zero  bool // use the zero Decoder instead of NewDecoder(cfg)
	cfg   Config
	steps []negStep
}

func start(d *Decoder, reply []byte) []byte { return d.Start(reply) }

func resize(w, h int) func(*Decoder, []byte) []byte {
	return func(d *Decoder, reply []byte) []byte { return d.SetWindowSize(reply, w, h) }
}

// checkEnabled returns a check that the listed options are enabled and the
// other common ones are not.
func checkEnabled(local, remote []byte) func(*testing.T, *Decoder) {
	return func(t *testing.T, d *Decoder) {
		t.Helper()
		for _, side := range []struct {
			s    Side
			want []byte
		}{{Local, local}, {Remote, remote}} {
			for _, opt := range []byte{OptBinary, OptEcho, OptSGA, OptStatus, OptTTYPE, OptNAWS, OptTSpeed, OptLFlow, OptLinemode, OptNewEnviron} {
				if got, want := d.Enabled(side.s, opt), bytes.IndexByte(side.want, opt) >= 0; got != want {
					t.Errorf("Enabled(%v, %s) = %v, want %v", side.s, optName(opt), got, want)
				}
			}
		}
	}
}

func checkEcho(want bool) func(*testing.T, *Decoder) {
	return func(t *testing.T, d *Decoder) {
		t.Helper()
		if got := d.RemoteEcho(); got != want {
			t.Errorf("RemoteEcho() = %v, want %v", got, want)
		}
	}
}

func checkEncode(in, want string) func(*testing.T, *Decoder) {
	return func(t *testing.T, d *Decoder) {
		t.Helper()
		if got := d.Encode(nil, []byte(in)); string(got) != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

func checks(fs ...func(*testing.T, *Decoder)) func(*testing.T, *Decoder) {
	return func(t *testing.T, d *Decoder) {
		t.Helper()
		for _, f := range fs {
			f(t, d)
		}
	}
}

var negCases = []negCase{
	{
		// GNU inetutils telnetd without our Start: it probes the terminal
		// options, asks for the terminal type once we agree, then sends its
		// usual options before the banner.
		name: "inetutils telnetd opening",
		cfg:  stdConfig,
		steps: []negStep{
			{
				in: cat(IAC, DO, OptAuth, IAC, DO, OptTTYPE, IAC, DO, OptTSpeed, IAC, DO, OptXDispLoc,
					IAC, DO, OptNewEnviron, IAC, DO, OptOldEnviron),
				reply: cat(IAC, WONT, OptAuth, IAC, WILL, OptTTYPE, IAC, WONT, OptTSpeed, IAC, WONT, OptXDispLoc,
					IAC, WONT, OptNewEnviron, IAC, WONT, OptOldEnviron),
				check: checkEnabled([]byte{OptTTYPE}, nil),
			},
			{in: ttypeSend, reply: ttypeIs("XTERM-256COLOR")},
			{
				in: cat(IAC, WILL, OptEcho, IAC, WILL, OptSGA, IAC, DO, OptNAWS, IAC, DO, OptLFlow,
					IAC, DO, OptEcho, IAC, WILL, OptStatus, IAC, DO, OptLinemode,
					"\r\nDebian GNU/Linux 12\r\n\r\nhost login: "),
				data: "\r\nDebian GNU/Linux 12\r\n\r\nhost login: ",
				reply: cat(IAC, DO, OptEcho, IAC, DO, OptSGA,
					IAC, WILL, OptNAWS, nawsSB("\x00\x78", "\x00\x28"),
					IAC, WONT, OptLFlow, IAC, WONT, OptEcho, IAC, DONT, OptStatus, IAC, WONT, OptLinemode),
				check: checks(checkEcho(true), checkEnabled([]byte{OptTTYPE, OptNAWS}, []byte{OptEcho, OptSGA})),
			},
			{in: "user\r\n", data: "user\r\n"},
		},
	},
	{
		// The same server after our Start: its DO TTYPE, WILL SGA and DO
		// NAWS are acknowledgements and get no answer, but NAWS agreed still
		// sends the size.
		name: "inetutils telnetd after Start",
		cfg:  stdConfig,
		steps: []negStep{
			{act: start, reply: startMsgs},
			{
				in: cat(IAC, DO, OptAuth, IAC, DO, OptTTYPE, IAC, DO, OptTSpeed, IAC, DO, OptXDispLoc,
					IAC, DO, OptNewEnviron, IAC, DO, OptOldEnviron),
				reply: cat(IAC, WONT, OptAuth, IAC, WONT, OptTSpeed, IAC, WONT, OptXDispLoc,
					IAC, WONT, OptNewEnviron, IAC, WONT, OptOldEnviron),
			},
			{in: ttypeSend, reply: ttypeIs("XTERM-256COLOR")},
			{
				in: cat(IAC, WILL, OptEcho, IAC, WILL, OptSGA, IAC, DO, OptNAWS, IAC, DO, OptLFlow,
					IAC, DO, OptEcho, IAC, WILL, OptStatus, "\r\nhost login: "),
				data: "\r\nhost login: ",
				reply: cat(IAC, DO, OptEcho, nawsSB("\x00\x78", "\x00\x28"),
					IAC, WONT, OptLFlow, IAC, WONT, OptEcho, IAC, DONT, OptStatus),
				check: checks(checkEcho(true), checkEnabled([]byte{OptTTYPE, OptNAWS}, []byte{OptEcho, OptSGA})),
			},
			{act: resize(132, 43), reply: nawsSB("\x00\x84", "\x00\x2b")},
		},
	},
	{
		name: "MUD password prompt",
		cfg:  stdConfig,
		steps: []negStep{
			{in: cat("By what name do you wish to be known? ", IAC, GA), data: "By what name do you wish to be known? ", check: checkEcho(false)},
			{in: cat("Password: ", IAC, WILL, OptEcho), data: "Password: ", reply: cat(IAC, DO, OptEcho), check: checkEcho(true)},
			{in: cat(IAC, WONT, OptEcho, "\r\nWelcome back!\r\n"), data: "\r\nWelcome back!\r\n", reply: cat(IAC, DONT, OptEcho), check: checkEcho(false)},
			{in: cat("Password: ", IAC, WILL, OptEcho), data: "Password: ", reply: cat(IAC, DO, OptEcho), check: checkEcho(true)},
			// A second WONT is already in force: no answer.
			{in: cat(IAC, WONT, OptEcho, IAC, WONT, OptEcho), reply: cat(IAC, DONT, OptEcho), check: checkEcho(false)},
		},
	},
	{
		name: "repeated requests do not loop",
		cfg:  stdConfig,
		steps: []negStep{
			{in: cat(IAC, WILL, OptEcho, IAC, WILL, OptEcho, IAC, WILL, OptEcho), reply: cat(IAC, DO, OptEcho)},
			{in: cat(IAC, DO, OptNAWS, IAC, DO, OptNAWS), reply: cat(IAC, WILL, OptNAWS, nawsSB("\x00\x78", "\x00\x28"))},
			{in: cat(IAC, DO, OptSGA, IAC, DO, OptSGA), reply: cat(IAC, WILL, OptSGA)},
			// Refusals are stateless (NO stays NO): each request gets one.
			{in: cat(IAC, WILL, OptStatus, IAC, WILL, OptStatus), reply: cat(IAC, DONT, OptStatus, IAC, DONT, OptStatus)},
			// Confirming what is already off is never answered.
			{in: cat(IAC, WONT, OptStatus, IAC, DONT, OptTSpeed, IAC, WONT, OptBinary, IAC, DONT, OptBinary)},
			{check: checkEnabled([]byte{OptNAWS, OptSGA}, []byte{OptEcho})},
		},
	},
	{
		name: "Start then acknowledgements",
		cfg:  Config{TerminalTypes: []string{"XTERM-256COLOR"}},
		steps: []negStep{
			{act: start, reply: startMsgs, check: checkEnabled(nil, nil)},
			{in: cat(IAC, WILL, OptSGA, IAC, DO, OptTTYPE, IAC, DO, OptNAWS), check: checkEnabled([]byte{OptTTYPE, OptNAWS}, []byte{OptSGA})},
			{act: start},
			{in: cat(IAC, DO, OptNAWS, IAC, WILL, OptSGA, IAC, DO, OptTTYPE)},
			{act: resize(80, 24), reply: nawsSB("\x00\x50", "\x00\x18")},
			{in: ttypeSend, reply: ttypeIs("XTERM-256COLOR")},
		},
	},
	{
		name: "server refuses our requests",
		cfg:  stdConfig,
		steps: []negStep{
			{act: start, reply: startMsgs},
			{in: cat(IAC, DONT, OptNAWS, IAC, WONT, OptSGA, IAC, DONT, OptTTYPE, "$ "), data: "$ ", check: checkEnabled(nil, nil)},
			{act: resize(100, 30)},
			{in: ttypeSend},
			// The server may change its mind later; the new size goes out.
			{in: cat(IAC, DO, OptNAWS), reply: cat(IAC, WILL, OptNAWS, nawsSB("\x00\x64", "\x00\x1e"))},
		},
	},
	{
		name: "TTYPE cycles, last repeats",
		cfg:  Config{TerminalTypes: []string{"XTERM-256COLOR", "XTERM", "VT100"}},
		steps: []negStep{
			{in: ttypeSend}, // not agreed yet
			{in: cat(IAC, DO, OptTTYPE), reply: cat(IAC, WILL, OptTTYPE)},
			{in: ttypeSend + ttypeSend + ttypeSend + ttypeSend,
				reply: ttypeIs("XTERM-256COLOR") + ttypeIs("XTERM") + ttypeIs("VT100") + ttypeIs("VT100")},
			{in: ttypeSend, reply: ttypeIs("VT100")},
			// Disabling and re-enabling restarts the list.
			{in: cat(IAC, DONT, OptTTYPE), reply: cat(IAC, WONT, OptTTYPE)},
			{in: ttypeSend},
			{in: cat(IAC, DO, OptTTYPE) + ttypeSend + ttypeSend,
				reply: cat(IAC, WILL, OptTTYPE) + ttypeIs("XTERM-256COLOR") + ttypeIs("XTERM")},
		},
	},
	{
		name: "TTYPE refused without terminal types",
		cfg:  Config{Width: 80, Height: 24},
		steps: []negStep{
			{act: start, reply: cat(IAC, DO, OptSGA, IAC, WILL, OptNAWS)},
			{in: cat(IAC, DO, OptTTYPE), reply: cat(IAC, WONT, OptTTYPE)},
			{in: ttypeSend},
		},
	},
	{
		name: "TTYPE malformed subnegotiations",
		cfg:  stdConfig,
		steps: []negStep{
			{in: cat(IAC, DO, OptTTYPE), reply: cat(IAC, WILL, OptTTYPE)},
			{in: cat(IAC, SB, OptTTYPE, ttypeSEND, "x", IAC, SE, "a"), data: "a"},
			{in: cat(IAC, SB, OptTTYPE, ttypeIS, "VT100", IAC, SE, "b"), data: "b"},
			{in: cat(IAC, SB, OptTTYPE, IAC, IAC, IAC, SE)},
			{in: cat(IAC, SB, OptTTYPE, IAC, SE)},
			{in: cat(IAC, SB, IAC, SE)},
			// Lost SE: the subnegotiation ends and is not answered.
			{in: cat(IAC, SB, OptTTYPE, ttypeSEND, IAC, NOP, "data"), data: "data"},
			{in: cat(IAC, SB, OptTTYPE, ttypeSEND, IAC, WILL, OptEcho, "x"), data: "x", reply: cat(IAC, DO, OptEcho)},
			{in: ttypeSend, reply: ttypeIs("XTERM-256COLOR")},
		},
	},
	{
		name: "NAWS escapes 255",
		cfg:  Config{Width: 255, Height: 511},
		steps: []negStep{
			{in: cat(IAC, DO, OptNAWS), reply: cat(IAC, WILL, OptNAWS, nawsSB("\x00\xff\xff", "\x01\xff\xff"))},
			{act: resize(65535, 70000), reply: nawsSB("\xff\xff\xff\xff", "\xff\xff\xff\xff")},
			{act: resize(0xFF00, 0x00FF), reply: nawsSB("\xff\xff\x00", "\x00\xff\xff")},
			{act: resize(0, 24)},
			{act: resize(80, 0)},
			{act: resize(-1, 24)},
			{act: resize(80, 24), reply: nawsSB("\x00\x50", "\x00\x18")},
		},
	},
	{
		name: "NAWS size unknown until resized",
		cfg:  Config{},
		steps: []negStep{
			{in: cat(IAC, DO, OptNAWS), reply: cat(IAC, WILL, OptNAWS)},
			{act: resize(80, 24), reply: nawsSB("\x00\x50", "\x00\x18")},
			{in: cat(IAC, DONT, OptNAWS), reply: cat(IAC, WONT, OptNAWS)},
			{act: resize(90, 30)},
			{in: cat(IAC, DO, OptNAWS), reply: cat(IAC, WILL, OptNAWS, nawsSB("\x00\x5a", "\x00\x1e"))},
		},
	},
	{
		// inetutils telnetd asks for our BINARY after the terminal
		// options; agreeing turns the end of line into a lone CR.
		name: "BINARY both ways, line ends",
		cfg:  stdConfig,
		steps: []negStep{
			{in: cat(IAC, DO, OptBinary), reply: cat(IAC, WILL, OptBinary),
				check: checks(checkEncode("a\r\n\r", "a\r\n\r") /* no echo: as sent */, checkEnabled([]byte{OptBinary}, nil))},
			{in: cat(IAC, WILL, OptBinary), reply: cat(IAC, DO, OptBinary),
				check: checkEnabled([]byte{OptBinary}, []byte{OptBinary})},
		},
	},
	{
		name: "BINARY changes CR handling",
		cfg:  stdConfig,
		steps: []negStep{
			{in: "a\r\x00b", data: "a\rb", check: checkEncode("x\ry\r", "x\r\x00y\r\x00")},
			// The peer's output becomes raw; ours is still NVT.
			{in: cat(IAC, WILL, OptBinary), reply: cat(IAC, DO, OptBinary), check: checkEncode("x\r", "x\r\x00")},
			{in: "a\r\x00b\r", data: "a\r\x00b\r"},
			{in: "\x00", data: "\x00"},
			{in: cat("\xfe", IAC, IAC, "\r\n"), data: "\xfe\xff\r\n"},
			// Our output becomes raw too.
			{in: cat(IAC, DO, OptBinary), reply: cat(IAC, WILL, OptBinary),
				check: checks(checkEncode("a\rb\xff\r\n", "a\rb\xff\xff\r\n") /* no echo: as sent */, checkEnabled([]byte{OptBinary}, []byte{OptBinary}))},
			{in: cat(IAC, WONT, OptBinary, IAC, DONT, OptBinary), reply: cat(IAC, DONT, OptBinary, IAC, WONT, OptBinary),
				check: checkEncode("\r", "\r\x00")},
			{in: "c\r\x00d", data: "c\rd"},
			// A CR just before BINARY goes on does not eat the raw NUL after it.
			{in: cat("\r", IAC, WILL, OptBinary, "\x00"), data: "\r\x00", reply: cat(IAC, DO, OptBinary)},
		},
	},
	{
		name: "subnegotiation over the bound",
		cfg:  stdConfig,
		steps: []negStep{
			{in: cat(IAC, DO, OptTTYPE), reply: cat(IAC, WILL, OptTTYPE)},
			{in: cat("<", IAC, SB, OptTTYPE, ttypeSEND, strings.Repeat("x", 300), IAC, SE, ">"), data: "<>"},
			{in: cat(IAC, SB, OptTTYPE, ttypeSEND, strings.Repeat("\xff\xff", 300), IAC, SE)},
			{in: cat(IAC, SB, OptTTYPE, strings.Repeat("y", 1000)),
				check: func(t *testing.T, d *Decoder) {
					if d.sbKeep || len(d.sb) > sbMax {
						t.Errorf("after 1001 bytes of subnegotiation: sbKeep %v, sbLen %d", d.sbKeep, len(d.sb))
					}
				}},
			{in: cat(IAC, SE, "ok"), data: "ok"},
			{in: ttypeSend, reply: ttypeIs("XTERM-256COLOR")},
		},
	},
	{
		name: "subnegotiations for other options dropped",
		cfg:  stdConfig,
		steps: []negStep{
			{in: cat(IAC, DO, OptTTYPE, IAC, DO, OptNewEnviron), reply: cat(IAC, WILL, OptTTYPE, IAC, WONT, OptNewEnviron)},
			{in: cat(IAC, SB, OptNewEnviron, ttypeSEND, byte(0), "USER"),
				check: func(t *testing.T, d *Decoder) {
					if d.sbKeep || len(d.sb) != 0 {
						t.Errorf("NEW-ENVIRON subnegotiation buffered: sbKeep %v, sbLen %d", d.sbKeep, len(d.sb))
					}
				}},
			{in: cat(IAC, SE, "a", IAC, SB, OptStatus, ttypeSEND, IAC, SE, "b"), data: "ab"},
			{in: cat(IAC, SB, OptNAWS, "\x00\x50\x00\x18", IAC, SE)},
			{in: cat(IAC, SB, OptEcho, ttypeSEND, IAC, SE)},
		},
	},
	{
		// The zero Decoder behaves as in v1 whatever it is asked.
		name: "zero Decoder refuses everything",
		zero: true,
		steps: []negStep{
			{act: start},
			{act: resize(80, 24)},
			{in: cat(IAC, WILL, OptEcho, IAC, DO, OptNAWS, IAC, DO, OptTTYPE, IAC, WILL, OptBinary, IAC, WILL, OptSGA),
				reply: cat(IAC, DONT, OptEcho, IAC, WONT, OptNAWS, IAC, WONT, OptTTYPE, IAC, DONT, OptBinary, IAC, DONT, OptSGA),
				check: checks(checkEcho(false), checkEnabled(nil, nil))},
			{in: cat(IAC, WONT, OptEcho, IAC, DONT, OptNAWS)},
			{in: ttypeSend, check: func(t *testing.T, d *Decoder) {
				if len(d.sb) != 0 {
					t.Errorf("zero Decoder buffered a subnegotiation")
				}
			}},
			{in: "a\r\x00b", data: "a\rb"},
		},
	},
}

// runNeg runs the steps of c, feeding the input of step i in the chunks
// split(i, in) returns, and checks every expectation.
func runNeg(t *testing.T, what string, c negCase, split func(step int, in []byte) [][]byte, inPlace bool) {
	t.Helper()
	d := new(Decoder)
	if !c.zero {
		d = NewDecoder(c.cfg)
	}
	for i, s := range c.steps {
		var data, reply []byte
		if s.act != nil {
			reply = s.act(d, nil)
		} else {
			for _, chunk := range split(i, []byte(s.in)) {
				var got []byte
				if inPlace {
					buf := bytes.Clone(chunk)
					got, reply = d.Decode(buf[:0], reply, buf)
				} else {
					got, reply = d.Decode(nil, reply, chunk)
				}
				if len(got) > len(chunk) {
					t.Fatalf("%s: step %d: %d data bytes from %d input bytes", what, i, len(got), len(chunk))
				}
				data = append(data, got...)
			}
		}
		if string(data) != s.data {
			t.Errorf("%s: step %d: data = %q, want %q", what, i, data, s.data)
		}
		if string(reply) != s.reply {
			t.Errorf("%s: step %d: reply = %s\n want %s", what, i, describe(reply), describe([]byte(s.reply)))
		}
		if s.check != nil {
			s.check(t, d)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

func whole(_ int, in []byte) [][]byte { return [][]byte{in} }

func TestNegotiate(t *testing.T) {
	for _, c := range negCases {
		t.Run(c.name, func(t *testing.T) {
			runNeg(t, "one shot", c, whole, false)
			runNeg(t, "in place", c, whole, true)
		})
	}
}

func TestNegotiateSplit(t *testing.T) {
	for _, c := range negCases {
		t.Run(c.name, func(t *testing.T) {
			for i, s := range c.steps {
				for k := 0; k <= len(s.in); k++ {
					split := func(j int, in []byte) [][]byte {
						if j != i {
							return [][]byte{in}
						}
						return [][]byte{in[:k], in[k:]}
					}
					runNeg(t, fmt.Sprintf("step %d split at %d", i, k), c, split, false)
				}
			}
			byByte := func(_ int, in []byte) [][]byte {
				chunks := make([][]byte, len(in))
				for i := range in {
					chunks[i] = in[i : i+1]
				}
				return chunks
			}
			runNeg(t, "byte by byte", c, byByte, false)
			runNeg(t, "byte by byte in place", c, byByte, true)
		})
	}
}

// TestQMethod checks every transition of RFC 1143 section 7, for both sides,
// against the RFC's table transcribed here independently of the code.
func TestQMethod(t *testing.T) {
	const (
		recvYes = iota // WILL (Remote) or DO (Local)
		recvNo         // WONT or DONT
		askYes         // we decide to ask for the option
		askNo          // we decide to ask to disable it
	)
	const none, pos, neg = 0, 1, 2
	const (
		NO       = qNo
		YES      = qYes
		WANTNO   = qWantNo
		WANTYES  = qWantYes
		WANTNO_  = qWantNo | qOpposite
		WANTYES_ = qWantYes | qOpposite
	)
	tests := []struct {
		from   qstate
		event  int
		accept bool
		to     qstate
		send   int
	}{
		{NO, recvYes, true, YES, pos},
		{NO, recvYes, false, NO, neg},
		{YES, recvYes, true, YES, none},
		{WANTNO, recvYes, true, NO, none}, // error: DONT answered by WILL
		{WANTNO_, recvYes, true, YES, none},
		{WANTYES, recvYes, true, YES, none},
		{WANTYES_, recvYes, true, WANTNO, neg},

		{NO, recvNo, true, NO, none},
		{YES, recvNo, true, NO, neg},
		{WANTNO, recvNo, true, NO, none},
		{WANTNO_, recvNo, true, WANTYES, pos},
		{WANTYES, recvNo, true, NO, none},
		{WANTYES_, recvNo, true, NO, none},

		{NO, askYes, true, WANTYES, pos},
		{YES, askYes, true, YES, none},
		{WANTNO, askYes, true, WANTNO_, none},
		{WANTNO_, askYes, true, WANTNO_, none},
		{WANTYES, askYes, true, WANTYES, none},
		{WANTYES_, askYes, true, WANTYES, none},

		{NO, askNo, true, NO, none},
		{YES, askNo, true, WANTNO, neg},
		{WANTNO, askNo, true, WANTNO, none},
		{WANTNO_, askNo, true, WANTNO, none},
		{WANTYES, askNo, true, WANTYES_, none},
		{WANTYES_, askNo, true, WANTYES_, none},
	}
	for _, side := range []Side{Local, Remote} {
		msgs := map[Side][3]byte{Local: {0, WILL, WONT}, Remote: {0, DO, DONT}}[side]
		in := map[Side][2]byte{Local: {DO, DONT}, Remote: {WILL, WONT}}[side]
		for _, tt := range tests {
			// SGA is accepted on both sides and has no side effects;
			// STATUS is refused on both.
			opt := OptSGA
			if !tt.accept {
				opt = OptStatus
			}
			d := NewDecoder(Config{})
			(*d.qstate(side, opt)) = tt.from
			var reply []byte
			switch tt.event {
			case recvYes:
				reply = d.receive(nil, in[0], opt)
			case recvNo:
				reply = d.receive(nil, in[1], opt)
			case askYes:
				reply = d.request(nil, side, opt, true)
			case askNo:
				reply = d.request(nil, side, opt, false)
			}
			var want []byte
			if tt.send != none {
				want = []byte{IAC, msgs[tt.send], opt}
			}
			name := fmt.Sprintf("side %v, state %d, event %d, accept %v", side, tt.from, tt.event, tt.accept)
			if (*d.qstate(side, opt)) != tt.to {
				t.Errorf("%s: state %d, want %d", name, (*d.qstate(side, opt)), tt.to)
			}
			if !bytes.Equal(reply, want) {
				t.Errorf("%s: sent %s, want %s", name, describe(reply), describe(want))
			}
			other := Remote + Local - side
			if (*d.qstate(other, opt)) != qNo {
				t.Errorf("%s: other side changed to %d", name, (*d.qstate(other, opt)))
			}
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name   string
		binary bool
		in     string
		want   string
	}{
		{"empty", false, "", ""},
		{"plain", false, "ls -l", "ls -l"},
		{"CR LF", false, "a\r\nb\r\n", "a\r\nb\r\n"},
		{"lone CR", false, "a\rb", "a\r\x00b"},
		{"CR at end", false, "abc\r", "abc\r\x00"},
		{"only CR", false, "\r", "\r\x00"},
		{"CR CR LF", false, "\r\r\n", "\r\x00\r\n"},
		{"CR NUL", false, "\r\x00", "\r\x00\x00"},
		{"LF alone", false, "a\nb", "a\nb"},
		{"0xFF", false, "\xff", "\xff\xff"},
		{"0xFF around CR", false, "\xff\r\xff\r\n\xff", "\xff\xff\r\x00\xff\xff\r\n\xff\xff"},
		{"high bytes", false, "\xfe\xf0\x80é", "\xfe\xf0\x80é"},
		{"binary empty", true, "", ""},
		{"binary CR", true, "a\rb\r", "a\rb\r"},
		{"binary CR LF", true, "a\r\n", "a\r"},
		{"binary lines", true, "ls\r\ncd /\r\n", "ls\rcd /\r"},
		{"binary LF alone", true, "a\nb\n", "a\nb\n"},
		{"binary LF CR", true, "\n\r", "\n\r"},
		{"binary CR CR LF", true, "\r\r\n", "\r\r"},
		{"binary CR LF LF", true, "\r\n\n", "\r\n"},
		{"binary CR NUL", true, "\r\x00", "\r\x00"},
		{"binary 0xFF", true, "\xff\r\xff", "\xff\xff\r\xff\xff"},
		{"binary 0xFF CR LF", true, "\xff\r\n\xff", "\xff\xff\r\xff\xff"},
		{"binary high bytes", true, "é日\xe9\x82\xb0\xdf\r\n", "é日\xe9\x82\xb0\xdf\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(stdConfig)
			if tt.binary {
				// A host that echoes, as a Unix telnetd does.
				d.Decode(nil, nil, []byte{IAC, DO, OptBinary, IAC, WILL, OptEcho})
			}
			if got := d.Encode(nil, []byte(tt.in)); string(got) != tt.want {
				t.Errorf("Encode(%q) = %q, want %q", tt.in, got, tt.want)
			}
			d.Encode(nil, []byte("x")) // forget a CR at the end
			if got := d.Encode([]byte("pre"), []byte(tt.in)); string(got) != "pre"+tt.want {
				t.Errorf("Encode appending: got %q, want %q", got, "pre"+tt.want)
			}
		})
	}
}

// TestEncodeAcrossCalls: in BINARY mode a CR LF split between two messages
// is one end of line, whatever lies between; outside it nothing carries over.
func TestEncodeAcrossCalls(t *testing.T) {
	tests := []struct {
		name   string
		binary bool
		in     []string
		want   string
	}{
		{"CR then LF", true, []string{"a\r", "\nb"}, "a\rb"},
		{"CR then lone LF", true, []string{"a\r", "\n", "\n"}, "a\r\n"},
		{"CR, empty, LF", true, []string{"a\r", "", "\nb"}, "a\rb"},
		{"CR LF then LF", true, []string{"a\r\n", "\nb"}, "a\r\nb"},
		{"CR then CR LF", true, []string{"\r", "\r\n"}, "\r\r"},
		{"CR then x LF", true, []string{"\r", "x\n"}, "\rx\n"},
		{"keys", true, []string{"l", "s", "\r", "é", "\r"}, "ls\ré\r"},
		{"NVT CR then LF", false, []string{"a\r", "\nb"}, "a\r\x00\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(stdConfig)
			if tt.binary {
				d.Decode(nil, nil, []byte{IAC, DO, OptBinary, IAC, WILL, OptEcho})
			}
			var got []byte
			for _, m := range tt.in {
				got = d.Encode(got, []byte(m))
			}
			if string(got) != tt.want {
				t.Errorf("Encode of %q = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Leaving BINARY forgets the CR.
	d := NewDecoder(stdConfig)
	d.Decode(nil, nil, []byte{IAC, DO, OptBinary, IAC, WILL, OptEcho})
	d.Encode(nil, []byte("a\r"))
	d.Decode(nil, nil, []byte{IAC, DONT, OptBinary})
	d.Encode(nil, []byte("b"))
	d.Decode(nil, nil, []byte{IAC, DO, OptBinary})
	if got := d.Encode(nil, []byte("\nc")); string(got) != "\nc" {
		t.Errorf("after BINARY off and on: %q", got)
	}
}

func TestBreak(t *testing.T) {
	if got := Break([]byte("x")); string(got) != "x\xff\xf3" {
		t.Errorf("Break = %q", got)
	}
}

func TestSeenCommand(t *testing.T) {
	tests := []struct {
		in   string
		seen bool
	}{
		{"plain text\r\n", false},
		{cat("a", IAC, IAC, "b"), false},
		{cat("a", IAC), false},
		{cat("a", IAC, NOP), true},
		{cat(IAC, GA), true},
		{cat(IAC, WILL, OptEcho), true},
		{cat(IAC, SB), true},
	}
	for _, tt := range tests {
		for _, d := range []*Decoder{new(Decoder), NewDecoder(stdConfig)} {
			d.Decode(nil, nil, []byte(tt.in))
			if d.SeenCommand() != tt.seen {
				t.Errorf("after %q: SeenCommand() = %v, want %v", tt.in, d.SeenCommand(), tt.seen)
			}
		}
	}
}

// TestNewDecoderCopiesConfig makes sure the caller may reuse its slice.
func TestNewDecoderCopiesConfig(t *testing.T) {
	types := []string{"XTERM"}
	d := NewDecoder(Config{TerminalTypes: types})
	types[0] = "CHANGED"
	_, reply := d.Decode(nil, nil, []byte(cat(IAC, DO, OptTTYPE)+ttypeSend))
	if want := cat(IAC, WILL, OptTTYPE) + ttypeIs("XTERM"); string(reply) != want {
		t.Errorf("reply = %s, want %s", describe(reply), describe([]byte(want)))
	}
}

func TestNegotiateNoAlloc(t *testing.T) {
	var in []byte
	for _, c := range negCases {
		for _, s := range c.steps {
			in = append(in, s.in...)
		}
		in = append(in, IAC, SE)
	}
	for _, c := range decodeCases {
		in = append(in, c.in...)
		in = append(in, IAC, SE)
	}
	dst := make([]byte, 0, len(in))
	reply := make([]byte, 0, 8*len(in))
	d := NewDecoder(Config{TerminalTypes: []string{"XTERM-256COLOR", "XTERM"}, Width: 80, Height: 24})
	allocs := testing.AllocsPerRun(100, func() {
		r := d.Start(reply[:0])
		_, r = d.Decode(dst[:0], r, in)
		d.SetWindowSize(r, 100, 255)
		d.Encode(dst[:0], in[:len(in)/3])
	})
	if allocs != 0 {
		t.Errorf("negotiating Decoder allocated %v times per run, want 0", allocs)
	}
}

// --- Helpers: describing and parsing telnet byte strings -----------------

var cmdNames = map[byte]string{
	SE: "SE", NOP: "NOP", DM: "DM", BRK: "BRK", IP: "IP", AO: "AO", AYT: "AYT", EC: "EC", EL: "EL",
	GA: "GA", SB: "SB", WILL: "WILL", WONT: "WONT", DO: "DO", DONT: "DONT", IAC: "IAC",
}

var optNames = map[byte]string{
	OptBinary: "BINARY", OptEcho: "ECHO", OptSGA: "SGA", OptStatus: "STATUS", OptTimingMark: "TIMING-MARK",
	OptTTYPE: "TTYPE", OptNAWS: "NAWS", OptTSpeed: "TSPEED", OptLFlow: "LFLOW", OptLinemode: "LINEMODE",
	OptXDispLoc: "XDISPLOC", OptOldEnviron: "OLD-ENVIRON", OptAuth: "AUTHENTICATION", OptNewEnviron: "NEW-ENVIRON",
}

func optName(o byte) string {
	if n, ok := optNames[o]; ok {
		return n
	}
	return fmt.Sprint(o)
}

// describe renders b with commands and options by name, for failure messages:
// "IAC DO TTYPE IAC SB TTYPE "\x00XTERM" IAC SE".
func describe(b []byte) string {
	if len(b) == 0 {
		return `""`
	}
	var out []string
	var data []byte
	flush := func() {
		if len(data) > 0 {
			out = append(out, fmt.Sprintf("%q", data))
			data = nil
		}
	}
	for i := 0; i < len(b); i++ {
		if b[i] != IAC || i+1 == len(b) {
			data = append(data, b[i])
			continue
		}
		flush()
		i++
		c := b[i]
		if n, ok := cmdNames[c]; ok {
			out = append(out, "IAC "+n)
		} else {
			out = append(out, fmt.Sprintf("IAC %d", c))
		}
		if (c >= WILL || c == SB) && c != IAC && i+1 < len(b) {
			i++
			out = append(out, optName(b[i]))
		}
	}
	flush()
	return strings.Join(out, " ")
}

// message is one parsed telnet message sent by the Decoder: a negotiation
// (verb, opt) or a subnegotiation (verb SB, opt, unescaped payload).
type message struct {
	verb, opt byte
	payload   []byte
}

// parseReplies splits what the Decoder asked us to send into messages and
// checks it is well formed: only IAC WILL/WONT/DO/DONT opt triples and
// complete IAC SB ... IAC SE subnegotiations of the kinds we produce (TTYPE
// IS <name> and NAWS with four size bytes), with every 255 in them doubled.
func parseReplies(b []byte, types []string) ([]message, error) {
	var msgs []message
	for len(b) > 0 {
		if len(b) < 3 || b[0] != IAC {
			return nil, fmt.Errorf("not a command at %q", b)
		}
		switch b[1] {
		case WILL, WONT, DO, DONT:
			msgs = append(msgs, message{verb: b[1], opt: b[2]})
			b = b[3:]
		case SB:
			m := message{verb: SB, opt: b[2]}
			b = b[3:]
			for {
				if len(b) == 0 {
					return nil, errors.New("unterminated subnegotiation")
				}
				if b[0] != IAC {
					m.payload = append(m.payload, b[0])
					b = b[1:]
					continue
				}
				if len(b) < 2 {
					return nil, errors.New("subnegotiation ends in IAC")
				}
				if b[1] == SE {
					b = b[2:]
					break
				}
				if b[1] != IAC {
					return nil, fmt.Errorf("IAC %d inside subnegotiation", b[1])
				}
				m.payload = append(m.payload, IAC)
				b = b[2:]
			}
			switch {
			case m.opt == OptNAWS && len(m.payload) == 4:
				w, h := int(m.payload[0])<<8|int(m.payload[1]), int(m.payload[2])<<8|int(m.payload[3])
				if w == 0 || h == 0 {
					return nil, fmt.Errorf("NAWS with unknown size %dx%d", w, h)
				}
			case m.opt == OptTTYPE && len(m.payload) > 1 && m.payload[0] == ttypeIS:
				found := false
				for _, t := range types {
					found = found || t == string(m.payload[1:])
				}
				if !found {
					return nil, fmt.Errorf("TTYPE IS %q not configured", m.payload[1:])
				}
			default:
				return nil, fmt.Errorf("unexpected subnegotiation %s %q", optName(m.opt), m.payload)
			}
			msgs = append(msgs, m)
		default:
			return nil, fmt.Errorf("unexpected command %d", b[1])
		}
	}
	return msgs, nil
}

// --- A simulated RFC 1143 server --------------------------------------------

// peerOpt is one option's state in qpeer, kept apart from the Decoder's own
// encoding so that the two implementations cannot share a mistake.
type peerOpt struct {
	state    string // "NO", "YES", "WANTNO", "WANTYES"; "" is NO
	opposite bool
}

func (o *peerOpt) is(s string) bool { return o.state == s || (s == "NO" && o.state == "") }

// qpeer is a telnet server that follows RFC 1143 to the letter. Its "us"
// options are what it performs (our Remote side), its "him" options what it
// asks of us (our Local side).
type qpeer struct {
	us, him          [256]peerOpt
	acceptUs, accHim [256]bool
}

// receive handles one message from the client and returns the answer.
func (p *qpeer) receive(m message) []byte {
	if m.verb == SB {
		return nil // TTYPE IS, NAWS: information only
	}
	o, yes, no, accept := &p.him[m.opt], DO, DONT, p.accHim[m.opt]
	if m.verb == DO || m.verb == DONT {
		o, yes, no, accept = &p.us[m.opt], WILL, WONT, p.acceptUs[m.opt]
	}
	send := func(v byte) []byte { return []byte{IAC, v, m.opt} }
	if m.verb == WILL || m.verb == DO {
		switch {
		case o.is("NO"):
			if accept {
				o.state = "YES"
				return send(yes)
			}
			return send(no)
		case o.is("YES"):
		case o.is("WANTNO") && !o.opposite:
			o.state = "NO"
		case o.is("WANTNO"):
			o.state, o.opposite = "YES", false
		case o.is("WANTYES") && !o.opposite:
			o.state = "YES"
		case o.is("WANTYES"):
			o.state, o.opposite = "WANTNO", false
			return send(no)
		}
		return nil
	}
	switch {
	case o.is("NO"):
	case o.is("YES"):
		o.state = "NO"
		return send(no)
	case o.is("WANTNO") && !o.opposite:
		o.state = "NO"
	case o.is("WANTNO"):
		o.state, o.opposite = "WANTYES", false
		return send(yes)
	case o.is("WANTYES"):
		o.state, o.opposite = "NO", false
	}
	return nil
}

// ask is the server deciding to enable or disable an option on its side
// (us) or ours (him).
func (p *qpeer) ask(us bool, opt byte, enable bool) []byte {
	o, yes, no := &p.him[opt], DO, DONT
	if us {
		o, yes, no = &p.us[opt], WILL, WONT
	}
	switch {
	case enable && o.is("NO"):
		o.state = "WANTYES"
		return []byte{IAC, yes, opt}
	case enable && o.is("WANTNO"):
		o.opposite = true
	case enable && o.is("WANTYES"):
		o.opposite = false
	case !enable && o.is("YES"):
		o.state = "WANTNO"
		return []byte{IAC, no, opt}
	case !enable && o.is("WANTNO"):
		o.opposite = false
	case !enable && o.is("WANTYES"):
		o.opposite = true
	}
	return nil
}

// deliver parses the client's bytes and returns the server's answers.
func (p *qpeer) deliver(t *testing.T, b []byte, types []string) []byte {
	t.Helper()
	msgs, err := parseReplies(b, types)
	if err != nil {
		t.Fatalf("malformed client output %s: %v", describe(b), err)
	}
	var out []byte
	for _, m := range msgs {
		out = append(out, p.receive(m)...)
	}
	return out
}

// --- Fuzzing ---------------------------------------------------------------

var fuzzTypes = []string{"XTERM-256COLOR", "XTERM", "VT100"}

// fuzzChunks cuts in at up to four pseudo-random places chosen by r.
func fuzzChunks(r *rand.Rand, in []byte) [][]byte {
	cuts := []int{0, len(in)}
	for range r.IntN(5) {
		cuts = append(cuts, r.IntN(len(in)+1))
	}
	for i := range cuts { // tiny insertion sort
		for j := i; j > 0 && cuts[j] < cuts[j-1]; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	var chunks [][]byte
	for i := 1; i < len(cuts); i++ {
		chunks = append(chunks, in[cuts[i-1]:cuts[i]])
	}
	return chunks
}

func FuzzNegotiate(f *testing.F) {
	for i, c := range negCases {
		var in []byte
		for _, s := range c.steps {
			in = append(in, s.in...)
		}
		f.Add(in, uint64(i))
	}
	for i, c := range decodeCases {
		f.Add([]byte(c.in), uint64(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 0x7e1e7))
		cfg := Config{TerminalTypes: fuzzTypes[:r.IntN(len(fuzzTypes)+1)], Width: r.IntN(300), Height: r.IntN(300)}
		started := r.IntN(2) == 0
		fresh := func() (*Decoder, []byte) {
			d := NewDecoder(cfg)
			if started {
				return d, d.Start(nil)
			}
			return d, nil
		}

		d, reply := fresh()
		data, reply := d.Decode(nil, reply, in)
		if len(data) > len(in) {
			t.Fatalf("data longer than input: %d > %d", len(data), len(in))
		}

		sd, sreply := fresh()
		var sdata []byte
		for _, c := range fuzzChunks(r, in) {
			n := len(sdata)
			sdata, sreply = sd.Decode(sdata, sreply, c)
			if len(sdata)-n > len(c) {
				t.Fatalf("chunk %q gave %d data bytes", c, len(sdata)-n)
			}
		}
		if !bytes.Equal(sdata, data) || !bytes.Equal(sreply, reply) {
			t.Fatalf("split gave (%q, %s), one shot (%q, %s)", sdata, describe(sreply), data, describe(reply))
		}

		ad, areply := fresh()
		buf := bytes.Clone(in)
		adata, areply := ad.Decode(buf[:0], areply, buf)
		if !bytes.Equal(adata, data) || !bytes.Equal(areply, reply) {
			t.Fatalf("in place gave (%q, %s), want (%q, %s)", adata, describe(areply), data, describe(reply))
		}

		if _, err := parseReplies(reply, cfg.TerminalTypes); err != nil {
			t.Fatalf("malformed reply %s: %v", describe(reply), err)
		}

		// Loop check. Random input is not what a conforming server sends,
		// so its replies cannot simply be bounced off one: a burst such as
		// WILL ECHO, WONT ECHO, WILL ECHO, WONT ECHO is answered DO, DONT,
		// DO, DONT, which a fresh RFC 1143 peer answers WILL, WONT, WILL,
		// WONT, and so on forever, both sides conforming (RFC 1143 assumes
		// at most one request per option in flight). What must hold is that
		// whatever state the garbage left us in, once the server behaves
		// the negotiation settles: so start a conforming server that agrees
		// with our state (with our pending requests in flight to it) and
		// let both sides negotiate at random.
		finish(d)
		c := &conversation{t: t, d: d, types: cfg.TerminalTypes, p: syncedPeer(d, r)}
		for o := range 256 {
			for _, s := range []Side{Local, Remote} {
				switch (*d.qstate(s, byte(o))) &^ qOpposite {
				case qWantYes:
					c.toPeer = append(c.toPeer, IAC, verb(s, true), byte(o))
				case qWantNo:
					c.toPeer = append(c.toPeer, IAC, verb(s, false), byte(o))
				}
			}
		}
		for range 40 {
			c.step(byte(r.Uint32()), byte(r.Uint32()))
		}
		c.settle()
	})
}

// finish completes a command or subnegotiation that in may have ended in
// the middle of, so that what follows is read from a clean state. Option 200
// is never enabled, so answering it changes nothing.
func finish(d *Decoder) {
	switch d.state {
	case stateIAC:
		d.Decode(nil, nil, []byte{NOP})
	case stateOpt:
		d.Decode(nil, nil, []byte{200})
	case stateSB:
		d.Decode(nil, nil, []byte{IAC, SE})
	case stateSBIAC:
		d.Decode(nil, nil, []byte{SE})
	}
}

// syncedPeer returns a conforming server that agrees with d on every
// option (where d is waiting for an answer, the server is still in the
// state d asked to leave), with a random acceptance policy.
func syncedPeer(d *Decoder, r *rand.Rand) *qpeer {
	p := &qpeer{}
	for o := range 256 {
		p.acceptUs[o], p.accHim[o] = r.IntN(2) == 0, r.IntN(2) == 0
		for _, c := range []struct {
			s    Side
			peer *peerOpt
		}{{Remote, &p.us[o]}, {Local, &p.him[o]}} {
			switch (*d.qstate(c.s, byte(o))) &^ qOpposite {
			case qYes, qWantNo:
				c.peer.state = "YES"
			}
		}
	}
	return p
}

// peerOpts are the options the peer-driven fuzz test plays with.
var peerOpts = [...]byte{OptBinary, OptEcho, OptSGA, OptStatus, OptTTYPE, OptNAWS, OptLinemode}

// conversation is the Decoder and a conforming server talking, with the
// bytes in flight each way.
type conversation struct {
	t             *testing.T
	d             *Decoder
	p             *qpeer
	types         []string
	toDec, toPeer []byte
	text, sent    []byte // data the Decoder produced; data the server sent
}

// decode delivers the first n bytes in flight to the Decoder, which may cut
// a message anywhere.
func (c *conversation) decode(n int) {
	data, reply := c.d.Decode(nil, nil, c.toDec[:n])
	c.text = append(c.text, data...)
	c.toPeer = append(c.toPeer, reply...)
	c.toDec = c.toDec[n:]
}

// deliver delivers everything in flight to the server. The Decoder's output
// is always whole messages.
func (c *conversation) deliver() {
	c.toDec = append(c.toDec, c.p.deliver(c.t, c.toPeer, c.types)...)
	c.toPeer = c.toPeer[:0]
}

// step performs one action chosen by kind and arg: either side deciding to
// ask for an option, a partial delivery, or an API call.
func (c *conversation) step(kind, arg byte) {
	opt := peerOpts[int(arg)%len(peerOpts)]
	switch kind % 8 {
	case 0, 1, 2, 3:
		c.toDec = append(c.toDec, c.p.ask(kind%8 < 2, opt, kind%2 == 0)...)
	case 4:
		side, opt, enable := Side(arg&1), peerOpts[int(arg>>1)%len(peerOpts)], arg&0x80 != 0
		if c.d.accepts(side, opt) { // the Decoder never asks for what it would refuse
			c.toPeer = c.d.request(c.toPeer, side, opt, enable)
		}
	case 5:
		c.decode(int(arg) % (len(c.toDec) + 1))
	case 6:
		c.deliver()
	case 7:
		switch arg % 4 {
		case 0:
			c.toPeer = c.d.Start(c.toPeer)
		case 1:
			c.toPeer = c.d.SetWindowSize(c.toPeer, int(arg), 24)
		case 2:
			c.toDec = append(c.toDec, ttypeSend...)
		case 3:
			c.toDec = append(c.toDec, "hi\r\n"...)
			c.sent = append(c.sent, "hi\r\n"...)
		}
	}
}

// settle delivers everything in flight, both ways, until the line is quiet,
// and checks that it gets quiet soon and that both sides then agree on
// every option, as RFC 1143 promises.
func (c *conversation) settle() {
	t := c.t
	t.Helper()
	for round := 0; len(c.toDec) > 0 || len(c.toPeer) > 0; round++ {
		if round == 20 {
			t.Fatalf("negotiation still going after %d rounds: to client %s, to server %s",
				round, describe(c.toDec), describe(c.toPeer))
		}
		c.decode(len(c.toDec))
		c.deliver()
	}
	if !bytes.Equal(c.text, c.sent) {
		t.Fatalf("data %q, server sent %q", c.text, c.sent)
	}
	for o := range 256 {
		for _, s := range []struct {
			s    Side
			peer *peerOpt
		}{{Remote, &c.p.us[o]}, {Local, &c.p.him[o]}} {
			ours := (*c.d.qstate(s.s, byte(o)))
			agree := (ours == qYes && s.peer.is("YES")) || (ours == qNo && s.peer.is("NO"))
			if !agree || s.peer.opposite {
				t.Fatalf("option %s side %v: client state %d, server %q (opposite %v)",
					optName(byte(o)), s.s, ours, s.peer.state, s.peer.opposite)
			}
		}
	}
}

// FuzzNegotiatePeer runs a conversation between a fresh Decoder and a
// conforming server, driven by ops: both sides ask for options at random
// moments, and messages in flight cross. Once everything is delivered,
// RFC 1143 promises the exchange is quiet and both sides agree.
func FuzzNegotiatePeer(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 7, 0, 5, 9, 6, 0, 0, 3, 5, 255, 6, 0})
	f.Add([]byte{0x00, 0x7f, 7, 0, 0, 1, 4, 3, 5, 255, 4, 19, 5, 255, 6, 0, 7, 2, 5, 200})
	f.Add([]byte{0x55, 0x2a, 2, 5, 4, 11, 3, 5, 5, 1, 6, 0, 4, 27, 5, 255, 7, 1, 7, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 2 {
			return
		}
		c := &conversation{t: t, d: NewDecoder(Config{TerminalTypes: fuzzTypes, Width: 80, Height: 24}), p: &qpeer{}, types: fuzzTypes}
		for i, o := range peerOpts {
			c.p.acceptUs[o] = ops[0]>>i&1 == 1
			c.p.accHim[o] = ops[1]>>i&1 == 1
		}
		for i := 2; i+1 < len(ops); i += 2 {
			c.step(ops[i], ops[i+1])
		}
		c.settle()
	})
}

// FuzzEncodeRoundTrip: what Encode sends, a decoder in the same mode
// (NVT or BINARY) turns back into exactly the client's bytes, except that in
// BINARY mode the end of line CR LF becomes CR. The client's bytes come in
// two messages and the encoded bytes are decoded in two reads, split anywhere.
func FuzzEncodeRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("ls\r\ncd\r\n\r\r\n\n"), uint(13))
	f.Fuzz(func(t *testing.T, b []byte, split uint) {
		// 0: NVT; 1: BINARY to a host that echoes; 2: BINARY to one that does not.
		mode := split % 3
		binary := mode == 1
		enc, dec := NewDecoder(Config{}), NewDecoder(Config{})
		if mode > 0 {
			enc.Decode(nil, nil, []byte{IAC, DO, OptBinary})
			dec.Decode(nil, nil, []byte{IAC, WILL, OptBinary})
		}
		if mode == 1 {
			enc.Decode(nil, nil, []byte{IAC, WILL, OptEcho})
		}
		m := int(split/3) % (len(b) + 1)
		e := enc.Encode(nil, b[:m])
		e = enc.Encode(e, b[m:])
		k := int(split>>8) % (len(e) + 1)
		data, reply := dec.Decode(nil, nil, e[:k])
		data, reply = dec.Decode(data, reply, e[k:])
		want := b
		if binary {
			want = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\r"))
		}
		if !bytes.Equal(data, want) || len(reply) != 0 {
			t.Fatalf("binary %v: Decode(Encode(%q)) = %q, reply %q, want %q", binary, b, data, reply, want)
		}
	})
}

// --- Benchmarks -----------------------------------------------------------

// negotiated returns a Decoder in the state of a typical telnet session.
func negotiated() *Decoder {
	d := NewDecoder(stdConfig)
	d.Start(nil)
	d.Decode(nil, nil, []byte(cat(IAC, WILL, OptSGA, IAC, DO, OptTTYPE, IAC, DO, OptNAWS, IAC, WILL, OptEcho)))
	return d
}

func benchDecodeWith(b *testing.B, d *Decoder, in []byte) {
	dst := make([]byte, 0, len(in))
	reply := make([]byte, 0, 8*len(in))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		d.Decode(dst[:0], reply[:0], in)
	}
}

func BenchmarkDecodeNegotiating(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchDecodeWith(b, negotiated(), textLines(32<<10)) })
	b.Run("with commands", func(b *testing.B) { benchDecodeWith(b, negotiated(), textWithCommands(32<<10)) })
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range []struct {
		name   string
		binary bool
		in     []byte
	}{
		{"text", false, textLines(32 << 10)},
		{"text with lone CRs", false, bytes.ReplaceAll(textLines(32<<10), []byte("\r\n"), []byte("\r."))},
		{"binary mode", true, textLines(32 << 10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := negotiated()
			if bc.binary {
				d.Decode(nil, nil, []byte{IAC, DO, OptBinary})
			}
			dst := make([]byte, 0, 2*len(bc.in))
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				d.Encode(dst[:0], bc.in)
			}
		})
	}
}

// TestSynch: IAC DM is consumed; while the caller reports urgent data ahead
// (Urgent), data is discarded up to the DM and commands are still acted on.
func TestSynch(t *testing.T) {
	type read struct {
		urgent bool
		in     string
		data   string
		reply  string
	}
	tests := []struct {
		name  string
		zero  bool
		reads []read
	}{
		{"DM consumed", false, []read{{false, cat("a", IAC, DM, "b"), "ab", ""}}},
		{"DM split between reads", false, []read{{false, cat("a", IAC), "a", ""}, {false, cat(DM, "b"), "b", ""}}},
		{"DM without urgent data", true, []read{{false, cat("out", IAC, DM, "put"), "output", ""}}},
		{"the read before the mark is discarded", false, []read{
			{false, "shown\r\n", "shown\r\n", ""},
			{true, "flushed\r\nflushed", "", ""},
			{false, cat(IAC, DM, "# "), "# ", ""},
		}},
		{"data after the DM in the same read is kept", false, []read{{true, cat("old", IAC, DM, "new"), "new", ""}}},
		{"the mark between IAC and DM", false, []read{{true, cat("old", IAC), "", ""}, {false, cat(DM, "new"), "new", ""}}},
		{"escaped 0xFF is data: discarded", false, []read{{true, cat(IAC, IAC, "x", IAC, IAC), "", ""}, {false, cat(IAC, DM, IAC, IAC), "\xff", ""}}},
		{"commands are acted on while discarding", false, []read{
			{true, cat("x", IAC, WILL, OptEcho, "y", IAC, DO, OptTTYPE, IAC, SB, OptTTYPE, ttypeSEND, IAC, SE, "z"), "",
				cat(IAC, DO, OptEcho, IAC, WILL, OptTTYPE, IAC, SB, OptTTYPE, ttypeIS, "XTERM-256COLOR", IAC, SE)},
			{false, cat(IAC, DM, "z"), "z", ""},
		}},
		{"the zero Decoder too", true, []read{{true, cat("x", IAC, WILL, OptEcho), "", cat(IAC, DONT, OptEcho)}, {false, cat(IAC, DM, "y"), "y", ""}}},
		{"urgent data without a DM ends with it", false, []read{{true, "x", "", ""}, {false, "y", "y", ""}}},
		{"a CR discarded before the mark still takes its NUL", false, []read{{true, "a\r", "", ""}, {false, cat(IAC, DM, "\x00b"), "b", ""}}},
		{"BINARY: NUL after a discarded CR is data", false, []read{
			{false, cat(IAC, WILL, OptBinary), "", cat(IAC, DO, OptBinary)},
			{true, "a\r", "", ""},
			{false, cat(IAC, DM, "\x00b"), "\x00b", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(stdConfig)
			if tt.zero {
				d = new(Decoder)
			}
			for i, r := range tt.reads {
				d.Urgent(r.urgent)
				data, reply := d.Decode(nil, nil, []byte(r.in))
				if string(data) != r.data || string(reply) != r.reply {
					t.Errorf("read %d (urgent %v) %q: data %q reply %s, want %q %s", i, r.urgent, r.in, data, describe(reply), r.data, describe([]byte(r.reply)))
				}
			}
		})
	}
}

// TestEncodeBinaryNoEcho: in BINARY mode to a host that does not echo (a
// MUD such as TinyMUX, which asks for BINARY once CHARSET is UTF-8), the
// client's CR LF goes as it is: a lone CR would never end its line.
func TestEncodeBinaryNoEcho(t *testing.T) {
	d := NewDecoder(stdConfig)
	d.Decode(nil, nil, []byte{IAC, DO, OptBinary})
	for _, c := range []struct{ in, want string }{
		{"connect guest guest\r\n", "connect guest guest\r\n"},
		{"é\r\n", "é\r\n"},
		{"a\rb\n\xff", "a\rb\n\xff\xff"},
	} {
		if got := d.Encode(nil, []byte(c.in)); string(got) != c.want {
			t.Errorf("Encode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Once the host echoes (a pty), Enter is a lone CR again.
	d.Decode(nil, nil, []byte{IAC, WILL, OptEcho})
	if got := d.Encode(nil, []byte("ls\r\n")); string(got) != "ls\r" {
		t.Errorf("with echo: %q, want %q", got, "ls\r")
	}
}
