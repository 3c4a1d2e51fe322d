// Package tokens parses named targets in websockify's token file format,
// so that a file written for websockify's TokenFile plugin means the same
// to wstelnet:
//
//	# comments and blank lines are ignored
//	name: host:port
//
// wstelnet adds two things after the target, which websockify does not
// understand (it would take them for part of the port): options, such as
// proxy-protocol, and a description for the page after "#":
//
//	mybbs: bbs.example.org:23 proxy-protocol # My BBS, est. 1994
//	mymud: mud.example.org:4000 ipaddress mssp gmcp=Char,Char.Vitals,Room:2 # My MUD
//
// The options: proxy-protocol[=1|2] (a PROXY header), no-mccp (refuse
// MCCP2 compression), ipaddress (the visitor's address in NEW-ENVIRON),
// mssp (ask the game about itself, MSSP, for the page's menu),
// gmcp=Package[:version],... (the GMCP packages the page asks the game
// for in Core.Supports.Set, instead of its own list; version 1 if none).
//
// The package is pure: it parses bytes it is given, and the caller reads
// the files (a file, or every file of a directory, as websockify does).
package tokens

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"wstelnet/internal/policy"
)

// MaxNameLen is the longest name accepted: names travel in URLs and as
// first messages, and a person reads them on the page.
const MaxNameLen = 128

// MaxDescriptionLen is the longest description accepted, in bytes.
const MaxDescriptionLen = 300

// Target is one named target.
type Target struct {
	Name        string // as written: no colon, no white space
	Addr        string // host:port, as policy.ParseTarget returns it
	Description string // shown on the page; may be empty
	// ProxyProtocol: start each connection with a PROXY protocol header
	// (the proxy-protocol option). ProxyVersion is 1 or 2, or 0 for the
	// gateway's default (proxy-protocol without =N).
	ProxyProtocol bool
	ProxyVersion  int
	// The MUD options: NoMCCP refuses MCCP2 compression (no-mccp);
	// IPAddress tells the game the visitor's address in NEW-ENVIRON
	// (ipaddress); MSSP has the gateway ask the game about itself
	// for the page's menu (mssp).
	NoMCCP    bool
	IPAddress bool
	MSSP      bool
	// GMCP is the gmcp= option's Core.Supports.Set list, as GMCP writes
	// it ("Char 1,Room 2": "Package version", comma-separated; a string,
	// so that a Target compares with ==); "" for the page's own list.
	GMCP   string
	Source string // file:line, for logs
}

// SyntaxError is a line the parser refuses, with where it is.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parse reads one token file's content. file names it in errors. It
// returns the targets in the order written, or the first line it refuses;
// a name written twice is kept twice (Set keeps the last, as websockify does).
func Parse(file string, data []byte) ([]Target, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a BOM some editors write
	var out []Target
	for i, raw := range strings.Split(string(data), "\n") {
		t, ok, err := parseLine(raw)
		if err != nil {
			return nil, &SyntaxError{File: file, Line: i + 1, Msg: err.Error()}
		}
		if ok {
			t.Source = fmt.Sprintf("%s:%d", file, i+1)
			out = append(out, t)
		}
	}
	return out, nil
}

// parseLine parses one line; ok is false for blank lines and comments.
func parseLine(line string) (t Target, ok bool, err error) {
	if !utf8.ValidString(line) {
		return t, false, fmt.Errorf("the line is not valid UTF-8")
	}
	// websockify strips every line, so CR LF files and indented lines work.
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return t, false, nil
	}
	// websockify splits at a colon followed by white space; a name has no
	// colon, so the first colon ends it.
	name, rest, found := strings.Cut(line, ":")
	if !found || rest == "" || !isSpace(rest[0]) {
		return t, false, fmt.Errorf("want name: host:port (a colon and a space after the name), e.g. mybbs: bbs.example.org:23")
	}
	if err := CheckName(name); err != nil {
		return t, false, err
	}
	t.Name = name
	rest, t.Description, _ = strings.Cut(rest, "#")
	t.Description = strings.TrimSpace(t.Description)
	if len(t.Description) > MaxDescriptionLen {
		return t, false, fmt.Errorf("the description is longer than %d bytes", MaxDescriptionLen)
	}
	if strings.IndexFunc(t.Description, unicode.IsControl) >= 0 {
		return t, false, fmt.Errorf("the description contains control characters")
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return t, false, fmt.Errorf("no target after %q; want name: host:port", name+":")
	}
	if t.Addr, err = policy.ParseTarget(fields[0]); err != nil {
		return t, false, fmt.Errorf("target %s: %w", name, err)
	}
	for _, opt := range fields[1:] {
		switch strings.ToLower(opt) {
		case "proxy-protocol":
			t.ProxyProtocol = true
		case "proxy-protocol=1":
			t.ProxyProtocol, t.ProxyVersion = true, 1
		case "proxy-protocol=2":
			t.ProxyProtocol, t.ProxyVersion = true, 2
		case "no-mccp":
			t.NoMCCP = true
		case "ipaddress":
			t.IPAddress = true
		case "mssp":
			t.MSSP = true
		default:
			if len(opt) > len("gmcp=") && strings.EqualFold(opt[:len("gmcp=")], "gmcp=") {
				if t.GMCP, err = parseGMCP(opt[len("gmcp="):]); err != nil {
					return t, false, fmt.Errorf("target %s: %w", name, err)
				}
				continue
			}
			return t, false, fmt.Errorf("target %s: unknown option %q (the options are proxy-protocol, proxy-protocol=1, proxy-protocol=2, no-mccp, ipaddress, mssp and gmcp=Package[:version],...; a description goes after #)", name, opt)
		}
	}
	return t, true, nil
}

