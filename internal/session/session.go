// Package session is wstelnet's session engine: one browser's WebSocket
// relayed to one TCP target. It knows nothing of HTTP: the gateway
// upgrades the connection, picks the protocol, takes a slot, and hands
// the socket over with Start; the engine reads the target's name, dials,
// answers SUCC or FAIL:, relays both ways and ends the session in one
// place.
//
// A session reads as the data flows: session.go (the start and the end),
// relay.go (the two directions), the protocol's codec (v1.go, v2.go,
// raw.go) and the browser's side behind a small interface (browser.go:
// direct; resume.go: resumable, which survives lost connections). Metrics
// and recordings watch through Observer (observer.go); ends.go says what
// every end means.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"wstelnet/internal/deadline"
	"wstelnet/internal/policy"
	"wstelnet/internal/proxyproto"
	"wstelnet/internal/wsframe"
)

const (
	// closeGrace is how long the browser gets to answer our close frame, as
	// RFC 6455 asks, before the socket is closed under it.
	closeGrace = 2 * time.Second
	// readBufSize is the most one read from the target takes.
	readBufSize = 64 << 10
)

// aLongTimeAgo is a deadline in the past: setting it makes a blocked read return.
var aLongTimeAgo = time.Unix(1, 0)

// Env is what every session is given: limits, timeouts and observers.
// The gateway fills it in once.
type Env struct {
	Log                 *slog.Logger
	DialTimeout         time.Duration // bounds a dial (10s)
	FirstMessageTimeout time.Duration // bounds the wait for the target's name (10s)
	WriteTimeout        time.Duration // bounds every write, to the browser or the target (30s)
	IdleTimeout         time.Duration // ends a session without data either way; 0: never
	PingInterval        time.Duration // pings the browser; 0: never
	ResumeWindow        time.Duration // keeps a lost resumable session; 0: resume is off
	ResumeBuffer        int           // the output a resumable session keeps unacknowledged (at least 64 KiB)
	Budget              *Budget       // bounds that storage across sessions; nil: no bound
	Observers           []Observer    // metrics, recordings
	Resumes             *Registry     // resumable sessions by id; required when ResumeWindow > 0
	Poller              *Poller       // waits for quiet sockets without a goroutine each; nil: each side waits in its own
	// NoMCCP refuses MCCP2 (compression) on every target (-mccp=false);
	// otherwise a target may compress unless its own option refuses it.
	NoMCCP bool
	// Version is the gateway's version, for NEW-ENVIRON's CLIENT_VERSION.
	Version string
	// ResumeGuard, when set, counts resumes of unknown sessions per
	// client address and refuses an address that guesses: it gets the
	// same answer as an unknown id, and the guard logs in aggregate.
	ResumeGuard Guard
}

// Guard limits failures per client address.
type Guard interface {
	Allow(addr string) (ok bool, retryAfter time.Duration)
	Fail(addr string)
}

// Target is what a session dials.
type Target struct {
	Addr string // host:port
	Name string // the named target's name, "" for host:port
	// Dial dials Addr under the policy that applies to it, and returns a
	// *policy.DeniedError when the rules refuse it.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// ProxyHeader is the PROXY protocol version to start the connection
	// with, given the address dialled (0: none).
	ProxyHeader func(dialled netip.AddrPort) int
	// NoMCCP refuses MCCP2 for this target (its no-mccp option).
	NoMCCP bool
	// SendAddress: tell the target the visitor's address in NEW-ENVIRON
	// (IPADDRESS, MNES), as the target's option asks.
	SendAddress bool
}

