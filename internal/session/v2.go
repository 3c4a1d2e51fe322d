package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"wstelnet/internal/deadline"
	"wstelnet/internal/telnet"
	"wstelnet/internal/wsframe"
)

// Protocol v2 (PROTOCOL.md): after SUCC, binary frames carry the byte
// stream both ways, telnet-encoded towards a telnet target, and text
// frames carry JSON control messages.

// TelnetMode is the v2 "telnet" query parameter.
type TelnetMode int

const (
	TelnetAuto TelnetMode = iota // answer and remove telnet commands; start nothing
	TelnetOn                     // act as a telnet client from the first byte
	TelnetOff                    // relay raw TCP byte for byte
)

// V2Options are the v2 query parameters of the WebSocket URL.
type V2Options struct {
	Telnet     TelnetMode
	Term       []string // answers to TTYPE SEND, in turn
	Cols, Rows int      // the window size, 0 if unknown, for NAWS
	Resume     bool     // resume=1: the session may outlive its socket (resume.go)
	GMCP       bool     // gmcp=1: agree to GMCP and pass its messages both ways (mud.go)
	MSDP       bool     // msdp=1: the same for MSDP
	// MTTS is mtts=N, the MTTS bits the client supports (0 to 4095), or -1
	// without it: then TTYPE answers with Term alone and NEW-ENVIRON is refused.
	MTTS int
	// Charset is charset=NAME in lower case ("utf-8"), or "" if the client
	// did not say: CHARSET (RFC 2066) is agreed to only for UTF-8.
	Charset string
}

// UTF8 reports whether the client decodes the target's output as UTF-8.
func (o V2Options) UTF8() bool { return o.Charset == "utf-8" || o.Charset == "utf8" }

// ParseV2Options reads telnet=auto|on|off, term=NAME[,NAME...], cols=N,
// rows=N, resume=1, gmcp=1, msdp=1, mtts=N and charset=NAME. Its errors
// are for a person, after FAIL:.
func ParseV2Options(q url.Values) (V2Options, error) {
	o := V2Options{Term: []string{"XTERM-256COLOR"}, MTTS: -1}
	for _, f := range []struct {
		name string
		dst  *bool
		what string
	}{
		{"resume", &o.Resume, "make the session resumable"},
		{"gmcp", &o.GMCP, "receive and send GMCP messages"},
		{"msdp", &o.MSDP, "receive and send MSDP messages"},
	} {
		switch v := q.Get(f.name); v {
		case "", "0":
		case "1":
			*f.dst = true
		default:
			return o, fmt.Errorf("%s=%q: use 1 to %s, or leave it out", f.name, v, f.what)
		}
	}
	if v := q.Get("mtts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > telnet.MTTSAllDefined {
			return o, fmt.Errorf("mtts=%q: want the MTTS bits the client supports, a number from 0 to 4095", v)
		}
		o.MTTS = n
	}
	if v := q.Get("charset"); v != "" {
		if len(v) > 40 || strings.IndexFunc(v, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':')
		}) >= 0 {
			return o, fmt.Errorf("charset=%q: want the name of the charset the client decodes, e.g. utf-8", v)
		}
		o.Charset = strings.ToLower(v)
	}
	switch v := q.Get("telnet"); v {
	case "", "auto":
	case "on":
		o.Telnet = TelnetOn
	case "off":
		o.Telnet = TelnetOff
	default:
		return o, fmt.Errorf("telnet=%q: use auto, on or off", v)
	}
	if v := q.Get("term"); v != "" {
		o.Term = strings.Split(v, ",")
		if len(o.Term) > 8 {
			return o, errors.New("term: at most 8 terminal types")
		}
		for _, t := range o.Term {
			if len(t) == 0 || len(t) > 40 || strings.IndexFunc(t, func(r rune) bool {
				return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
			}) >= 0 {
				return o, fmt.Errorf("term=%q: terminal types are 1 to 40 letters, digits, '-', '_' or '.'", t)
			}
		}
		for i := range o.Term {
			o.Term[i] = strings.ToUpper(o.Term[i]) // RFC 1091 asks for upper case
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"cols", &o.Cols}, {"rows", &o.Rows}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return o, fmt.Errorf("%s=%q: want a number from 1 to 65535", p.name, v)
			}
			*p.dst = n
		}
	}
	return o, nil
}

