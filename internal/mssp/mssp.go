// Package mssp asks games what they say about themselves (the MUD
// Server Status Protocol, telnet option 70: name, players, uptime...), as
// MUD lists do, for the menu of named targets. A poll is a connection of
// its own that says only DO MSSP and hangs up: it never reaches a
// player's session.
package mssp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"wstelnet/internal/telnet"
	"wstelnet/internal/tokens"
)

const (
	// defaultInterval is how often a game is asked: MUD lists ask
	// hourly; a few minutes keeps a player count fresh enough to choose by.
	defaultInterval = 5 * time.Minute
	// pollTimeout bounds one poll: the dial, the negotiation and the answer.
	pollTimeout = 10 * time.Second
	// maxJSON bounds what one game's answer adds to /targets.json,
	// which every page load reads.
	maxJSON = 4 << 10
)

// Poller polls the named targets that ask for it, one at a time.
type Poller struct {
	cfg Config

	mu      sync.Mutex
	last    map[string]entry // by target name
	running bool             // the loop was started
	stopped bool
	gen     atomic.Int64 // changes when an answer does, for the /targets.json cache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// entry is a game's last answer, and when it was asked.
type entry struct {
	addr   string          // the address asked: a target moved elsewhere is asked again
	asked  time.Time       // the last poll, answered or not
	answer json.RawMessage // the last answer; nil if none yet
}

// Config is what a Poller is given.
type Config struct {
	// Interval is how often a game is asked; every 5 minutes if 0.
	Interval time.Duration
	// Targets lists the named targets as they are now (a reload may
	// change them); those whose MSSP option is set are asked.
	Targets func() []tokens.Target
	// Dial connects to a game, under the gateway's target policy.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Header is what to send a game first, if anything: a PROXY protocol
	// header for a game behind one. dst is the address dialled. May be nil.
	Header func(t tokens.Target, dst netip.AddrPort) ([]byte, error)
	Log    *slog.Logger
}

// New returns a poller that polls nothing until Start.
func New(cfg Config) *Poller {
	if cfg.Interval <= 0 {
		cfg.Interval = defaultInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Poller{cfg: cfg, last: map[string]entry{}, ctx: ctx, cancel: cancel}
}

// Start starts the polling, once, when a target with the mssp option is
// first listed: a gateway whose targets ask for none polls nothing.
func (p *Poller) Start() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running || p.stopped {
		return
	}
	p.running = true
	p.wg.Add(1)
	go p.loop(p.ctx)
}

// Stop ends the polling and waits for a poll under way.
func (p *Poller) Stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// loop polls each game whose last poll is older than the interval,
// looking every tenth of it, so that targets added by a reload are asked
// soon.
func (p *Poller) loop(ctx context.Context) {
	defer p.wg.Done()
	tick := time.NewTicker(p.cfg.Interval / 10)
	defer tick.Stop()
	for {
		for _, t := range p.cfg.Targets() {
			if !t.MSSP {
				continue
			}
			p.mu.Lock()
			e := p.last[t.Name]
			p.mu.Unlock()
			if e.addr == t.Addr && time.Since(e.asked) < p.cfg.Interval {
				continue
			}
			p.pollOne(ctx, t)
			if ctx.Err() != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *Poller) pollOne(ctx context.Context, t tokens.Target) {
	answer, err := p.poll(ctx, t)
	p.mu.Lock()
	e := p.last[t.Name]
	if e.addr != t.Addr {
		e = entry{addr: t.Addr}
	}
	e.asked = time.Now()
	changed := false
	if err == nil && string(answer) != string(e.answer) {
		e.answer, changed = answer, true
	}
	p.last[t.Name] = e
	p.mu.Unlock()
	if changed {
		p.gen.Add(1)
	}
	if err != nil && ctx.Err() == nil {
		p.cfg.Log.Warn("MSSP: the game did not say what it is; the menu shows the last answer, if any", "name", t.Name, "target", t.Addr, "err", err)
	}
}

// poll asks one game: DO MSSP to its WILL MSSP, then its MSSP message.
func (p *Poller) poll(ctx context.Context, t tokens.Target) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	c, err := p.cfg.Dial(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// The timeout, or Stop, ends a read or write under way.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// A game behind a PROXY header expects one: it says UNKNOWN (v1) or
	// LOCAL (v2), since no visitor is behind this connection.
	if p.cfg.Header != nil {
		dst, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		h, err := p.cfg.Header(t, dst)
		if err != nil {
			return nil, err
		}
		if len(h) > 0 {
			if _, err := c.Write(h); err != nil {
				return nil, err
			}
		}
	}
	return readMSSP(c)
}

// readMSSP negotiates MSSP on c (only MSSP: MCCP and the rest are refused,
// so the answer comes uncompressed) and returns the game's
// answer as a JSON object, bounded by maxJSON.
func readMSSP(c net.Conn) (json.RawMessage, error) {
	d := telnet.NewDecoder(telnet.Config{MUD: telnet.MUD{Only: true, MSSP: true}})
	buf := make([]byte, 4096)
	var reply []byte
	for {
		n, err := c.Read(buf)
		src := buf[:n]
		for len(src) > 0 {
			var k int
			var ev telnet.Event
			_, reply, k, ev = d.DecodeEvent(nil, reply[:0], src)
			src = src[k:]
			if len(reply) > 0 {
				if _, err := c.Write(reply); err != nil {
					return nil, err
				}
			}
			if ev == telnet.EventMSSP {
				j := telnet.MSSPToJSON(d.Payload())
				if len(j) > maxJSON {
					return nil, fmt.Errorf("its MSSP answer is %d bytes as JSON, more than the %d the menu takes", len(j), maxJSON)
				}
				return j, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("no MSSP answer (does the game offer MSSP, telnet option 70?): %w", err)
		}
	}
}

// Answer is the last MSSP answer of the target named name, or nil.
func (p *Poller) Answer(name string) json.RawMessage {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[name].answer
}

// Generation changes whenever an answer does.
func (p *Poller) Generation() int64 {
	if p == nil {
		return 0
	}
	return p.gen.Load()
}
