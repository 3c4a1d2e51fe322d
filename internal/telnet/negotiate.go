package telnet

import "bytes"

// Option codes (RFC 856, 857, 858, 859, 860, 1091, 1073, 1079, 1372, 1184,
// 1096, 1408, 2941, 1572).
const (
	OptBinary     byte = 0  // RFC 856: 8-bit data, no NVT CR rules
	OptEcho       byte = 1  // RFC 857
	OptSGA        byte = 3  // RFC 858: suppress go-ahead
	OptStatus     byte = 5  // RFC 859
	OptTimingMark byte = 6  // RFC 860
	OptTTYPE      byte = 24 // RFC 1091: terminal type
	OptNAWS       byte = 31 // RFC 1073: window size
	OptTSpeed     byte = 32 // RFC 1079: terminal speed
	OptLFlow      byte = 33 // RFC 1372: remote flow control
	OptLinemode   byte = 34 // RFC 1184
	OptXDispLoc   byte = 35 // RFC 1096: X display location
	OptOldEnviron byte = 36 // RFC 1408
	OptAuth       byte = 37 // RFC 2941: authentication
	OptNewEnviron byte = 39 // RFC 1572
	OptEOR        byte = 25 // RFC 885: end of record (prompts)

	// The MUD options (mud.go).
	OptCharset   byte = 42  // RFC 2066
	OptMSDP      byte = 69  // MUD Server Data Protocol
	OptMSSP      byte = 70  // MUD Server Status Protocol
	OptCompress2 byte = 86  // MCCP2: the server's output compressed
	OptGMCP      byte = 201 // Generic MUD Communication Protocol
)

// TTYPE subnegotiation commands (RFC 1091).
const (
	ttypeIS   byte = 0
	ttypeSEND byte = 1
)

// sbMax bounds the subnegotiation buffer. The only subnegotiation we answer
// (TTYPE SEND) is two bytes long; anything near this size is not one of ours.
const sbMax = 256

// Config turns on negotiation. The zero Decoder refuses everything (the v1
// behaviour).
type Config struct {
	// TerminalTypes answer TTYPE SEND in turn (RFC 1091: each SEND gets the
	// next name, the last one repeats; the list restarts when TTYPE is
	// disabled). Names are sent as given; RFC 1091 names are upper case,
	// e.g. "XTERM-256COLOR". Empty: refuse TTYPE.
	TerminalTypes []string
	// Width and Height are the window size for NAWS (RFC 1073); 0 means not
	// known yet (we still agree to NAWS, and send the size once
	// SetWindowSize gives one).
	Width, Height int

	// The MUD options (mud.go); each is refused unless set.
	MUD MUD
}

// Side says who performs an option: RFC 1143 calls them "us" and "him".
type Side uint8

const (
	// Local options are performed by us, the client: the peer asks with
	// DO/DONT and we answer WILL/WONT (NAWS, TTYPE).
	Local Side = iota
	// Remote options are performed by the peer: it offers WILL/WONT and we
	// answer DO/DONT (ECHO).
	Remote
)

func (s Side) String() string {
	if s == Local {
		return "Local"
	}
	return "Remote"
}

// Only the options a Decoder may accept need a state of their own; every
// other option stays NO for ever. slot maps the first to their index in
// Decoder.q, so that a Decoder stays small (one per session).
const nSlots = 12

func slot(opt byte) int {
	switch opt {
	case OptBinary:
		return 0
	case OptEcho:
		return 1
	case OptSGA:
		return 2
	case OptTTYPE:
		return 3
	case OptNAWS:
		return 4
	case OptEOR:
		return 5
	case OptCharset:
		return 6
	case OptMSDP:
		return 7
	case OptMSSP:
		return 8
	case OptCompress2:
		return 9
	case OptGMCP:
		return 10
	case OptNewEnviron:
		return 11
	}
	return -1
}

// qstate returns the state of opt on side s.
func (d *Decoder) qstate(s Side, opt byte) *qstate {
	if i := slot(opt); i >= 0 {
		return &d.q[s][i]
	}
	return &d.sink // NO for ever: nothing enables an option accepts refuses
}

// qstate is the RFC 1143 state of one option on one side: NO, YES, WANTNO or
// WANTYES, plus the queue bit (EMPTY or OPPOSITE) that only means something
// in the two WANT states.
type qstate uint8

const (
	qNo       qstate = iota // disabled
	qYes                    // enabled
	qWantNo                 // we asked to disable, awaiting the answer
	qWantYes                // we asked to enable, awaiting the answer
	qOpposite qstate = 4    // queue bit: once answered, ask for the opposite
)

