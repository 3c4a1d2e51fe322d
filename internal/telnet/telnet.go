// Package telnet is a pure, I/O-free codec for the telnet protocol (RFC 854,
// RFC 855) as seen by a gateway that relays a TCP peer's output to a browser.
// The gateway is the telnet client; the peer is the server.
//
// A Decoder strips telnet commands out of the bytes read from the peer and
// collects the bytes that must be sent back. Escape and [Decoder.Encode] do
// the reverse job for data going to the peer.
//
// The peer may be a real telnet server or a plain TCP service (HTTP, SMTP,
// echo). Plain services never send 0xFF in text, so for them the decoder is a
// pass-through apart from the NVT "CR NUL" rule.
//
// A Decoder works in one of two modes:
//
//   - The zero Decoder (protocol v1) refuses every option: WILL is answered
//     with DONT, DO with WONT, and WONT/DONT are never answered (we enabled
//     nothing, and acknowledging a refusal can loop). Subnegotiations are
//     dropped without buffering.
//
//   - A Decoder from [NewDecoder] negotiates like a telnet client: it accepts
//     the peer's ECHO, SGA and BINARY, performs NAWS, SGA, BINARY and (if
//     configured) TTYPE itself, answers TTYPE SEND and sends the window size.
//     [Decoder.Encode] encodes client data for the mode in force.
//     [Decoder.Start] makes the opening requests; [Decoder.SetWindowSize]
//     reports resizes.
//
// Both modes run the same RFC 1143 "Q method" state machine (per option, for
// "us" and "him"), which never answers a message that does not change the
// state and so cannot loop; the zero Decoder simply agrees to nothing, which
// keeps every option in state NO. The policy is [Decoder.accepts].
//
// Decisions that the RFCs leave open, made once here so that every caller
// sees the same stream:
//
//   - Subnegotiations (IAC SB ... IAC SE) are dropped without buffering,
//     except TTYPE once we have agreed to it (bounded by sbMax). An IAC
//     inside one followed by anything except SE or IAC ends the
//     subnegotiation and is then processed as an ordinary command, so a lost
//     SE cannot swallow the rest of the session.
//
//   - IAC DM (the Data Mark of a Synch, RFC 854) is consumed, never passed
//     on. The Synch's other half, discarding data up to the mark, needs
//     what only the socket knows, whether TCP urgent data lies ahead: the
//     caller says so with [Decoder.Urgent] before each Decode.
//
//   - The NVT rule "CR NUL means CR" is applied to the data stream after
//     commands are removed: commands are out of band, so CR, IAC NOP, NUL
//     still decodes to a lone CR. Only data bytes (including an escaped
//     IAC IAC) end the CR state. While the peer is in BINARY mode its data
//     is raw and the rule is off.
package telnet

import "bytes"

// Command bytes (RFC 854).
const (
	SE   byte = 240 // end of subnegotiation
	NOP  byte = 241 // no operation
	DM   byte = 242 // data mark (Synch)
	BRK  byte = 243 // break
	IP   byte = 244 // interrupt process
	AO   byte = 245 // abort output
	AYT  byte = 246 // are you there
	EC   byte = 247 // erase character
	EL   byte = 248 // erase line
	GA   byte = 249 // go ahead: the end of a prompt, for MUDs
	EOR  byte = 239 // end of record (RFC 885): the end of a prompt, once END-OF-RECORD is agreed
	SB   byte = 250 // start of subnegotiation
	WILL byte = 251
	WONT byte = 252
	DO   byte = 253
	DONT byte = 254
	IAC  byte = 255 // interpret as command
)

// state is where the decoder is inside the command syntax.
type state uint8

const (
	stateData  state = iota // ordinary data
	stateIAC                // after IAC
	stateOpt                // after IAC WILL/WONT/DO/DONT, waiting for the option
	stateSB                 // inside IAC SB ..., before IAC SE
	stateSBIAC              // after IAC inside a subnegotiation
)

