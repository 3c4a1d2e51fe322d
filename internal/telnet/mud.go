package telnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The MUD options: what MUD servers speak beyond plain telnet, each
// agreed to only when Config.MUD turns it on.
//
//   - COMPRESS2 (MCCP2, 86): IAC SB COMPRESS2 IAC SE starts a zlib stream
//     of the server's output. The Decoder only finds the start
//     (EventCompress); the caller inflates and feeds the result back.
//   - END-OF-RECORD (25): the server marks the end of a prompt with IAC
//     EOR, as others do with IAC GA; both are EventPrompt.
//   - GMCP (201), MSDP (69), MSSP (70): the server's out-of-band data,
//     passed on as events with the payload; GMCP and MSDP go the other
//     way with [GMCP] and [MSDP].
//   - CHARSET (42, RFC 2066): a REQUEST listing UTF-8 is ACCEPTED when
//     MUD.UTF8 says the client decodes UTF-8; anything else is REJECTED.
//   - NEW-ENVIRON (39, RFC 1572) with MNES: SEND is answered with the
//     variables in MUD.Environ (IPADDRESS, CLIENT_NAME, ...).
//
// MTTS (the TTYPE cycle "client name, terminal type, MTTS <bits>") needs
// nothing here: it is Config.TerminalTypes in that order (see [MTTS]).

// MUD turns on the MUD options of a Decoder.
type MUD struct {
	// Only: agree to none of the terminal options (BINARY, ECHO, SGA,
	// TTYPE, NAWS), only to the MUD options turned on below (protocol v1,
	// which is lines, not a terminal).
	Only bool
	MCCP bool // COMPRESS2: EventCompress at the start of a compressed stream
	EOR  bool // END-OF-RECORD: prompts marked with IAC EOR
	GMCP bool // EventGMCP
	MSDP bool // EventMSDP
	MSSP bool // EventMSSP
	// UTF8: the client decodes UTF-8: agree to CHARSET and accept UTF-8.
	// Without it CHARSET is refused.
	UTF8 bool
	// Environ answers NEW-ENVIRON SEND (MNES); nil refuses NEW-ENVIRON.
	Environ []EnvVar
}

// EnvVar is a NEW-ENVIRON variable.
type EnvVar struct{ Name, Value string }

// MaxPayload bounds a GMCP, MSDP or MSSP message. A longer one is
// dropped: it is not buffered past this, whatever the server sends.
const MaxPayload = 64 << 10

// MTTS bits (the MUD Terminal Type Standard).
const (
	MTTSANSI        = 1
	MTTSVT100       = 2
	MTTSUTF8        = 4
	MTTS256Colors   = 8
	MTTSMouse       = 16
	MTTSOSCColor    = 32
	MTTSScreenRead  = 64
	MTTSProxy       = 128
	MTTSTrueColor   = 256
	MTTSMNES        = 512
	MTTSMSLP        = 1024
	MTTSSSL         = 2048
	MTTSAllDefined  = 4095
	mttsMaxBitsText = len("MTTS 4095")
)

// MTTS is the TTYPE answer that carries the MTTS bits: "MTTS <bits>".
func MTTS(bits int) string { return fmt.Sprintf("MTTS %d", bits&MTTSAllDefined) }

// Subnegotiation commands.
const (
	envIS      byte = 0
	envSEND    byte = 1
	envVAR     byte = 0
	envVALUE   byte = 1
	envESC     byte = 2
	envUSERVAR byte = 3

	charsetREQUEST  byte = 1
	charsetACCEPTED byte = 2
	charsetREJECTED byte = 3

	msdpVAR        byte = 1
	msdpVAL        byte = 2
	msdpTableOpen  byte = 3
	msdpTableClose byte = 4
	msdpArrayOpen  byte = 5
	msdpArrayClose byte = 6
)

// mudConfig is a Decoder's copy of its Config.MUD.
type mudConfig struct{ MUD }

func newMUDConfig(m MUD) mudConfig {
	if m.Environ != nil { // nil refuses NEW-ENVIRON; empty agrees and sends nothing
		m.Environ = append([]EnvVar{}, m.Environ...)
	}
	return mudConfig{m}
}

