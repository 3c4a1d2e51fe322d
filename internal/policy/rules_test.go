package policy

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func mustRules(t testing.TB, flagName, list string) []Rule {
	t.Helper()
	rules, err := ParseRules(flagName, list)
	if err != nil {
		t.Fatalf("ParseRules(%q): %v", list, err)
	}
	return rules
}

func ruleStrings(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.String())
	}
	return out
}

func TestParseRules(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // the rules' canonical text
	}{
		{"", nil},
		{" , ,, ", nil},
		{"bbs.example.org", []string{"bbs.example.org"}},
		{"BBS.Example.ORG.", []string{"bbs.example.org"}},
		{"bbs.example.org:23", []string{"bbs.example.org:23"}},
		{"localhost,my_host-1", []string{"localhost", "my_host-1"}},
		{"*.example.org", []string{"*.example.org"}},
		{"*.Example.org.:4000-4999", []string{"*.example.org:4000-4999"}},
		{"*", []string{"*"}},
		{"*:23", []string{"*:23"}},
		{"*:23-23", []string{"*:23"}},
		{"*:023", []string{"*:23"}},
		{"*:1-65535", []string{"*:1-65535"}},
		{"192.0.2.7", []string{"192.0.2.7"}},
		{"192.0.2.7/32", []string{"192.0.2.7"}},
		{"192.0.2.7:23", []string{"192.0.2.7:23"}},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}},
		{"10.0.0.0/8:2000-2999", []string{"10.0.0.0/8:2000-2999"}},
		{"0.0.0.0/0", []string{"0.0.0.0/0"}},
		{"[192.0.2.7]:23", []string{"192.0.2.7:23"}},
		{"::1", []string{"::1"}},
		{"[::1]", []string{"::1"}},
		{"[::1]:23", []string{"[::1]:23"}},
		{"fd00::/8", []string{"fd00::/8"}},
		{"[fd00::/8]:2000-2999", []string{"[fd00::/8]:2000-2999"}},
		{"::/0", []string{"::/0"}},
		{"2001:DB8::1/128", []string{"2001:db8::1"}},
		// Several colons without brackets: an address, the last group included.
		{"fd00::1:23", []string{"fd00::1:23"}},
		// IPv4-mapped rules are kept in the IPv4 form targets are compared in.
		{"::ffff:192.0.2.7", []string{"192.0.2.7"}},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}},
		{"[::ffff:10.0.0.0/104]:23", []string{"10.0.0.0/8:23"}},
		{" bbs.example.org:23 , 10.0.0.0/8 ,,[::1]:23 ", []string{"bbs.example.org:23", "10.0.0.0/8", "[::1]:23"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			rules, err := ParseRules("-allow", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ruleStrings(rules); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	// Spellings of one rule are one value.
	for _, same := range [][]string{
		{"10.0.0.1", "10.0.0.1/32", "[10.0.0.1]", "::ffff:10.0.0.1"},
		{"Bbs.Example.org", "bbs.example.org."},
		{"*:23", "*:23-23", "*:0023"},
		{"[fd00::/8]:2000-2999", "[FD00::/8]:2000-2999"},
	} {
		first := mustRules(t, "-allow", same[0])
		for _, s := range same[1:] {
			if other := mustRules(t, "-allow", s); other[0] != first[0] {
				t.Errorf("%q and %q parse to different rules %v and %v", same[0], s, first[0], other[0])
			}
		}
	}

	for _, tc := range []struct{ in, want string }{
		{"10.0.0.0/33", "prefix length"},
		{"10.0.0.0/", "prefix length"},
		{"10.0.0.0/+8", "prefix length"},
		{"fd00::/129", "prefix length"},
		{"10.0.0.256/8", "not a valid CIDR"},
		{"10.0.0.1/8", "write 10.0.0.0/8"},
		{"10.0.0.256", "not a valid IP address"},
		{"10.0.0", "not a valid IP address"},
		{"*:0", "port 0 is out of range"},
		{"*:65536", "port 65536 is out of range"},
		{"*:99999999999999999999", "out of range"},
		{"bbs.example.org:telnet", "not a number"},
		{"*:-23", "missing"},
		{"*:", "missing"},
		{"*:23-", "missing"},
		{"*:1-2-3", "not a number"},
		{"10.0.0.0/8:2999-2000", "backwards"},
		{"*.", `"*." needs a domain`},
		{"*..example.org", `"*." needs a domain`},
		{"*.*.example.org", `"*" stands alone`},
		{"a.*.example.org", `"*" stands alone`},
		{"*example.org", `"*" stands alone`},
		{"**", `"*" stands alone`},
		{"a..b", "not a valid host name"},
		{".", "not a host name"},
		{strings.Repeat("a", 64) + ".example.org", "not a valid host name"},
		{strings.Repeat("a.", 130) + "org", "longer than 253"},
		{"bad name", "not a valid host name"},
		{"host/name", "not a valid CIDR"},
		{"bücher.example", "xn--"},
		{":23", "no host"},
		{"[::1", `missing "]"`},
		{"[::1]23", `after "]"`},
		{"[::1]:", "missing"},
		{"[bbs.example.org]:23", "brackets hold an IP"},
		{"[]:23", "brackets hold an IP"},
		{"[10.0.0.0/33]:23", "prefix length"},
		{"fe80::1%eth0", "zone"},
		{"[fe80::1%eth0]:23", "zone"},
		// An IPv6 address with a port but no brackets is read as an address.
		{"fd00::/8:23", "put it in brackets"},
		{"2001:db8::1:70000", "put it in brackets"},
		{"::1:2000-2999", "put it in brackets"},
		{"ok.example.org, 10.0.0.0/33", `"10.0.0.0/33"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			rules, err := ParseRules("-deny", tc.in)
			if err == nil {
				t.Fatalf("accepted as %q", ruleStrings(rules))
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			// Which flag, which entry, and what to write instead.
			bad := strings.TrimSpace(tc.in[strings.LastIndex(tc.in, ",")+1:])
			if !strings.HasPrefix(msg, "-deny "+strconv.Quote(bad)+": ") {
				t.Errorf("error %q does not start with the flag and the entry %q", msg, bad)
			}
			if !strings.Contains(msg, "e.g.") && !strings.Contains(msg, "write") {
				t.Errorf("error %q shows no correct example", msg)
			}
		})
	}
}

func TestPolicyAllowHint(t *testing.T) {
	for _, want := range []string{"-allow", "-allow '*'", "bbs.example.org", "*.example.org", "10.0.0.0/8:2000-2999", "[fd00::/8]:23", "-deny"} {
		if !strings.Contains(AllowHint, want) {
			t.Errorf("AllowHint does not show %q", want)
		}
	}
	// Every example in the hint parses.
	for _, ex := range []string{"bbs.example.org", "*.example.org", "192.0.2.7", "10.0.0.0/8", "fd00::/8", "bbs.example.org:23", "10.0.0.0/8:2000-2999", "[fd00::/8]:23", "bbs.example.org:23,*.mud.example.org:4000-4999", "127.0.0.0/8,::1", "*"} {
		if !strings.Contains(AllowHint, ex) {
			t.Errorf("AllowHint lost the example %q", ex)
		}
		mustRules(t, "-allow", ex)
	}
}

// FuzzParseRules: any text is parsed or refused without a panic, every
// accepted rule survives a round trip through its String, and Decide, with
// the parsed rules, never panics and only ever returns some of the IPs it was
// given, never an unlifted link-local one.
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		"", "*", "*:23", "bbs.example.org:23", "*.example.org", "10.0.0.0/8:2000-2999",
		"[fd00::/8]:2000-2999", "[::1]:23", "fd00::1:23", "::ffff:10.0.0.0/104", "169.254.169.254",
		"a..b", "*.", "[::1", "10.0.0.0/33", "*:0", "*:65536", "*:3-2", " a , ,b ", "fe80::1%lo",
	} {
		f.Add(s, "10.0.0.0/8,*.example.org:25", []byte{0, 169, 254, 169, 254}, uint16(80), "metadata.example")
	}
	f.Add("*", "", []byte{1, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(23), "fe80::1")
	f.Add("0.0.0.0/0", "[::1]:23", []byte{0, 127, 0, 0, 1, 0, 10, 0, 0, 1}, uint16(8000), "localhost")

	self := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8000"), netip.MustParseAddrPort("[::]:8001")}
	linkLocal := netip.MustParsePrefix("169.254.0.0/16")
	f.Fuzz(func(t *testing.T, allowList, denyList string, ipBytes []byte, port uint16, name string) {
		allow, errA := ParseRules("-allow", allowList)
		deny, errD := ParseRules("-deny", denyList)
		for _, err := range []error{errA, errD} {
			if err != nil && !strings.HasPrefix(err.Error(), "-allow ") && !strings.HasPrefix(err.Error(), "-deny ") {
				t.Fatalf("error %q does not name its flag", err)
			}
		}
		for _, r := range append(slices.Clone(allow), deny...) {
			back, err := ParseRules("-allow", r.String())
			if err != nil || len(back) != 1 || back[0] != r {
				t.Fatalf("%#v prints as %q, which parses to %v, %v", r, r.String(), back, err)
			}
			// A name a rule holds is one a browser can ask for: the grammar is the same.
			if r.kind == ruleName {
				if _, err := ParseTarget(r.name + ":23"); err != nil {
					t.Fatalf("rule %v holds a name that is not a valid target: %v", r, err)
				}
			}
		}
		if errA == nil {
			joined := strings.Join(ruleStrings(allow), ",")
			if back, err := ParseRules("-allow", joined); err != nil || !slices.Equal(back, allow) {
				t.Fatalf("%q parses to %v, %v; want %v", joined, back, err, allow)
			}
		}

		// Decide, on IPs made of the fuzzer's bytes: a 0 byte takes 4 bytes
		// for an IPv4 address, any other takes 16 for IPv6 (odd: with a zone).
		var ips []netip.Addr
		for len(ipBytes) > 0 {
			switch {
			case ipBytes[0]&1 == 0 && len(ipBytes) >= 5:
				ips = append(ips, netip.AddrFrom4([4]byte(ipBytes[1:5])))
				ipBytes = ipBytes[5:]
			case len(ipBytes) >= 17:
				ip := netip.AddrFrom16([16]byte(ipBytes[1:17]))
				if ipBytes[0]&2 != 0 {
					ip = ip.WithZone("eth0")
				}
				ips = append(ips, ip)
				ipBytes = ipBytes[17:]
			default:
				ipBytes = nil
			}
		}
		p := New(allow, deny, self)
		got, err := p.Decide(name, ips, port)
		if err != nil {
			var denied *DeniedError
			if !errors.As(err, &denied) || denied.Reason == "" || got != nil {
				t.Fatalf("Decide = %v, %v", got, err)
			}
			return
		}
		rest := ips
		for _, ip := range got {
			i := slices.Index(rest, ip)
			if i < 0 {
				t.Fatalf("Decide(%v) = %v: not some of its input, in order", ips, got)
			}
			rest = rest[i+1:]
			if u := ip.WithZone("").Unmap(); linkLocal.Contains(u) && !slices.ContainsFunc(allow, func(r Rule) bool {
				return r.kind == ruleNet && r.prefix.Bits() >= 16 && r.prefix.Contains(u) && r.matchPort(port)
			}) {
				t.Fatalf("Decide allowed link-local %v with -allow %q", ip, allowList)
			}
		}
		if len(got) == 0 {
			t.Fatalf("Decide(%v) allowed nothing without an error", ips)
		}
	})
}
