package main

// The target policy: which host:port a browser may make the gateway dial.
//
// The rules (-allow, -deny) are checked against every address the target
// resolves to, and the gateway then dials exactly the addresses it checked:
// a second lookup would let a DNS answer that changed in between (DNS
// rebinding) reach an address that was never checked.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// allowHint is the start-up error for a gateway that listens beyond loopback
// without -allow: anyone who reaches it could otherwise reach every TCP
// service its machine can reach.
const allowHint = `no -allow given, and the gateway listens beyond loopback: anyone who can reach it could reach every TCP service this machine can reach.
Say which targets users may reach with -allow, a comma-separated list of rules:
  a host name:       bbs.example.org   *.example.org (any name under example.org)
  an IP or a CIDR:   192.0.2.7   10.0.0.0/8   fd00::/8
  each with an optional port or port range:   bbs.example.org:23   10.0.0.0/8:2000-2999   [fd00::/8]:23
for example: -allow 'bbs.example.org:23,*.mud.example.org:4000-4999'
-deny takes the same rules and wins over -allow.
To let users reach every host on purpose, give -allow '*' (this includes the services on this machine's loopback; add -deny 127.0.0.0/8,::1 to keep them out).
Link-local (cloud metadata), multicast, broadcast and unspecified addresses, and the gateway's own address, stay denied unless -allow names them.`

// ruleKind says which part of a target a rule looks at.
type ruleKind uint8

const (
	ruleAny    ruleKind = iota + 1 // "*": every target
	ruleName                       // one host name, as the client wrote it
	ruleDomain                     // "*.example.org": every name under a domain, not the domain itself
	ruleNet                        // an IP address or CIDR: the addresses the target resolves to
)

// Rule is one parsed -allow/-deny entry. Rules are comparable, and two
// spellings of the same rule (10.0.0.1 and 10.0.0.1/32, Example.org. and
// example.org, :23 and :23-23) parse to equal values.
type Rule struct {
	kind   ruleKind
	name   string       // ruleName, ruleDomain: lower case, no trailing dot; for *.example.org, "example.org"
	prefix netip.Prefix // ruleNet: masked; IPv4-mapped IPv6 ranges are stored as IPv4
	lo, hi uint16       // the port range; 0, 0 means every port
}

// String is the rule's canonical text, for logs and errors. It parses back
// to an equal rule.
func (r Rule) String() string {
	var host string
	switch r.kind {
	case ruleAny:
		host = "*"
	case ruleName:
		host = r.name
	case ruleDomain:
		host = "*." + r.name
	case ruleNet:
		if r.prefix.IsSingleIP() {
			host = r.prefix.Addr().String()
		} else {
			host = r.prefix.String()
		}
	default:
		return "<invalid rule>"
	}
	if r.lo == 0 {
		return host
	}
	if r.kind == ruleNet && r.prefix.Addr().Is6() {
		host = "[" + host + "]"
	}
	if r.lo == r.hi {
		return host + ":" + strconv.Itoa(int(r.lo))
	}
	return host + ":" + strconv.Itoa(int(r.lo)) + "-" + strconv.Itoa(int(r.hi))
}

// matchPort reports whether port is in the rule's range.
func (r *Rule) matchPort(port uint16) bool {
	return r.lo == 0 || r.lo <= port && port <= r.hi
}

// matchName reports whether a name rule (or *) covers host, which has no
// trailing dot. It never matches IP rules.
func (r *Rule) matchName(host string) bool {
	switch r.kind {
	case ruleAny:
		return true
	case ruleName:
		return asciiEqualFold(host, r.name)
	case ruleDomain:
		// At least one character and a dot before the domain: *.example.org
		// covers a.example.org and a.b.example.org, not example.org.
		n := len(host) - len(r.name)
		return n >= 2 && host[n-1] == '.' && asciiEqualFold(host[n:], r.name)
	}
	return false
}

