package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The addresses in the Decide tests are data only: documentation (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), private and link-local
// ranges are never dialled. TestDialChecked dials loopback only.

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

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestPolicyDecide(t *testing.T) {
	const (
		metadataReason = "link-local addresses (169.254.0.0/16) are denied unless -allow names them"
		notAllowed     = "no -allow rule matches"
	)
	type tc struct {
		allow, deny string
		self        string // comma-separated listening addresses
		name        string
		ips         []string // nil: the name itself, an IP literal
		port        uint16
		want        []string // the IPs to dial; nil: denied
		reason      string   // denied: in the reason
	}
	cases := map[string]tc{
		// An open policy (no -allow) allows what is not denied.
		"open allows an address":         {name: "192.0.2.7", port: 23, want: []string{"192.0.2.7"}},
		"open allows every resolved IP":  {name: "bbs.example.org", ips: []string{"203.0.113.5", "2001:db8::5"}, port: 23, want: []string{"203.0.113.5", "2001:db8::5"}},
		"open allows loopback":           {name: "127.0.0.1", port: 6379, want: []string{"127.0.0.1"}},
		"open allows private addresses":  {name: "10.1.2.3", port: 2323, want: []string{"10.1.2.3"}},
		"open keeps a zone":              {allow: "fe80::/10", name: "fe80::1%eth0", port: 23, want: []string{"fe80::1%eth0"}},
		"open keeps the mapped form":     {name: "::ffff:192.0.2.7", port: 23, want: []string{"::ffff:192.0.2.7"}},
		"no addresses":                   {name: "bbs.example.org", ips: []string{}, port: 23, reason: "no IP address"},
		"deny name":                      {deny: "bbs.example.org", name: "bbs.example.org", ips: []string{"192.0.2.7"}, port: 23, reason: "-deny bbs.example.org refuses it"},
		"deny name, any case and dot":    {deny: "bbs.example.org", name: "BBS.Example.org.", ips: []string{"192.0.2.7"}, port: 23, reason: "-deny bbs.example.org"},
		"deny name, not a longer name":   {deny: "bbs.example.org", name: "bbs.example.org.evil.example", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"deny name, not a subdomain":     {deny: "bbs.example.org", name: "a.bbs.example.org", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"deny wildcard, one level":       {deny: "*.example.org", name: "a.example.org", ips: []string{"192.0.2.7"}, port: 23, reason: "-deny *.example.org"},
		"deny wildcard, two levels":      {deny: "*.example.org", name: "a.b.Example.ORG", ips: []string{"192.0.2.7"}, port: 23, reason: "-deny *.example.org"},
		"deny wildcard, not the domain":  {deny: "*.example.org", name: "example.org", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"deny wildcard, not a lookalike": {deny: "*.example.org", name: "badexample.org", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"deny wildcard, not a dot name":  {deny: "*.example.org", name: ".example.org", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"deny name rule misses IPs":      {deny: "bbs.example.org", name: "192.0.2.7", port: 23, want: []string{"192.0.2.7"}},
		"deny IP":                        {deny: "192.0.2.7", name: "192.0.2.7", port: 23, reason: "-deny 192.0.2.7 refuses it"},
		"deny IP, another IP":            {deny: "192.0.2.7", name: "192.0.2.8", port: 23, want: []string{"192.0.2.8"}},
		"deny CIDR":                      {deny: "10.0.0.0/8", name: "10.200.0.1", port: 23, reason: "-deny 10.0.0.0/8"},
		"deny CIDR by resolved IP":       {deny: "10.0.0.0/8", name: "intranet.example", ips: []string{"10.1.2.3"}, port: 23, reason: "it resolves to 10.1.2.3, which -deny 10.0.0.0/8 refuses"},
		"deny IPv6 CIDR":                 {deny: "fd00::/8", name: "fd12:3456::1", port: 23, reason: "-deny fd00::/8"},
		"deny port":                      {deny: "*:25", name: "192.0.2.7", port: 25, reason: "-deny *:25"},
		"deny port, other port":          {deny: "*:25", name: "192.0.2.7", port: 23, want: []string{"192.0.2.7"}},
		"deny range, low end":            {deny: "10.0.0.0/8:2000-2999", name: "10.0.0.1", port: 2000, reason: "-deny 10.0.0.0/8:2000-2999"},
		"deny range, high end":           {deny: "10.0.0.0/8:2000-2999", name: "10.0.0.1", port: 2999, reason: "-deny 10.0.0.0/8:2000-2999"},
		"deny range, below":              {deny: "10.0.0.0/8:2000-2999", name: "10.0.0.1", port: 1999, want: []string{"10.0.0.1"}},
		"deny range, above":              {deny: "10.0.0.0/8:2000-2999", name: "10.0.0.1", port: 3000, want: []string{"10.0.0.1"}},
		"deny bracketed IPv6 port":       {deny: "[fd00::/8]:23", name: "fd00::1", port: 23, reason: "-deny [fd00::/8]:23"},
		"deny bracketed IPv6, other":     {deny: "[fd00::/8]:23", name: "fd00::1", port: 24, want: []string{"fd00::1"}},
		"deny name with port":            {deny: "bbs.example.org:22", name: "bbs.example.org", ips: []string{"192.0.2.7"}, port: 22, reason: "-deny bbs.example.org:22"},
		"deny name with port, other":     {deny: "bbs.example.org:22", name: "bbs.example.org", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"deny everything":                {deny: "*", name: "192.0.2.7", port: 23, reason: "-deny * refuses it"},
		"one denied IP refuses all":      {deny: "10.0.0.0/8", name: "mixed.example", ips: []string{"192.0.2.1", "10.0.0.1"}, port: 23, reason: "it resolves to 10.0.0.1"},

		// -allow.
		"allow name":                     {allow: "bbs.example.org:23", name: "bbs.example.org", ips: []string{"192.0.2.7", "2001:db8::7"}, port: 23, want: []string{"192.0.2.7", "2001:db8::7"}},
		"allow name, other port":         {allow: "bbs.example.org:23", name: "bbs.example.org", ips: []string{"192.0.2.7"}, port: 22, reason: notAllowed},
		"allow name, other name":         {allow: "bbs.example.org:23", name: "mud.example.org", ips: []string{"192.0.2.7"}, port: 23, reason: "no -allow rule matches the name or its addresses (192.0.2.7)"},
		"allow name, not by its IP":      {allow: "bbs.example.org", name: "192.0.2.7", port: 23, reason: "192.0.2.7:23 is not allowed: no -allow rule matches it"},
		"allow wildcard":                 {allow: "*.example.org", name: "a.b.example.org", ips: []string{"192.0.2.7"}, port: 23, want: []string{"192.0.2.7"}},
		"allow wildcard, not the domain": {allow: "*.example.org", name: "example.org", ips: []string{"192.0.2.7"}, port: 23, reason: notAllowed},
		"allow CIDR":                     {allow: "10.0.0.0/8", name: "10.9.8.7", port: 23, want: []string{"10.9.8.7"}},
		"allow CIDR, outside":            {allow: "10.0.0.0/8", name: "192.0.2.7", port: 23, reason: notAllowed},
		"allow CIDR by resolved IP":      {allow: "10.0.0.0/8", name: "intranet.example", ips: []string{"10.1.2.3"}, port: 23, want: []string{"10.1.2.3"}},
		"allow range":                    {allow: "10.0.0.0/8:2000-2999", name: "10.0.0.1", port: 2500, want: []string{"10.0.0.1"}},
		"allow range, outside":           {allow: "10.0.0.0/8:2000-2999", name: "10.0.0.1", port: 3000, reason: notAllowed},
		"allow star":                     {allow: "*", name: "192.0.2.7", port: 23, want: []string{"192.0.2.7"}},
		"allow star with port":           {allow: "*:23", name: "192.0.2.7", port: 24, reason: notAllowed},
		"unmatched IPs are dropped":      {allow: "10.0.0.0/8", name: "mixed.example", ips: []string{"192.0.2.1", "10.0.0.5", "198.51.100.1", "10.0.0.6"}, port: 23, want: []string{"10.0.0.5", "10.0.0.6"}},
		"none left":                      {allow: "10.0.0.0/8", name: "far.example", ips: []string{"192.0.2.1", "198.51.100.1"}, port: 23, reason: "no -allow rule matches the name or its addresses (192.0.2.1, 198.51.100.1)"},
		"allow by name keeps every IP":   {allow: "10.0.0.0/8,bbs.example.org", name: "bbs.example.org", ips: []string{"192.0.2.1", "10.0.0.5"}, port: 23, want: []string{"192.0.2.1", "10.0.0.5"}},
		"deny beats allow, IP":           {allow: "10.0.0.0/8", deny: "10.0.0.5", name: "10.0.0.5", port: 23, reason: "-deny 10.0.0.5"},
		"deny beats allow, name":         {allow: "bbs.example.org", deny: "*.example.org", name: "bbs.example.org", ips: []string{"192.0.2.7"}, port: 23, reason: "-deny *.example.org"},
		"deny beats allow, star":         {allow: "*", deny: "*:25", name: "192.0.2.7", port: 25, reason: "-deny *:25"},
		"deny beats a dropped IP":        {allow: "10.0.0.0/8", deny: "192.0.2.0/24", name: "mixed.example", ips: []string{"10.0.0.5", "192.0.2.1"}, port: 23, reason: "which -deny 192.0.2.0/24"},

		// Built-in denials, and what lifts them.
		"metadata":                             {name: "169.254.169.254", port: 80, reason: "169.254.169.254:80 is not allowed: " + metadataReason},
		"metadata by name":                     {name: "metadata.example", ips: []string{"169.254.169.254"}, port: 80, reason: "metadata.example:80 is not allowed: it resolves to 169.254.169.254, and " + metadataReason},
		"metadata mapped":                      {name: "::ffff:169.254.169.254", port: 80, reason: metadataReason},
		"link-local IPv6":                      {name: "fe80::1", port: 23, reason: "link-local addresses (fe80::/10)"},
		"metadata IPv6":                        {name: "fd00:ec2::254", port: 80, reason: "cloud metadata addresses (fd00:ec2::254)"},
		"metadata IPv6 lifted":                 {allow: "[fd00:ec2::254]:80", name: "fd00:ec2::254", port: 80, want: []string{"fd00:ec2::254"}},
		"metadata IPv6 not lifted by fd00::/8": {allow: "fd00::/8", name: "fd00:ec2::254", port: 80, reason: "cloud metadata addresses"},
		"near metadata IPv6":                   {allow: "fd00::/8", name: "fd00:ec2::253", port: 80, want: []string{"fd00:ec2::253"}},
		"link-local IPv6 with zone":            {name: "fe80::1%eth0", port: 23, reason: "link-local addresses (fe80::/10)"},
		"this network":                         {name: "0.1.2.3", port: 23, reason: `"this network" (0.0.0.0/8)`},
		"unspecified IPv4":                     {name: "0.0.0.0", port: 23, reason: "unspecified addresses (0.0.0.0)"},
		"unspecified IPv6":                     {name: "::", port: 23, reason: "unspecified addresses (::)"},
		"multicast IPv4":                       {name: "239.255.255.250", port: 1900, reason: "multicast addresses (224.0.0.0/4)"},
		"multicast IPv4 low":                   {name: "224.0.0.1", port: 23, reason: "multicast addresses (224.0.0.0/4)"},
		"multicast IPv6":                       {name: "ff02::1", port: 23, reason: "multicast addresses (ff00::/8)"},
		"broadcast":                            {name: "255.255.255.255", port: 23, reason: "broadcast addresses (255.255.255.255)"},
		"just below broadcast":                 {name: "255.255.255.254", port: 23, want: []string{"255.255.255.254"}},
		"built-in refuses a mixed list":        {name: "mixed.example", ips: []string{"192.0.2.1", "169.254.1.1"}, port: 23, reason: "it resolves to 169.254.1.1"},
		"lifted by the IP":                     {allow: "169.254.169.254", name: "169.254.169.254", port: 80, want: []string{"169.254.169.254"}},
		"lifted by the range":                  {allow: "169.254.0.0/16", name: "169.254.169.254", port: 80, want: []string{"169.254.169.254"}},
		"lifted by a narrower range":           {allow: "169.254.169.0/24:80", name: "169.254.169.254", port: 80, want: []string{"169.254.169.254"}},
		"lifted by a mapped rule":              {allow: "::ffff:169.254.169.254", name: "169.254.169.254", port: 80, want: []string{"169.254.169.254"}},
		"lifted for its IPs only":              {allow: "169.254.169.254", name: "169.254.169.253", port: 80, reason: metadataReason},
		"lifted for its port only":             {allow: "*,169.254.169.254:80", name: "169.254.169.254", port: 22, reason: metadataReason},
		"lifted, name resolving there":         {allow: "169.254.169.254,metadata.example", name: "metadata.example", ips: []string{"169.254.169.254"}, port: 80, want: []string{"169.254.169.254"}},
		"not lifted by a broader range":        {allow: "169.0.0.0/8", name: "169.254.169.254", port: 80, reason: metadataReason},
		"not lifted by 0.0.0.0/0":              {allow: "0.0.0.0/0", name: "169.254.169.254", port: 80, reason: metadataReason},
		"not lifted by *":                      {allow: "*", name: "169.254.169.254", port: 80, reason: metadataReason},
		"not lifted by a name":                 {allow: "metadata.example", name: "metadata.example", ips: []string{"169.254.169.254"}, port: 80, reason: metadataReason},
		"not lifted by a wildcard name":        {allow: "*.example", name: "metadata.example", ips: []string{"169.254.169.254"}, port: 80, reason: metadataReason},
		"not lifted by ::/0":                   {allow: "::/0", name: "fe80::1", port: 23, reason: "link-local addresses (fe80::/10)"},
		"IPv6 link-local lifted":               {allow: "fe80::/10", name: "fe80::1", port: 23, want: []string{"fe80::1"}},
		"multicast lifted":                     {allow: "224.0.0.0/4", name: "239.1.2.3", port: 23, want: []string{"239.1.2.3"}},
		"this network lifted":                  {allow: "0.0.0.0/8", name: "0.1.2.3", port: 23, want: []string{"0.1.2.3"}},
		"this network does not lift 0.0.0.0":   {allow: "0.0.0.0/8", name: "0.0.0.0", port: 23, reason: "unspecified addresses (0.0.0.0)"},
		"unspecified lifted":                   {allow: "0.0.0.0", name: "0.0.0.0", port: 23, want: []string{"0.0.0.0"}},
		"deny beats a lift":                    {allow: "169.254.169.254", deny: "169.254.0.0/16", name: "169.254.169.254", port: 80, reason: "-deny 169.254.0.0/16"},

		// The gateway's own address.
		"self":                               {self: "127.0.0.1:8000", name: "127.0.0.1", port: 8000, reason: "the gateway listens on 127.0.0.1:8000"},
		"self by name":                       {self: "127.0.0.1:8000", name: "localhost", ips: []string{"127.0.0.1"}, port: 8000, reason: "it resolves to 127.0.0.1, and the gateway listens on 127.0.0.1:8000"},
		"self, mapped":                       {self: "127.0.0.1:8000", name: "::ffff:127.0.0.1", port: 8000, reason: "the gateway listens"},
		"self, other port":                   {self: "127.0.0.1:8000", name: "127.0.0.1", port: 8001, want: []string{"127.0.0.1"}},
		"self, other loopback IP":            {self: "127.0.0.1:8000", name: "127.0.0.2", port: 8000, want: []string{"127.0.0.2"}},
		"self, several":                      {self: "127.0.0.1:8000,[::1]:8000", name: "::1", port: 8000, reason: "the gateway listens on [::1]:8000"},
		"self, specific IP":                  {self: "192.0.2.10:8000", name: "192.0.2.10", port: 8000, reason: "the gateway listens"},
		"self not lifted without the port":   {self: "127.0.0.1:8000", allow: "127.0.0.1", name: "127.0.0.1", port: 8000, reason: "the gateway listens"},
		"self not lifted by a port range":    {self: "127.0.0.1:8000", allow: "127.0.0.0/8:1024-65535", name: "127.0.0.1", port: 8000, reason: "the gateway listens"},
		"self, range allows other ports":     {self: "127.0.0.1:8000", allow: "127.0.0.0/8:1024-65535", name: "127.0.0.1", port: 8001, want: []string{"127.0.0.1"}},
		"self lifted with the port, a range": {self: "0.0.0.0:8000", allow: "127.0.0.0/8:8000", name: "127.0.0.9", port: 8000, want: []string{"127.0.0.9"}},
		"self, allow of the IP, other port":  {self: "127.0.0.1:8000", allow: "127.0.0.1", name: "127.0.0.1", port: 22, want: []string{"127.0.0.1"}},
		"self lifted with the port":          {self: "127.0.0.1:8000", allow: "127.0.0.1:8000", name: "127.0.0.1", port: 8000, want: []string{"127.0.0.1"}},
		"self not lifted by *:8000":          {self: "127.0.0.1:8000", allow: "*:8000", name: "127.0.0.1", port: 8000, reason: "the gateway listens"},
		"unspecified listen, loopback":       {self: "0.0.0.0:8000", name: "127.0.0.1", port: 8000, reason: "the gateway listens on 0.0.0.0:8000"},
		"unspecified listen, all of 127/8":   {self: "0.0.0.0:8000", name: "127.5.6.7", port: 8000, reason: "the gateway listens on 0.0.0.0:8000"},
		"unspecified listen, ::1":            {self: "0.0.0.0:8000", name: "::1", port: 8000, reason: "the gateway listens on 0.0.0.0:8000"},
		"unspecified listen, other port":     {self: "0.0.0.0:8000", name: "127.0.0.1", port: 8001, want: []string{"127.0.0.1"}},
		"unspecified listen, 0.0.0.0 lifted": {self: "0.0.0.0:8000", allow: "0.0.0.0", name: "0.0.0.0", port: 8000, reason: "the gateway listens on 0.0.0.0:8000"},
		"unspecified IPv6 listen":            {self: "[::]:8000", name: "localhost", ips: []string{"::1", "127.0.0.1"}, port: 8000, reason: "the gateway listens on [::]:8000"},
		"unspecified listen lifted":          {self: "[::]:8000", allow: "127.0.0.1:8000", name: "127.0.0.1", port: 8000, want: []string{"127.0.0.1"}},
		// Documented limit: the machine's other addresses are not known.
		"unspecified listen, other IP": {self: "0.0.0.0:8000", name: "192.0.2.10", port: 8000, want: []string{"192.0.2.10"}},

		// IPv4-mapped IPv6 targets are matched as IPv4.
		"mapped, denied":             {deny: "10.0.0.0/8", name: "::ffff:10.1.2.3", port: 23, reason: "-deny 10.0.0.0/8"},
		"mapped, allowed":            {allow: "10.0.0.0/8", name: "::ffff:10.1.2.3", port: 23, want: []string{"::ffff:10.1.2.3"}},
		"mapped rule, IPv4 target":   {deny: "::ffff:10.0.0.0/104", name: "10.1.2.3", port: 23, reason: "-deny 10.0.0.0/8"},
		"IPv6 rule, IPv4 target":     {deny: "::/0", name: "10.1.2.3", port: 23, want: []string{"10.1.2.3"}},
		"IPv4 rule, IPv6 target":     {allow: "0.0.0.0/0", name: "2001:db8::1", port: 23, reason: notAllowed},
		"resolved mapped, dropped":   {allow: "10.0.0.0/8", name: "m.example", ips: []string{"::ffff:192.0.2.1", "::ffff:10.0.0.1"}, port: 23, want: []string{"::ffff:10.0.0.1"}},
		"invalid address is refused": {name: "x.example", ips: []string{""}, port: 23, reason: "not a valid IP address"},
	}
	for desc, c := range cases {
		t.Run(desc, func(t *testing.T) {
			var self []netip.AddrPort
			for s := range strings.SplitSeq(c.self, ",") {
				if s != "" {
					self = append(self, netip.MustParseAddrPort(s))
				}
			}
			p := NewPolicy(mustRules(t, "-allow", c.allow), mustRules(t, "-deny", c.deny), self)
			var ips []netip.Addr
			switch {
			case c.ips == nil:
				ips = addrs(c.name)
			default:
				for _, s := range c.ips {
					ip, _ := netip.ParseAddr(s) // "" stays the zero Addr
					ips = append(ips, ip)
				}
			}
			in := slices.Clone(ips)
			got, err := p.Decide(c.name, ips, c.port)
			if !slices.Equal(ips, in) {
				t.Errorf("Decide changed its input to %v", ips)
			}
			if c.want == nil {
				var denied *DeniedError
				if !errors.As(err, &denied) {
					t.Fatalf("got %v, %v; want a *DeniedError", got, err)
				}
				if got != nil {
					t.Errorf("denied, yet returned %v", got)
				}
				if target := net.JoinHostPort(c.name, strconv.Itoa(int(c.port))); denied.Target != target || !strings.HasPrefix(err.Error(), target+" is not allowed: ") {
					t.Errorf("target %q, error %q; want them about %s", denied.Target, err, target)
				}
				if !strings.Contains(err.Error(), c.reason) {
					t.Errorf("reason %q does not say %q", err, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := addrs(c.want...); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}

	t.Run("Open", func(t *testing.T) {
		if !NewPolicy(nil, mustRules(t, "-deny", "*:25"), nil).Open() {
			t.Error("a policy without -allow is not open")
		}
		if NewPolicy(mustRules(t, "-allow", "*"), nil, nil).Open() {
			t.Error("-allow '*' is open: it should count as an -allow given on purpose")
		}
	})
}

func TestPolicyAllowHint(t *testing.T) {
	for _, want := range []string{"-allow", "-allow '*'", "bbs.example.org", "*.example.org", "10.0.0.0/8:2000-2999", "[fd00::/8]:23", "-deny"} {
		if !strings.Contains(allowHint, want) {
			t.Errorf("allowHint does not show %q", want)
		}
	}
	// Every example in the hint parses.
	for _, ex := range []string{"bbs.example.org", "*.example.org", "192.0.2.7", "10.0.0.0/8", "fd00::/8", "bbs.example.org:23", "10.0.0.0/8:2000-2999", "[fd00::/8]:23", "bbs.example.org:23,*.mud.example.org:4000-4999", "127.0.0.0/8,::1", "*"} {
		if !strings.Contains(allowHint, ex) {
			t.Errorf("allowHint lost the example %q", ex)
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
		p := NewPolicy(allow, deny, self)
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

// fakeDNS is a DNS server on loopback that answers A and AAAA queries from
// a table, so that names can resolve to any address without a packet
// leaving the machine.
type fakeDNS struct {
	records map[string][]netip.Addr // by lower-case FQDN; absent: NXDOMAIN
	mu      sync.Mutex
	queries map[string]int // "name. TypeA" -> count
	addr    string
}

func startFakeDNS(t *testing.T, records map[string][]string) *fakeDNS {
	t.Helper()
	d := &fakeDNS{records: map[string][]netip.Addr{}, queries: map[string]int{}}
	for name, ips := range records {
		d.records[name] = addrs(ips...)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := d.answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return d
}

func (d *fakeDNS) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	d.mu.Lock()
	d.queries[name+" "+q.Type.String()]++
	d.mu.Unlock()

	ips, known := d.records[name]
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true, RCode: rcode})
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for _, ip := range ips {
		switch {
		case q.Type == dnsmessage.TypeA && ip.Is4():
			b.AResource(rh, dnsmessage.AResource{A: ip.As4()})
		case q.Type == dnsmessage.TypeAAAA && ip.Is6():
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: ip.As16()})
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// count is how many queries of a type ("TypeA", "TypeAAAA") name got.
func (d *fakeDNS) count(name, typ string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[name+" "+typ]
}

// resolver sends every query to the fake server, whatever server
// /etc/resolv.conf names; /etc/hosts is still read first.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "udp", d.addr)
		},
	}
}

// listenLoopback listens on 127.0.0.1 with a port the system picks.
func listenLoopback(t *testing.T, addr string) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

func portOf(ln net.Listener) string { return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) }

// expectConnection accepts the connection a successful dial made.
func expectConnection(t *testing.T, ln *net.TCPListener, c net.Conn) {
	t.Helper()
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := ln.Accept()
	if err != nil {
		t.Fatalf("the listener got no connection: %v", err)
	}
	defer got.Close()
	if got.RemoteAddr().String() != c.LocalAddr().String() {
		t.Errorf("the listener got a connection from %v, the dial was from %v", got.RemoteAddr(), c.LocalAddr())
	}
}

// expectNoConnection checks that nothing connected to ln. A dial that
// returned has completed its handshake, so its connection would be waiting
// in the accept queue: a short wait is enough.
func expectNoConnection(t *testing.T, ln *net.TCPListener) {
	t.Helper()
	ln.SetDeadline(time.Now().Add(50 * time.Millisecond))
	c, err := ln.Accept()
	if err == nil {
		c.Close()
		t.Fatalf("%v got a connection from %v", ln.Addr(), c.RemoteAddr())
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("accept: %v", err)
	}
}

// expectDenied checks that a dial was refused by the policy, with reason in its words.
func expectDenied(t *testing.T, c net.Conn, err error, target, reason string) {
	t.Helper()
	if err == nil {
		c.Close()
		t.Fatalf("dial %s connected; want it refused", target)
	}
	var denied *DeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("dial %s: %v; want a *DeniedError", target, err)
	}
	if denied.Target != target || !strings.Contains(denied.Reason, reason) {
		t.Errorf("dial %s: %q; want it about %s, saying %q", target, err, target, reason)
	}
}

func TestDialChecked(t *testing.T) {
	dns := startFakeDNS(t, map[string][]string{
		"metadata.test.": {"169.254.169.254"},
		"loop.test.":     {"127.0.0.1"},
		"both.test.":     {"127.0.0.1", "::1"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dialer := func(allow, deny string, self ...netip.AddrPort) *Dialer {
		return &Dialer{
			Policy:   NewPolicy(mustRules(t, "-allow", allow), mustRules(t, "-deny", deny), self),
			Resolver: dns.resolver(),
		}
	}

	t.Run("open policy dials localhost", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		c, err := dialer("", "").DialContext(ctx, "tcp", "localhost:"+portOf(ln))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, ln, c)
	})

	t.Run("defaults dial an IP literal", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := &Dialer{Policy: NewPolicy(nil, nil, nil)} // no resolver needed: no lookup
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, ln, c)
	})

	t.Run("denied by IP", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := dialer("", "127.0.0.0/8")
		for _, target := range []string{"localhost:" + portOf(ln), "127.0.0.1:" + portOf(ln), "loop.test:" + portOf(ln)} {
			c, err := d.DialContext(ctx, "tcp", target)
			expectDenied(t, c, err, target, "-deny 127.0.0.0/8")
		}
		expectNoConnection(t, ln)
	})

	t.Run("denied by name", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := dialer("", "localhost,loop.test")
		for _, target := range []string{"localhost:" + portOf(ln), "LocalHost:" + portOf(ln), "Loop.Test.:" + portOf(ln)} {
			c, err := d.DialContext(ctx, "tcp", target)
			expectDenied(t, c, err, target, "refuses it")
		}
		expectNoConnection(t, ln)
		// The name rule is about the name: the address itself is not denied.
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, ln, c)
	})

	t.Run("not allowed", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		target := "localhost:" + portOf(ln)
		c, err := dialer("bbs.example.org,10.0.0.0/8", "").DialContext(ctx, "tcp", target)
		expectDenied(t, c, err, target, "no -allow rule matches")
		expectNoConnection(t, ln)
	})

	t.Run("name resolving to a denied IP", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := dialer("", "")
		// Nothing listens at 169.254.169.254: the refusal must come before any dial.
		c, err := d.DialContext(ctx, "tcp", "metadata.test:80")
		expectDenied(t, c, err, "metadata.test:80", "it resolves to 169.254.169.254, and link-local addresses")
		// One denied address refuses the whole target, even with an allowed
		// one. (Loopback only: with several answers, the resolver sorts them
		// by connecting a UDP socket to each, which sends nothing but is
		// still not for a test to do with an outside address.)
		target := "both.test:" + portOf(ln)
		c, err = dialer("", "::1").DialContext(ctx, "tcp", target)
		expectDenied(t, c, err, target, "it resolves to ::1, which -deny ::1 refuses")
		expectNoConnection(t, ln)
	})

	t.Run("own address", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		self := ln.Addr().(*net.TCPAddr).AddrPort()
		d := dialer("", "", self)
		for _, target := range []string{ln.Addr().String(), "localhost:" + portOf(ln)} {
			c, err := d.DialContext(ctx, "tcp", target)
			expectDenied(t, c, err, target, "the gateway listens on "+ln.Addr().String())
		}
		// Listening on every address: its port on loopback is its own too.
		any := netip.AddrPortFrom(netip.IPv4Unspecified(), self.Port())
		target := "localhost:" + portOf(ln)
		c, err := dialer("", "", any).DialContext(ctx, "tcp", target)
		expectDenied(t, c, err, target, "the gateway listens on 0.0.0.0:"+portOf(ln))
		expectNoConnection(t, ln)

		// Only its own port: another service on loopback is reached.
		other := listenLoopback(t, "127.0.0.1:0")
		c, err = d.DialContext(ctx, "tcp", other.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, other, c)
	})

	t.Run("one lookup, dropped IPs not dialled, next IP after a failure", func(t *testing.T) {
		ln4 := listenLoopback(t, "127.0.0.1:0")
		ln6, err := net.Listen("tcp", "[::1]:"+portOf(ln4))
		if err != nil {
			t.Skipf("no IPv6 loopback listener on the same port: %v", err)
		}
		defer ln6.Close()
		target := "both.test:" + portOf(ln4)
		before := dns.count("both.test.", "TypeA")

		// Only 127.0.0.1 allowed: ::1 is dropped, whatever order DNS gives.
		c, err := dialer("127.0.0.1", "").DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		expectConnection(t, ln4, c)
		c.Close()
		expectNoConnection(t, ln6.(*net.TCPListener))
		if n := dns.count("both.test.", "TypeA") - before; n != 1 {
			t.Errorf("one dial made %d A queries; want exactly one lookup", n)
		}

		// Only ::1 allowed: 127.0.0.1 is dropped.
		c, err = dialer("::1", "").DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		expectConnection(t, ln6.(*net.TCPListener), c)
		c.Close()
		expectNoConnection(t, ln4)

		// Both allowed, ::1 no longer listening: whichever comes first, the
		// dial ends up at 127.0.0.1.
		ln6.Close()
		c, err = dialer("127.0.0.1,::1", "").DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		expectConnection(t, ln4, c)
		c.Close()
	})

	t.Run("errors", func(t *testing.T) {
		var dnsErr *net.DNSError
		_, err := dialer("", "").DialContext(ctx, "tcp", "nowhere.test:23")
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("unknown name: %v; want a not-found *net.DNSError", err)
		}
		if got := dialError("nowhere.test:23", time.Second, err); !strings.Contains(got, "cannot find host nowhere.test") {
			t.Errorf("dialError words the unknown name as %q", got)
		}
		// A refused connection: a listener closed after it gave its port.
		ln := listenLoopback(t, "127.0.0.1:0")
		ln.Close()
		_, err = dialer("", "").DialContext(ctx, "tcp", ln.Addr().String())
		var denied *DeniedError
		if err == nil || errors.As(err, &denied) || !strings.Contains(err.Error(), "dial "+ln.Addr().String()) {
			t.Errorf("closed port: %v; want the dial error", err)
		}
		if got := dialError(ln.Addr().String(), time.Second, err); !strings.Contains(got, "refused the connection") {
			t.Errorf("dialError words the refused dial as %q", got)
		}
		if _, err := dialer("", "").DialContext(ctx, "udp", ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("udp: %v; want it refused", err)
		}
		cancelled, stop := context.WithCancel(ctx)
		stop()
		if _, err := dialer("", "").DialContext(cancelled, "tcp", ln.Addr().String()); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v; want context.Canceled", err)
		}
	})
}

