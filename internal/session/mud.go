package session

import (
	"strconv"
	"strings"

	"wstelnet/internal/telnet"
)

// The MUD options (internal/telnet's mud.go) as a session uses them: what
// the gateway, the target and the client allow, turned into the
// decoder's configuration once the target is known (codec.configure);
// the events are passed on by the codecs (v1.go, v2.go), and the
// compressed stream is inflated by the target reader (targetreader.go).

// mudSettings is what the gateway and the target allow a session.
type mudSettings struct {
	mccp    bool   // agree to MCCP2: not -mccp=false, nor the target's no-mccp
	address string // the visitor's address for NEW-ENVIRON's IPADDRESS, "" unless the target opts in
	tls     bool   // the browser's connection is TLS: MTTS's SSL bit
	version string // CLIENT_VERSION
}

// ClientName is how the gateway names itself to MUDs: the first TTYPE
// answer (MTTS) and NEW-ENVIRON's CLIENT_NAME.
const ClientName = "WSTELNET"

// v2Config is the telnet configuration of a v2 session: the terminal
// options as ever, prompts (EOR), MCCP2 if allowed, GMCP and MSDP if the
// client asked, CHARSET for a UTF-8 client, and with mtts=N the MTTS
// cycle of terminal types and NEW-ENVIRON with MNES's variables.
func (m mudSettings) v2Config(o V2Options) telnet.Config {
	cfg := telnet.Config{TerminalTypes: o.Term, Width: o.Cols, Height: o.Rows}
	cfg.MUD = telnet.MUD{MCCP: m.mccp, EOR: true, GMCP: o.GMCP, MSDP: o.MSDP, UTF8: o.UTF8()}
	if o.MTTS < 0 {
		return cfg
	}
	bits := o.MTTS | telnet.MTTSProxy | telnet.MTTSMNES
	if m.tls {
		bits |= telnet.MTTSSSL
	}
	if o.UTF8() {
		bits |= telnet.MTTSUTF8
	}
	cfg.TerminalTypes = []string{ClientName, o.Term[0], telnet.MTTS(bits)}
	env := []telnet.EnvVar{
		{Name: "CLIENT_NAME", Value: ClientName},
		{Name: "CLIENT_VERSION", Value: m.version},
		{Name: "TERMINAL_TYPE", Value: o.Term[0]},
		{Name: "MTTS", Value: strconv.Itoa(bits)},
	}
	if o.Charset != "" {
		env = append(env, telnet.EnvVar{Name: "CHARSET", Value: strings.ToUpper(o.Charset)})
	}
	if m.address != "" {
		env = append(env, telnet.EnvVar{Name: "IPADDRESS", Value: m.address})
	}
	cfg.MUD.Environ = env
	return cfg
}

// v1Config is the telnet configuration of a v1 session: lines, not a
// terminal, so only MCCP2 (if allowed) and EOR, whose prompts v1 sends
// at once as lines.
func (m mudSettings) v1Config() telnet.Config {
	return telnet.Config{MUD: telnet.MUD{Only: true, MCCP: m.mccp, EOR: true}}
}

// kept is the last message of each key as sent to the browser (GMCP's
// packages; MSDP's variables, one message each), so that a resumed page
// has the current vitals and room at once. Bounded: at most maxKeptKeys
// keys and maxKeptBytes in all; past either, the key updated longest ago
// is forgotten.
type kept struct {
	order []string          // keys, least recently updated first
	msg   map[string][]byte // the control message
	size  int
}

const (
	maxKeptKeys  = 64
	maxKeptBytes = 64 << 10
)

func (g *kept) keep(pkg string, msg []byte) {
	if len(msg) > maxKeptBytes {
		return
	}
	if g.msg == nil {
		g.msg = map[string][]byte{}
	}
	if old, ok := g.msg[pkg]; ok {
		g.size -= len(old)
		for i, p := range g.order {
			if p == pkg {
				g.order = append(g.order[:i], g.order[i+1:]...)
				break
			}
		}
	}
	for len(g.order) > 0 && (len(g.order) >= maxKeptKeys || g.size+len(msg) > maxKeptBytes) {
		old := g.order[0]
		g.order = g.order[1:]
		g.size -= len(g.msg[old])
		delete(g.msg, old)
	}
	g.msg[pkg] = msg
	g.order = append(g.order, pkg)
	g.size += len(msg)
}

// append appends the messages kept, oldest first.
func (g *kept) append(out [][]byte) [][]byte {
	for _, p := range g.order {
		out = append(out, g.msg[p])
	}
	return out
}