// Control is a v2 control message, either way: every type's fields are
// here, so that a new message is a type and its fields (PROTOCOL.md).
type Control struct {
	Type     string `json:"type"`
	Cols     int    `json:"cols,omitempty"`     // resize
	Rows     int    `json:"rows,omitempty"`     // resize
	Remote   *bool  `json:"remote,omitempty"`   // echo
	Reason   string `json:"reason,omitempty"`   // closed
	Message  string `json:"message,omitempty"`  // error
	ID       string `json:"id,omitempty"`       // session, resume
	Window   int    `json:"window,omitempty"`   // session: seconds
	Offset   *int64 `json:"offset,omitempty"`   // ack, resume, resumed
	Received *int64 `json:"received,omitempty"` // resumed
	Package  string `json:"package,omitempty"`  // gmcp
	// Data is gmcp's JSON (absent when the message has none) and msdp's object.
	Data json.RawMessage `json:"data,omitempty"`
}

func (c Control) encode() []byte {
	b, _ := json.Marshal(c) // cannot fail: strings and numbers only
	return b
}

// v2 is protocol v2's codec: the target's telnet state, shared by both
// directions. mu guards tel, cols and rows; wmu orders writes to the
// target and is taken before mu is released, so that bytes reach the
// target in the order the codec produced them (our WILL NAWS before the
// size that follows it) without holding the codec while a write blocks.
type v2 struct {
	opts         V2Options
	writeTimeout time.Duration
	writes       deadline.Writes // the target's write deadline, renewed a quarter of writeTimeout at a time
	mu           sync.Mutex
	tel          *telnet.Decoder // nil when telnet=off
	cols, rows   int             // the window size the target was last told
	seen         bool            // the target has sent a telnet command (a copy of tel's, for the reading side)
	wmu          sync.Mutex

	up []byte // browserToTarget's scratch

	// held is GMCP and MSDP for the target that the browser sent before
	// the target agreed to the option (mu), sent once it does.
	held []byte

	// targetToBrowser's
	reply      []byte
	remoteEcho bool // what the browser was last told
	echoMu     sync.Mutex
	gmcp       kept // the last GMCP message of each package, for a resume (echoMu)
	msdp       kept // the last value of each MSDP variable, as a message of its own, for a resume (echoMu)
}

func newV2(o V2Options, writeTimeout time.Duration) *v2 {
	c := &v2{opts: o, writeTimeout: writeTimeout, cols: o.Cols, rows: o.Rows}
	if o.Telnet != TelnetOff {
		c.tel = telnet.NewDecoder(telnet.Config{TerminalTypes: o.Term, Width: o.Cols, Height: o.Rows})
	}
	return c
}

// configure sets the MUD options (mud.go) once the target is known.
func (c *v2) configure(m mudSettings) {
	if c.tel == nil {
		return // telnet=off: raw TCP
	}
	c.tel = telnet.NewDecoder(m.v2Config(c.opts))
}

func (c *v2) answers() bool         { return true }
func (c *v2) quiet() time.Duration  { return 0 }
func (c *v2) prompt(*Session) error { return nil }
func (c *v2) flush(*Session) error  { return nil }
func (c *v2) telnet() bool          { return c.seen }

func (c *v2) closed(e End) []byte {
	if !e.GatewayCloses() {
		return nil
	}
	return Control{Type: "closed", Reason: e.Reason()}.encode()
}

// replay tells a resumed connection that the target has echo, if it has,
// the last GMCP message of each package (vitals, room, ...) and the last
// value of each MSDP variable.
func (c *v2) replay() [][]byte {
	c.echoMu.Lock()
	defer c.echoMu.Unlock()
	var out [][]byte
	if c.remoteEcho {
		out = append(out, echoMessage(true))
	}
	return c.msdp.append(c.gmcp.append(out))
}

func echoMessage(remote bool) []byte { return Control{Type: "echo", Remote: &remote}.encode() }