// MaxGMCPPackages bounds the gmcp= option's list, as the page bounds
// what it sends.
const MaxGMCPPackages = 64

// gmcpItem is one item of the gmcp= option: a package, as the page
// accepts it in a Core.Supports.Set list (static/mud.js, SUPPORT), and
// an optional version.
var gmcpItem = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_.-]{0,63})(?::([0-9]{1,3}))?$`)

// parseGMCP parses the gmcp= option's value, Package[:version] separated
// by commas (Char,Char.Vitals,Room:2), into GMCP's own form ("Char
// 1,Char.Vitals 1,Room 2"); the version is 1 where none is given.
func parseGMCP(v string) (string, error) {
	items := strings.Split(v, ",")
	if len(items) > MaxGMCPPackages {
		return "", fmt.Errorf("gmcp= lists %d packages, more than %d", len(items), MaxGMCPPackages)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		m := gmcpItem.FindStringSubmatch(it)
		if m == nil {
			return "", fmt.Errorf("gmcp=: %q is not Package or Package:version (e.g. gmcp=Char,Char.Vitals,Room:2)", it)
		}
		out = append(out, m[1]+" "+cmp.Or(m[2], "1"))
	}
	return strings.Join(out, ","), nil
}

// GMCPSupports is the gmcp= option's list, one "Package version" an item;
// nil when the target has none.
func (t Target) GMCPSupports() []string {
	if t.GMCP == "" {
		return nil
	}
	return strings.Split(t.GMCP, ",")
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\v' || b == '\f' || b == '\r' }

// CheckName says whether name can name a target: 1 to MaxNameLen
// printable ASCII characters other than colon (which host:port has) and
// "#" (which starts a description). websockify allows more, but such names
// would not survive the URLs and first messages they travel in.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("a target needs a name before the colon")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("the name %.20q... is longer than %d characters", name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' || c == '#' {
			return fmt.Errorf("the name %q has a character other than ASCII letters, digits and punctuation (no spaces, colons or #)", name)
		}
	}
	return nil
}

// Set is the targets of one or more files by name. It does not change
// once made, so sessions may share it while a new one replaces it.
type Set struct {
	byName map[string]Target
	names  []string // in the order of the files: the operator's order
}

// NewSet keeps, of targets with the same name, the last one, as
// websockify does, in the place where the name first appears. Names stay
// in the files' order: an operator lists the main board first, not the
// one that sorts first.
func NewSet(targets []Target) *Set {
	s := &Set{byName: make(map[string]Target, len(targets))}
	for _, t := range targets {
		if _, dup := s.byName[t.Name]; !dup {
			s.names = append(s.names, t.Name)
		}
		s.byName[t.Name] = t
	}
	return s
}

// Lookup returns the target named name.
func (s *Set) Lookup(name string) (Target, bool) {
	if s == nil {
		return Target{}, false
	}
	t, ok := s.byName[name]
	return t, ok
}

// All returns the targets in the files' order.
func (s *Set) All() []Target {
	if s == nil {
		return nil
	}
	out := make([]Target, len(s.names))
	for i, n := range s.names {
		out[i] = s.byName[n]
	}
	return out
}

// Len is the number of targets.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.names)
}
