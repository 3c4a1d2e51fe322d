package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"wstelnet/internal/policy"
	"wstelnet/internal/proxyproto"
	"wstelnet/internal/wsframe"
)

const (
	// promptDelay is the quiet spell after which a partial line (a prompt
	// such as "login: ") is sent without waiting for its line ending.
	promptDelay = 50 * time.Millisecond
	// closeGrace is how long the browser gets to answer our close frame, as
	// RFC 6455 asks, before the socket is closed under it.
	closeGrace = 2 * time.Second
	// readBufSize is the size of one read from the target.
	readBufSize = 64 << 10
)

// aLongTimeAgo is a deadline in the past: setting it makes a blocked read return.
var aLongTimeAgo = time.Unix(1, 0)

// session is one browser's WebSocket and, after SUCC, its TCP target.
// Its life: the endpoint upgrades the connection and starts run in a
// goroutine of its own; run reads the target's name, dials it and starts
// the relay (relay.go) with the loops of the session's protocol
// (relay_v1.go or relay_v2.go), whose last direction to end calls finish.
// A session refused before SUCC ends in refuse. finish is the one place a
// session ends.
type session struct {
	g      *Gateway
	ws     *wsframe.Conn
	client string             // the client's address, for limits and logs
	peer   netip.AddrPort     // the client's address and port, for a PROXY header; invalid if unknown
	wsk    *websockifySession // set on /websockify: no first message, no SUCC or FAIL:, raw bytes
	v2     *stream            // nil for the seed protocol (v1)
	v2err  error              // bad v2 query parameters, answered with FAIL:
	res    *resumable         // set after SUCC for a v2 session opened with resume=1 (resume.go)
	user   string             // the -htpasswd user, "" without; only they may resume the session
	auth   credHold           // keeps user's verified credentials while the session lives (gateway.go: track, untrack)
	// pendingResume: the gateway was full, and the socket was let in only
	// in case it resumes a session (which takes no slot).
	pendingResume bool
	log           *slog.Logger
	start         time.Time
	// tracked: the gateway counts the session (Gateway.track), and finish
	// must let it go.
	tracked bool
	started bool            // SUCC was sent: the relay runs
	ctx     context.Context // cancelled, with an endCause, by stop
	cancel  context.CancelCauseFunc

	id  string     // in every log line and the recording's name
	rec *recording // nil unless recording (-record)

	up, down   int64        // bytes browser->target and target->browser, each owned by one goroutine
	lastActive atomic.Int64 // UnixNano of the last data either way, for -idle-timeout

	kmu   sync.Mutex  // guards timer
	timer *time.Timer // keepalive: pings and the idle check; nil once the session ends
}

// newSession is the session of an upgraded connection; query is the
// WebSocket URL's query, which holds protocol v2's options.
func newSession(g *Gateway, ws *wsframe.Conn, c client, query url.Values) *session {
	ctx, cancel := context.WithCancelCause(context.Background())
	id := g.newSessionID()
	s := &session{
		g:      g,
		ws:     ws,
		client: c.addr,
		id:     id,
		peer:   c.addrPort(),
		log:    g.log.With("session", id, "client", c.addr),
		start:  time.Now(),
		ctx:    ctx,
		cancel: cancel,
	}
	if ws.Protocol() == subprotocolV2 {
		var o streamOptions
		o, s.v2err = parseStreamOptions(query)
		s.v2 = newStream(o)
		s.v2.writeTimeout = g.opts.WriteTimeout
	}
	return s
}

// stop ends the session from outside the relay with e; the first call wins.
func (s *session) stop(e end) { s.cancel(endCause{e}) }

// stopped returns the end given to stop, if any.
func (s *session) stopped() (end, bool) {
	var c endCause
	if errors.As(context.Cause(s.ctx), &c) {
		return c.end, true
	}
	return end{}, false
}

// run is the session's life after the upgrade: the target's name, the
// dial, SUCC, and then the relay, which calls finish when it is over.
func (s *session) run() {
	target, e, ok := s.open()
	switch {
	case e.handedOver:
		s.handedOver()
	case !ok:
		s.refuse(e)
	case s.res != nil:
		s.relayResumable(target)
	default:
		s.relay(target)
	}
}

// refuse ends a session that never started: FAIL:<reason> (unless the
// browser is gone), then the close.
func (s *session) refuse(e end) {
	if stopped, ok := s.stopped(); ok {
		e = stopped
	}
	if e.gatewayCloses && s.wsk == nil { // websockify's protocol has no FAIL:
		s.ws.Writer().WriteFrame(wsframe.OpText, []byte("FAIL:"+e.text))
	}
	s.finish(e)
}