// writeTarget runs compute under the codec lock and writes what it returns
// to the target, in the order computed.
func (c *v2) writeTarget(target net.Conn, compute func() []byte) (int, error) {
	c.mu.Lock()
	b := compute()
	c.wmu.Lock()
	c.mu.Unlock()
	defer c.wmu.Unlock()
	if len(b) == 0 {
		return 0, nil
	}
	c.writes.Renew(target, c.writeTimeout)
	return target.Write(b)
}

// escaping reports whether client data must be telnet-encoded: always with
// telnet=on, and with telnet=auto once the target has shown it speaks telnet
// (so that 0xFF reaches a plain TCP service unchanged). Call with mu held.
func (c *v2) escaping() bool {
	return c.tel != nil && (c.opts.Telnet == TelnetOn || c.tel.SeenCommand())
}

// start sends what a telnet client sends on connecting, with telnet=on.
func (c *v2) start(target net.Conn) error {
	if c.opts.Telnet != TelnetOn {
		return nil
	}
	_, err := c.writeTarget(target, func() []byte { return c.tel.Start(nil) })
	return err
}

// fromBrowser writes a binary message to the target as it is
// (telnet-encoded when the target speaks telnet) and acts on a control message.
func (c *v2) fromBrowser(s *Session, m wsframe.Message) (End, bool) {
	if m.Text {
		return c.control(s, m.Data)
	}
	var n int
	var err error
	// The observers see the input before the target can answer it.
	if c.tel == nil {
		s.obs.input(m.Data, "", len(m.Data))
		n, err = s.writeTarget(m.Data)
	} else {
		n, err = c.writeTarget(s.target, func() []byte {
			b := m.Data
			if c.escaping() {
				c.up = c.tel.Encode(c.up[:0], m.Data)
				b = c.up
			}
			s.obs.input(m.Data, "", len(b))
			return b
		})
	}
	s.up.Add(int64(n))
	s.active()
	if err != nil {
		return withErr(TargetWriteFailed, err), false
	}
	return End{}, true
}

