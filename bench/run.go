//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// run is the whole harness. Every process and goroutine it starts is ended
// and waited for before it returns, on error too.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	fileLimit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	if most := slices.Max(cfg.sessions); uint64(2*most+100) > fileLimit {
		logf("warning: %d idle sessions need about %d descriptors in the harness, more than RLIMIT_NOFILE %d", most, 2*most+100, fileLimit)
	}
	root, err := findRoot(cfg.root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "wstelnet-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	res := newResults()
	res.meta = describe(cfg, args, fileLimit)
	logf("building the gateway in %s", root)
	bin, err := buildGateway(ctx, root, tmp, res, stderr)
	if err != nil {
		return err
	}
	h := &harness{cfg: cfg, logDir: tmp, bin: bin, res: res, logf: logf}
	if h.ws, err = exec.LookPath(cfg.websockify); err != nil {
		h.ws = ""
		logf("websockify not installed: apt-get install websockify (running without it)")
		res.meta.websockify = "not installed"
	}
	if h.target, err = startTarget(); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, h.target.close()) }()
	var r relays
	defer func() { err = errors.Join(err, r.stop()) }()
	if err := h.startRelays(&r); err != nil {
		return err
	}
	runnable, memContenders, err := h.pickContenders(&r)
	if err != nil {
		return err
	}

	if err := h.measureAll(ctx, runnable, memContenders); err != nil {
		return err
	}
	res.writeText(stdout)
	if cfg.md != "" {
		if err := writeFile(cfg.md, res.writeMarkdown); err != nil {
			return err
		}
	}
	if cfg.svg != "" {
		if err := writeFile(cfg.svg, res.writeSVG); err != nil {
			return err
		}
	}
	if len(res.failures) > 0 {
		return fmt.Errorf("%d runs broke (see FAILURES above)", len(res.failures))
	}
	return nil
}

// buildGateway builds the gateway into dir and records its size, and that
// of a release build (symbols and DWARF stripped).
func buildGateway(ctx context.Context, root, dir string, res *results, stderr io.Writer) (string, error) {
	bin := filepath.Join(dir, "wstelnet")
	for _, b := range []struct {
		path string
		args []string
		size *int64
	}{
		{bin, []string{"build", "-o", bin, "."}, &res.binSize},
		{bin + "-stripped", []string{"build", "-ldflags=-s -w", "-o", bin + "-stripped", "."}, &res.binSizeStripped},
	} {
		cmd := exec.CommandContext(ctx, "go", b.args...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, stderr, stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go %s in %s: %w", strings.Join(b.args, " "), root, err)
		}
		st, err := os.Stat(b.path)
		if err != nil {
			return "", err
		}
		*b.size = st.Size()
	}
	return bin, nil
}

// relays are the relay processes the harness runs.
type relays struct {
	gateway, naive, tcp *server
	websockify          *server // nil if not installed
}

