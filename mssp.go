package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"wstelnet/internal/proxyproto"
	"wstelnet/internal/telnet"
	"wstelnet/internal/tokens"
)

// MSSP (the MUD Server Status Protocol): for the named targets whose
// options say mssp, the gateway asks the game what it says about itself
// (name, players, uptime...) at most every -mssp-interval, as MUD lists
// do, and /targets.json carries the answer for the page's menu. A poll
// is a connection of its own that says only DO MSSP and hangs up: it
// never reaches a player's session.

const (
	// defaultMSSPInterval is how often a game is asked: MUD lists ask
	// hourly; a few minutes keeps a player count fresh enough to choose by.
	defaultMSSPInterval = 5 * time.Minute
	// msspTimeout bounds one poll: the dial, the negotiation and the answer.
	msspTimeout = 10 * time.Second
	// maxMSSPJSON bounds what one game's answer adds to /targets.json,
	// which every page load reads.
	maxMSSPJSON = 4 << 10
)

// msspPoller polls the named targets that ask for it, one at a time.
type msspPoller struct {
	g        *Gateway
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	last    map[string]msspEntry // by target name
	running bool                 // the loop was started
	stopped bool
	gen     atomic.Int64 // changes when an answer does, for the /targets.json cache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// msspEntry is a game's last answer, and when it was asked.
type msspEntry struct {
	addr   string          // the address asked: a target moved elsewhere is asked again
	asked  time.Time       // the last poll, answered or not
	answer json.RawMessage // the last answer; nil if none yet
}

func newMSSPPoller(g *Gateway, interval time.Duration) *msspPoller {
	if interval <= 0 {
		interval = defaultMSSPInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &msspPoller{g: g, interval: interval, log: g.log, last: map[string]msspEntry{}, ctx: ctx, cancel: cancel}
}

// start starts the polling, once, when a target with the mssp option is
// first listed: a gateway whose targets ask for none polls nothing.
func (p *msspPoller) start() {
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

// stop ends the polling and waits for a poll under way.
func (p *msspPoller) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// loop polls each game whose last poll is older than the interval,
// looking every tenth of it, so that targets added by a reload are asked
// soon.
func (p *msspPoller) loop(ctx context.Context) {
	defer p.wg.Done()
	tick := time.NewTicker(p.interval / 10)
	defer tick.Stop()
	for {
		for _, t := range p.g.opts.Targets().All() {
			if !t.MSSP {
				continue
			}
			p.mu.Lock()
			e := p.last[t.Name]
			p.mu.Unlock()
			if e.addr == t.Addr && time.Since(e.asked) < p.interval {
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

func (p *msspPoller) pollOne(ctx context.Context, t tokens.Target) {
	answer, err := p.poll(ctx, t)
	p.mu.Lock()
	e := p.last[t.Name]
	if e.addr != t.Addr {
		e = msspEntry{addr: t.Addr}
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
		p.log.Warn("MSSP: the game did not say what it is; the menu shows the last answer, if any", "name", t.Name, "target", t.Addr, "err", err)
	}
}

// poll asks one game: DO MSSP to its WILL MSSP, then its MSSP message.
func (p *msspPoller) poll(ctx context.Context, t tokens.Target) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, msspTimeout)
	defer cancel()
	dial := p.g.opts.DialNamed
	if dial == nil {
		dial = p.g.opts.Dial
	}
	c, err := dial(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.SetDeadline(time.Now().Add(msspTimeout))
	// A game behind a PROXY header expects one: it says UNKNOWN (v1) or
	// LOCAL (v2), since no visitor is behind this connection.
	dst, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	if v := p.g.proxyHeaderVersion(t.Addr, &t, dst); v != 0 {
		h, err := proxyproto.Header(v, netip.AddrPort{}, dst)
		if err != nil {
			return nil, err
		}
		if _, err := c.Write(h); err != nil {
			return nil, err
		}
	}
	return readMSSP(c)
}

// readMSSP negotiates MSSP (only MSSP) on c and returns the game's
// answer as a JSON object, bounded by maxMSSPJSON.
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
				if len(j) > maxMSSPJSON {
					return nil, fmt.Errorf("its MSSP answer is %d bytes as JSON, more than the %d the menu takes", len(j), maxMSSPJSON)
				}
				return j, nil
			}
			if ev == telnet.EventCompress {
				return nil, errors.New("it compressed its output before answering MSSP")
			}
		}
		if err != nil {
			return nil, fmt.Errorf("no MSSP answer (does the game offer MSSP, telnet option 70?): %w", err)
		}
	}
}

// answer is the last MSSP answer of the target named name, or nil.
func (p *msspPoller) answer(name string) json.RawMessage {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[name].answer
}

// generation changes whenever an answer does.
func (p *msspPoller) generation() int64 {
	if p == nil {
		return 0
	}
	return p.gen.Load()
}