// NewDecoder returns a Decoder that negotiates options as a telnet client
// instead of refusing them all: it lets the peer ECHO, SGA and BINARY, and
// itself performs NAWS, SGA, BINARY and (with TerminalTypes) TTYPE.
func NewDecoder(cfg Config) *Decoder {
	d := &Decoder{negotiate: true, width: clampSize(cfg.Width), height: clampSize(cfg.Height)}
	d.mud = newMUDConfig(cfg.MUD)
	// Copied as []byte once, so that answering a SEND never converts (or
	// allocates), and the caller may reuse its slice.
	for _, t := range cfg.TerminalTypes {
		d.ttypes = append(d.ttypes, []byte(t))
	}
	return d
}

// accepts is the option policy: whether we agree when the peer asks to
// enable opt on side s. The zero Decoder agrees to nothing, which with the Q
// method below is exactly the v1 "refuse everything" behaviour.
//
//	side    accepted                                  refused
//	Remote  ECHO, SGA, BINARY                         everything else (DONT)
//	Local   NAWS, SGA, BINARY, TTYPE (if configured)  everything else (WONT)
//
// plus the MUD options that Config.MUD turns on (mudAccepts); with
// MUD.Only, those alone.
//
// Our BINARY is what a Unix telnetd needs to take 8-bit input (without it
// the pty keeps istrip, and é arrives as "C)"); BSD telnet and PuTTY agree
// to it too. Encode then sends the NVT end of line as CR alone to a host
// that echoes.
func (d *Decoder) accepts(s Side, opt byte) bool {
	if !d.negotiate {
		return false
	}
	if ok, mud := d.mudAccepts(s, opt); mud || d.mud.Only {
		return ok
	}
	switch {
	case s == Remote:
		return opt == OptEcho || opt == OptSGA || opt == OptBinary
	case opt == OptTTYPE:
		return len(d.ttypes) > 0
	default:
		return opt == OptNAWS || opt == OptSGA || opt == OptBinary
	}
}

// startOptions are what Start asks for, in order, as a telnet client does on
// connecting. Each is subject to accepts, so the zero Decoder asks nothing.
var startOptions = [...]struct {
	side Side
	opt  byte
}{
	{Remote, OptSGA},
	{Local, OptTTYPE},
	{Local, OptNAWS},
}

// Start appends the requests a telnet client makes when it connects: IAC DO
// SGA, IAC WILL TTYPE (if TerminalTypes), IAC WILL NAWS. They go through the
// Q method, so the server's later echo of the same request is taken as the
// acknowledgement it is, not answered as a new request. On the zero Decoder
// Start appends nothing; called again, it asks only for those options that
// are now off and not being negotiated.
func (d *Decoder) Start(reply []byte) []byte {
	for _, o := range startOptions {
		if d.accepts(o.side, o.opt) {
			reply = d.request(reply, o.side, o.opt, true)
		}
	}
	return reply
}

// SetWindowSize records the size and, if NAWS is enabled on our side, appends
// IAC SB NAWS w-hi w-lo h-hi h-lo IAC SE (with any 255 byte doubled, as RFC
// 1073 requires), even if the size is unchanged. Sizes are clamped to
// 1..65535; 0 (or a negative value) means "unknown", and while either is
// unknown nothing is sent.
func (d *Decoder) SetWindowSize(reply []byte, width, height int) []byte {
	d.width, d.height = clampSize(width), clampSize(height)
	return d.naws(reply)
}

func clampSize(n int) uint16 {
	return uint16(min(max(n, 0), 0xFFFF))
}

// naws appends the NAWS subnegotiation if NAWS is on and the size known.
func (d *Decoder) naws(reply []byte) []byte {
	if *d.qstate(Local, OptNAWS) != qYes || d.width == 0 || d.height == 0 {
		return reply
	}
	reply = append(reply, IAC, SB, OptNAWS)
	for _, v := range [...]uint16{d.width, d.height} {
		for _, b := range [...]byte{byte(v >> 8), byte(v)} {
			reply = append(reply, b)
			if b == IAC {
				reply = append(reply, IAC)
			}
		}
	}
	return append(reply, IAC, SE)
}

