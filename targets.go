package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wstelnet/internal/mssp"
	"wstelnet/internal/policy"
	"wstelnet/internal/proxyproto"
	"wstelnet/internal/session"
	"wstelnet/internal/tokens"
)

// Named targets (-targets FILE): a token file in websockify's format, or a
// directory of them, parsed by internal/tokens. The store keeps the last
// good set and replaces it on SIGHUP or when the files change; sessions
// hold no reference to the set, so a reload drops none of them.

// targetsPollInterval is how often the store looks for changed files. It
// polls the files' size and modification time rather than asking the
// kernel to notify it: the standard library has no portable way to, a
// dependency for it is more than a stat every two seconds is worth, and
// polling also sees files replaced by rename (as editors and config
// management write them), files in a directory, and files on network
// file systems, where notifications are unreliable.
const targetsPollInterval = 2 * time.Second

// targetStore is the named targets and the loop that reloads them.
type targetStore struct {
	path string
	log  *slog.Logger
	poll time.Duration

	set   atomic.Pointer[tokens.Set]
	stamp string         // the files' fingerprint when last read; owned by the loop
	hup   chan os.Signal // SIGHUP, registered from newTargetStore to stop
	check chan struct{}  // a nudge to look at the files now (tests)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newTargetStore reads path, failing if it is broken: at start there is
// no last good set to keep. It starts listening for SIGHUP at once, so
// that a SIGHUP sent once the gateway says it is ready reloads rather than
// kills it.
func newTargetStore(path string, poll time.Duration, log *slog.Logger) (*targetStore, error) {
	ts := &targetStore{path: path, log: log, poll: poll, hup: make(chan os.Signal, 1), check: make(chan struct{}, 1)}
	set, stamp, err := readTargets(path)
	if err != nil {
		return nil, fmt.Errorf("-targets: %w", err)
	}
	ts.set.Store(set)
	ts.stamp = stamp
	ts.logLoaded(set, "start")
	signal.Notify(ts.hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	ts.wg.Add(1)
	go ts.watch(ctx)
	return ts, nil
}

// Set is the current set of named targets.
func (ts *targetStore) Set() *tokens.Set { return ts.set.Load() }

// stop ends the loop and stops listening for SIGHUP.
func (ts *targetStore) stop() {
	signal.Stop(ts.hup)
	ts.cancel()
	ts.wg.Wait()
}

// watch reloads on SIGHUP, and when a poll finds the files changed.
func (ts *targetStore) watch(ctx context.Context) {
	defer ts.wg.Done()
	tick := time.NewTicker(ts.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ts.hup:
			ts.reload("SIGHUP")
		case <-tick.C:
			ts.reloadIfChanged()
		case <-ts.check:
			ts.reloadIfChanged()
		}
	}
}

// reloadIfChanged reloads when the files' fingerprint changed since the
// last read, good or broken, so that a broken file is reported once.
func (ts *targetStore) reloadIfChanged() {
	stamp, err := fingerprint(ts.path)
	if err == nil && stamp == ts.stamp {
		return
	}
	ts.reload("the files changed")
}

// reload reads the files and replaces the set, or keeps the last good one
// and says why.
func (ts *targetStore) reload(why string) {
	set, stamp, err := readTargets(ts.path)
	if stamp != "" {
		ts.stamp = stamp
	}
	if err != nil {
		ts.log.Error("named targets not reloaded: keeping the last good ones; fix the file and save it again, or send SIGHUP",
			"why", why, "targets", ts.Set().Len(), "err", err)
		return
	}
	ts.set.Store(set)
	ts.logLoaded(set, why)
}

func (ts *targetStore) logLoaded(set *tokens.Set, why string) {
	ts.log.Info("named targets loaded", "file", ts.path, "why", why, "targets", set.Len())
	for _, t := range set.All() {
		if t.ProxyProtocol {
			ts.log.Info("named target gets a PROXY protocol header: it sees each visitor's address and port",
				"name", t.Name, "target", t.Addr, "source", t.Source)
		}
		if t.IPAddress {
			ts.log.Info("named target gets each visitor's address in NEW-ENVIRON (IPADDRESS) when it asks",
				"name", t.Name, "target", t.Addr, "source", t.Source)
		}
	}
}

// targetFiles lists the token files at path: path itself, or the regular
// files of a directory, as websockify's TokenFile reads it, sorted by name
// (so that of two files naming one target, the later name wins), leaving
// out hidden files (editors' swap files).
func targetFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(path, e.Name())
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			files = append(files, p)
		}
	}
	slices.Sort(files)
	return files, nil
}

// fingerprint sums up the files' names, sizes and modification times.
func fingerprint(path string) (string, error) {
	files, err := targetFiles(path)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\x00%d\x00%d\n", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), nil
}