// Decoder removes telnet commands from a byte stream read from a peer and
// keeps the option negotiation state.
// The zero value is ready to use and refuses every option; [NewDecoder] makes
// one that negotiates. It keeps state between calls, so a command split
// across reads (IAC at the end of one read, the verb at the start of the next, a
// subnegotiation spanning many reads) is handled.
//
// A Decoder is not safe for concurrent use. Decode, Encode, Start and
// SetWindowSize change its state; RemoteEcho, Enabled and SeenCommand read it.
type Decoder struct {
	state state
	verb  byte // WILL/WONT/DO/DONT while in stateOpt
	cr    bool // last data byte was CR, so a following NUL is dropped
	seen  bool // the peer has sent a telnet command
	synch bool // urgent data lies ahead: discard data until IAC DM (see Urgent)

	encCR bool // Encode in BINARY mode: the last byte sent was a CR, so a leading LF is dropped

	negotiate bool              // made by NewDecoder: accept options by policy
	q         [2][nSlots]qstate // RFC 1143 state, indexed by Side and slot(option)
	sink      qstate            // the state of options we never accept: always NO
	ttypes    [][]byte          // Config.TerminalTypes
	ttypeNext int               // index in ttypes of the next TTYPE IS
	width     uint16            // NAWS size; 0 is unknown
	height    uint16            //
	sbKeep    bool              // buffering the current subnegotiation
	sb        []byte            // subnegotiation payload, option byte first; grown when first needed

	mud       mudConfig // the MUD options (mud.go)
	ttypeSent int       // TTYPE IS answers given since TTYPE was enabled, for MTTS
}

// crNUL is the NVT encoding of a bare carriage return; crLF is its end of line.
var (
	crNUL = []byte{'\r', 0}
	crLF  = []byte{'\r', '\n'}
)

// Decode appends the data bytes found in src to dst and returns the extended slice,
// and appends to reply any bytes that must be sent back to the peer, returning it.
// dst may alias src (dst == src[:0]): Decode never writes data ahead of what it has read.
// It must not allocate when dst and reply have enough capacity.
func (d *Decoder) Decode(dst, reply, src []byte) (data, replyOut []byte) {
	for len(src) > 0 {
		var n int
		dst, reply, n, _ = d.DecodeEvent(dst, reply, src)
		src = src[n:]
	}
	return dst, reply
}

// Event is what [Decoder.DecodeEvent] stopped at, in order with the data.
type Event uint8

const (
	EventNone Event = iota
	// EventPrompt is IAC GA or IAC EOR: the data before it is a prompt,
	// complete (MUDs mark their prompts so, having no line end to send).
	EventPrompt
	// EventGMCP is a GMCP message (option 201): [Decoder.Payload] is
	// "Package.Message[ JSON]".
	EventGMCP
	// EventMSDP is an MSDP message (option 69): [Decoder.Payload] is its
	// bytes, unescaped; [MSDPToJSON] reads them.
	EventMSDP
	// EventMSSP is an MSSP message (option 70): [Decoder.Payload] is its
	// bytes; [MSSPToJSON] reads them.
	EventMSSP
	// EventCompress is IAC SB COMPRESS2 IAC SE (MCCP2): the bytes after it
	// are one zlib stream, to be inflated and decoded as the peer's output
	// until it ends. DecodeEvent never reads past it.
	EventCompress
)