// mudAccepts is the policy for the MUD options: ok says whether opt on
// side s is agreed to; mud says whether opt is a MUD option at all.
func (d *Decoder) mudAccepts(s Side, opt byte) (ok, mud bool) {
	switch opt {
	case OptCompress2:
		return s == Remote && d.mud.MCCP, true
	case OptEOR:
		return s == Remote && d.mud.EOR, true
	case OptGMCP:
		return s == Remote && d.mud.GMCP, true
	case OptMSDP:
		return s == Remote && d.mud.MSDP, true
	case OptMSSP:
		return s == Remote && d.mud.MSSP, true
	case OptCharset:
		// RFC 2066: either side may offer it and send a REQUEST.
		return d.mud.UTF8, true
	case OptNewEnviron:
		return s == Local && d.mud.Environ != nil, true
	}
	return false, false
}

// Payload is the payload of the last EventGMCP, EventMSDP or EventMSSP
// (after the option byte, unescaped), valid until the next DecodeEvent.
func (d *Decoder) Payload() []byte {
	if len(d.sb) == 0 {
		return nil
	}
	return d.sb[1:]
}

// mudSubnegotiation answers a MUD option's subnegotiation or reports it.
func (d *Decoder) mudSubnegotiation(reply, sb []byte) ([]byte, Event) {
	if d.sbLimit(sb[0]) == 0 {
		return reply, EventNone // disabled meanwhile
	}
	switch sb[0] {
	case OptCompress2:
		if len(sb) == 1 {
			return reply, EventCompress
		}
	case OptGMCP:
		return reply, EventGMCP
	case OptMSDP:
		return reply, EventMSDP
	case OptMSSP:
		return reply, EventMSSP
	case OptCharset:
		return d.charset(reply, sb[1:]), EventNone
	case OptNewEnviron:
		return d.environ(reply, sb[1:]), EventNone
	}
	return reply, EventNone
}

// charset answers a CHARSET REQUEST (RFC 2066): ACCEPTED UTF-8 when it is
// offered and the client decodes UTF-8, else REJECTED. Other commands
// (ACCEPTED, REJECTED, TTABLE-*) need no answer from us.
func (d *Decoder) charset(reply, p []byte) []byte {
	if len(p) == 0 || p[0] != charsetREQUEST {
		return reply
	}
	p = p[1:]
	if rest, ok := bytes.CutPrefix(p, []byte("[TTABLE]")); ok {
		if len(rest) == 0 {
			p = nil
		} else {
			p = rest[1:] // the version byte
		}
	}
	if d.mud.UTF8 && len(p) > 1 {
		for name := range bytes.SplitSeq(p[1:], p[:1]) {
			if n := strings.ToUpper(string(name)); n == "UTF-8" || n == "UTF8" {
				reply = append(reply, IAC, SB, OptCharset, charsetACCEPTED)
				reply = Escape(reply, name)
				return append(reply, IAC, SE)
			}
		}
	}
	return append(reply, IAC, SB, OptCharset, charsetREJECTED, IAC, SE)
}

// environ answers NEW-ENVIRON SEND (RFC 1572) with IS and the variables
// asked for (all of ours when none is named); a variable asked for that
// we do not have is sent without a value, as the RFC says.
func (d *Decoder) environ(reply, p []byte) []byte {
	if len(p) == 0 || p[0] != envSEND {
		return reply
	}
	reply = append(reply, IAC, SB, OptNewEnviron, envIS)
	asked := false
	p = p[1:]
	for len(p) > 0 {
		kind := p[0]
		if kind != envVAR && kind != envUSERVAR {
			break // malformed: answer what was understood
		}
		var name []byte
		name, p = envName(p[1:])
		asked = true
		reply = d.envAnswer(reply, kind, name)
	}
	if !asked {
		for _, v := range d.mud.Environ {
			reply = d.envAnswer(reply, envVAR, []byte(v.Name))
		}
	}
	return append(reply, IAC, SE)
}

// envName reads a name up to the next VAR, VALUE or USERVAR, undoing ESC.
func envName(p []byte) (name, rest []byte) {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case envVAR, envVALUE, envUSERVAR:
			return name, p[i:]
		case envESC:
			if i+1 < len(p) {
				i++
			}
		}
		name = append(name, p[i])
	}
	return name, nil
}

func (d *Decoder) envAnswer(reply []byte, kind byte, name []byte) []byte {
	reply = append(reply, kind)
	reply = envEscape(reply, name)
	for _, v := range d.mud.Environ {
		if v.Name == string(name) {
			reply = append(reply, envVALUE)
			return envEscape(reply, []byte(v.Value))
		}
	}
	return reply
}