// asciiEqualFold is strings.EqualFold for host names: only A-Z fold, so that
// no Unicode folding (K, the Kelvin sign, folds to k) makes two names equal.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Examples shown in parse errors.
const (
	ruleExamples = "e.g. bbs.example.org, *.example.org, 10.0.0.0/8, fd00::/8 or *, each with an optional :PORT or :LO-HI"
	portExamples = "ports are numbers from 1 to 65535, e.g. *:23 or 10.0.0.0/8:2000-2999"
	ipv6Examples = "write an IPv6 address or CIDR with a port in brackets, e.g. [::1]:23 or [fd00::/8]:2000-2999"
)

// ParseRules parses a -allow or -deny value: comma-separated rules, spaces
// around them and empty entries ignored. flagName ("-allow", "-deny") goes
// into the error, which quotes the wrong entry and shows a correct one.
func ParseRules(flagName, list string) ([]Rule, error) {
	var rules []Rule
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		r, err := parseRule(entry)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flagName, entry, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseRule parses one non-empty entry.
func parseRule(s string) (Rule, error) {
	host, ports, hasPort := s, "", false
	bracketed := strings.HasPrefix(s, "[")
	ipOnly := bracketed // or several colons: the host must be an IP or CIDR
	switch {
	case bracketed:
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return Rule{}, fmt.Errorf(`missing "]"; %s`, ipv6Examples)
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return Rule{}, fmt.Errorf(`unexpected %q after "]"; %s`, rest, ipv6Examples)
			}
			ports, hasPort = rest[1:], true
		}
	case strings.Count(s, ":") > 1:
		// Without brackets, several colons can only be an IPv6 address or
		// CIDR, and the last group is part of it, not a port.
		ipOnly = true
	default:
		host, ports, hasPort = strings.Cut(s, ":")
	}

	var r Rule
	switch {
	case ipOnly:
		p, err := parseNet(host)
		_, bits, _ := strings.Cut(host, "/")
		switch {
		case err == nil:
			r = Rule{kind: ruleNet, prefix: p}
		case looksLikeIP(host) && (bracketed || !strings.Contains(bits, ":")):
			return Rule{}, err // about the prefix length, host bits or a zone, not a port
		case bracketed:
			return Rule{}, fmt.Errorf("brackets hold an IP address or CIDR, not %q; write e.g. [::1]:23, [fd00::/8]:2000-2999, or a host name without brackets: bbs.example.org:23", host)
		default:
			return Rule{}, errors.New("not an IPv6 address or CIDR (with several colons and no brackets, the whole entry is read as one, port included); to give an IPv6 address a port, put it in brackets, e.g. [fd00::1]:23 or [fd00::/8]:2000-2999")
		}
	case host == "":
		return Rule{}, fmt.Errorf("no host before the port; write %s", ruleExamples)
	case host == "*":
		r = Rule{kind: ruleAny}
	case strings.HasPrefix(host, "*."):
		if rest := host[2:]; rest == "" || rest[0] == '.' {
			return Rule{}, errors.New(`"*." needs a domain after it, e.g. *.example.org`)
		}
		name, err := parseName(host[2:])
		if err != nil {
			return Rule{}, err
		}
		r = Rule{kind: ruleDomain, name: name}
	case strings.Contains(host, "*"):
		return Rule{}, errors.New(`"*" stands alone (every host) or as the whole first label of a name, e.g. * or *.example.org`)
	case strings.Contains(host, "/"):
		p, err := parseNet(host)
		if err != nil {
			return Rule{}, err
		}
		r = Rule{kind: ruleNet, prefix: p}
	default:
		if _, err := netip.ParseAddr(host); err == nil {
			p, err := parseNet(host)
			if err != nil {
				return Rule{}, err
			}
			r = Rule{kind: ruleNet, prefix: p}
			break
		}
		name, err := parseName(host)
		if err != nil {
			return Rule{}, err
		}
		r = Rule{kind: ruleName, name: name}
	}

	if hasPort {
		var err error
		if r.lo, r.hi, err = parsePorts(ports); err != nil {
			return Rule{}, err
		}
	}
	return r, nil
}