func BenchmarkPolicyDecide(b *testing.B) {
	allow := mustRules(b, "-allow", "bbs.example.org:23,*.mud.example.org:4000-4999,10.0.0.0/8:2000-2999,192.0.2.0/24:23,"+
		"[2001:db8::/32]:23,lab.example.net,*.console.example.net:2001-2048,198.51.100.7:7000,203.0.113.0/24,[fd00::/8]:2323")
	deny := mustRules(b, "-deny", "*:25,*:22,10.9.0.0/16,admin.example.org,*.internal.example.org,192.0.2.99,"+
		"[2001:db8:bad::/48]:23,198.51.100.0/24:6379,secret.example.net,10.0.0.1")
	p := NewPolicy(allow, deny, []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:8000")})
	for _, bc := range []struct {
		desc string
		name string
		ips  []netip.Addr
		port uint16
		ok   bool
	}{
		{"allowed by name", "bbs.example.org", addrs("192.0.2.7", "2001:db8::7"), 23, true},
		{"allowed by CIDR", "10.1.2.3", addrs("10.1.2.3"), 2500, true},
		{"some dropped", "mixed.example", addrs("198.51.100.50", "203.0.113.9"), 23, true},
		{"denied", "169.254.169.254", addrs("169.254.169.254"), 80, false},
	} {
		b.Run(bc.desc, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Decide(bc.name, bc.ips, bc.port); (err == nil) != bc.ok {
					b.Fatal(err)
				}
			}
		})
	}
}