// Encode appends client data for the peer, with 0xFF doubled (IAC IAC).
// Line endings depend on whether our side is in BINARY mode (RFC 856):
//
//   - NVT (not BINARY): CR LF is sent as CR LF, and any other CR as CR NUL
//     (RFC 854: a bare CR on the wire is CR NUL). A CR at the very end of src
//     counts as bare.
//   - BINARY, to a host that echoes (it agreed to ECHO, as a Unix telnetd
//     does for its pty): the NVT end of line CR LF is sent as CR alone, any
//     other CR as CR and LF as LF. Such a server passes bytes to its program
//     unchanged, and on a Unix pty CR LF would be two line ends; a lone CR is
//     what BSD telnet and PuTTY send for Enter in binary mode. A CR LF split
//     between two calls (src ending in CR, the next starting with LF) is
//     still one end of line: Encode remembers the CR.
//   - BINARY, to a host that does not echo: bytes as they are, CR LF
//     included. A line-oriented server (a MUD: TinyMUX agrees to BINARY once
//     CHARSET settled on UTF-8) reads lines, and a lone CR would never end one.
//
// On the zero Decoder BINARY is never on, so Encode always applies the NVT
// rule; the v1 protocol uses Escape instead.
func (d *Decoder) Encode(dst, src []byte) []byte {
	if *d.qstate(Local, OptBinary) != qYes {
		d.encCR = false
		return d.encodeNVT(dst, src)
	}
	if !d.RemoteEcho() {
		d.encCR = false
		return Escape(dst, src)
	}
	if len(src) == 0 {
		return dst
	}
	if d.encCR && src[0] == '\n' {
		src = src[1:] // the LF of a CR LF whose CR ended the last call
	}
	d.encCR = false
	for {
		n := bytes.Index(src, crLF)
		if n < 0 {
			break
		}
		dst = Escape(dst, src[:n+1])
		src = src[n+2:]
	}
	if len(src) > 0 {
		d.encCR = src[len(src)-1] == '\r'
	}
	return Escape(dst, src)
}

// encodeNVT is Encode outside BINARY mode.
func (d *Decoder) encodeNVT(dst, src []byte) []byte {
	for {
		n := bytes.IndexByte(src, '\r')
		if n < 0 {
			return Escape(dst, src)
		}
		dst = Escape(dst, src[:n+1])
		src = src[n+1:]
		if len(src) == 0 || src[0] != '\n' {
			dst = append(dst, 0)
		}
	}
}

// RemoteEcho reports whether the peer echoes (its WILL ECHO acknowledged by
// our DO ECHO): the page must not echo locally, and input typed while the
// server is not visibly echoing it (a password prompt) may be treated as
// hidden.
func (d *Decoder) RemoteEcho() bool {
	return *d.qstate(Remote, OptEcho) == qYes
}

// Enabled reports whether option opt is enabled (RFC 1143 state YES) on side s.
// While a change is being negotiated the option counts as disabled.
func (d *Decoder) Enabled(s Side, opt byte) bool {
	return *d.qstate(s, opt) == qYes
}

// SeenCommand reports whether the peer has sent any telnet command (IAC
// followed by anything but IAC), i.e. whether it looks like a telnet server.
func (d *Decoder) SeenCommand() bool {
	return d.seen
}

// Break appends the bytes for a telnet BREAK, IAC BRK, to dst.
func Break(dst []byte) []byte {
	return append(dst, IAC, BRK)
}

// verb is the message announcing that side s is to be enabled or disabled:
// WILL/WONT for what we perform, DO/DONT for what the peer performs.
func verb(s Side, enable bool) byte {
	switch {
	case s == Local && enable:
		return WILL
	case s == Local:
		return WONT
	case enable:
		return DO
	default:
		return DONT
	}
}

// receive handles IAC v opt from the peer by RFC 1143 section 7 and appends
// the answer, if any, to reply. The Q method answers only what changes the
// state (or refuses, in NO), so two conforming sides cannot loop.
func (d *Decoder) receive(reply []byte, v, opt byte) []byte {
	s := Remote
	if v == DO || v == DONT {
		s = Local
	}
	q := d.qstate(s, opt)
	was := *q == qYes
	if v == WILL || v == DO {
		switch *q {
		case qNo:
			if d.accepts(s, opt) {
				*q = qYes
				reply = append(reply, IAC, verb(s, true), opt)
			} else {
				reply = append(reply, IAC, verb(s, false), opt)
			}
		case qYes:
			// Already enabled: nothing to say.
		case qWantNo:
			*q = qNo // error: our disable was answered by an enable
		case qWantNo | qOpposite:
			*q = qYes
		case qWantYes:
			*q = qYes // our request acknowledged
		case qWantYes | qOpposite:
			*q = qWantNo
			reply = append(reply, IAC, verb(s, false), opt)
		}
	} else {
		switch *q {
		case qNo:
			// Already disabled: nothing to say.
		case qYes:
			*q = qNo
			reply = append(reply, IAC, verb(s, false), opt)
		case qWantNo:
			*q = qNo // our disable acknowledged
		case qWantNo | qOpposite:
			*q = qWantYes
			reply = append(reply, IAC, verb(s, true), opt)
		case qWantYes:
			*q = qNo // our request refused
		case qWantYes | qOpposite:
			*q = qNo
		}
	}
	return d.changed(reply, s, opt, was)
}

