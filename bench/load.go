//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The load tool (go run ./bench load): many chatty sessions at once, as
// in front of a popular MUD or BBS, and a reconnect storm. See
// BENCHMARKS.md, "Load".

// loadConfig is the load tool's command line.
type loadConfig struct {
	root       string
	n          int
	contenders []string
	md         string
	quick      bool
	tls        bool
	storm      bool
	steady     time.Duration
	warmup     time.Duration
	inFlight   int
	workers    int
	reps       int
	pin        bool
	wsjsDir    string
}

// loadContenderKeys are the contenders -contenders may name, in table order.
var loadContenderKeys = []string{"resume", "v2", "v1", "wsjs", "floor"}

// wsjsPackages are what npm installs for the wsjs contender. websockify's
// Node.js port asks for ws ">=0.4.27" but is written for ws 1's API
// (upgradeReq, handleProtocols with a callback): with the newest ws it
// crashes on its first connection, so ws 1 is installed beside it.
var wsjsPackages = []string{"websockify@0.7.1", "ws@1"}

func parseLoadConfig(args []string, stderr io.Writer) (loadConfig, error) {
	var cfg loadConfig
	var contenders string
	fs := flag.NewFlagSet("bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.root, "root", "", "the wstelnet repository `dir` to build (default: the module root found by 'go env GOMOD')")
	fs.IntVar(&cfg.n, "n", 9000, "concurrent `sessions` per contender")
	fs.StringVar(&contenders, "contenders", strings.Join(loadContenderKeys, ","), "comma-separated `keys` to run, of "+strings.Join(loadContenderKeys, ", "))
	fs.StringVar(&cfg.md, "md", "", "also write the results as a Markdown table to `file`")
	fs.BoolVar(&cfg.quick, "quick", false, "a smoke test: 200 sessions, 3 s of chat, 2 client processes; judges no speed, fails only if something broke")
	fs.BoolVar(&cfg.tls, "tls", false, "also open the sessions over TLS (-tls-self-signed) and report what TLS costs on opening (not for wsjs and floor)")
	fs.BoolVar(&cfg.storm, "storm", true, "cut every resume session at once and resume them all (the resume contender)")
	fs.DurationVar(&cfg.steady, "steady", 30*time.Second, "the measured steady phase of chat")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "chat before the steady phase is measured")
	fs.IntVar(&cfg.reps, "reps", 1, "`runs` of each contender, taking turns; the table shows the median and the range")
	fs.IntVar(&cfg.inFlight, "in-flight", 1000, "most opens or resumes in flight at once, over all client processes")
	fs.IntVar(&cfg.workers, "workers", 0, "client `processes` (default: one per 5,000 sessions, at least 2); each dials from its own loopback address, 127.0.0.2 on")
	fs.BoolVar(&cfg.pin, "pin", true, "with taskset and 2 or more CPUs, pin the relay to CPU 0 and the clients and echo target to CPU 1")
	fs.StringVar(&cfg.wsjsDir, "wsjs-dir", "", "`dir` to install websockify's Node.js port into with npm, and to reuse (default: wstelnet-bench/websockify-js in the user's cache directory)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		for name, v := range map[string]string{"n": "200", "steady": "3s", "warmup": "1s", "workers": "2"} {
			if !set[name] {
				fs.Set(name, v)
			}
		}
	}
	for _, k := range strings.Split(contenders, ",") {
		if k = strings.TrimSpace(k); !slices.Contains(loadContenderKeys, k) {
			return cfg, fmt.Errorf("load: -contenders: unknown %q; the keys are %s", k, strings.Join(loadContenderKeys, ", "))
		}
		cfg.contenders = append(cfg.contenders, k)
	}
	if cfg.workers == 0 {
		cfg.workers = max(2, (cfg.n+4999)/5000)
	}
	switch {
	case cfg.n < 1:
		return cfg, errors.New("load: -n must be at least 1")
	case cfg.workers < 1 || cfg.workers > 200:
		return cfg, errors.New("load: -workers must be from 1 to 200 (one loopback address each)")
	case (cfg.n+cfg.workers-1)/cfg.workers > 6000:
		return cfg, fmt.Errorf("load: %d sessions in %d client processes is over 6,000 each; give more -workers", cfg.n, cfg.workers)
	case cfg.inFlight < 1 || cfg.reps < 1 || cfg.steady <= 0 || cfg.warmup < 0:
		return cfg, errors.New("load: -in-flight, -reps and -steady must be positive, -warmup at least 0")
	}
	return cfg, nil
}