// control acts on one control message from the browser. A malformed or
// unknown one gets an "error" control message back and changes nothing:
// the session goes on. It ends the session only when a write fails: the
// answer to the browser or the telnet command to the target.
func (c *v2) control(s *Session, data []byte) (End, bool) {
	answer := func(m Control) (End, bool) {
		if err := s.b.reply(m.encode()); err != nil {
			return withErr(ClientWriteFailed, err), false
		}
		return End{}, true
	}
	complain := func(msg string) (End, bool) { return answer(Control{Type: "error", Message: msg}) }
	if offset, ok := quickAck(data); ok {
		if !s.b.acked(offset) {
			return complain("ack: this session was not opened with resume=1")
		}
		return End{}, true
	}
	var m Control
	if err := json.Unmarshal(data, &m); err != nil {
		return complain("a text message must be a JSON control message: " + err.Error())
	}
	var cmd func() []byte // what to send the target, under the codec lock
	dropped := ""         // why cmd sent nothing after all, for the browser
	switch m.Type {
	case "ping":
		// The page's heartbeat: browsers cannot see WebSocket pings.
		return answer(Control{Type: "pong"})
	case "ack":
		if m.Offset == nil {
			return complain(`ack: want {"type":"ack","offset":N}`)
		}
		if !s.b.acked(*m.Offset) {
			return complain("ack: this session was not opened with resume=1")
		}
		return End{}, true
	case "resize":
		if m.Cols < 1 || m.Cols > 65535 || m.Rows < 1 || m.Rows > 65535 {
			return complain("resize: cols and rows must be numbers from 1 to 65535")
		}
		s.obs.resize(m.Cols, m.Rows)
		cmd = func() []byte {
			// A browser sends its size again after a resume: tell the
			// target only if it changed.
			if c.cols == m.Cols && c.rows == m.Rows {
				return nil
			}
			c.cols, c.rows = m.Cols, m.Rows
			return c.tel.SetWindowSize(nil, m.Cols, m.Rows)
		}
	case "break":
		cmd = func() []byte {
			if !c.escaping() {
				return nil // not a telnet target: there is no break to send
			}
			return telnet.Break(nil)
		}
	case "gmcp", "msdp":
		var msg []byte
		var opt byte
		switch {
		case m.Type == "gmcp" && !c.opts.GMCP:
			return complain("gmcp: open the session with gmcp=1 to send GMCP")
		case m.Type == "msdp" && !c.opts.MSDP:
			return complain("msdp: open the session with msdp=1 to send MSDP")
		case c.tel == nil:
			return complain(m.Type + ": this session relays raw TCP (telnet=off)")
		case m.Type == "gmcp":
			if !validPackage(m.Package) {
				return complain(`gmcp: want {"type":"gmcp","package":"Core.Hello","data":...} with a package name of letters, digits and dots`)
			}
			data := m.Data
			if string(data) == "null" {
				data = nil // as if absent: a message without data
			}
			msg, opt = telnet.GMCP(nil, m.Package, data), telnet.OptGMCP
		default:
			var err error
			if msg, err = telnet.MSDP(nil, m.Data); err != nil {
				return complain(`msdp: want {"type":"msdp","data":{"VARIABLE":value,...}}: ` + err.Error())
			}
			opt = telnet.OptMSDP
		}
		cmd = func() []byte {
			if c.tel.Enabled(telnet.Remote, opt) {
				return msg
			}
			// Not agreed yet (a page sends Core.Hello at once): held, and
			// sent once the target agrees.
			if len(c.held)+len(msg) > maxHeld {
				dropped = fmt.Sprintf("%s: the target has not agreed to %s (yet), and %d KiB wait for it already; the message was dropped", m.Type, strings.ToUpper(m.Type), maxHeld>>10)
				return nil
			}
			c.held = append(c.held, msg...)
			return nil
		}
	default:
		return complain(fmt.Sprintf("unknown control message type %q", m.Type))
	}
	if c.tel == nil {
		return End{}, true // telnet=off: nothing to tell the target
	}
	if _, err := c.writeTarget(s.target, cmd); err != nil {
		return withErr(TargetWriteFailed, err), false
	}
	if dropped != "" {
		return complain(dropped)
	}
	return End{}, true
}

// ackPrefix is how the page writes an ack. One comes every 64 KiB of
// output, so it is read without encoding/json, which would allocate; any
// other spelling of an ack goes the long way.
const ackPrefix = `{"type":"ack","offset":`