// finish ends the session: the close frame (unless one went out already),
// the wait for the browser's answer, the log line, and the gateway
// forgets the session. It runs once, when nothing else uses the WebSocket.
func (s *session) finish(e end) {
	s.cancel(nil)
	if s.res != nil {
		s.g.unregister(s)
	}
	if ws := s.socket(); ws != nil {
		ws.WriteClose(e.code, e.text)
		ws.Linger(closeGrace)
	}
	if s.pendingResume {
		s.g.releasePending()
	}
	s.g.opts.Metrics.sessionFinished(s, e, s.started)
	if !s.tracked { // refused before it took a slot
		if !e.counted {
			s.log.Info("session refused", "reason", e.text)
		}
		return
	}
	attrs := []any{"reason", e.why, "bytes_up", s.up, "bytes_down", s.down, "duration", time.Since(s.start).Round(time.Millisecond)}
	if s.res != nil {
		s.res.mu.Lock()
		attrs = append(attrs, "resumes", s.res.resumes)
		s.res.mu.Unlock()
	}
	if e.err != nil {
		attrs = append(attrs, "err", e.err)
	}
	if path := s.rec.close(); path != "" {
		attrs = append(attrs, "recording", path)
	}
	if !e.counted {
		s.log.Info("session ended", attrs...)
	}
	s.g.untrack(s)
}

// open reads the target (host:port or a name) and dials it, and answers
// SUCC; or says why not.
func (s *session) open() (net.Conn, end, bool) {
	t, e, ok := s.readTarget()
	if !ok {
		return nil, e, false
	}
	if s.v2err != nil {
		return nil, endBadOptions(s.v2err.Error()), false
	}
	dial := s.g.opts.Dial
	if t.named != nil {
		s.log = s.log.With("name", t.named.Name)
		dial = s.g.opts.DialNamed
	}
	s.log = s.log.With("target", t.addr)
	addr := t.addr

	ctx, cancel := context.WithTimeout(s.ctx, s.g.opts.DialTimeout)
	dialStart := time.Now()
	target, err := dial(ctx, "tcp", addr)
	took := time.Since(dialStart)
	cancel()
	if err == nil && s.ctx.Err() != nil {
		target.Close()
		return nil, end{}, false
	}
	if denied := (*policy.DeniedError)(nil); errors.As(err, &denied) {
		s.log.Warn("target denied", "reason", denied.Reason)
		return nil, endDenied(denied.Error()), false
	}
	if s.ctx.Err() == nil { // a dial cut short by a shutdown says nothing of the target
		s.g.opts.Metrics.dialed(took, err)
	}
	if err != nil {
		return nil, endDialFailed(dialError(addr, s.g.opts.DialTimeout, err), err), false
	}
	if err := s.sendProxyHeader(target, t); err != nil {
		target.Close()
		return nil, endDialFailed("the connection to the target failed", err), false
	}
	if err := setOOBInline(target); err != nil {
		s.log.Debug("urgent data will not stay in the stream", "err", err)
	}
	if s.wsk == nil {
		if err := s.sendText([]byte("SUCC")); err != nil {
			target.Close()
			return nil, endClientWriteFailed(err), false
		}
	}
	if s.v2 != nil && s.v2.opts.resume && s.g.opts.ResumeWindow > 0 {
		res, err := newResumable(s.user, s.g.opts.ResumeWindow, s.g.opts.ResumeBuffer)
		if err != nil {
			target.Close()
			return nil, endRefused("resume", "the gateway cannot make a session id; try again", err), false
		}
		res.ws = s.ws
		s.res = res
		s.g.register(s)
		if err := s.announce(); err != nil {
			target.Close()
			return nil, endClientWriteFailed(err), false
		}
	}
	if s.v2 != nil {
		if err := s.v2.start(target); err != nil {
			target.Close()
			return nil, endDialFailed("the target closed the connection at once", err), false
		}
		o := s.v2.opts
		s.rec = s.g.opts.Recorder.start(s.log, s.id, addr, o.cols, o.rows, termName(o.term))
	} else {
		// v1 and /websockify are bytes or lines with no terminal and no size.
		s.rec = s.g.opts.Recorder.start(s.log, s.id, addr, 0, 0, "")
	}
	s.started = true
	s.g.opts.Metrics.sessionStarted(s)
	s.log.Info("session started")
	return target, end{}, true
}

// readTarget reads the first message and says which target it names. On
// /websockify the URL names it instead.
func (s *session) readTarget() (sessionTarget, end, bool) {
	if s.wsk != nil {
		return s.wsk.target(s)
	}
	// Until stop, a blocked read of the first message is ended by its
	// deadline, which pings and pongs do not move.
	kick := context.AfterFunc(s.ctx, func() { s.ws.SetReadDeadline(aLongTimeAgo) })
	s.ws.SetReadDeadline(time.Now().Add(s.g.opts.FirstMessageTimeout))
	m, err := s.ws.ReadMessage()
	if !kick() || s.ctx.Err() != nil {
		return sessionTarget{}, end{}, false // refuse takes the end given to stop
	}
	var pe *wsframe.ProtocolError
	switch {
	case errors.As(err, &pe) && pe.Code == wsframe.CloseTooBig:
		// The close frame with 1009 has gone out; FAIL: could not follow it.
		return sessionTarget{}, endProtocol(pe), false
	case errors.Is(err, os.ErrDeadlineExceeded):
		return sessionTarget{}, endNoTarget(s.g.opts.FirstMessageTimeout), false
	case err != nil:
		e := endOfRead(err)
		e.why += beforeTarget
		return sessionTarget{}, e, false
	case !m.Text:
		return sessionTarget{}, endBadTarget("the first message must be a text message host:port, not binary"), false
	}
	s.ws.SetReadDeadline(time.Time{})
	if s.v2 != nil && s.v2.opts.resume && len(m.Data) > 0 && m.Data[0] == '{' {
		return sessionTarget{}, s.resumeOther(m.Data), false
	}
	if s.pendingResume { // let in only to resume
		if s.g.Draining() {
			return sessionTarget{}, endShutdown(), false
		}
		return sessionTarget{}, endBusy(s.g.busy(s.client).Error()), false
	}

	t, err := s.g.chooseTarget(string(m.Data))
	switch {
	case errors.As(err, new(unknownNameError)):
		return sessionTarget{}, endUnknownName(err.Error()), false
	case errors.Is(err, errNoFreeTargets):
		return sessionTarget{}, endDenied(err.Error()), false
	case err != nil:
		return sessionTarget{}, endBadTarget(err.Error()), false
	}
	return t, end{}, true
}

