package policy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// MaxTargetLen is the longest first message accepted: a host name is at
// most 253 bytes, so 1 KiB leaves room and bounds what a client makes the
// gateway read.
const MaxTargetLen = 1024

// ParseTarget checks the client's first message, "host:port", and returns
// the address to dial, as Dialer.DialContext takes it. Its errors are shown
// to a person as they are, after "FAIL:", so each says what to send instead.
func ParseTarget(msg string) (string, error) {
	if len(msg) > MaxTargetLen {
		return "", fmt.Errorf("the target is longer than %d bytes; send host:port, e.g. localhost:7000", MaxTargetLen)
	}
	if !utf8.ValidString(msg) {
		return "", errors.New("the target is not valid UTF-8 text; send host:port, e.g. localhost:7000")
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return "", errors.New("no target given; send host:port, e.g. localhost:7000")
	}
	for _, r := range msg {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "", errors.New("the target contains control characters; send host:port, e.g. localhost:7000")
		}
	}
	if strings.Contains(msg, "://") {
		return "", fmt.Errorf("%q is a URL; send just host:port, e.g. localhost:7000", msg)
	}
	host, port, err := net.SplitHostPort(msg)
	if err != nil {
		var ae *net.AddrError
		switch {
		case errors.As(err, &ae) && ae.Err == "missing port in address":
			// JoinHostPort keeps an IPv6 address in its brackets.
			return "", fmt.Errorf("no port in %q; send host:port, e.g. %s", msg, net.JoinHostPort(strings.Trim(msg, "[]"), "23"))
		case strings.Count(msg, ":") > 1 && !strings.HasPrefix(msg, "["):
			return "", fmt.Errorf("%q: write an IPv6 address in brackets, e.g. [::1]:23", msg)
		default:
			return "", fmt.Errorf("%q is not host:port; send e.g. localhost:7000", msg)
		}
	}
	if host == "" {
		return "", fmt.Errorf("no host in %q; send host:port, e.g. localhost:%s", msg, port)
	}
	if _, err := parsePort(port, "no port given; "+targetPorts, targetPorts); err != nil {
		return "", err
	}
	if err := checkHost(host); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

// targetPorts says how a port is written, to a person typing a target.
const targetPorts = "ports are numbers from 1 to 65535"

// checkHost accepts an IP address, with a zone if it has one, or a host name
// as checkName has it.
func checkHost(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	switch fault, _ := checkName(strings.TrimSuffix(host, ".")); fault {
	case nameOK:
		return nil
	case nameTooLong:
		return fmt.Errorf("host name %.40q... is longer than 253 characters", host)
	case nameEmpty, nameBadLabel:
		return fmt.Errorf("%q is not a valid host name", host)
	case nameNonASCII:
		return fmt.Errorf("%q: write international host names in their ASCII (xn--) form", host)
	default: // nameStar, nameBadChar, nameNumeric
		return fmt.Errorf("%q is not a valid host name or IP address", host)
	}
}