// loadColumn is one contender's runs.
type loadColumn struct {
	key, name string
	skipped   string // why it did not run
	runs      []*loadResult
}

// loadResult is what one run of a contender measured.
type loadResult struct {
	key, name string

	opened, openFailed int
	openRate           float64       // sessions a second
	openCPU            time.Duration // relay CPU per session opened
	tlsOpened          int
	tlsRate            float64
	tlsCPU             time.Duration

	cores       float64 // relay CPU over the steady phase
	otherCores  float64 // everything else on CPU 0 meanwhile
	clientCores float64 // client processes and echo target, same window
	rssBefore   int64   // KiB
	rssSteady   int64
	perSession  float64 // KiB

	lines, lost, disorder int
	p50, p99              time.Duration
	samples               int

	storm *stormResult
}

// stormResult is the reconnect storm.
type stormResult struct {
	cut, back, failed int
	within            time.Duration // from the cut to the last resume
	retries           int
	resent            int // sessions that sent again bytes the gateway had not taken
	refusals          map[string]int
	lost, disorder    int   // lines, counted after the resume
	peakRSS           int64 // KiB, the relay's while they resumed
}

// loadRun is the state of one run of the load tool.
type loadRun struct {
	cfg      loadConfig
	logf     func(string, ...any)
	tmp, bin string
	relayPin []string // command prefix pinning the relay, or nil
	loadPin  []string // and the clients and echo target
	echo     *server
	echoAddr string
	wsjs     string // websockify.js, if it could be had
	wsjsVer  string
	failures []string
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseLoadConfig(args, stderr)
	if err != nil {
		return err
	}
	startLoad := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		startLoad = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	lr := &loadRun{cfg: cfg, logf: func(format string, a ...any) { fmt.Fprintf(stderr, "load: "+format+"\n", a...) }}
	fileLimit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	root, err := findRoot(cfg.root)
	if err != nil {
		return err
	}
	if lr.tmp, err = os.MkdirTemp("", "wstelnet-load-"); err != nil {
		return err
	}
	defer os.RemoveAll(lr.tmp)
	lr.bin = filepath.Join(lr.tmp, "wstelnet")
	lr.logf("building the gateway in %s", root)
	build := exec.CommandContext(ctx, "go", "build", "-o", lr.bin, ".")
	build.Dir, build.Stdout, build.Stderr = root, stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build -o %s . in %s: %w", lr.bin, root, err)
	}
	pinning := "not pinned (-pin=false)"
	if cfg.pin {
		if ts, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
			pinning = fmt.Sprintf("not pinned (taskset: %v, %d CPUs)", err, runtime.NumCPU())
		} else {
			lr.relayPin, lr.loadPin = []string{ts, "-c", "0"}, []string{ts, "-c", "1"}
			pinning = "relay pinned to CPU 0, client processes and echo target to CPU 1 (taskset)"
		}
	}
	lr.logf("%s", pinning)

	// The echo target: the gateway binary's own -echo server, in a process
	// of its own beside the clients.
	echoArgs := append(slices.Clone(lr.loadPin), lr.bin, "-listen", "127.0.0.1:0", "-echo", "127.0.0.1:0")
	if lr.echo, _, err = startPrinting("echo target", echoArgs[0], echoArgs[1:], lr.tmp); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, lr.echo.stop()) }()
	if lr.echoAddr, err = logValue(lr.echo.logPath, `echo server listening.* addr=(\S+)`); err != nil {
		return fmt.Errorf("echo target: %w", err)
	}

	if slices.Contains(cfg.contenders, "wsjs") {
		lr.wsjs, lr.wsjsVer, err = ensureWSJS(ctx, cfg.wsjsDir, lr.logf)
		if err != nil {
			lr.logf("skipping wsjs: %v", err)
			lr.wsjsVer = err.Error()
		}
	}

	// The contenders take turns, repetition after repetition, so that a
	// busy spell of the machine hits them all alike.
	var cols []*loadColumn
	for _, key := range cfg.contenders {
		col := &loadColumn{key: key, name: loadName(key, lr.wsjsVer)}
		if key == "wsjs" && lr.wsjs == "" {
			col.skipped = "not run: " + lr.wsjsVer
		}
		cols = append(cols, col)
	}
	for rep := range cfg.reps {
		for _, col := range cols {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if col.skipped != "" {
				continue
			}
			res := &loadResult{key: col.key, name: col.name}
			col.runs = append(col.runs, res)
			lr.logf("%s: %d sessions, run %d of %d", res.name, cfg.n, rep+1, cfg.reps)
			if err := lr.contender(ctx, res, false); err != nil {
				lr.fail("%s: %v", res.name, err)
				continue
			}
			if cfg.tls && col.key != "wsjs" && col.key != "floor" {
				lr.logf("%s over TLS: opening %d sessions", res.name, cfg.n)
				if err := lr.contender(ctx, res, true); err != nil {
					lr.fail("%s over TLS: %v", res.name, err)
				}
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	meta := describe(config{}, append([]string{"load"}, args...), fileLimit)
	loadAvg, _ := os.ReadFile("/proc/loadavg")
	report := loadReport{cfg: cfg, meta: meta, pinning: pinning, loadAvg: [2]string{startLoad, strings.Join(strings.Fields(string(loadAvg))[:3], " ")}, cols: cols, failures: lr.failures, workers: cfg.workers}
	report.writeText(stdout)
	if cfg.md != "" {
		if err := writeFile(cfg.md, report.writeMarkdown); err != nil {
			return err
		}
	}
	if len(lr.failures) > 0 {
		return fmt.Errorf("load: %d failures (see FAILURES above)", len(lr.failures))
	}
	return nil
}

func (lr *loadRun) fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	lr.failures = append(lr.failures, msg)
	lr.logf("FAILED %s", msg)
}

func loadName(key, wsjsVer string) string {
	switch key {
	case "resume":
		return "wstelnet v2 resume=1 (the page)"
	case "v2":
		return "wstelnet v2, no resume"
	case "v1":
		return "wstelnet v1"
	case "floor":
		return "floor: one epoll loop resting 1 ms, one read and one write a message"
	}
	if strings.HasPrefix(wsjsVer, "websockify-js ") {
		return wsjsVer
	}
	return "websockify-js"
}

// logValue polls a log file (for up to 10 s) for the first match of re's
// group.
func logValue(path, re string) (string, error) {
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if m := rx.FindSubmatch(b); m != nil {
			return string(m[1]), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no line matching %q in %s", re, path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRelay starts the contender's relay process on CPU 0.
func (lr *loadRun) startRelay(key string, tls bool) (srv *server, fingerprint string, err error) {
	if key == "wsjs" {
		srv, err := startWSJS(lr.relayPin, lr.wsjs, lr.echoAddr, lr.tmp)
		return srv, "", err
	}
	if key == "floor" {
		exe, err := os.Executable()
		if err != nil {
			return nil, "", fmt.Errorf("find the bench binary to run the floor relay: %w", err)
		}
		args := append(slices.Clone(lr.relayPin), exe, floorRelayCommand, lr.echoAddr)
		srv, _, err := startPrinting("floor relay", args[0], args[1:], lr.tmp)
		return srv, "", err
	}
	// The operator's limit at n+1, as a full gateway would have it; no
	// per-address limit, since thousands come from a few addresses; no
	// idle timeout; everything else is the program's default.
	args := append(slices.Clone(lr.relayPin), lr.bin, "-listen", "127.0.0.1:0",
		"-max-sessions", fmt.Sprint(lr.cfg.n+1), "-max-sessions-per-client", "0", "-idle-timeout", "0")
	if tls {
		args = append(args, "-tls-self-signed")
	}
	if srv, _, err = startPrinting("wstelnet", args[0], args[1:], lr.tmp); err != nil {
		return nil, "", err
	}
	if tls {
		for _, l := range srv.banner {
			if _, fp, ok := strings.Cut(l, "SHA-256 fingerprint "); ok {
				fingerprint = strings.TrimSpace(fp)
			}
		}
		if fingerprint == "" {
			srv.stop()
			return nil, "", errors.New("the gateway printed no certificate fingerprint")
		}
	}
	return srv, fingerprint, nil
}

// contender runs the load against one contender: open n sessions, chat,
// and for resume the storm; or, with tls, only the opening.
func (lr *loadRun) contender(ctx context.Context, res *loadResult, tls bool) (err error) {
	cfg := lr.cfg
	srv, fp, err := lr.startRelay(res.key, tls)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	pid := srv.pid()
	before, err := steadyMem(3*time.Second, func() (int64, error) { return rssKiB(pid) })
	if err != nil {
		return fmt.Errorf("read the relay's memory: %w", err)
	}
	ws, err := lr.startWorkers(res.key, srv.addr, tls, fp)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ws.stop()) }()

	// The opening is short: its CPU is read in ns from the threads'
	// schedstat, not in the 10 ms ticks of stat.
	cpu0, err := threadsCPU(pid)
	if err != nil {
		return err
	}
	opens, err := ws.all(loadCmd{Cmd: "open"})
	if err != nil {
		return err
	}
	cpu1, err := threadsCPU(pid)
	if err != nil {
		return err
	}
	opened, failed, start, end, errs := 0, 0, int64(0), int64(0), []string(nil)
	for i, r := range opens {
		opened += r.OK
		failed += r.Failed
		errs = append(errs, r.Errors...)
		if i == 0 || r.Start < start {
			start = r.Start
		}
		end = max(end, r.End)
	}
	rate := float64(opened) / time.Duration(end-start).Seconds()
	perOpen := (cpu1 - cpu0) / time.Duration(max(1, opened))
	if tls {
		res.tlsOpened, res.tlsRate, res.tlsCPU = opened, rate, perOpen
	} else {
		res.opened, res.openFailed, res.openRate, res.openCPU = opened, failed, rate, perOpen
	}
	lr.logf("%s: %d sessions open (%d failed) in %.1f s: %.0f a second", res.name, opened, failed, time.Duration(end-start).Seconds(), rate)
	if failed > 0 {
		lr.fail("%s%s: %d of %d sessions did not open: %s", res.name, map[bool]string{true: " over TLS"}[tls], failed, cfg.n, strings.Join(errs, "; "))
	}
	if tls {
		_, err := ws.all(loadCmd{Cmd: "close"})
		return err
	}

	// Chat: every session sends a line a second, spread evenly over the
	// second; the steady phase is measured after the warm-up.
	base := time.Now().Add(500 * time.Millisecond)
	from := base.Add(cfg.warmup)
	to := from.Add(cfg.steady)
	if _, err := ws.all(loadCmd{Cmd: "chat", Base: base.UnixNano(), From: from.UnixNano(), To: to.UnixNano()}); err != nil {
		return err
	}
	if err := sleepUntil(ctx, from); err != nil {
		return err
	}
	c0, err := cpuTime(pid)
	if err != nil {
		return err
	}
	l0 := ws.cpu() + mustCPU(lr.echo.pid())
	b0 := cpuBusy(0)
	t0 := time.Now()
	if err := sleepUntil(ctx, to); err != nil {
		return err
	}
	c1, err := cpuTime(pid)
	if err != nil {
		return err
	}
	l1 := ws.cpu() + mustCPU(lr.echo.pid())
	b1 := cpuBusy(0)
	wall := time.Since(t0)
	if res.rssSteady, err = rssKiB(pid); err != nil {
		return err
	}
	res.rssBefore = before
	res.cores = (c1 - c0).Seconds() / wall.Seconds()
	res.clientCores = (l1 - l0).Seconds() / wall.Seconds()
	// What else ran on the relay's CPU: the machine is shared.
	res.otherCores = max(0, (b1-b0).Seconds()/wall.Seconds()-res.cores)
	res.perSession = float64(res.rssSteady-res.rssBefore) / float64(max(1, opened))

	quiet, err := ws.all(loadCmd{Cmd: "quiet", WaitSeconds: 15})
	if err != nil {
		return err
	}
	var lat []int32
	errs = nil
	for _, r := range quiet {
		res.lines += r.Sent
		res.lost += r.Lost
		res.disorder += r.Disorder
		lat = append(lat, r.Latencies...)
		errs = append(errs, r.Errors...)
	}
	slices.Sort(lat)
	res.samples = len(lat)
	if len(lat) > 0 {
		res.p50 = time.Duration(lat[len(lat)/2]) * time.Microsecond
		res.p99 = time.Duration(lat[len(lat)*99/100]) * time.Microsecond
	}
	lr.logf("%s: %.2f cores, %.1f KiB a session, p50 %v, p99 %v, %d lines, %d lost", res.name, res.cores, res.perSession, res.p50, res.p99, res.lines, res.lost)
	if res.lost > 0 || res.disorder > 0 || len(errs) > 0 {
		lr.fail("%s: chat: %d of %d lines lost, %d out of order or garbled; %s", res.name, res.lost, res.lines, res.disorder, strings.Join(errs, "; "))
	}

	if res.key == "resume" && cfg.storm {
		if err := lr.storm(res, ws, pid); err != nil {
			return err
		}
	}
	_, err = ws.all(loadCmd{Cmd: "close"})
	return err
}

// storm cuts every session at once and resumes them all.
func (lr *loadRun) storm(res *loadResult, ws *workers, pid int) error {
	st := &stormResult{refusals: map[string]int{}}
	res.storm = st
	cuts, err := ws.all(loadCmd{Cmd: "cut"})
	if err != nil {
		return err
	}
	t0 := time.Now()
	for _, r := range cuts {
		st.cut += r.OK
	}
	lr.logf("%s: cut %d connections (TCP reset, no close frame); resuming them all", res.name, st.cut)
	// The relay's resident memory at its highest while they come back.
	stop, peak := make(chan struct{}), make(chan int64, 1)
	go func() {
		var most int64
		defer func() { peak <- most }()
		for {
			if kib, err := rssKiB(pid); err == nil {
				most = max(most, kib)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	resumes, err := ws.all(loadCmd{Cmd: "resume"})
	close(stop)
	st.peakRSS = <-peak
	if err != nil {
		return err
	}
	var last int64
	var errs []string
	for _, r := range resumes {
		st.back += r.OK
		st.failed += r.Failed
		st.retries += r.Retries
		st.resent += r.Resent
		last = max(last, r.End)
		for k, v := range r.Refusals {
			st.refusals[k] += v
		}
		errs = append(errs, r.Errors...)
	}
	if last > 0 {
		st.within = time.Unix(0, last).Sub(t0)
	}
	quiet, err := ws.all(loadCmd{Cmd: "quiet", WaitSeconds: 15})
	if err != nil {
		return err
	}
	for _, r := range quiet {
		st.lost += r.Lost
		st.disorder += r.Disorder
		errs = append(errs, r.Errors...)
	}
	// The counts are the sessions' since they opened: less the chat's.
	st.lost -= res.lost
	st.disorder -= res.disorder
	lr.logf("%s: storm: %d of %d back within %v, %d retries, %d lines lost", res.name, st.back, st.cut, st.within.Round(time.Millisecond), st.retries, st.lost)
	if st.back < st.cut || st.lost > 0 || st.disorder > 0 || len(errs) > 0 {
		lr.fail("%s: storm: %d of %d sessions back, %d lines lost, %d out of order or garbled; %s", res.name, st.back, st.cut, st.lost, st.disorder, strings.Join(errs, "; "))
	}
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(t)):
		return nil
	}
}

// cpuBusy is the time CPU n has spent on anything but idling, from
// /proc/stat (user, nice, system, irq, softirq, steal).
func cpuBusy(n int) time.Duration {
	b, _ := os.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != fmt.Sprintf("cpu%d", n) {
			continue
		}
		var ticks int64
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
		return time.Duration(ticks) * clockTick
	}
	return 0
}

func mustCPU(pid int) time.Duration {
	d, _ := cpuTime(pid)
	return d
}

// workers are the client processes of one contender's run.
type workers struct {
	ps []*workerProc
}

type workerProc struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	logPath string
}

