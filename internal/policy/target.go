package policy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
			return "", fmt.Errorf("no port in %q; send host:port, e.g. %s:23", msg, strings.Trim(msg, "[]"))
		case strings.Count(msg, ":") > 1 && !strings.HasPrefix(msg, "["):
			return "", fmt.Errorf("%q: write an IPv6 address in brackets, e.g. [::1]:23", msg)
		default:
			return "", fmt.Errorf("%q is not host:port; send e.g. localhost:7000", msg)
		}
	}
	if host == "" {
		return "", fmt.Errorf("no host in %q; send host:port, e.g. localhost:%s", msg, port)
	}
	if err := checkPort(port); err != nil {
		return "", err
	}
	if err := checkHost(host); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

func checkPort(port string) error {
	if port == "" {
		return errors.New("no port given; ports are numbers from 1 to 65535")
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return fmt.Errorf("port %q is not a number; ports are numbers from 1 to 65535", port)
		}
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return fmt.Errorf("port %s is out of range; ports are numbers from 1 to 65535", port)
	}
	return nil
}

// checkHost accepts an IP address or a DNS name made of letters, digits,
// hyphens, underscores and dots; anything else could only fail later, with a
// worse message, or reach a resolver that does something surprising with it.
func checkHost(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("host name %.40q... is longer than 253 characters", host)
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a valid host name", host)
		}
		for _, c := range label {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= utf8.RuneSelf:
				return fmt.Errorf("%q: write international host names in their ASCII (xn--) form", host)
			default:
				return fmt.Errorf("%q is not a valid host name or IP address", host)
			}
		}
	}
	return nil
}