// Config is one session's own: its socket, protocol and client.
type Config struct {
	WS       *wsframe.Conn
	Protocol Protocol
	ID       string         // names the session in logs and recordings
	Client   string         // the client's address, for the log
	Peer     netip.AddrPort // the client's address and port, for a PROXY header
	User     string         // the -htpasswd user; only they may resume the session
	TLS      bool           // the browser reached the gateway over TLS (https, wss)
	// Choose reads the first message: a target, or the end that refuses it.
	Choose func(first string) (Target, End)
	// Fixed is the target of an endpoint without a first message
	// (/websockify), or the end that refuses it.
	Fixed func() (Target, End)
	// Admit, when set, is asked once the first message has come (at once
	// on an endpoint without one) whether the session may go on: resume
	// says the message asks to resume a session, which holds its slot
	// already. A socket takes no slot until then, so that a full or
	// draining gateway can still take back every session it holds, and a
	// socket that says nothing never takes one.
	Admit func(resume bool) (End, bool)
	// Refuse, when set, refuses the session at once (a gateway shutting down).
	Refuse *End
	// Done is called once when the session has ended, to give back its slot.
	Done func()
}

// Session is one browser's session. Its life: Start runs run in a
// goroutine of its own; run reads the target's name, dials it and starts
// the relay (relay.go), whose last direction to end calls finish. A
// session refused before SUCC ends in refuse.
type Session struct {
	env   *Env
	cfg   Config
	codec codec
	b     browser // the browser's side: direct, or resumable after SUCC
	log   *slog.Logger
	start time.Time
	obs   *watchers // nil until the session starts

	ctx    context.Context // cancelled, with a stopCause, by Stop
	cancel context.CancelCauseFunc

	target net.Conn
	writes deadline.Writes // target's write deadline, renewed a quarter of -write-timeout at a time
	tr     *targetReader   // the target's reader, targetToBrowser's: codecs start inflating on it
	// The two directions with the Poller, set by relay (nil: they never
	// park). The browser's is atomic: the resumable side wakes it from
	// other goroutines (a resume, a ping).
	targetPark  *parking
	browserPark atomic.Pointer[parking]
	started     bool                      // SUCC was sent: the relay runs
	res         atomic.Pointer[resumable] // b, once it is resumable, for Cut

	up, down   atomic.Int64 // bytes browser->target and target->browser
	lastActive atomic.Int64 // UnixNano of the last data either way, for -idle-timeout

	kmu   sync.Mutex  // guards timer
	timer *time.Timer // keepalive: pings and the idle check; nil once the session ends
}

// Start starts the session of an upgraded connection in a goroutine of
// its own and returns it, so that the gateway can stop it.
func Start(env *Env, cfg Config) *Session {
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &Session{
		env:    env,
		cfg:    cfg,
		codec:  cfg.Protocol.codec(env.WriteTimeout),
		log:    env.Log.With("session", cfg.ID, "client", cfg.Client),
		start:  time.Now(),
		ctx:    ctx,
		cancel: cancel,
	}
	s.b = &direct{ws: cfg.WS}
	go s.run()
	return s
}

// Stop ends the session from outside the relay with e; the first call wins.
func (s *Session) Stop(e End) { s.cancel(stopCause{e}) }

// Cut closes the session's connections to the browser under it, without
// a close frame: for a shutdown whose time is up. The session then ends.
func (s *Session) Cut() {
	s.cfg.WS.Close()
	if r := s.res.Load(); r != nil {
		r.mu.Lock()
		ws := r.ws
		r.mu.Unlock()
		if ws != nil {
			ws.Close()
		}
	}
	s.browserPark.Load().close() // a side parked with the Poller runs, and finds its socket closed
}

// User is the -htpasswd user who opened the session.
func (s *Session) User() string { return s.cfg.User }

// stopped returns the end given to Stop, if any.
func (s *Session) stopped() (End, bool) {
	var c stopCause
	if errors.As(context.Cause(s.ctx), &c) {
		return c.End, true
	}
	return End{}, false
}

// run is the session's life after the upgrade: the target's name, the
// dial, SUCC, and then the relay, which calls finish when it is over.
func (s *Session) run() {
	if s.cfg.Refuse != nil {
		s.refuse(*s.cfg.Refuse)
		return
	}
	target, e, ok := s.open()
	switch {
	case e.Kind == handedOver:
		s.cancel(nil)
		s.cfg.Done()
	case !ok:
		s.refuse(e)
	default:
		s.relay(target)
	}
}