// startWorkers starts the client processes, each with its share of the
// sessions, its own source address and its share of the in-flight bound.
func (lr *loadRun) startWorkers(key, addr string, tls bool, fp string) (*workers, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the bench binary to run the clients: %w", err)
	}
	cfg := lr.cfg
	ws := &workers{}
	k := cfg.workers
	for i := range k {
		first, count := cfg.n*i/k, cfg.n*(i+1)/k-cfg.n*i/k
		job := loadJob{
			Kind: key, Addr: addr, Target: lr.echoAddr, TLS: tls, Fingerprint: fp,
			Source: fmt.Sprintf("127.0.0.%d", 2+i), First: first, Count: count, Total: cfg.n,
			InFlight: max(1, cfg.inFlight/k), Period: time.Second,
		}
		logf, err := os.CreateTemp(lr.tmp, fmt.Sprintf("worker-%d-*.log", i))
		if err != nil {
			ws.stop()
			return nil, err
		}
		args := append(slices.Clone(lr.loadPin), exe, loadWorkerCommand)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stderr = logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			logf.Close()
			ws.stop()
			return nil, fmt.Errorf("start client process %d: %w", i, err)
		}
		logf.Close()
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 256<<20)
		p := &workerProc{cmd: cmd, in: in, out: sc, logPath: logf.Name()}
		ws.ps = append(ws.ps, p)
		b, _ := json.Marshal(job)
		if _, err := fmt.Fprintf(in, "%s\n", b); err != nil {
			ws.stop()
			return nil, fmt.Errorf("send client process %d its job: %w%s", i, err, p.logTail())
		}
	}
	return ws, nil
}

