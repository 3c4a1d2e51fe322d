package policy

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The addresses in the Decide tests are data only: documentation (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), private and link-local
// ranges are never dialled. TestDialChecked (dial_test.go) dials loopback only.

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
			p := New(mustRules(t, "-allow", c.allow), mustRules(t, "-deny", c.deny), self)
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
		if !New(nil, mustRules(t, "-deny", "*:25"), nil).Open() {
			t.Error("a policy without -allow is not open")
		}
		if New(mustRules(t, "-allow", "*"), nil, nil).Open() {
			t.Error("-allow '*' is open: it should count as an -allow given on purpose")
		}
	})
}

func BenchmarkPolicyDecide(b *testing.B) {
	allow := mustRules(b, "-allow", "bbs.example.org:23,*.mud.example.org:4000-4999,10.0.0.0/8:2000-2999,192.0.2.0/24:23,"+
		"[2001:db8::/32]:23,lab.example.net,*.console.example.net:2001-2048,198.51.100.7:7000,203.0.113.0/24,[fd00::/8]:2323")
	deny := mustRules(b, "-deny", "*:25,*:22,10.9.0.0/16,admin.example.org,*.internal.example.org,192.0.2.99,"+
		"[2001:db8:bad::/48]:23,198.51.100.0/24:6379,secret.example.net,10.0.0.1")
	p := New(allow, deny, []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:8000")})
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

func TestMatches(t *testing.T) {
	rules, err := ParseRules("-proxy-protocol", "bbs.example.org:23,*.mud.example.org,10.0.0.0/8:2000-2999,[fd00::/8]:23")
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name string
		ip   netip.Addr
		port uint16
		want bool
	}{
		{"bbs.example.org", a("192.0.2.1"), 23, true},
		{"BBS.example.org.", a("192.0.2.1"), 23, true},
		{"bbs.example.org", a("192.0.2.1"), 24, false},
		{"a.mud.example.org", a("192.0.2.1"), 4000, true},
		{"mud.example.org", a("192.0.2.1"), 4000, false},
		{"console.lab", a("10.1.2.3"), 2001, true},
		{"10.1.2.3", a("10.1.2.3"), 3000, false},
		{"x", a("::ffff:10.1.2.3"), 2001, true},
		{"x", a("fd00::1"), 23, true},
		{"x", a("192.0.2.1"), 23, false},
	} {
		if got := Matches(rules, tc.name, tc.ip, tc.port); got != tc.want {
			t.Errorf("Matches(%s, %s, %d) = %v, want %v", tc.name, tc.ip, tc.port, got, tc.want)
		}
	}
	if Matches(nil, "x", a("127.0.0.1"), 1) {
		t.Error("no rules matched")
	}
}