// all lists the relays started so far.
func (r *relays) all() []*server {
	var out []*server
	for _, s := range []*server{r.gateway, r.naive, r.tcp, r.websockify} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (r *relays) stop() error {
	var errs []error
	for _, s := range r.all() {
		errs = append(errs, s.stop())
	}
	return errors.Join(errs...)
}

// startRelays starts the gateway, the naive relay, the plain TCP relay and
// (if installed) websockify. On error, the caller still stops r.
func (h *harness) startRelays(r *relays) error {
	var err error
	if r.gateway, _, err = startGateway(h.bin, h.logDir); err != nil {
		return err
	}
	if r.naive, err = startSelf("naive relay", h.logDir, naiveRelayCommand); err != nil {
		return err
	}
	if r.tcp, err = startSelf("tcp relay", h.logDir, tcpRelayCommand, h.target.addr()); err != nil {
		return err
	}
	if h.ws != "" {
		if r.websockify, err = startWebsockify(h.ws, h.target.addr(), h.logDir); err != nil {
			return err
		}
	}
	return nil
}

// pickContenders lists the contenders that -contenders selects, and those
// of them that take the memory test. v2 contenders are left out, and
// marked pending, while the gateway still has the v2 stub.
func (h *harness) pickContenders(r *relays) (runnable, memory []*contender, err error) {
	all := []*contender{
		{key: keyRaw, name: "raw TCP", kind: kindRaw},
		{key: keyTCPRelay, name: "plain Go TCP relay", kind: kindRaw, srv: r.tcp},
		{key: keyV1, name: "wstelnet v1", kind: kindLines, path: "/ws", srv: r.gateway},
		{key: keyV2Off, name: "wstelnet v2 telnet=off", kind: kindStream, path: "/ws?telnet=off", proto: "wstelnet.v2", srv: r.gateway},
		{key: keyV2Auto, name: "wstelnet v2 telnet=auto", kind: kindStream, path: "/ws?telnet=auto", proto: "wstelnet.v2", srv: r.gateway},
		{key: keyNaive, name: "naive x/net relay", kind: kindLines, path: "/", srv: r.naive},
		{key: keyWS, name: "websockify", kind: kindWebsockify, path: "/", srv: r.websockify},
	}
	res := h.res
	for _, c := range all {
		if (c.srv != nil || c.key == keyRaw) && (len(h.cfg.only) == 0 || slices.Contains(h.cfg.only, c.key)) {
			res.contenders = append(res.contenders, c)
		}
	}
	if v2 := res.contender(keyV2Off); v2 != nil {
		live, err := h.v2Live(v2)
		if err != nil {
			return nil, nil, fmt.Errorf("probe protocol v2: %w", err)
		}
		if !live {
			res.v2Pending = true
			res.meta.v2Note = "Protocol v2 is pending: the gateway was built with stream_stub.go, so v2 sessions fall back to v1; the v2 columns are empty."
			h.logf("protocol v2 is not built yet (stream_stub.go): v2 sessions fall back to v1; skipping the v2 contenders")
		}
	}
	for _, c := range res.contenders {
		if res.v2Pending && c.kind == kindStream {
			continue
		}
		runnable = append(runnable, c)
		// Idle sessions are for the WebSocket relays; v2's are measured
		// with the default, telnet=auto.
		if c.kind != kindRaw && c.key != keyV2Off {
			memory = append(memory, c)
			res.memKeys = append(res.memKeys, c.key)
		}
	}
	return runnable, memory, nil
}

// measureAll runs every measurement, contenders interleaved within each
// repetition so that a slow spell of the machine hits them all alike. A
// run that breaks is recorded and the others go on.
func (h *harness) measureAll(ctx context.Context, runnable, memContenders []*contender) error {
	record := func(what string, c *contender, err error) {
		if err != nil && ctx.Err() == nil {
			msg := fmt.Sprintf("%s, %s: %v", what, c.name, err)
			h.res.failures = append(h.res.failures, msg)
			h.logf("FAILED %s", msg)
		}
	}
	type bench struct {
		name, label string
		run         func(context.Context, *contender) error
	}
	for _, b := range []bench{{"downstream", "downstream", h.downstream}, {"upstream", "upstream", h.upstream}, {"rtt", "round trips", h.roundTrips}} {
		if !h.cfg.wants(b.name) {
			continue
		}
		for rep := range h.cfg.reps {
			h.logf("%s, repetition %d of %d", b.label, rep+1, h.cfg.reps)
			for _, c := range runnable {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				record(b.label, c, b.run(ctx, c))
			}
		}
	}
	for rep := range h.cfg.reps {
		if !h.cfg.wants("concurrency") {
			break
		}
		for _, n := range h.cfg.concurrency {
			h.logf("%d %s at once, repetition %d of %d", n, plural(n, "download"), rep+1, h.cfg.reps)
			for _, c := range runnable {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				record(fmt.Sprintf("%d %s at once", n, plural(n, "download")), c, h.concurrent(ctx, c, n))
			}
		}
	}
	for _, n := range h.cfg.sessions {
		if !h.cfg.wants("memory") {
			break
		}
		for _, c := range memContenders {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if c.kind == kindWebsockify && n > h.cfg.wsSessions {
				h.logf("memory: %d idle sessions, %s: skipped (over -websockify-sessions %d)", n, c.name, h.cfg.wsSessions)
				continue
			}
			h.logf("memory: %d idle sessions, %s", n, c.name)
			record(fmt.Sprintf("memory with %d idle sessions", n), c, h.memory(ctx, c, n))
		}
	}
	if h.cfg.wants("startup") {
		h.logf("start-up, %d runs", h.cfg.startups)
		if err := h.startup(h.cfg.startups); err != nil {
			h.res.failures = append(h.res.failures, "start-up: "+err.Error())
		}
	}
	return ctx.Err()
}

// findRoot returns dir, or the root of the module the harness is run in.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run from the wstelnet repository or give -root")
	}
	return filepath.Dir(gomod), nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// describe records the run's parameters and the machine.
func describe(cfg config, args []string, fileLimit uint64) meta {
	m := meta{
		date:        time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		command:     strings.TrimSpace("go run ./bench " + strings.Join(args, " ")),
		cores:       runtime.NumCPU(),
		goVer:       runtime.Version(),
		size:        cfg.size,
		reps:        cfg.reps,
		rtt:         cfg.rtt,
		sessions:    cfg.sessions,
		concurrency: cfg.concurrency,
		quick:       cfg.quick,
		fileLimit:   fileLimit,
		wsSessions:  cfg.wsSessions,
		cpu:         "unknown CPU",
		websockify:  "version unknown",
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if kib, err := procField("/proc/meminfo", "MemTotal"); err == nil {
		m.memory = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "websockify").Output(); err == nil {
		m.websockify = strings.TrimSpace(string(out))
	}
	return m
}

// sizeString writes a byte count the way -size takes it.
func sizeString(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