// DecodeEvent is Decode that stops after the first event, so that the
// caller can act on it in order with the data (a prompt after its bytes;
// after EventCompress the rest of src is compressed). It returns the data
// and replies as Decode does, and how many bytes of src it consumed; the
// caller calls it again with src[n:] (dst may go on aliasing: dst ==
// src[:0] at the first call, and the next call's dst is data[len(data):]
// or data itself). ev is EventNone when src was consumed without one.
func (d *Decoder) DecodeEvent(dst, reply, src []byte) (data, replyOut []byte, n int, ev Event) {
	// Invariant for aliasing: every data byte appended corresponds to a byte
	// of src already consumed, so len(dst) grows no faster than i.
	i := 0
	for i < len(src) {
		switch d.state {
		case stateData:
			// Fast path: copy the whole run up to the next IAC in one go.
			k := bytes.IndexByte(src[i:], IAC)
			if k < 0 {
				return d.nvt(dst, src[i:]), reply, len(src), EventNone
			}
			dst = d.nvt(dst, src[i:i+k])
			i += k + 1
			d.state = stateIAC

		case stateIAC:
			c := src[i]
			i++
			if c != IAC {
				d.seen = true
			}
			switch c {
			case IAC:
				if !d.synch {
					dst = append(dst, IAC)
				}
				d.cr = false
				d.state = stateData
			case DM:
				d.synch = false // the mark: the data after it is new
				d.state = stateData
			case WILL, WONT, DO, DONT:
				d.verb = c
				d.state = stateOpt
			case SB:
				d.state = stateSB
				d.sb = d.sb[:0]
				d.sbKeep = d.negotiate
			case GA, EOR:
				d.state = stateData
				return dst, reply, i, EventPrompt
			default:
				// NOP, GA, BRK, IP, AO, AYT, EC, EL, a stray SE, and
				// unknown bytes < 240 carry nothing a byte relay can act on.
				d.state = stateData
			}

		case stateOpt:
			reply = d.receive(reply, d.verb, src[i])
			i++
			d.state = stateData

		case stateSB:
			// Skip the payload, buffering it only if it may be ours;
			// only IAC matters.
			k := bytes.IndexByte(src[i:], IAC)
			if k < 0 {
				d.collect(src[i:])
				return dst, reply, len(src), EventNone
			}
			d.collect(src[i : i+k])
			i += k + 1
			d.state = stateSBIAC

		case stateSBIAC:
			switch src[i] {
			case SE:
				i++
				d.state = stateData
				keep := d.sbKeep
				d.sbKeep = false
				if keep && len(d.sb) > 0 {
					if reply, ev = d.subnegotiation(reply, d.sb); ev != EventNone {
						return dst, reply, i, ev
					}
				}
			case IAC:
				d.collect(src[i : i+1]) // escaped 0xFF in the payload
				i++
				d.state = stateSB
			default:
				// Malformed: the SE was lost. End the subnegotiation and
				// reprocess this byte as the command following IAC, so the
				// rest of the stream is not swallowed.
				d.sbKeep = false
				d.state = stateIAC
			}
		}
	}
	return dst, reply, i, EventNone
}

// nvt appends run, which contains no IAC, to dst, dropping every NUL that
// directly follows a CR (RFC 854: CR NUL is a bare carriage return). CR LF is
// left alone for the caller to split lines on. In BINARY mode (the peer's
// side, RFC 856) the data is raw and passes unchanged.
func (d *Decoder) nvt(dst, run []byte) []byte {
	if len(run) == 0 {
		return dst // keep d.cr: a command between CR and NUL is transparent
	}
	if d.synch {
		// Discarded, with the CR state kept as if it were not, so that a
		// NUL just after the mark decodes as it would have.
		d.cr = run[len(run)-1] == '\r' && *d.qstate(Remote, OptBinary) != qYes
		return dst
	}
	if *d.qstate(Remote, OptBinary) == qYes {
		d.cr = false
		return append(dst, run...)
	}
	if d.cr && run[0] == 0 {
		run = run[1:]
	}
	for {
		n := bytes.Index(run, crNUL)
		if n < 0 {
			break
		}
		dst = append(dst, run[:n+1]...)
		run = run[n+2:]
	}
	dst = append(dst, run...)
	// A CR at the end may be followed by NUL in the next run or call.
	// If run is now empty, the last data byte was a NUL that ended the CR.
	d.cr = len(run) > 0 && run[len(run)-1] == '\r'
	return dst
}

// Urgent tells the decoder whether TCP urgent data is pending on the peer's
// socket after the bytes given to the next Decode call, that is whether
// those bytes lie before the urgent mark. While it is, Decode discards data
// and still acts on commands, up to an IAC DM: the Synch of RFC 854, by
// which a server that has flushed its output (after an interrupt, a break,
// or an abort output) has the client drop what was already on its way.
// RFC 1123 (3.2.4) says a client MUST do so.
//
// The caller sets it before every Decode, from the socket (on Linux, POLLPRI
// after the read: reads stop at the mark, so a read made while urgent data
// is pending ends before it). Never calling it, or a false, only consumes
// IAC DM; so does a DM that comes without urgent data, as when the urgent
// notification was lost.
func (d *Decoder) Urgent(pending bool) {
	d.synch = pending
}

// Escape appends src to dst with every 0xFF byte doubled (IAC IAC), as data sent
// to a telnet peer must be. Returns the extended slice.
func Escape(dst, src []byte) []byte {
	for {
		n := bytes.IndexByte(src, IAC)
		if n < 0 {
			return append(dst, src...)
		}
		// Copy the run including its IAC, then the IAC again.
		dst = append(dst, src[:n+1]...)
		dst = append(dst, IAC)
		src = src[n+1:]
	}
}