// all sends c to every client process at once and collects the replies.
func (ws *workers) all(c loadCmd) ([]loadReply, error) {
	b, _ := json.Marshal(c)
	for i, p := range ws.ps {
		if _, err := fmt.Fprintf(p.in, "%s\n", b); err != nil {
			return nil, fmt.Errorf("send %s to client process %d: %w%s", c.Cmd, i, err, p.logTail())
		}
	}
	out := make([]loadReply, len(ws.ps))
	for i, p := range ws.ps {
		if !p.out.Scan() {
			return nil, fmt.Errorf("client process %d did not answer %s: %v%s", i, c.Cmd, p.out.Err(), p.logTail())
		}
		if err := json.Unmarshal(p.out.Bytes(), &out[i]); err != nil {
			return nil, fmt.Errorf("client process %d's answer to %s: %w", i, c.Cmd, err)
		}
	}
	return out, nil
}

// cpu is the CPU the client processes have used.
func (ws *workers) cpu() time.Duration {
	var sum time.Duration
	for _, p := range ws.ps {
		sum += mustCPU(p.cmd.Process.Pid)
	}
	return sum
}

// stop closes the client processes' stdin, which ends them, and waits.
func (ws *workers) stop() error {
	var errs []error
	for _, p := range ws.ps {
		p.in.Close()
	}
	for i, p := range ws.ps {
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("client process %d: %w%s", i, err, p.logTail()))
			}
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			<-done
			errs = append(errs, fmt.Errorf("client process %d did not end within 20 s%s", i, p.logTail()))
		}
	}
	ws.ps = nil
	return errors.Join(errs...)
}

func (p *workerProc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return ""
	}
	return "\nits log ends:\n" + string(b)
}