// readTargets reads and parses every token file at path. The fingerprint
// is taken first, so that a change during the read is seen next time.
func readTargets(path string) (*tokens.Set, string, error) {
	stamp, err := fingerprint(path)
	if err != nil {
		return nil, "", err
	}
	files, err := targetFiles(path)
	if err != nil {
		return nil, stamp, err
	}
	var all []tokens.Target
	var size int64
	for _, f := range files {
		data, err := readBounded(f, maxTargetsBytes-size)
		if err != nil {
			return nil, stamp, err
		}
		size += int64(len(data))
		ts, err := tokens.Parse(f, data)
		if err != nil {
			return nil, stamp, err
		}
		all = append(all, ts...)
		if len(all) > maxTargets {
			return nil, stamp, fmt.Errorf("%s: more than %d named targets; a gateway serves at most that many (split them between gateways)", path, maxTargets)
		}
	}
	return tokens.NewSet(all), stamp, nil
}

// Bounds on -targets: the list is held in memory and sent to every page
// (/targets.json), so a file made by mistake (a log, a dump) must not
// become a body of tens of megabytes per request.
const (
	maxTargets      = 10000
	maxTargetsBytes = 4 << 20
)

// readBounded reads file, failing if it holds more than room bytes.
func readBounded(file string, room int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, room+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > room {
		return nil, fmt.Errorf("%s: the targets files hold more than %d bytes (4 MiB), the most a gateway reads; is this a token file?", file, maxTargetsBytes)
	}
	return data, nil
}

// unknownNameError is a first message naming no target the gateway has.
type unknownNameError struct{ text string }

func (e unknownNameError) Error() string { return e.text }

// errNoFreeTargets refuses host:port on a gateway with named targets only.
var errNoFreeTargets = errors.New("this gateway connects only to its named targets; send a target's name (the gateway's page lists them)")

// chooseTarget reads a first message: a target's name (it has no colon)
// when the gateway has named targets, else host:port as policy.ParseTarget
// has it, if free targets are allowed. A refusal's words are for FAIL:.
func (g *Gateway) chooseTarget(msg string) (session.Target, session.End) {
	if g.opts.Targets != nil {
		name := strings.TrimSpace(msg)
		if len(msg) <= policy.MaxTargetLen && name != "" && !strings.Contains(name, ":") {
			return g.namedTarget(name)
		}
		if !g.opts.FreeTargets {
			return session.Target{}, session.NewEnd(session.Denied, errNoFreeTargets.Error())
		}
	}
	addr, err := policy.ParseTarget(msg)
	if err != nil {
		return session.Target{}, session.NewEnd(session.BadTarget, err.Error())
	}
	return g.target(addr, nil), session.End{}
}

// namedTarget looks a name up. An unknown name is said to be unknown,
// without listing the others: the list is the page's to show.
func (g *Gateway) namedTarget(name string) (session.Target, session.End) {
	if err := tokens.CheckName(name); err != nil {
		return session.Target{}, session.NewEnd(session.BadTarget, fmt.Sprintf("%.60q is not a target name; %s", name, g.targetHint()))
	}
	t, ok := g.opts.Targets().Lookup(name)
	if !ok {
		return session.Target{}, session.NewEnd(session.UnknownName, fmt.Sprintf("there is no target named %q here; %s", name, g.targetHint()))
	}
	return g.target(t.Addr, &t), session.End{}
}

// target is what a session dials for addr, named or not: the dialer of
// its policy, and whether its connection starts with a PROXY header.
func (g *Gateway) target(addr string, named *tokens.Target) session.Target {
	t := session.Target{Addr: addr, Dial: g.opts.Dial}
	if named != nil {
		t.Name, t.Dial = named.Name, g.opts.DialNamed
		t.NoMCCP, t.SendAddress = named.NoMCCP, named.IPAddress
	}
	t.ProxyHeader = func(dialled netip.AddrPort) int { return g.proxyHeaderVersion(addr, named, dialled) }
	return t
}

func (g *Gateway) targetHint() string {
	if g.opts.FreeTargets {
		return "send one of the gateway's target names, or host:port"
	}
	return "send one of the gateway's target names"
}

