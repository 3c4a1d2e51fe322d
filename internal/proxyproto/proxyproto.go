// Package proxyproto builds the header of HAProxy's PROXY protocol
// (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt), which
// tells a server the address of the client a proxy connects for: the
// gateway writes it first on a connection to a target that expects it, so
// that the target sees each visitor's address instead of the gateway's.
//
// The package is pure: Header returns bytes and does no I/O.
package proxyproto

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// signature starts every version 2 header.
var signature = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// Header returns the PROXY header of the given version (1, text, or 2,
// binary) for a TCP connection from src (the client) to dst (the target).
//
// The spec wants both addresses in one family. When they differ, the IPv4
// one is written as an IPv4-mapped IPv6 address. When src is not a valid
// address (the gateway could not tell who the client is), the header says
// so: "PROXY UNKNOWN" in version 1, the LOCAL command in version 2, after
// which the server uses the connection's own addresses.
func Header(version int, src, dst netip.AddrPort) ([]byte, error) {
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("PROXY protocol version %d: want 1 or 2", version)
	}
	s, d := src.Addr().WithZone("").Unmap(), dst.Addr().WithZone("").Unmap()
	known := src.IsValid() && dst.IsValid() && s.IsValid() && d.IsValid()
	if known && s.Is4() != d.Is4() {
		s, d = as16(s), as16(d)
	}
	if version == 1 {
		if !known {
			return []byte("PROXY UNKNOWN\r\n"), nil
		}
		fam := "TCP4"
		if s.Is6() {
			fam = "TCP6"
		}
		b := make([]byte, 0, 104) // the spec's longest v1 header
		b = append(b, "PROXY "+fam+" "...)
		b = s.AppendTo(b)
		b = append(b, ' ')
		b = d.AppendTo(b)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(src.Port()), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(dst.Port()), 10)
		return append(b, "\r\n"...), nil
	}
	b := append([]byte(nil), signature[:]...)
	if !known {
		// LOCAL, AF_UNSPEC, no addresses.
		return append(b, 0x20, 0x00, 0x00, 0x00), nil
	}
	if s.Is4() {
		b = append(b, 0x21, 0x11, 0x00, 12) // PROXY, TCP over IPv4, 12 bytes
	} else {
		b = append(b, 0x21, 0x21, 0x00, 36) // PROXY, TCP over IPv6, 36 bytes
	}
	b = append(b, s.AsSlice()...)
	b = append(b, d.AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port()), nil
}

func as16(a netip.Addr) netip.Addr { return netip.AddrFrom16(a.As16()) }