// refuse ends a session that never started: FAIL:<reason> (unless the
// browser is gone), then the close frame.
func (s *Session) refuse(e End) {
	if stopped, ok := s.stopped(); ok {
		e = stopped
	}
	if e.GatewayCloses() && s.codec.answers() { // websockify's protocol has no FAIL:
		s.cfg.WS.Writer().WriteFrame(wsframe.OpText, []byte("FAIL:"+e.Reason()))
	}
	s.cfg.WS.WriteClose(e.Code(), e.Reason()) // nothing if the browser's close was answered
	s.cfg.WS.Linger(closeGrace)
	s.cancel(nil)
	observers{s.env.Observers, s.log}.notStarted(e)
	attrs := []any{"reason", e.Log()}
	if e.Text != "" && e.Text != e.Log() {
		attrs = append(attrs, "text", e.Text)
	}
	if e.Err != nil {
		attrs = append(attrs, "err", e.Err)
	}
	if !e.quiet {
		s.log.Info("session refused", attrs...)
	}
	s.cfg.Done()
}

// finish is the end of a session that started: the browser's side is
// closed (its close frame went out in the relay's end), the log line,
// and the slot goes back. It runs once, when both directions are over.
func (s *Session) finish(e End) {
	s.cancel(nil)
	s.stopKeepalive()
	s.b.finish()
	attrs := []any{"reason", e.Log(), "bytes_up", s.up.Load(), "bytes_down", s.down.Load(), "duration", time.Since(s.start).Round(time.Millisecond)}
	if r := s.res.Load(); r != nil {
		attrs = append(attrs, "resumes", r.resumeCount())
	}
	if m := &s.tr.mccp; m.compressed > 0 { // both directions are over: nothing reads it now
		attrs = append(attrs, "mccp_compressed", m.compressed, "mccp_inflated", m.inflated)
	}
	if e.Err != nil {
		attrs = append(attrs, "err", e.Err)
	}
	attrs = append(attrs, s.obs.ended(e, time.Since(s.start))...)
	s.log.Info("session ended", attrs...)
	s.cfg.Done()
}

// open reads the target (host:port or a name) and dials it, and answers
// SUCC; or says why not.
func (s *Session) open() (net.Conn, End, bool) {
	t, e, ok := s.readTarget()
	if !ok {
		return nil, e, false
	}
	if err := s.cfg.Protocol.err; err != nil {
		return nil, endBadOptions(err.Error()), false
	}
	if t.Name != "" {
		s.log = s.log.With("name", t.Name)
	}
	s.log = s.log.With("target", t.Addr)

	ctx, cancel := context.WithTimeout(s.ctx, s.env.DialTimeout)
	dialStart := time.Now()
	target, err := t.Dial(ctx, "tcp", t.Addr)
	took := time.Since(dialStart)
	cancel()
	if err == nil && s.ctx.Err() != nil {
		target.Close()
		return nil, End{}, false // refuse takes the end given to Stop
	}
	if denied := (*policy.DeniedError)(nil); errors.As(err, &denied) {
		s.log.Warn("target denied", "reason", denied.Reason)
		return nil, NewEnd(Denied, denied.Error()), false
	}
	if s.ctx.Err() == nil { // a dial cut short by a shutdown says nothing of the target
		observers{s.env.Observers, s.log}.dialed(took, err)
	}
	if err != nil {
		return nil, endDialFailed(t.Addr, s.env.DialTimeout, err), false
	}
	fail := func(e End) (net.Conn, End, bool) {
		target.Close()
		return nil, e, false
	}
	if err := s.sendProxyHeader(target, t); err != nil {
		return fail(End{Kind: DialFailed, Err: err, DialKind: "other"})
	}
	if err := setOOBInline(target); err != nil {
		s.log.Debug("urgent data will not stay in the stream", "err", err)
	}
	if s.codec.answers() {
		if err := s.cfg.WS.Writer().WriteFrame(wsframe.OpText, []byte("SUCC")); err != nil {
			return fail(withErr(ClientWriteFailed, err))
		}
	}
	if s.cfg.Protocol.Resumable() && s.env.ResumeWindow > 0 {
		r, err := newResumable(s, s.cfg.WS)
		if err != nil {
			return fail(End{Kind: ResumeRefused, Text: "the gateway cannot make a session id; try again", Err: err})
		}
		s.b = r
		s.res.Store(r)
		s.env.Resumes.add(r)
		if err := r.announce(); err != nil {
			s.env.Resumes.remove(r)
			return fail(withErr(ClientWriteFailed, err))
		}
	}
	m := mudSettings{mccp: !s.env.NoMCCP && !t.NoMCCP, tls: s.cfg.TLS, version: s.env.Version}
	if t.SendAddress && s.cfg.Peer.IsValid() {
		m.address = s.cfg.Peer.Addr().Unmap().String()
	}
	s.codec.configure(m)
	if err := s.codec.start(target); err != nil {
		return fail(End{Kind: DialFailed, Text: "the target closed the connection at once", Err: err, DialKind: "other"})
	}
	info := Info{ID: s.cfg.ID, Protocol: s.cfg.Protocol.Name(), Target: t.Addr, Log: s.log, Start: s.start}
	s.cfg.Protocol.describe(&info)
	s.obs = observers{s.env.Observers, s.log}.started(info)
	s.started = true
	s.log.Info("session started")
	return target, End{}, true
}

