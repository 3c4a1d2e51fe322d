package tokens

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Target // Source left out
		err      string   // in the error, with the line number
	}{
		{name: "empty", in: ""},
		{name: "comments and blanks", in: "# a comment\n\n   \n\t# another\n"},
		{name: "one", in: "mybbs: bbs.example.org:23\n", want: []Target{{Name: "mybbs", Addr: "bbs.example.org:23"}}},
		{name: "no final newline", in: "a: h:1", want: []Target{{Name: "a", Addr: "h:1"}}},
		{name: "tab after colon", in: "a:\th:1", want: []Target{{Name: "a", Addr: "h:1"}}},
		{name: "indented, CR LF, spaces", in: "  a:   h:1   \r\n", want: []Target{{Name: "a", Addr: "h:1"}}},
		{name: "BOM", in: "\ufeffa: h:1", want: []Target{{Name: "a", Addr: "h:1"}}},
		{name: "IPv6", in: "v6: [2001:db8::7]:23", want: []Target{{Name: "v6", Addr: "[2001:db8::7]:23"}}},
		{name: "description", in: "mybbs: bbs.example.org:23 # My BBS, est. 1994", want: []Target{{Name: "mybbs", Addr: "bbs.example.org:23", Description: "My BBS, est. 1994"}}},
		{name: "description with colon and #", in: "m: h:4000 # A MUD: #1", want: []Target{{Name: "m", Addr: "h:4000", Description: "A MUD: #1"}}},
		{name: "empty description", in: "m: h:4000 #", want: []Target{{Name: "m", Addr: "h:4000"}}},
		{name: "description without space", in: "m: h:4000#x", want: []Target{{Name: "m", Addr: "h:4000", Description: "x"}}},
		{name: "proxy-protocol", in: "m: h:23 proxy-protocol # d", want: []Target{{Name: "m", Addr: "h:23", Description: "d", ProxyProtocol: true}}},
		{name: "proxy-protocol=2", in: "m: h:23 PROXY-PROTOCOL=2", want: []Target{{Name: "m", Addr: "h:23", ProxyProtocol: true, ProxyVersion: 2}}},
		{name: "proxy-protocol=1", in: "m: h:23 proxy-protocol=1", want: []Target{{Name: "m", Addr: "h:23", ProxyProtocol: true, ProxyVersion: 1}}},
		{name: "gmcp", in: "m: h:4000 mssp GMCP=Char,Char.Vitals,Room:2,IRE.Rift-x:10 # d", want: []Target{{Name: "m", Addr: "h:4000", Description: "d", MSSP: true, GMCP: "Char 1,Char.Vitals 1,Room 2,IRE.Rift-x 10"}}},
		{name: "punctuation in name", in: "a.b-c_d+e=f/g~: h:1", want: []Target{{Name: "a.b-c_d+e=f/g~", Addr: "h:1"}}},
		{name: "order kept, duplicates kept", in: "b: h:2\na: h:1\nb: h:3", want: []Target{{Name: "b", Addr: "h:2"}, {Name: "a", Addr: "h:1"}, {Name: "b", Addr: "h:3"}}},

		{name: "no colon", in: "\nmybbs bbs.example.org:23", err: "f:2: want name: host:port"},
		{name: "no space after colon", in: "mybbs:bbs.example.org:23", err: "f:1: want name: host:port"},
		{name: "no name", in: ": h:1", err: "needs a name"},
		{name: "space in name", in: "my bbs: h:1", err: "no spaces"},
		{name: "non-ASCII name", in: "bäbs: h:1", err: "ASCII"},
		{name: "long name", in: strings.Repeat("n", MaxNameLen+1) + ": h:1", err: "longer than"},
		{name: "no target", in: "a: ", err: "want name: host:port"},
		{name: "only a description", in: "a: # d", err: "no target"},
		{name: "no port", in: "a: bbs.example.org", err: "no port"},
		{name: "port 0", in: "a: h:0", err: "ports are numbers"},
		{name: "URL", in: "a: telnet://h:23", err: "URL"},
		{name: "bare IPv6", in: "a: ::1:23", err: "brackets"},
		{name: "unknown option", in: "a: h:23 binary", err: `unknown option "binary"`},
		{name: "proxy-protocol=3", in: "a: h:23 proxy-protocol=3", err: "unknown option"},
		{name: "gmcp empty", in: "a: h:23 gmcp=", err: "unknown option"},
		{name: "gmcp empty item", in: "a: h:23 gmcp=Char,,Room", err: `"" is not Package`},
		{name: "gmcp digit first", in: "a: h:23 gmcp=1Char", err: "is not Package"},
		{name: "gmcp space", in: "a: h:23 gmcp=Char 1", err: `unknown option "1"`},
		{name: "gmcp version", in: "a: h:23 gmcp=Char:x", err: "is not Package"},
		{name: "gmcp long version", in: "a: h:23 gmcp=Char:1000", err: "is not Package"},
		{name: "gmcp quote", in: `a: h:23 gmcp=Char"`, err: "is not Package"},
		{name: "gmcp too many", in: "a: h:23 gmcp=" + strings.Repeat("P,", MaxGMCPPackages) + "P", err: "more than"},
		{name: "invalid UTF-8", in: "a: h:23 # \xff", err: "UTF-8"},
		{name: "control in description", in: "a: h:23 # \x1b[31m", err: "control"},
		{name: "long description", in: "a: h:23 # " + strings.Repeat("d", MaxDescriptionLen+1), err: "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("f", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !strings.HasPrefix(got[i].Source, "f:") {
					t.Errorf("source %q", got[i].Source)
				}
				got[i].Source = ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSet(t *testing.T) {
	ts, err := Parse("f", []byte("b: h:2 # first\na: h:1\nb: h:3 # second"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet(ts)
	if s.Len() != 2 {
		t.Fatalf("Len %d", s.Len())
	}
	if b, ok := s.Lookup("b"); !ok || b.Addr != "h:3" || b.Description != "second" || b.Source != "f:3" {
		t.Errorf("b is %+v, %v; want the last one, as websockify keeps", b, ok)
	}
	if _, ok := s.Lookup("B"); ok {
		t.Error("names are case-sensitive, as in websockify")
	}
	var names []string
	for _, t := range s.All() {
		names = append(names, t.Name)
	}
	if !reflect.DeepEqual(names, []string{"b", "a"}) {
		t.Errorf("All: %v, want the file's order (b first, where it first appears)", names)
	}
	var nilSet *Set
	if _, ok := nilSet.Lookup("a"); ok || nilSet.Len() != 0 || nilSet.All() != nil {
		t.Error("a nil Set is not empty")
	}
}

// FuzzParse: whatever the bytes, Parse does not panic, and what it accepts
// is a name CheckName accepts, an address policy would dial, and a
// description that fits on the page; a line built back from a target
// parses to the same target.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.tokens")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: h:1 proxy-protocol=2 # d"))
	f.Add([]byte("a: h:1 gmcp=Char,Room:2 mssp # d"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse("f", data)
		if err != nil {
			return
		}
		for _, tg := range got {
			if err := CheckName(tg.Name); err != nil {
				t.Fatalf("accepted name %q: %v", tg.Name, err)
			}
			if strings.ContainsAny(tg.Addr, " \t#") || len(tg.Description) > MaxDescriptionLen || strings.ContainsAny(tg.Description, "\n\r\x00") {
				t.Fatalf("accepted %+v", tg)
			}
			line := tg.Name + ": " + tg.Addr
			if tg.ProxyProtocol {
				line += " proxy-protocol"
				if tg.ProxyVersion != 0 {
					line += "=" + string(rune('0'+tg.ProxyVersion))
				}
			}
			for opt, on := range map[string]bool{"no-mccp": tg.NoMCCP, "ipaddress": tg.IPAddress, "mssp": tg.MSSP} {
				if on {
					line += " " + opt
				}
			}
			if tg.GMCP != "" {
				for _, p := range tg.GMCPSupports() {
					if !regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63} [0-9]{1,3}$`).MatchString(p) {
						t.Fatalf("accepted GMCP package %q (%+v), which the page would not send", p, tg)
					}
				}
				line += " gmcp=" + strings.ReplaceAll(tg.GMCP, " ", ":")
			}
			if tg.Description != "" {
				line += " # " + tg.Description
			}
			again, err := Parse("f", []byte(line))
			if err != nil || len(again) != 1 {
				t.Fatalf("%q (from %+v) does not parse back: %v", line, tg, err)
			}
			again[0].Source = tg.Source
			if again[0] != tg {
				t.Fatalf("%q parses to %+v, want %+v", line, again[0], tg)
			}
		}
	})
}

func TestTestdata(t *testing.T) {
	b, err := os.ReadFile("testdata/described.tokens")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("described.tokens", b)
	if err != nil || len(got) != 3 || got[0].Description != "My BBS, est. 1994" || !got[0].ProxyProtocol || got[2].ProxyVersion != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
}
