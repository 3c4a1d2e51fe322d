package proxyproto

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestHeader(t *testing.T) {
	ap := netip.MustParseAddrPort
	sig := "\r\n\r\n\x00\r\nQUIT\n"
	for _, tc := range []struct {
		name     string
		version  int
		src, dst netip.AddrPort
		want     string
	}{
		{"v1 IPv4", 1, ap("192.0.2.7:51234"), ap("127.0.0.1:23"), "PROXY TCP4 192.0.2.7 127.0.0.1 51234 23\r\n"},
		{"v1 IPv6", 1, ap("[2001:db8::7]:51234"), ap("[::1]:4000"), "PROXY TCP6 2001:db8::7 ::1 51234 4000\r\n"},
		{"v1 IPv4-mapped is IPv4", 1, ap("[::ffff:192.0.2.7]:1"), ap("127.0.0.1:2"), "PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\n"},
		{"v1 zone dropped", 1, ap("[fe80::1%eth0]:1"), ap("[::1]:2"), "PROXY TCP6 fe80::1 ::1 1 2\r\n"},
		{"v1 mixed families", 1, ap("192.0.2.7:1"), ap("[::1]:2"), "PROXY TCP6 ::ffff:192.0.2.7 ::1 1 2\r\n"},
		{"v1 port 0 (unknown port)", 1, ap("192.0.2.7:0"), ap("127.0.0.1:23"), "PROXY TCP4 192.0.2.7 127.0.0.1 0 23\r\n"},
		{"v1 unknown client", 1, netip.AddrPort{}, ap("127.0.0.1:23"), "PROXY UNKNOWN\r\n"},
		{"v1 longest", 1, ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535"),
			"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n"},

		{"v2 IPv4", 2, ap("192.0.2.7:51234"), ap("127.0.0.1:23"),
			sig + "\x21\x11\x00\x0c" + "\xc0\x00\x02\x07" + "\x7f\x00\x00\x01" + "\xc8\x22" + "\x00\x17"},
		{"v2 IPv6", 2, ap("[2001:db8::7]:51234"), ap("[::1]:4000"),
			sig + "\x21\x21\x00\x24" + "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07" +
				"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" + "\xc8\x22" + "\x0f\xa0"},
		{"v2 mixed families", 2, ap("192.0.2.7:1"), ap("[::1]:2"),
			sig + "\x21\x21\x00\x24" + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xc0\x00\x02\x07" +
				"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" + "\x00\x01" + "\x00\x02"},
		{"v2 unknown client is LOCAL", 2, netip.AddrPort{}, ap("127.0.0.1:23"), sig + "\x20\x00\x00\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Header(tc.version, tc.src, tc.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(tc.want)) {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
			if tc.version == 1 && len(got) > 107 {
				t.Errorf("%d bytes: the spec allows at most 107", len(got))
			}
		})
	}
	for _, v := range []int{0, 3} {
		if _, err := Header(v, ap("192.0.2.7:1"), ap("127.0.0.1:2")); err == nil {
			t.Errorf("version %d accepted", v)
		}
	}
}
