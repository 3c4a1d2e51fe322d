//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// harness holds what every measurement needs.
type harness struct {
	cfg    config
	target *target
	logDir string
	bin    string // the gateway binary
	ws     string // the websockify binary, "" if missing
	res    *results
	logf   func(format string, a ...any) // progress, on stderr
}

// runLink opens a session through c, gives it the whole run's deadline,
// runs f and closes the session. Ctrl-C closes it at once.
func (h *harness) runLink(ctx context.Context, c *contender, timeout time.Duration, f func(*link) error) error {
	l, err := open(c, h.target.addr())
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, l.close)
	defer stop()
	defer l.close()
	l.setDeadline(time.Now().Add(timeout))
	return f(l)
}

// runTimeout bounds one throughput run: generous, at 1 MB/s.
func (h *harness) runTimeout() time.Duration {
	return 30*time.Second + time.Duration(h.cfg.size/1e6)*time.Second
}

// downstream times one download of the configured size and measures the
// CPU the relay process used for it.
func (h *harness) downstream(ctx context.Context, c *contender) error {
	var elapsed, cpu, self time.Duration
	var got int64
	err := h.runLink(ctx, c, h.runTimeout(), func(l *link) error {
		cpu0, err := c.cpu()
		if err != nil {
			return err
		}
		self0 := selfCPU()
		start := time.Now()
		if err := l.command("source %d", h.cfg.size); err != nil {
			return err
		}
		got, err = l.drain(h.cfg.size)
		elapsed = time.Since(start)
		self = selfCPU() - self0
		h.res.splits[c.key] += l.splits
		if err = h.tolerate(c, "downstream", err); err != nil {
			return err
		}
		l.close()
		// websockify's connection process must have exited and been reaped
		// for its CPU to show in the parent's counters.
		if c.srv != nil && !c.srv.waitChildren(10*time.Second) {
			return fmt.Errorf("%s: its connection process did not exit", c.name)
		}
		cpu1, err := c.cpu()
		cpu = cpu1 - cpu0
		return err
	})
	if err != nil {
		return err
	}
	h.res.add(h.res.down, c.key, mbps(got, elapsed))
	h.res.selfCPU[c.key] += self
	h.res.selfRelayed[c.key] += got
	if c.srv != nil {
		h.res.cpu[c.key] += cpu
		h.res.relayed[c.key] += got
	}
	return nil
}

// tolerate lets websockify's lost tails through as a finding: it is the
// reference, and losing the last bytes before the target closes is how it
// behaves (do_proxy in websocketproxy.py ends the session when the target
// closes, with frames still queued), not a fault of the harness or of
// wstelnet. Any other error, and any loss by another contender, stays an
// error. It tallies websockify's downloads by what (e.g. "downstream").
func (h *harness) tolerate(c *contender, what string, err error) error {
	if c.kind != kindWebsockify {
		return err
	}
	t := h.res.lost[what]
	if t == nil {
		t = &lossTally{}
		h.res.lost[what] = t
	}
	t.runs++
	var loss *lossError
	if errors.As(err, &loss) {
		t.lost++
		t.bytes = max(t.bytes, loss.want-loss.got)
		return nil
	}
	return err
}

// cpu is the CPU time used so far by the relay process; zero for raw TCP,
// which has none. websockify's includes its per-connection processes: the
// live ones, and through the parent's counters those that have exited.
func (c *contender) cpu() (time.Duration, error) {
	switch {
	case c.srv == nil:
		return 0, nil
	case c.kind == kindWebsockify:
		return treeCPU(c.srv.pid())
	default:
		return threadsCPU(c.srv.pid())
	}
}

// upstream times one upload of the configured size.
func (h *harness) upstream(ctx context.Context, c *contender) error {
	var elapsed time.Duration
	err := h.runLink(ctx, c, h.runTimeout(), func(l *link) error {
		start := time.Now()
		if err := l.upload(h.cfg.size, h.target.pattern); err != nil {
			return err
		}
		elapsed = time.Since(start)
		return nil
	})
	if err == nil {
		h.res.add(h.res.up, c.key, mbps(h.cfg.size, elapsed))
	}
	return err
}

// rttMsg is the line sent to the echo target: 32 bytes with its LF.
var rttMsg = []byte("0123456789abcdefghijklmnopqrstu\n")