// envEscape appends s with ESC before the bytes that would end it, and IAC doubled.
func envEscape(dst, s []byte) []byte {
	for _, c := range s {
		switch c {
		case envVAR, envVALUE, envESC, envUSERVAR:
			dst = append(dst, envESC, c)
		case IAC:
			dst = append(dst, IAC, IAC)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// subneg appends IAC SB opt payload IAC SE, with IAC doubled in the payload.
func subneg(dst []byte, opt byte, payload ...[]byte) []byte {
	dst = append(dst, IAC, SB, opt)
	for _, p := range payload {
		dst = Escape(dst, p)
	}
	return append(dst, IAC, SE)
}

// GMCP appends a GMCP message for the server: IAC SB GMCP pkg[ data] IAC SE,
// data being JSON or empty.
func GMCP(dst []byte, pkg string, data []byte) []byte {
	if len(data) == 0 {
		return subneg(dst, OptGMCP, []byte(pkg))
	}
	return subneg(dst, OptGMCP, []byte(pkg), []byte{' '}, data)
}

// ParseGMCP splits a GMCP payload into its package ("Char.Vitals") and
// its data as JSON: nil when there is none, and a JSON string holding the
// text when it is not valid JSON (a server's mistake is passed on, not
// dropped).
func ParseGMCP(p []byte) (pkg string, data json.RawMessage) {
	name, rest, _ := bytes.Cut(p, []byte{' '})
	// Some servers separate with a newline or a tab.
	if i := bytes.IndexAny(name, "\r\n\t"); i >= 0 {
		name, rest = p[:i], p[i+1:]
	}
	rest = bytes.TrimSpace(rest)
	pkg = strings.ToValidUTF8(string(name), "\uFFFD")
	if len(rest) == 0 {
		return pkg, nil
	}
	if json.Valid(rest) {
		return pkg, bytes.Clone(rest)
	}
	s, _ := json.Marshal(strings.ToValidUTF8(string(rest), "\uFFFD"))
	return pkg, s
}

// maxDepth bounds the nesting of MSDP tables and arrays, and of the JSON
// turned into MSDP.
const maxDepth = 32

// MSDPToJSON turns an MSDP message (VAR name VAL value ...) into a JSON
// object: tables become objects, arrays arrays, a VAR with several VALs an
// array. Whatever the bytes, the result is valid JSON: a malformed message
// is read as far as it makes sense (an unclosed table is closed, a stray
// close is ignored).
func MSDPToJSON(p []byte) []byte {
	m := msdpReader{p: p}
	out := []byte{'{'}
	out = m.pairs(out, 0, false)
	return append(out, '}')
}

// MSDPVar is one variable of an MSDP message: its name, and its member
// ("name":value) in the object MSDPVars returns.
type MSDPVar struct {
	Name   string
	Member []byte
}

// MSDPVars is MSDPToJSON's object and, in order, the variables it holds,
// so that a caller that keeps each variable's last value (for a resumed
// page) need not parse the JSON again.
func MSDPVars(p []byte) (object []byte, vars []MSDPVar) {
	m := msdpReader{p: p, vars: &vars}
	object = append(m.pairs([]byte{'{'}, 0, false), '}')
	return object, vars
}

type msdpReader struct {
	p    []byte
	vars *[]MSDPVar // the top level's variables, when asked for
}

// pairs reads VAR name VAL value ... up to a table's close (in a table) or
// the end, writing "name":value,... to out.
func (m *msdpReader) pairs(out []byte, depth int, table bool) []byte {
	first := true
	for len(m.p) > 0 {
		c := m.p[0]
		if c == msdpTableClose && table {
			m.p = m.p[1:]
			return out
		}
		m.p = m.p[1:]
		if c != msdpVAR {
			continue // a stray byte or close: skipped
		}
		name := m.text()
		if !first {
			out = append(out, ',')
		}
		first = false
		start := len(out)
		out = appendJSONString(out, name)
		out = append(out, ':')
		// One VAL is the value; several make an array; none, an empty string.
		var vals [][]byte
		for len(m.p) > 0 && m.p[0] == msdpVAL {
			m.p = m.p[1:]
			vals = append(vals, m.value(nil, depth))
		}
		switch len(vals) {
		case 0:
			out = append(out, '"', '"')
		case 1:
			out = append(out, vals[0]...)
		default:
			out = append(out, '[')
			for i, v := range vals {
				if i > 0 {
					out = append(out, ',')
				}
				out = append(out, v...)
			}
			out = append(out, ']')
		}
		if depth == 0 && m.vars != nil {
			*m.vars = append(*m.vars, MSDPVar{Name: string(name), Member: out[start:len(out):len(out)]})
		}
	}
	return out
}

// value reads one value after VAL: a table, an array, or text.
func (m *msdpReader) value(out []byte, depth int) []byte {
	if len(m.p) > 0 && depth < maxDepth {
		switch m.p[0] {
		case msdpTableOpen:
			m.p = m.p[1:]
			out = append(out, '{')
			out = m.pairs(out, depth+1, true)
			return append(out, '}')
		case msdpArrayOpen:
			m.p = m.p[1:]
			out = append(out, '[')
			first := true
			for len(m.p) > 0 {
				c := m.p[0]
				m.p = m.p[1:]
				if c == msdpArrayClose {
					break
				}
				if c != msdpVAL {
					continue
				}
				if !first {
					out = append(out, ',')
				}
				first = false
				out = append(out, m.value(nil, depth+1)...)
			}
			return append(out, ']')
		}
	}
	return appendJSONString(out, m.text())
}

// text reads bytes up to the next MSDP command byte (1 to 6).
func (m *msdpReader) text() []byte {
	i := 0
	for i < len(m.p) && (m.p[i] == 0 || m.p[i] > msdpArrayClose) {
		i++
	}
	t := m.p[:i]
	m.p = m.p[i:]
	return t
}

func appendJSONString(out, s []byte) []byte {
	if utf8.Valid(s) {
		b, _ := json.Marshal(string(s))
		return append(out, b...)
	}
	b, _ := json.Marshal(strings.ToValidUTF8(string(s), "\uFFFD"))
	return append(out, b...)
}

// MSDP appends an MSDP message for the server from a JSON object: each
// key is a VAR, objects become tables, arrays arrays, strings and numbers
// text (true and false are 1 and 0, null is empty).
func MSDP(dst []byte, data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return dst, fmt.Errorf("msdp: %w", err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return dst, errors.New("msdp: data must be a JSON object of variables")
	}
	var p []byte
	if p, err = msdpPairs(p, dec, 0); err != nil {
		return dst, err
	}
	if _, err := dec.Token(); err == nil {
		return dst, errors.New("msdp: data must be one JSON object")
	}
	return subneg(dst, OptMSDP, p), nil
}

// msdpPairs writes the key/value pairs of an object whose '{' was read.
func msdpPairs(p []byte, dec *json.Decoder, depth int) ([]byte, error) {
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return p, fmt.Errorf("msdp: %w", err)
		}
		p = append(p, msdpVAR)
		p = append(p, msdpText(k.(string))...)
		p = append(p, msdpVAL)
		if p, err = msdpValue(p, dec, depth); err != nil {
			return p, err
		}
	}
	_, err := dec.Token() // '}'
	return p, err
}

func msdpValue(p []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return p, fmt.Errorf("msdp: nested deeper than %d", maxDepth)
	}
	t, err := dec.Token()
	if err != nil {
		return p, fmt.Errorf("msdp: %w", err)
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			p = append(p, msdpTableOpen)
			if p, err = msdpPairs(p, dec, depth+1); err != nil {
				return p, err
			}
			return append(p, msdpTableClose), nil
		}
		p = append(p, msdpArrayOpen)
		for dec.More() {
			p = append(p, msdpVAL)
			if p, err = msdpValue(p, dec, depth+1); err != nil {
				return p, err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return p, fmt.Errorf("msdp: %w", err)
		}
		return append(p, msdpArrayClose), nil
	case string:
		return append(p, msdpText(v)...), nil
	case json.Number:
		return append(p, v...), nil
	case bool:
		if v {
			return append(p, '1'), nil
		}
		return append(p, '0'), nil
	}
	return p, nil // null
}

// msdpText drops the bytes MSDP reserves (1 to 6) from text.
func msdpText(s string) []byte {
	b := []byte(s)
	return bytes.Map(func(r rune) rune {
		if r >= rune(msdpVAR) && r <= rune(msdpArrayClose) {
			return -1
		}
		return r
	}, b)
}

// MSSPToJSON turns an MSSP message (MSSP_VAR name MSSP_VAL value ..., the
// same bytes as MSDP's VAR and VAL, without tables) into a JSON object of
// strings, or arrays of strings for a variable with several values.
func MSSPToJSON(p []byte) []byte { return MSDPToJSON(p) }