// sendProxyHeader starts the connection to the target with a PROXY
// protocol header carrying the visitor's address and port, if the target
// is one that expects it (-proxy-protocol, or the token file's
// proxy-protocol option); no other target gets one.
func (s *session) sendProxyHeader(target net.Conn, t sessionTarget) error {
	dst, _ := netip.ParseAddrPort(target.RemoteAddr().String())
	version := s.g.proxyHeaderVersion(t, dst)
	if version == 0 {
		return nil
	}
	h, err := proxyproto.Header(version, s.peer, dst)
	if err != nil {
		return err
	}
	target.SetWriteDeadline(time.Now().Add(s.g.opts.WriteTimeout))
	if _, err := target.Write(h); err != nil {
		return fmt.Errorf("write the PROXY protocol header: %w", err)
	}
	target.SetWriteDeadline(time.Time{})
	s.log.Info("PROXY protocol header sent: the target sees the visitor's address", "version", version, "visitor", s.peer)
	return nil
}

// sendText sends one text frame.
func (s *session) sendText(p []byte) error {
	ws := s.socket()
	if ws == nil {
		return net.ErrClosed // detached: nothing to tell
	}
	return ws.Writer().WriteFrame(wsframe.OpText, p)
}

// startKeepalive arms the timer that pings the browser every -ping-interval
// and ends the session after -idle-timeout without data. A timer, not a
// goroutine: idle sessions should cost as little as possible.
func (s *session) startKeepalive() {
	if next := s.keepaliveDelay(time.Now()); next > 0 {
		s.kmu.Lock()
		s.timer = time.AfterFunc(next, s.keepalive)
		s.kmu.Unlock()
	}
}

func (s *session) stopKeepalive() {
	s.kmu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.kmu.Unlock()
}

// keepaliveDelay is the time until the next ping or idle check; 0 means none.
func (s *session) keepaliveDelay(now time.Time) time.Duration {
	next := s.g.opts.PingInterval
	if idle := s.g.opts.IdleTimeout; idle > 0 {
		left := time.Unix(0, s.lastActive.Load()).Add(idle).Sub(now)
		if next == 0 || left < next {
			next = max(left, time.Millisecond)
		}
	}
	return next
}

// keepalive runs on the timer: the idle check, then the ping. A ping that
// cannot be written within -write-timeout means the browser is gone (or
// not reading): the session ends, even if both relay loops are blocked
// elsewhere (an upload to a target that does not read).
func (s *session) keepalive() {
	now := time.Now()
	if idle := s.g.opts.IdleTimeout; idle > 0 && now.Sub(time.Unix(0, s.lastActive.Load())) >= idle {
		s.stop(endIdle(idle))
		return
	}
	if s.res != nil {
		s.res.trim()
	}
	if s.g.opts.PingInterval > 0 {
		ws := s.socket()
		if ws == nil {
			s.rearm() // detached: nothing to ping until a resume
			return
		}
		if s.res != nil && s.res.unanswered(ws, now, 2*s.g.opts.PingInterval) {
			// No pong within two intervals: the connection is lost, whatever
			// TCP thinks. Closing it makes the reading side detach.
			ws.Close()
			s.rearm()
			return
		}
		err := ws.Writer().WriteFrame(wsframe.OpPing, nil)
		if errors.Is(err, wsframe.ErrCloseSent) {
			return // the session is ending
		}
		if err != nil {
			if s.res != nil {
				ws.Close() // a resumable session detaches
				s.rearm()
				return
			}
			s.stop(endClientLost(fmt.Errorf("ping: %w", err)))
			return
		}
	}
	s.rearm()
}

// rearm sets the keepalive timer for its next run.
func (s *session) rearm() {
	s.kmu.Lock()
	if s.timer != nil {
		s.timer.Reset(s.keepaliveDelay(time.Now()))
	}
	s.kmu.Unlock()
}

// handedOver ends a socket that resumed another session: it belongs to
// that session now, and this one only gives back its slot.
func (s *session) handedOver() {
	s.cancel(nil)
	if s.pendingResume {
		s.g.releasePending()
	}
	if s.tracked {
		s.g.untrack(s)
	}
}