// looksLikeIP reports whether s starts with an IP address, with or without
// a prefix length: its parse error is then about the prefix or the zone.
func looksLikeIP(s string) bool {
	addr, _, _ := strings.Cut(s, "/")
	_, err := netip.ParseAddr(addr)
	return err == nil
}

// parseNet parses an IP address or a CIDR. Host bits set after the prefix
// are an error rather than silently cleared: 10.1.2.3/8 is more likely a
// typo than a way to write 10.0.0.0/8.
func parseNet(s string) (netip.Prefix, error) {
	addrText, bitsText, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addrText)
	if err != nil {
		if hasBits {
			return netip.Prefix{}, fmt.Errorf("not a valid CIDR: %q is not an IP address; write e.g. 10.0.0.0/8 or fd00::/8", addrText)
		}
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address; write e.g. 192.0.2.7 or 2001:db8::7", s)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("a rule cannot hold an IPv6 zone (%%%s): it matches an address on any interface; write %s", a.Zone(), a.WithZone(""))
	}
	bits := a.BitLen()
	if hasBits {
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 0 || n > a.BitLen() || bitsText == "" || len(bitsText) > 3 || bitsText[0] < '0' || bitsText[0] > '9' {
			return netip.Prefix{}, fmt.Errorf("not a valid CIDR: the prefix length after / must be a number from 0 to %d; write e.g. 10.0.0.0/8 or fd00::/8", a.BitLen())
		}
		bits = n
	}
	p := netip.PrefixFrom(a, bits)
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("not a valid CIDR: the address has bits set after the first %d; write %s", bits, m)
	}
	// Targets' IPv4-mapped addresses are unmapped before matching, so a
	// mapped rule is stored in the IPv4 form it will be compared with.
	if a.Is4In6() && bits >= 96 {
		p = netip.PrefixFrom(a.Unmap(), bits-96)
	}
	return p, nil
}

// parseName checks a host name as checkHost does for targets and returns it
// in lower case without its trailing dot.
func parseName(s string) (string, error) {
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return "", fmt.Errorf("not a host name; write %s", ruleExamples)
	}
	if len(name) > 253 {
		return "", errors.New("the host name is longer than 253 characters, the most DNS allows; write a shorter one, or a wildcard such as *.example.org")
	}
	labels := strings.Split(name, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 {
			return "", errors.New("not a valid host name: a part between dots is empty or longer than 63 characters; write e.g. bbs.example.org or *.example.org")
		}
		for _, c := range label {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			case c == '*':
				return "", errors.New(`"*" stands alone (every host) or as the whole first label of a name, e.g. * or *.example.org`)
			case c >= 0x80:
				return "", errors.New("write international host names in their ASCII form, e.g. xn--bcher-kva.example for bücher.example")
			default:
				return "", fmt.Errorf("not a valid host name or IP address (%q is not allowed in a name); write %s", c, ruleExamples)
			}
		}
	}
	// No top-level domain is all digits: 10.0.0.256 or 10.0.0 is a mistyped
	// address, and as a name it would never match anything.
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return "", errors.New("not a valid IP address (four numbers from 0 to 255, e.g. 192.0.2.7), nor a host name (whose last part is not a number)")
	}
	return strings.ToLower(name), nil
}

// parsePorts parses PORT or LO-HI.
func parsePorts(s string) (lo, hi uint16, err error) {
	loText, hiText, isRange := strings.Cut(s, "-")
	if lo, err = parsePort(loText); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(hiText); err != nil {
			return 0, 0, err
		}
		if lo > hi {
			return 0, 0, fmt.Errorf("port range %d-%d is backwards; write the lower port first, e.g. %d-%d", lo, hi, hi, lo)
		}
	}
	return lo, hi, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("a port is missing after the colon or dash; %s", portExamples)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q is not a number; %s", s, portExamples)
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %s is out of range; %s", s, portExamples)
	}
	return uint16(n), nil
}

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
// after NewPolicy, so sessions may share it.
type Policy struct {
	allow, deny []Rule
	builtins    []builtin
}

