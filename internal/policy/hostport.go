package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The grammar of host names and ports, shared by ParseTarget (the browser's
// "host:port") and ParseRules (-allow, -deny), so that a rule can name every
// host a browser can ask for, and no other. Each parser words the faults for
// its own reader: an operator writing a rule, or a person typing a target.

// nameFault is what makes a host name invalid.
type nameFault uint8

const (
	nameOK       nameFault = iota
	nameEmpty              // nothing, or only a dot
	nameTooLong            // longer than 253 characters, the most DNS allows
	nameBadLabel           // a part between dots is empty or longer than 63 characters
	nameStar               // a "*", which only rules have, and only as "*" or a leading "*."
	nameNonASCII           // international names are written in their xn-- form
	nameBadChar            // anything else that is not a letter, digit, '-' or '_'
	nameNumeric            // the last part is a number
)

// checkName checks a host name, without its trailing dot: parts between dots
// of 1 to 63 letters, digits, hyphens and underscores (which some internal
// names use). Anything else could only fail later, with a worse message, or
// reach a resolver that does something surprising with it. The last part is
// not all digits, as no top-level domain is: 10.0.0.256 or 127.1 is a
// mistyped IP address, which as a name would never match a rule and which
// some resolvers (inet_aton) read as an address after all. bad is the
// character at fault, for nameStar, nameNonASCII and nameBadChar.
func checkName(name string) (fault nameFault, bad rune) {
	switch {
	case name == "":
		return nameEmpty, 0
	case len(name) > 253:
		return nameTooLong, 0
	}
	last := name
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return nameBadLabel, 0
		}
		for _, c := range label {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			case c == '*':
				return nameStar, c
			case c >= utf8.RuneSelf: // invalid UTF-8 too, as utf8.RuneError
				return nameNonASCII, c
			default:
				return nameBadChar, c
			}
		}
		last = label
	}
	if strings.Trim(last, "0123456789") == "" {
		return nameNumeric, 0
	}
	return nameOK, 0
}

// parsePort parses a port from 1 to 65535 in ASCII digits, leading zeros
// allowed. missing is the error for an empty s; advice, which says how a
// port is written, ends the other errors.
func parsePort(s, missing, advice string) (uint16, error) {
	if s == "" {
		return 0, errors.New(missing)
	}
	// Checked apart from ParseUint so that "telnet" is "not a number" and
	// 99999 is "out of range".
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q is not a number; %s", s, advice)
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %s is out of range; %s", s, advice)
	}
	return uint16(n), nil
}