// readTarget reads the first message and says which target it names. On
// /websockify the URL names it instead.
func (s *Session) readTarget() (Target, End, bool) {
	if s.cfg.Fixed != nil {
		if e, ok := s.admit(false); !ok {
			return Target{}, e, false
		}
		t, e := s.cfg.Fixed()
		return t, e, e.zero()
	}
	ws := s.cfg.WS
	// Until Stop, a blocked read of the first message is ended by its
	// deadline, which pings and pongs do not move.
	kick := context.AfterFunc(s.ctx, func() { ws.SetReadDeadline(aLongTimeAgo) })
	ws.SetReadDeadline(time.Now().Add(s.env.FirstMessageTimeout))
	m, err := ws.ReadMessage()
	if !kick() || s.ctx.Err() != nil {
		return Target{}, End{}, false // refuse takes the end given to Stop
	}
	var pe *wsframe.ProtocolError
	switch {
	case errors.As(err, &pe) && pe.Code == wsframe.CloseTooBig:
		// The close frame with 1009 has gone out; FAIL: could not follow it.
		return Target{}, endProtocol(pe), false
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Target{}, endNoTarget(s.env.FirstMessageTimeout), false
	case err != nil:
		e := endOfRead(err)
		e.beforeTarget = true
		return Target{}, e, false
	case !m.Text:
		return Target{}, NewEnd(BadTarget, "the first message must be a text message host:port, not binary"), false
	}
	ws.SetReadDeadline(time.Time{})
	resume := s.cfg.Protocol.Resumable() && len(m.Data) > 0 && m.Data[0] == '{'
	if e, ok := s.admit(resume); !ok {
		return Target{}, e, false
	}
	if resume {
		return Target{}, s.resumeOther(m.Data), false
	}
	if len(m.Data) > 0 && m.Data[0] == '{' {
		if _, err := parseResume(m.Data); err == nil {
			return Target{}, NewEnd(BadTarget, "the first message is a resume, but this socket cannot resume: open it with resume=1 (/ws?resume=1, subprotocol wstelnet.v2), or send host:port"), false
		}
	}
	t, e := s.cfg.Choose(string(m.Data))
	return t, e, e.zero()
}

// admit asks the gateway, through Config.Admit, whether the session may
// go on now that its first message has come.
func (s *Session) admit(resume bool) (End, bool) {
	if s.cfg.Admit == nil {
		return End{}, true
	}
	return s.cfg.Admit(resume)
}