// roundTrips times cfg.rtt round trips of a 32-byte line, after a warm-up,
// and records their median and 99th percentile.
func (h *harness) roundTrips(ctx context.Context, c *contender) error {
	samples := make([]time.Duration, 0, h.cfg.rtt)
	err := h.runLink(ctx, c, 2*time.Minute, func(l *link) error {
		if err := l.command("echo"); err != nil {
			return err
		}
		buf := make([]byte, len(rttMsg))
		for i := range 20 + h.cfg.rtt {
			start := time.Now()
			if err := l.roundTrip(rttMsg, buf); err != nil {
				return err
			}
			if i >= 20 {
				samples = append(samples, time.Since(start))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(samples)
	h.res.add(h.res.p50, c.key, float64(percentile(samples, 50))/1e3)
	h.res.add(h.res.p99, c.key, float64(percentile(samples, 99))/1e3)
	return nil
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// concurrent opens n sessions, then has each download size/n bytes (whole
// lines) at once, and records the aggregate throughput.
func (h *harness) concurrent(ctx context.Context, c *contender, n int) error {
	each := h.cfg.size / int64(n) / lineLen * lineLen
	links := make([]*link, 0, n)
	defer func() {
		for _, l := range links {
			l.close()
		}
	}()
	deadline := time.Now().Add(h.runTimeout())
	for range n {
		l, err := open(c, h.target.addr())
		if err != nil {
			return fmt.Errorf("%d concurrent sessions: %w", n, err)
		}
		l.setDeadline(deadline)
		links = append(links, l)
	}
	stop := context.AfterFunc(ctx, func() {
		for _, l := range links {
			l.close()
		}
	})
	defer stop()

	start := time.Now()
	errs := make([]error, n)
	got := make([]int64, n)
	var wg sync.WaitGroup
	for i, l := range links {
		wg.Go(func() {
			if errs[i] = l.command("source %d", each); errs[i] == nil {
				got[i], errs[i] = l.drain(each)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total int64
	for i, l := range links {
		errs[i] = h.tolerate(c, fmt.Sprintf("%d %s at once", n, plural(n, "download")), errs[i])
		total += got[i]
		h.res.splits[c.key] += l.splits
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%d concurrent sessions: %w", n, err)
	}
	h.res.addScale(c.key, n, mbps(total, elapsed))
	return nil
}

// memory starts a fresh relay, opens n idle sessions through it and
// records how much its memory grew per session. Sessions that fail are
// counted, not fatal: how many fail is part of the result.
func (h *harness) memory(ctx context.Context, c *contender, n int) (err error) {
	srv, err := h.startServer(c)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	mc := *c
	mc.srv = srv

	// One session first, so that the base reading is of a relay that has
	// served (code paged in, pools made), as the others will find it.
	l, err := open(&mc, h.target.addr())
	if err != nil {
		return fmt.Errorf("%s: first session: %w", c.name, err)
	}
	l.close()
	srv.waitChildren(10 * time.Second)
	measure := mc.memKiB
	base, err := steadyMem(10*time.Second, measure)
	if err != nil {
		return fmt.Errorf("%s: read memory: %w", c.name, err)
	}

	links := make([]*link, n)
	defer func() {
		for _, l := range links {
			if l != nil {
				l.close()
			}
		}
	}()
	var failed atomic.Int64
	var firstErr atomic.Value
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				l, err := open(&mc, h.target.addr())
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				links[i] = l
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	opened := time.Since(start)
	after, err := steadyMem(30*time.Second, measure)
	if err != nil {
		return fmt.Errorf("%s: read memory: %w", c.name, err)
	}
	m := memResult{base: base, after: after, failed: int(failed.Load()), open: opened}
	if ok := n - m.failed; ok > 0 {
		m.perSession = float64(after-base) / float64(ok)
	}
	if e, _ := firstErr.Load().(error); e != nil {
		m.firstErr = e.Error()
	}
	h.res.addMem(c.key, n, m)
	if m.failed > 0 {
		return fmt.Errorf("%s: %d of %d idle sessions failed, the first with: %s", c.name, m.failed, n, m.firstErr)
	}
	return nil
}

// memKiB is what the relay occupies: the gateway's and the naive relay's
// RSS; for websockify, the PSS summed over its process tree, which counts
// the pages its forked processes share once rather than once per process.
func (c *contender) memKiB() (int64, error) {
	if c.kind == kindWebsockify {
		kib, _, err := treeMemKiB(c.srv.pid(), pssKiB)
		return kib, err
	}
	return rssKiB(c.srv.pid())
}

// startServer starts a new relay process of c's sort.
func (h *harness) startServer(c *contender) (*server, error) {
	switch c.srv.name {
	case "websockify":
		return startWebsockify(h.ws, h.target.addr(), h.logDir)
	case "naive relay":
		return startSelf("naive relay", h.logDir, naiveRelayCommand)
	default:
		s, _, err := startGateway(h.bin, h.logDir)
		return s, err
	}
}

// startup measures the gateway's start-up time, from exec to its URL line.
func (h *harness) startup(n int) error {
	for range n {
		s, d, err := startGateway(h.bin, h.logDir)
		if err != nil {
			return err
		}
		if err := s.stop(); err != nil {
			return err
		}
		h.res.startup = append(h.res.startup, d)
	}
	return nil
}

// v2Live reports whether the gateway speaks v2: with the stub in place,
// v2 sessions fall back to v1 and data comes back in text frames.
func (h *harness) v2Live(c *contender) (bool, error) {
	live := false
	err := h.runLink(context.Background(), c, 10*time.Second, func(l *link) error {
		if err := l.command("echo"); err != nil {
			return err
		}
		if err := l.ws.write(opBinary, []byte("ping\n")); err != nil {
			return err
		}
		op, _, err := l.ws.message()
		live = op == opBinary
		return err
	})
	return live, err
}

func mbps(bytes int64, d time.Duration) float64 {
	return float64(bytes) / 1e6 / d.Seconds()
}
