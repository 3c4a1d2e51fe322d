package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// maxTargetLen is the longest first message accepted: a host name is at
// most 253 bytes, so 1 KiB leaves room and bounds what a client makes us read.
const maxTargetLen = 1024

// parseTarget checks the client's first message, "host:port", and returns
// the address to dial. Its errors are shown to a person as they are, after "FAIL:".
func parseTarget(msg string) (string, error) {
	if len(msg) > maxTargetLen {
		return "", fmt.Errorf("the target is longer than %d bytes; send host:port, e.g. localhost:7000", maxTargetLen)
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

// dialError turns a failed dial into words for the FAIL: answer. A policy
// refusal (*DeniedError) never gets here: session.open answers it first, in
// its own words, and logs it as a denial rather than a dial error.
func dialError(addr string, timeout time.Duration, err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("cannot find host %s (check the spelling)", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot look up host %s: %s", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection (is the service running on that port?)", addr)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from %s within %s", addr, timeout)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s cannot be reached from the gateway (no route)", addr)
	case errors.Is(err, context.Canceled):
		return "the gateway is shutting down"
	default:
		return fmt.Sprintf("cannot connect to %s: %v", addr, err)
	}
}