// request is our own decision to enable or disable opt on side s (RFC 1143
// section 7, "if we decide to ask ..."); it appends the request, if one is
// due, to reply. Asking for the state already in force or already asked
// for sends nothing.
func (d *Decoder) request(reply []byte, s Side, opt byte, enable bool) []byte {
	q := d.qstate(s, opt)
	was := *q == qYes
	if enable {
		switch *q {
		case qNo:
			*q = qWantYes
			reply = append(reply, IAC, verb(s, true), opt)
		case qWantNo:
			*q = qWantNo | qOpposite
		case qWantYes | qOpposite:
			*q = qWantYes
		}
	} else {
		switch *q {
		case qYes:
			*q = qWantNo
			reply = append(reply, IAC, verb(s, false), opt)
		case qWantNo | qOpposite:
			*q = qWantNo
		case qWantYes:
			*q = qWantYes | qOpposite
		}
	}
	return d.changed(reply, s, opt, was)
}

// changed runs the side effects of opt entering or leaving YES on side s.
// (BINARY and ECHO need none: Decode, Encode and RemoteEcho read the state.)
func (d *Decoder) changed(reply []byte, s Side, opt byte, was bool) []byte {
	now := *d.qstate(s, opt) == qYes
	if s != Local || now == was {
		return reply
	}
	switch opt {
	case OptNAWS:
		// RFC 1073: the client sends the size as soon as NAWS is agreed.
		return d.naws(reply)
	case OptTTYPE:
		// RFC 1091: a server restarts the list by disabling and
		// re-enabling TTYPE.
		d.ttypeNext = 0
	}
	return reply
}

// collect adds b to the subnegotiation being buffered, if any. The first
// byte is the option: unless it is one we answer or pass on, buffering
// stops at once and the rest is skipped unread. Buffering also stops,
// dropping the whole subnegotiation, once it outgrows the option's bound
// (sbLimit).
func (d *Decoder) collect(b []byte) {
	if !d.sbKeep || len(b) == 0 {
		return
	}
	limit := d.sbLimit(b[0])
	if len(d.sb) == 0 && limit == 0 {
		d.sbKeep = false
		return
	}
	if len(d.sb) > 0 {
		limit = d.sbLimit(d.sb[0])
	}
	if len(b) > limit-len(d.sb) {
		d.sbKeep = false
		return
	}
	if cap(d.sb)-len(d.sb) < len(b) {
		// Grown by hand, so that the buffer never exceeds the bound.
		nb := make([]byte, len(d.sb), min(limit, max(sbMax, 2*cap(d.sb), len(d.sb)+len(b))))
		copy(nb, d.sb)
		d.sb = nb
	}
	d.sb = append(d.sb, b...)
}

// sbLimit is the most of a subnegotiation of opt worth buffering: 0 for
// one we neither answer nor pass on (not enabled, or not ours).
func (d *Decoder) sbLimit(opt byte) int {
	switch opt {
	case OptTTYPE:
		if *d.qstate(Local, OptTTYPE) == qYes && len(d.ttypes) > 0 {
			return sbMax
		}
	case OptNewEnviron:
		if *d.qstate(Local, OptNewEnviron) == qYes {
			return sbMax
		}
	case OptCharset:
		if d.Enabled(Local, OptCharset) || d.Enabled(Remote, OptCharset) {
			return sbMax
		}
	case OptCompress2:
		if d.Enabled(Remote, OptCompress2) {
			return 1
		}
	case OptGMCP, OptMSDP, OptMSSP:
		if d.Enabled(Remote, opt) {
			return MaxPayload + 1
		}
	}
	return 0
}

// subnegotiation answers or passes on the complete, unescaped
// subnegotiation sb (option byte first): IAC SB TTYPE SEND IAC SE gets IAC
// SB TTYPE IS <name> IAC SE; the MUD options are in mud.go.
func (d *Decoder) subnegotiation(reply, sb []byte) ([]byte, Event) {
	if sb[0] != OptTTYPE {
		return d.mudSubnegotiation(reply, sb)
	}
	if len(sb) != 2 || sb[1] != ttypeSEND || d.sbLimit(OptTTYPE) == 0 {
		return reply, EventNone
	}
	name := d.ttypes[d.ttypeNext]
	if d.ttypeNext < len(d.ttypes)-1 {
		d.ttypeNext++
	}
	reply = append(reply, IAC, SB, OptTTYPE, ttypeIS)
	reply = Escape(reply, name)
	return append(reply, IAC, SE), EventNone
}