// NewPolicy builds a policy. self are the gateway's own listening
// addresses, which are denied unless -allow names them with their port.
func NewPolicy(allow, deny []Rule, self []netip.AddrPort) *Policy {
	return &Policy{
		allow:    append([]Rule(nil), allow...),
		deny:     append([]Rule(nil), deny...),
		builtins: append(builtinDenials(), selfDenials(self)...),
	}
}

// Open reports that no -allow was given, so that every target not denied is
// allowed. The gateway may then listen on loopback only (see allowHint).
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

// minAttempt is the least time one address gets when a target has several,
// as in net.Dialer: less would fail addresses that are merely slow.
const minAttempt = 2 * time.Second

// Dialer resolves a target, checks it against the policy and dials the
// addresses it checked. Its DialContext is the gateway's Dial function.
type Dialer struct {
	Policy   *Policy       // required
	Resolver *net.Resolver // nil: net.DefaultResolver
	Dialer   *net.Dialer   // nil: &net.Dialer{}
}

// DialContext has the signature of net.Dialer.DialContext. address is
// "host:port" as parseTarget returns it. It looks the host up once (an IP
// literal is not looked up; a zone, as in fe80::1%eth0, is kept), asks the
// policy, and dials the allowed IPs one after the other until one answers,
// within ctx. A refusal is a *DeniedError, returned before any dial; other
// errors wrap the *net.DNSError or the last dial error.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if d.Policy == nil {
		return nil, fmt.Errorf("dial %s: the Dialer has no Policy", address)
	}
	var ipNetwork string
	switch network {
	case "tcp":
		ipNetwork = "ip"
	case "tcp4":
		ipNetwork = "ip4"
	case "tcp6":
		ipNetwork = "ip6"
	default:
		return nil, fmt.Errorf("dial %s: network %q is not supported (tcp, tcp4 or tcp6)", address, network)
	}
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("dial %s: port %q is not a number from 1 to 65535", address, portText)
	}

	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if ips, err = r.LookupNetIP(ctx, ipNetwork, host); err != nil {
			return nil, fmt.Errorf("dial %s: %w", address, err)
		}
		// The resolver writes IPv4 answers from /etc/hosts as
		// ::ffff:127.0.0.1; reasons and dial errors read better without.
		for i := range ips {
			ips[i] = ips[i].Unmap()
		}
	}
	ips, err = d.Policy.Decide(host, ips, uint16(port))
	if err != nil {
		return nil, err
	}

	dialer := d.Dialer
	if dialer == nil {
		dialer = &net.Dialer{}
	}
	var last error
	tried := 0
	for i, ip := range ips {
		if ctx.Err() != nil {
			break
		}
		actx, cancel := attemptContext(ctx, len(ips)-i)
		c, err := dialer.DialContext(actx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		cancel()
		tried++
		if err == nil {
			return c, nil
		}
		last = err
	}
	if last == nil { // ctx ended before the first attempt
		last = ctx.Err()
	}
	if tried > 1 {
		return nil, fmt.Errorf("dial %s (%d addresses tried): %w", address, tried, last)
	}
	return nil, fmt.Errorf("dial %s: %w", address, last)
}

// attemptContext gives the next of n remaining addresses its share of ctx's
// time, as net.Dialer does, so that one address that never answers does not
// use up the time of the others.
func attemptContext(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || n <= 1 {
		return ctx, func() {}
	}
	share := time.Until(deadline) / time.Duration(n)
	if share < minAttempt {
		share = minAttempt // still bounded by ctx's own deadline
	}
	return context.WithTimeout(ctx, share)
}
