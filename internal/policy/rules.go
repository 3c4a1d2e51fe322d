package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AllowHint is the start-up error for a gateway that listens beyond
// loopback without -allow: anyone who reaches it could otherwise reach every
// TCP service its machine can reach. It lives with the parser because it
// teaches the rules' syntax, and every example in it must parse.
const AllowHint = `no -allow or -targets given, and the gateway listens beyond loopback: anyone who can reach it could reach every TCP service this machine can reach.
Name the only targets users may reach in a file, with -targets FILE (one "name: host:port" per line, websockify's format),
or say which targets users may reach with -allow, a comma-separated list of rules:
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
	portMissing  = "a port is missing after the colon or dash; " + portExamples
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

// parseName checks a host name for a rule, and returns it in lower case
// without its trailing dot.
func parseName(s string) (string, error) {
	name := strings.TrimSuffix(s, ".")
	switch fault, c := checkName(name); fault {
	case nameOK:
		return strings.ToLower(name), nil
	case nameEmpty:
		return "", fmt.Errorf("not a host name; write %s", ruleExamples)
	case nameTooLong:
		return "", errors.New("the host name is longer than 253 characters, the most DNS allows; write a shorter one, or a wildcard such as *.example.org")
	case nameBadLabel:
		return "", errors.New("not a valid host name: a part between dots is empty or longer than 63 characters; write e.g. bbs.example.org or *.example.org")
	case nameStar:
		return "", errors.New(`"*" stands alone (every host) or as the whole first label of a name, e.g. * or *.example.org`)
	case nameNonASCII:
		return "", errors.New("write international host names in their ASCII form, e.g. xn--bcher-kva.example for bücher.example")
	case nameNumeric:
		return "", errors.New("not a valid IP address (four numbers from 0 to 255, e.g. 192.0.2.7), nor a host name (whose last part is not a number)")
	default:
		return "", fmt.Errorf("not a valid host name or IP address (%q is not allowed in a name); write %s", c, ruleExamples)
	}
}

// parsePorts parses PORT or LO-HI.
func parsePorts(s string) (lo, hi uint16, err error) {
	loText, hiText, isRange := strings.Cut(s, "-")
	if lo, err = parsePort(loText, portMissing, portExamples); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(hiText, portMissing, portExamples); err != nil {
			return 0, 0, err
		}
		if lo > hi {
			return 0, 0, fmt.Errorf("port range %d-%d is backwards; write the lower port first, e.g. %d-%d", lo, hi, hi, lo)
		}
	}
	return lo, hi, nil
}