// resumeOther hands this socket, whose first message asked to resume a
// session, to that session; or says why not. A resume never dials.
func (s *Session) resumeOther(data []byte) End {
	refused := func(err error) End {
		s.log.Warn("resume refused", "reason", err)
		return End{Kind: ResumeRefused, Text: err.Error()}
	}
	req, err := parseResume(data)
	if err != nil {
		return refused(err)
	}
	if s.env.Resumes == nil || s.env.ResumeWindow <= 0 {
		return refused(errUnknownSession)
	}
	unknown := End{Kind: ResumeRefused, Text: errUnknownSession.Error()}
	if g := s.env.ResumeGuard; g != nil {
		if ok, _ := g.Allow(s.cfg.Client); !ok {
			unknown.quiet = true // the guard logs guessers in aggregate
			return unknown
		}
	}
	other := s.env.Resumes.lookup(req.ID, s.cfg.User)
	if other == nil {
		if g := s.env.ResumeGuard; g != nil {
			g.Fail(s.cfg.Client)
			unknown.quiet = true
			return unknown
		}
		s.log.Warn("resume refused", "reason", "unknown session", "id", shortID(req.ID))
		return unknown
	}
	if err := other.resume(s.cfg.WS, req.Offset, s.cfg.Client); err != nil {
		return refused(err)
	}
	return End{Kind: handedOver}
}

// sendProxyHeader starts the connection to the target with a PROXY
// protocol header carrying the visitor's address and port, if the target
// is one that expects it; no other target gets one.
func (s *Session) sendProxyHeader(target net.Conn, t Target) error {
	if t.ProxyHeader == nil {
		return nil
	}
	dst, _ := netip.ParseAddrPort(target.RemoteAddr().String())
	version := t.ProxyHeader(dst)
	if version == 0 {
		return nil
	}
	h, err := proxyproto.Header(version, s.cfg.Peer, dst)
	if err != nil {
		return err
	}
	target.SetWriteDeadline(time.Now().Add(s.env.WriteTimeout))
	if _, err := target.Write(h); err != nil {
		return fmt.Errorf("write the PROXY protocol header: %w", err)
	}
	target.SetWriteDeadline(time.Time{})
	s.log.Info("PROXY protocol header sent: the target sees the visitor's address", "version", version, "visitor", s.cfg.Peer)
	return nil
}

// writeTarget writes p to the target within -write-timeout: a target that
// takes nothing for that long is as gone as a browser that does not read.
func (s *Session) writeTarget(p []byte) (int, error) {
	s.writes.Renew(s.target, s.env.WriteTimeout)
	return s.target.Write(p)
}

// active notes data either way, for -idle-timeout.
func (s *Session) active() { s.lastActive.Store(time.Now().UnixNano()) }

// startKeepalive arms the timer that pings the browser every -ping-interval
// and ends the session after -idle-timeout without data. A timer, not a
// goroutine: idle sessions should cost as little as possible.
func (s *Session) startKeepalive() {
	if next := s.keepaliveDelay(time.Now()); next > 0 {
		s.kmu.Lock()
		s.timer = time.AfterFunc(next, s.keepalive)
		s.kmu.Unlock()
	}
}

func (s *Session) stopKeepalive() {
	s.kmu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.kmu.Unlock()
}

// keepaliveDelay is the time until the next ping or idle check; 0 means none.
func (s *Session) keepaliveDelay(now time.Time) time.Duration {
	next := s.env.PingInterval
	if idle := s.env.IdleTimeout; idle > 0 {
		left := time.Unix(0, s.lastActive.Load()).Add(idle).Sub(now)
		if next == 0 || left < next {
			next = max(left, time.Millisecond)
		}
	}
	return next
}

// keepalive runs on the timer: the idle check, then the ping (browser.ping
// says what a failed or unanswered one means for its side).
func (s *Session) keepalive() {
	now := time.Now()
	if idle := s.env.IdleTimeout; idle > 0 && now.Sub(time.Unix(0, s.lastActive.Load())) >= idle {
		s.Stop(endIdle(idle))
		return
	}
	if s.env.PingInterval > 0 {
		if e, ok := s.b.ping(now, 2*s.env.PingInterval); !ok {
			s.Stop(e)
			return
		}
	}
	s.kmu.Lock()
	if s.timer != nil {
		s.timer.Reset(s.keepaliveDelay(time.Now()))
	}
	s.kmu.Unlock()
}
