package policy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// builtin is a denial that applies without any -deny: addresses a browser
// user has no business reaching through the gateway.
type builtin struct {
	prefix netip.Prefix
	port   uint16 // 0: every port; else only this port, which -allow must name to lift it
	reason string // says why, and how an operator lifts it
}

// builtinDenials are the denials every policy starts with.
func builtinDenials() []builtin {
	b := func(cidr, what string) builtin {
		p := netip.MustParsePrefix(cidr)
		shown := p.String()
		if p.IsSingleIP() {
			shown = p.Addr().String()
		}
		return builtin{prefix: p, reason: fmt.Sprintf("%s (%s) are denied unless -allow names them", what, shown)}
	}
	return []builtin{
		// Dialling 0.0.0.0 or :: reaches this machine. Listed before
		// 0.0.0.0/8 so that its reason is the one given; -allow 0.0.0.0/8
		// does not lift it, a /8 being broader than a single address.
		b("0.0.0.0/32", "unspecified addresses"),
		b("::/128", "unspecified addresses"),
		b("0.0.0.0/8", `addresses in "this network"`),
		// Where cloud metadata services (169.254.169.254) and
		// zero-configuration devices live.
		b("169.254.0.0/16", "link-local addresses"),
		b("fe80::/10", "link-local addresses"),
		// The IPv6 twin of 169.254.169.254 on AWS, outside link-local.
		b("fd00:ec2::254/128", "cloud metadata addresses"),
		b("224.0.0.0/4", "multicast addresses"),
		b("ff00::/8", "multicast addresses"),
		b("255.255.255.255/32", "broadcast addresses"),
	}
}

// selfDenials keep the gateway from dialling itself: a session to the
// gateway's own port could open further sessions from a loopback address,
// past any check made on the browser's address.
//
// A gateway listening on an unspecified address (0.0.0.0:8000, [::]:8000)
// can be reached on every address of the machine; of those, only loopback
// and unspecified addresses on its port are denied, because the machine's
// other addresses are not known without asking the system, and they change.
// Operators who listen on all addresses should -deny the machine's own
// addresses on that port too.
func selfDenials(self []netip.AddrPort) []builtin {
	var out []builtin
	for _, ap := range self {
		ip, port := ap.Addr().WithZone("").Unmap(), ap.Port()
		if !ip.IsValid() {
			continue
		}
		reason := fmt.Sprintf("the gateway listens on %s and does not connect to itself unless -allow names the address with port %d", ap, port)
		if !ip.IsUnspecified() {
			out = append(out, builtin{prefix: netip.PrefixFrom(ip, ip.BitLen()), port: port, reason: reason})
			continue
		}
		for _, cidr := range []string{"127.0.0.0/8", "::1/128", "0.0.0.0/32", "::/128"} {
			out = append(out, builtin{prefix: netip.MustParsePrefix(cidr), port: port, reason: reason})
		}
	}
	return out
}

// Policy decides which targets the gateway may dial. It does not change
// after New, so sessions may share it.
type Policy struct {
	allow, deny []Rule
	builtins    []builtin
}

// New builds a policy. self are the gateway's own listening addresses,
// which are denied unless -allow names them with their port.
func New(allow, deny []Rule, self []netip.AddrPort) *Policy {
	return &Policy{
		allow:    append([]Rule(nil), allow...),
		deny:     append([]Rule(nil), deny...),
		builtins: append(builtinDenials(), selfDenials(self)...),
	}
}

// Open reports that no -allow was given, so that every target not denied is
// allowed. The gateway may then listen on loopback only (see AllowHint).
func (p *Policy) Open() bool { return len(p.allow) == 0 }

// DeniedError is a target the policy refuses. Its Error is meant for the
// person who asked for the target.
type DeniedError struct {
	Target string // host:port as the client gave it
	Reason string
}

func (e *DeniedError) Error() string { return e.Target + " is not allowed: " + e.Reason }

