package policy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

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
// "host:port" as ParseTarget returns it. It looks the host up once (an IP
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
	port, err := parsePort(portText, "no port given; "+targetPorts, targetPorts)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
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
	ips, err = d.Policy.Decide(host, ips, port)
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
		c, err := dialer.DialContext(actx, network, netip.AddrPortFrom(ip, port).String())
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
