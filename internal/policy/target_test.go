package policy

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTargetAccepts(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:23":           "localhost:23",
		"  bbs.example.org:23\n": "bbs.example.org:23",
		"127.0.0.1:65535":        "127.0.0.1:65535",
		"[::1]:4000":             "[::1]:4000",
		"[fe80::1%lo]:23":        "[fe80::1%lo]:23",
		"my_host-1.example.:1":   "my_host-1.example.:1",
		"EXAMPLE.ORG:080":        "EXAMPLE.ORG:080",
		"10.0.0.1:2323":          "10.0.0.1:2323",
		// 253 characters, the most DNS allows, and the root's dot.
		strings.Repeat("a.", 126) + "b.:23": strings.Repeat("a.", 126) + "b.:23",
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestParseTargetRefuses pins the whole text of every refusal: a person
// reads it after "FAIL:", and it must say what to send instead.
func TestParseTargetRefuses(t *testing.T) {
	const ports = "ports are numbers from 1 to 65535"
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("a", 1025), "the target is longer than 1024 bytes; send host:port, e.g. localhost:7000"},
		{"\xff:23", "the target is not valid UTF-8 text; send host:port, e.g. localhost:7000"},
		{"", "no target given; send host:port, e.g. localhost:7000"},
		{" \t\n", "no target given; send host:port, e.g. localhost:7000"},
		{"local\x01host:23", "the target contains control characters; send host:port, e.g. localhost:7000"},
		{"local\u0085host:23", "the target contains control characters; send host:port, e.g. localhost:7000"},
		{"http://localhost:80", `"http://localhost:80" is a URL; send just host:port, e.g. localhost:7000`},
		{"localhost", `no port in "localhost"; send host:port, e.g. localhost:23`},
		{"[::1]", `no port in "[::1]"; send host:port, e.g. [::1]:23`},
		{"[fe80::1%eth0]", `no port in "[fe80::1%eth0]"; send host:port, e.g. [fe80::1%eth0]:23`},
		{"::1:23", `"::1:23": write an IPv6 address in brackets, e.g. [::1]:23`},
		{"a]:23", `"a]:23" is not host:port; send e.g. localhost:7000`},
		{":23", `no host in ":23"; send host:port, e.g. localhost:23`},
		{"localhost:", "no port given; " + ports},
		{"localhost:telnet", `port "telnet" is not a number; ` + ports},
		{"localhost:+23", `port "+23" is not a number; ` + ports},
		{"localhost:0", "port 0 is out of range; " + ports},
		{"localhost:65536", "port 65536 is out of range; " + ports},
		{"localhost:99999999999999999999", "port 99999999999999999999 is out of range; " + ports},
		{strings.Repeat("a", 250) + ".org:23", `host name "` + strings.Repeat("a", 40) + `"... is longer than 253 characters`},
		{"a..b:23", `"a..b" is not a valid host name`},
		{".:23", `"." is not a valid host name`},
		{strings.Repeat("a", 64) + ".org:23", `"` + strings.Repeat("a", 64) + `.org" is not a valid host name`},
		{"bücher.example:23", `"bücher.example": write international host names in their ASCII (xn--) form`},
		{"bad host!:23", `"bad host!" is not a valid host name or IP address`},
		{"*.example.org:23", `"*.example.org" is not a valid host name or IP address`},
		{"10.0.0.256:23", `"10.0.0.256" is not a valid host name or IP address`},
		{"127.1:23", `"127.1" is not a valid host name or IP address`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			addr, err := ParseTarget(tc.in)
			if err == nil {
				t.Fatalf("accepted as %q", addr)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %q\nwant %q", err, tc.want)
			}
		})
	}
}

// TestNamesAgree: a host name is valid in a target exactly when it is valid
// in a rule, so that a rule can name every host a browser can ask for.
func TestNamesAgree(t *testing.T) {
	for _, host := range []string{
		"localhost", "bbs.example.org", "BBS.Example.org.", "my_host-1", "-.", "xn--bcher-kva.example",
		strings.Repeat("a", 63) + ".org", strings.Repeat("a.", 126) + "b", strings.Repeat("a.", 126) + "b.",
		"", ".", "..", "a..b", strings.Repeat("a", 64) + ".org", strings.Repeat("a.", 126) + "bc",
		"bücher.example", "bad host", "a/b", "a*b", "10.0.0.256", "10.0.0", "127.1", "1", "a.1", "1.a",
	} {
		_, targetErr := ParseTarget(host + ":23")
		_, ruleErr := parseName(host)
		if (targetErr == nil) != (ruleErr == nil) {
			t.Errorf("%q: as a target %v, as a rule %v", host, targetErr, ruleErr)
		}
	}
}

// FuzzParseTarget: any first message gets an answer, and an accepted one is
// a well-formed host:port that is safe to log and dial.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"localhost:23", "[::1]:4000", "", "a:0", "a:65536", "::1:23", "a\x00:1", "http://x:1", "bücher.de:1", strings.Repeat("a", 1025)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		addr, err := ParseTarget(in)
		if err != nil {
			if addr != "" || err.Error() == "" || !utf8.ValidString(err.Error()) && utf8.ValidString(in) {
				t.Fatalf("ParseTarget(%q) = %q, %v", in, addr, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			t.Fatalf("accepted %q as %q, which does not split: %v", in, addr, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("accepted %q with port %q", in, port)
		}
		for _, r := range addr {
			if r < 0x20 || r == 0x7f || r >= utf8.RuneSelf && !strings.Contains(host, "%") {
				t.Fatalf("accepted %q with character %U", in, r)
			}
		}
		if len(addr) > MaxTargetLen {
			t.Fatalf("accepted %d bytes", len(addr))
		}
		// A rule can name the host: the grammar is the same.
		if _, err := netip.ParseAddr(host); err != nil {
			rules, err := ParseRules("-allow", host)
			if err != nil || len(rules) != 1 || !rules[0].matchName(strings.TrimSuffix(host, ".")) {
				t.Fatalf("accepted %q, but -allow %q is %v, %v", in, host, rules, err)
			}
		}
	})
}