// Decide is the policy as a pure function. name is the host the client gave
// (a name or an IP literal), ips the addresses it resolved to, port the
// target port. It returns the IPs to dial, in order (ips itself when none is
// dropped), or a *DeniedError:
//   - a -deny rule or a built-in denial that hits the name or any IP refuses
//     the whole target;
//   - with -allow, IPs that no rule allows (neither by the name, nor by an
//     IP rule) are dropped, and the target is refused if none is left.
func (p *Policy) Decide(name string, ips []netip.Addr, port uint16) ([]netip.Addr, error) {
	host := strings.TrimSuffix(name, ".")
	for i := range p.deny {
		if r := &p.deny[i]; r.kind != ruleNet && r.matchPort(port) && r.matchName(host) {
			return nil, denied(name, port, "-deny %s refuses it", r)
		}
	}
	if len(ips) == 0 {
		return nil, denied(name, port, "it has no IP address to check")
	}
	nameAllowed := p.Open()
	for i := 0; i < len(p.allow) && !nameAllowed; i++ {
		r := &p.allow[i]
		nameAllowed = r.kind != ruleNet && r.matchPort(port) && r.matchName(host)
	}

	var kept []netip.Addr // allocated only once an IP is dropped
	dropped := false
	for i, orig := range ips {
		ip := orig.WithZone("").Unmap()
		if !ip.IsValid() {
			return nil, denied(name, port, "%q is not a valid IP address", orig)
		}
		for j := range p.deny {
			if r := &p.deny[j]; r.kind == ruleNet && r.matchPort(port) && r.prefix.Contains(ip) {
				if isLiteral(name, orig) {
					return nil, denied(name, port, "-deny %s refuses it", r)
				}
				return nil, denied(name, port, "it resolves to %s, which -deny %s refuses", orig, r)
			}
		}
		for j := range p.builtins {
			if b := &p.builtins[j]; (b.port == 0 || b.port == port) && b.prefix.Contains(ip) && !p.lifted(b, ip, port) {
				if isLiteral(name, orig) {
					return nil, denied(name, port, "%s", b.reason)
				}
				return nil, denied(name, port, "it resolves to %s, and %s", orig, b.reason)
			}
		}
		ok := nameAllowed
		for j := 0; j < len(p.allow) && !ok; j++ {
			r := &p.allow[j]
			ok = r.kind == ruleNet && r.matchPort(port) && r.prefix.Contains(ip)
		}
		switch {
		case ok && dropped:
			kept = append(kept, orig)
		case !ok && !dropped:
			dropped = true
			kept = append(make([]netip.Addr, 0, len(ips)-1), ips[:i]...)
		}
	}
	if !dropped {
		return ips, nil
	}
	if len(kept) == 0 {
		if len(ips) == 1 && isLiteral(name, ips[0]) {
			return nil, denied(name, port, "no -allow rule matches it")
		}
		return nil, denied(name, port, "no -allow rule matches the name or its addresses (%s)", addrList(ips))
	}
	return kept, nil
}

// lifted reports whether an explicit -allow lifts a built-in denial for
// ip:port: an IP or CIDR rule (not a name, not *) that matches it and is no
// broader than the denied range, so that -allow 0.0.0.0/0 does not open
// 169.254.169.254 by accident. The gateway's own address must be allowed
// with its single port: -allow 127.0.0.1 or 127.0.0.1:1024-65535, meant for
// other local services, does not open the gateway to itself.
func (p *Policy) lifted(b *builtin, ip netip.Addr, port uint16) bool {
	for i := range p.allow {
		r := &p.allow[i]
		if r.kind == ruleNet && r.prefix.Bits() >= b.prefix.Bits() && r.prefix.Contains(ip) &&
			r.matchPort(port) && (b.port == 0 || r.lo == b.port && r.hi == b.port) {
			return true
		}
	}
	return false
}

// isLiteral reports whether the client gave the IP itself rather than a
// name, so that the reason need not say what the name resolved to.
func isLiteral(name string, ip netip.Addr) bool {
	a, err := netip.ParseAddr(name)
	return err == nil && a == ip
}

func denied(name string, port uint16, format string, a ...any) *DeniedError {
	return &DeniedError{Target: net.JoinHostPort(name, strconv.Itoa(int(port))), Reason: fmt.Sprintf(format, a...)}
}

// addrList writes a few addresses for a reason; a long DNS answer is cut.
func addrList(ips []netip.Addr) string {
	const most = 4
	var b strings.Builder
	for i, ip := range ips {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(ips)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ip.String())
	}
	return b.String()
}

// Matches reports whether one of rules matches a connection to ip:port
// made for the host name (or IP literal) name: a name rule by the name, an
// IP or CIDR rule by ip, each within its ports. The gateway uses it for
// rule lists other than -allow and -deny, such as -proxy-protocol, on the
// address it actually dialled.
func Matches(rules []Rule, name string, ip netip.Addr, port uint16) bool {
	host := strings.TrimSuffix(name, ".")
	ip = ip.WithZone("").Unmap()
	for i := range rules {
		r := &rules[i]
		if !r.matchPort(port) {
			continue
		}
		if r.kind == ruleNet {
			if r.prefix.Contains(ip) {
				return true
			}
		} else if r.matchName(host) {
			return true
		}
	}
	return false
}