// quickAck reads {"type":"ack","offset":N} written exactly so.
func quickAck(data []byte) (int64, bool) {
	if len(data) < len(ackPrefix)+2 || string(data[:len(ackPrefix)]) != ackPrefix || data[len(data)-1] != '}' {
		return 0, false
	}
	digits := data[len(ackPrefix) : len(data)-1]
	if len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// toBrowser sends the target's bytes on as read: telnet commands answered
// and removed (in place), lines neither split nor joined. It tells the
// browser when the target takes over or gives back echo, and passes on
// the MUD options' events in order with the data: a prompt's end, GMCP
// and MSDP messages; at the start of a compressed stream it hands the
// rest of the read to the target reader to inflate.
func (c *v2) toBrowser(s *Session, p []byte, urgent bool) (End, bool) {
	wire := len(p)
	if c.tel == nil {
		s.obs.output(p, wire)
		if err := s.b.output(p); err != nil {
			return withErr(ClientWriteFailed, err), false
		}
		return End{}, true
	}
	src, dst := p, p[:0]
	first := true
	for len(src) > 0 {
		var data, msg []byte
		var n int
		var ev telnet.Event
		echo := c.remoteEcho
		_, err := c.writeTarget(s.target, func() []byte {
			if first {
				// Once per read: the Synch's mark may lie before an
				// event, and the data after it is not to be discarded.
				c.tel.Urgent(urgent)
				first = false
			}
			data, c.reply, n, ev = c.tel.DecodeEvent(dst, c.reply[:0], src)
			echo = c.tel.RemoteEcho()
			c.seen = c.tel.SeenCommand()
			if len(c.held) > 0 {
				c.reply = c.sendHeld(c.reply)
			}
			msg = c.event(ev)
			return c.reply
		})
		if err != nil {
			return withErr(TargetWriteFailed, err), false
		}
		src, dst = src[n:], data[len(data):]
		if echo != c.remoteEcho {
			c.echoMu.Lock()
			c.remoteEcho = echo
			c.echoMu.Unlock()
			if err := s.b.text(echoMessage(echo)); err != nil {
				return withErr(ClientWriteFailed, err), false
			}
		}
		if len(data) > 0 || wire > 0 {
			s.obs.output(data, wire)
			wire = 0
		}
		if err := s.b.output(data); err != nil {
			return withErr(ClientWriteFailed, err), false
		}
		if msg != nil {
			if ev == telnet.EventPrompt {
				err = s.b.mark(msg) // a resumed page gets it again if it missed it
			} else {
				err = s.b.text(msg)
			}
			if err != nil {
				return withErr(ClientWriteFailed, err), false
			}
		}
		if ev == telnet.EventCompress {
			s.tr.inflate(src)
			s.log.Debug("the target compresses its output (MCCP2)")
			break
		}
	}
	return End{}, true
}

// event is the control message for a MUD option's event, or nil; the
// last GMCP message of each package is kept for a resume. Call with mu
// held: the payload is the decoder's.
func (c *v2) event(ev telnet.Event) []byte {
	switch ev {
	case telnet.EventPrompt:
		return promptMessage
	case telnet.EventGMCP:
		pkg, data := telnet.ParseGMCP(c.tel.Payload())
		msg := Control{Type: "gmcp", Package: pkg, Data: data}.encode()
		c.echoMu.Lock()
		c.gmcp.keep(pkg, msg)
		c.echoMu.Unlock()
		return msg
	case telnet.EventMSDP:
		data, vars := telnet.MSDPVars(c.tel.Payload())
		c.keepMSDP(vars)
		return Control{Type: "msdp", Data: data}.encode()
	}
	return nil
}

var promptMessage = Control{Type: "prompt"}.encode()

// keepMSDP keeps each variable of an MSDP message as a message of its
// own, for a resume: games send one or a few variables at a time, and a
// resumed page needs the last value of each.
func (c *v2) keepMSDP(vars []telnet.MSDPVar) {
	c.echoMu.Lock()
	defer c.echoMu.Unlock()
	for _, v := range vars {
		one := append(append([]byte{'{'}, v.Member...), '}')
		c.msdp.keep(v.Name, Control{Type: "msdp", Data: one}.encode())
	}
}

// sendHeld appends the held messages whose option the target now agrees
// to, keeping the others. Call with mu held.
func (c *v2) sendHeld(reply []byte) []byte {
	gmcp, msdp := c.tel.Enabled(telnet.Remote, telnet.OptGMCP), c.tel.Enabled(telnet.Remote, telnet.OptMSDP)
	if !gmcp && !msdp {
		return reply
	}
	keep := c.held[:0:0]
	for m := c.held; len(m) > 0; {
		k := subnegLen(m)
		if (m[2] == telnet.OptGMCP && gmcp) || (m[2] == telnet.OptMSDP && msdp) {
			reply = append(reply, m[:k]...)
		} else {
			keep = append(keep, m[:k]...)
		}
		m = m[k:]
	}
	c.held = keep
	return reply
}

// subnegLen is the length of the subnegotiation IAC SB ... IAC SE that m
// starts with (IAC doubled inside, as telnet.GMCP and telnet.MSDP write it).
func subnegLen(m []byte) int {
	for i := 3; i+1 < len(m); i++ {
		if m[i] == telnet.IAC {
			if m[i+1] == telnet.SE {
				return i + 2
			}
			i++
		}
	}
	return len(m)
}

// maxHeld bounds what the browser may send for an option the target has
// not agreed to yet.
const maxHeld = 16 << 10

// validPackage: a GMCP package name is letters, digits, dots, '-' and '_'.
func validPackage(p string) bool {
	if p == "" || len(p) > 128 {
		return false
	}
	for _, r := range p {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
