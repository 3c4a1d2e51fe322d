package main

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// client is who a request comes from, as far as the gateway can tell.
type client struct {
	addr     string // the client's IP: for logs and per-client limits
	port     uint16 // the client's TCP port, 0 if unknown (see identify)
	scheme   string // "http" or "https", as the browser reached us
	host     string // the host (and port) the browser asked for
	viaProxy bool   // the request came through a -trust-proxy peer
	// unknown is a trusted proxy's X-Forwarded-For entry for the client
	// that is no address (nginx and others write "unknown"): addr is then
	// the proxy's, for limits, and no PROXY header names anyone.
	unknown string
}

type clientKey struct{}

// clientOf returns what identify found out about r's client.
func clientOf(r *http.Request) client {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c
	}
	return client{addr: remoteIP(r.RemoteAddr), port: remotePort(r.RemoteAddr), scheme: requestScheme(r), host: r.Host}
}

// addrPort is the client's address and port, for a PROXY protocol header;
// it is not valid when the address is not an IP.
func (c client) addrPort() netip.AddrPort {
	if c.unknown != "" {
		return netip.AddrPort{} // PROXY UNKNOWN (v1) or LOCAL (v2)
	}
	a, err := netip.ParseAddr(c.addr)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, c.port)
}

// identify works out the client of r. X-Forwarded-For, X-Forwarded-Proto
// and X-Forwarded-Host are believed only from -trust-proxy peers: anyone
// else could write them to dodge per-client limits or fake an origin.
//
// The client's port is the TCP peer's, unless the address comes from
// X-Forwarded-For: the peer's port is then the proxy's, and the browser's
// port is known only if the proxy wrote it into X-Forwarded-For
// ("198.51.100.7:51234", as some load balancers do), else it is 0 (unknown).
// X-Forwarded-Port is not used: by convention it is the port the browser
// connected to, not from.
func (g *Gateway) identify(r *http.Request) client {
	c := client{addr: remoteIP(r.RemoteAddr), port: remotePort(r.RemoteAddr), scheme: requestScheme(r), host: r.Host}
	if !g.trusted(c.addr) {
		return c
	}
	c.viaProxy = true
	// Each proxy appends the address it got the request from; the client is
	// the rightmost address that is not one of our trusted proxies.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		var port uint16
		ip, err := netip.ParseAddr(hop)
		if err != nil {
			ap, err := netip.ParseAddrPort(hop)
			if err != nil {
				// What a trusted proxy wrote, but no address: the client
				// is unknown. The entries left of it are the client's own
				// word, not to be believed.
				c.unknown = cmp.Or(hop, "(empty)")
				c.port = 0
				if g.log != nil && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
					g.log.Warn("a trusted proxy's X-Forwarded-For entry is not an address: the client is unknown, and targets with a PROXY header are told so",
						"entry", truncate(c.unknown, 60), "proxy", c.addr)
				}
				break
			}
			ip, port = ap.Addr(), ap.Port()
		}
		c.addr, c.port = ip.Unmap().String(), port
		if !g.trusted(c.addr) {
			break
		}
	}
	if proto := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); proto == "http" || proto == "https" {
		c.scheme = proto
	}
	// A proxy that rewrites Host (nginx's "proxy_set_header Host $host"
	// drops the port) can still say what the browser asked for.
	if h := strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Host"), ",")[0]); h != "" {
		c.host = h
	}
	return c
}

// truncate cuts s to n bytes, for logging what a peer sent.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func (g *Gateway) trusted(ip string) bool {
	if len(g.opts.TrustProxy) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range g.opts.TrustProxy {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func withClient(r *http.Request, c client) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), clientKey{}, c))
}

// remoteIP is the IP of a "host:port" remote address.
func remoteIP(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// remotePort is the port of a "host:port" remote address, 0 if there is none.
func remotePort(hostport string) uint16 {
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return 0
	}
	p, _ := strconv.ParseUint(port, 10, 16)
	return uint16(p)
}

// parsePrefixes parses a comma-separated list of CIDRs or single IPs.
func parsePrefixes(flagName, list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usagef("%s %q: want an IP address or a CIDR such as 127.0.0.1 or 10.0.0.0/8", flagName, s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