// proxyHeaderVersion says whether the connection to target (dialled for
// t) starts with a PROXY protocol header, and which version: for a named
// target that asks for it in the token file, or a target that a
// -proxy-protocol rule matches by the name asked for or the address dialled.
func (g *Gateway) proxyHeaderVersion(addr string, named *tokens.Target, dialled netip.AddrPort) int {
	version := g.opts.ProxyProtocolVersion
	if version == 0 {
		version = 1
	}
	if named != nil && named.ProxyProtocol {
		if named.ProxyVersion != 0 {
			return named.ProxyVersion
		}
		return version
	}
	if len(g.opts.ProxyProtocol) == 0 {
		return 0
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err == nil && policy.Matches(g.opts.ProxyProtocol, host, dialled.Addr(), uint16(p)) {
		return version
	}
	return 0
}

// namedTargetOptions are the gateway's options for named targets.
type namedTargetOptions struct {
	set  func() *tokens.Set // nil without -targets
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// namedTargets loads -targets, if given, and makes their dialer. Named
// targets are allowed by being in the file; -deny and the built-in
// denials still apply to the addresses they resolve to, and an -allow
// rule naming an address lifts a built-in denial for them as for others.
func (s *server) namedTargets(cfg config, allow []policy.Rule, self []netip.AddrPort) (namedTargetOptions, error) {
	if cfg.targets == "" {
		return namedTargetOptions{}, nil
	}
	store, err := newTargetStore(cfg.targets, targetsPollInterval, s.log)
	if err != nil {
		return namedTargetOptions{}, usageError{err}
	}
	s.targets = store
	any, err := policy.ParseRules("-targets", "*")
	if err != nil {
		return namedTargetOptions{}, err
	}
	p := policy.New(append(any, allow...), cfg.deny, self)
	return namedTargetOptions{set: store.Set, dial: (&policy.Dialer{Policy: p}).DialContext}, nil
}

// serveEmbed sends /embed/NAME to the page's embedded view of that
// target, #target=NAME&embed=1, keeping the mode, charset and vitals
// (vitals=0: no vitals bar) of the query.
func (g *Gateway) serveEmbed(w http.ResponseWriter, r *http.Request) {
	h := url.Values{"target": {r.PathValue("name")}, "embed": {"1"}}
	for _, k := range []string{"mode", "charset", "vitals"} {
		if v := r.URL.Query().Get(k); v != "" {
			h.Set(k, v)
		}
	}
	http.Redirect(w, r, g.opts.BasePath+"#"+h.Encode(), http.StatusFound)
}

// targetListEntry is one named target as the page lists it: its name and
// description, not its address, which is the gateway's business.
type targetListEntry struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// MSSP is what the game last said about itself (internal/mssp), for a
	// target with the mssp option: {"NAME":"...","PLAYERS":"3",...}.
	MSSP json.RawMessage `json:"mssp,omitempty"`
	// GMCP is the target's gmcp= option: the Core.Supports.Set list the
	// page sends this game instead of its own ("Char 1", "Room 2").
	GMCP []string `json:"gmcp,omitempty"`
}

// targetListCache is /targets.json's body for one set of named targets:
// made once per reload, not once per request (every page load asks).
type targetListCache struct {
	mu   sync.Mutex
	set  *tokens.Set // the set body was made from
	gen  int64       // and the MSSP answers' generation
	body []byte
}

// serveTargetList tells the page which named targets there are and
// whether host:port may be typed too.
func (g *Gateway) serveTargetList(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(g.targetListBody())
}

// targetListBody is /targets.json's body for the current named targets.
func (g *Gateway) targetListBody() []byte {
	var set *tokens.Set
	if g.opts.Targets != nil {
		set = g.opts.Targets()
	}
	c := &g.targetList
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := g.mssp.Generation()
	if c.body != nil && c.set == set && c.gen == gen {
		return c.body
	}
	list := struct {
		Free    bool              `json:"free"`
		Targets []targetListEntry `json:"targets"`
	}{Free: g.opts.Targets == nil || g.opts.FreeTargets, Targets: []targetListEntry{}}
	for _, t := range set.All() {
		e := targetListEntry{Name: t.Name, Description: t.Description, GMCP: t.GMCPSupports()}
		if t.MSSP {
			g.mssp.Start()
			e.MSSP = g.mssp.Answer(t.Name)
		}
		list.Targets = append(list.Targets, e)
	}
	body, _ := json.Marshal(list)
	c.set, c.gen, c.body = set, gen, append(body, '\n')
	return c.body
}

// newMSSPPoller makes the poller that asks the named targets with the
// mssp option what they say about themselves, dialling as a session to a
// named target does, with the PROXY header such a target expects (UNKNOWN
// in v1, LOCAL in v2: no visitor is behind a poll).
func (g *Gateway) newMSSPPoller() *mssp.Poller {
	return mssp.New(mssp.Config{
		Interval: g.opts.MSSPInterval,
		Targets:  func() []tokens.Target { return g.opts.Targets().All() },
		Dial:     g.opts.DialNamed, // newGateway made it Dial if unset
		Header: func(t tokens.Target, dst netip.AddrPort) ([]byte, error) {
			if v := g.proxyHeaderVersion(t.Addr, &t, dst); v != 0 {
				return proxyproto.Header(v, netip.AddrPort{}, dst)
			}
			return nil, nil
		},
		Log: g.log,
	})
}
