package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/websocket"

	"wstelnet/internal/telnet"
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

// Close codes (RFC 6455 section 7.4.1).
const (
	closeNormal    = 1000
	closeGoingAway = 1001
	closeTooBig    = 1009
)

// aLongTimeAgo is a deadline in the past: setting it makes a blocked read return.
var aLongTimeAgo = time.Unix(1, 0)

// session is one browser's WebSocket and, after SUCC, its TCP target.
// serveSession sets it up and hands it to run, in a goroutine of its own;
// relay's two goroutines take over from there, and the last of them to
// end finishes the session.
type session struct {
	g      *Gateway
	ws     *websocket.Conn
	client string  // the client's address, for limits and logs
	v2     *stream // nil for the seed protocol (v1)
	v2err  error   // bad v2 query parameters, answered with FAIL:
	log    *slog.Logger
	ctx    context.Context // cancelled, with an endCause, by stop
	cancel context.CancelCauseFunc

	out *frameWriter // every frame we send goes through it

	up, down   int64        // bytes browser->target and target->browser, each owned by one goroutine
	lastActive atomic.Int64 // UnixNano of the last data either way, for -idle-timeout

	kmu   sync.Mutex  // guards timer
	timer *time.Timer // keepalive: pings and the idle check; nil once the session ends
}

// end says why a session, or one direction of it, ended.
type end struct {
	why      string // for the log
	code     int    // close code sent to the browser
	text     string // close reason shown to the person (at most 123 bytes)
	byTarget bool   // the target ended it: deliver, close, then let the browser answer
	err      error  // the cause, if any, for the log
}

var (
	endTargetClosed = end{why: "target closed", code: closeNormal, text: "the target closed the connection", byTarget: true}
	endClientClosed = end{why: "client closed", code: closeNormal}
	endShutdown     = end{why: "shutdown", code: closeGoingAway, text: "the gateway is shutting down", byTarget: true}
	errShuttingDown = errors.New("the gateway is shutting down")
)

// The ends that carry an error, shared by both protocols' relay loops.
func targetWriteFailed(err error) end {
	return end{why: "target write failed", code: closeNormal, text: "the connection to the target failed", byTarget: true, err: quiet(err)}
}

func targetLost(err error) end {
	return end{why: "target connection lost", code: closeNormal, text: "the connection to the target was lost", byTarget: true, err: quiet(err)}
}

func clientWriteFailed(err error) end {
	return end{why: "client write failed", code: closeNormal, err: quiet(err)}
}

// endCause carries an end decided outside the relay (shutdown, idle) through
// the session's context.
type endCause struct{ end }

func (e endCause) Error() string { return e.why }

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

// message is one WebSocket message from the browser.
type message struct {
	data []byte
	text bool
}

// messageCodec receives a message with its frame type, which
// websocket.Message hides.
var messageCodec = websocket.Codec{
	Unmarshal: func(data []byte, payloadType byte, v any) error {
		m := v.(*message)
		m.data, m.text = data, payloadType == websocket.TextFrame
		return nil
	},
}

// serveSession is the websocket.Handler: one call per browser session.
func (g *Gateway) serveSession(ws *websocket.Conn) {
	ctx, cancel := context.WithCancelCause(context.Background())
	c := clientOf(ws.Request()) // not ws.RemoteAddr(): that is the Origin
	s := &session{
		g:      g,
		ws:     ws,
		out:    frameWriterOf(ws.Request()),
		client: c.addr,
		log:    g.log.With("session", g.nextID.Add(1), "client", c.addr),
		ctx:    ctx,
		cancel: cancel,
	}
	if cfg := ws.Config(); len(cfg.Protocol) == 1 && cfg.Protocol[0] == subprotocolV2 {
		var o streamOptions
		o, s.v2err = parseStreamOptions(ws.Request().URL.Query())
		s.v2 = newStream(o)
	}
	s.out.owned = true
	// The library holds on to the request for as long as the session lasts;
	// its headers, read by now, are most of its weight.
	ws.Request().Header = nil
	if err := g.track(s); err != nil {
		s.log.Info("session refused", "reason", err)
		code := closeNormal
		if err == errShuttingDown {
			code = closeGoingAway
		}
		s.sendText([]byte("FAIL:" + err.Error()))
		s.sendClose(code, err.Error())
		s.awaitClose()
		s.out.conn.Close()
		cancel(nil)
		return
	}
	// The session goes on in its own goroutine and this handler returns, so
	// that net/http lets go of the connection's buffers and goroutine; the
	// library cannot close the socket behind us (see sessionConn).
	go s.run()
}

// run is the session's life after the upgrade: the start, then the relay,
// whose last direction to end calls finish.
func (s *session) run() {
	start := time.Now()
	target, e, ok := s.open()
	if !ok {
		s.finish(e, start)
		return
	}
	s.relay(target, func(e end) { s.finish(e, start) })
}

// finish ends the session: it closes the WebSocket's connection, logs how
// the session went, and lets the gateway forget it.
func (s *session) finish(e end, start time.Time) {
	s.cancel(nil)
	s.out.conn.Close()
	attrs := []any{"reason", e.why, "bytes_up", s.up, "bytes_down", s.down, "duration", time.Since(start).Round(time.Millisecond)}
	if e.err != nil {
		attrs = append(attrs, "err", e.err)
	}
	s.log.Info("session ended", attrs...)
	s.g.untrack(s)
}

// open reads "host:port", dials it and answers SUCC, or FAIL:<reason> and
// closes the WebSocket.
func (s *session) open() (net.Conn, end, bool) {
	fail := func(why, reason string, err error) (net.Conn, end, bool) {
		code := closeNormal
		if e, ok := s.stopped(); ok {
			why, reason, code = e.why, e.text, e.code
		}
		s.sendText([]byte("FAIL:" + reason))
		s.sendClose(code, reason)
		s.awaitClose()
		return nil, end{why: why, err: err}, false
	}

	// Until Shutdown, a blocked read of the first message is ended by its deadline.
	kick := context.AfterFunc(s.ctx, func() { s.ws.SetReadDeadline(aLongTimeAgo) })
	s.ws.MaxPayloadBytes = maxTargetLen
	s.ws.SetReadDeadline(time.Now().Add(s.g.opts.FirstMessageTimeout))
	var m message
	err := messageCodec.Receive(s.ws, &m)
	if !kick() || s.ctx.Err() != nil {
		return fail("stopped", "", nil) // the reason comes from stop
	}
	switch {
	case errors.Is(err, websocket.ErrFrameTooLarge):
		return fail("bad target", fmt.Sprintf("the target is longer than %d bytes; send host:port, e.g. localhost:7000", maxTargetLen), nil)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fail("no target", fmt.Sprintf("no target received within %s; send host:port first", s.g.opts.FirstMessageTimeout), nil)
	case err != nil:
		return nil, end{why: "client closed before sending a target", err: quiet(err)}, false
	case !m.text:
		return fail("bad target", "the first message must be a text message host:port, not binary", nil)
	}
	s.ws.SetReadDeadline(time.Time{})
	s.ws.MaxPayloadBytes = s.g.opts.MaxMessage

	addr, err := parseTarget(string(m.data))
	if err != nil {
		return fail("bad target", err.Error(), nil)
	}
	if s.v2err != nil {
		return fail("bad options", "bad option in the WebSocket URL: "+s.v2err.Error(), nil)
	}
	s.log = s.log.With("target", addr)

	ctx, cancel := context.WithTimeout(s.ctx, s.g.opts.DialTimeout)
	target, err := s.g.opts.Dial(ctx, "tcp", addr)
	cancel()
	if err == nil && s.ctx.Err() != nil {
		target.Close()
		return fail("stopped", "", nil)
	}
	if denied := (*DeniedError)(nil); errors.As(err, &denied) {
		s.log.Warn("target denied", "reason", denied.Reason)
		return fail("target denied", denied.Error(), nil)
	}
	if err != nil {
		return fail("dial error", dialError(addr, s.g.opts.DialTimeout, err), err)
	}
	if err := setOOBInline(target); err != nil {
		s.log.Debug("urgent data will not stay in the stream", "err", err)
	}
	if err := s.sendText([]byte("SUCC")); err != nil {
		target.Close()
		return nil, end{why: "client gone", err: err}, false
	}
	if s.v2 != nil {
		if err := s.v2.start(target); err != nil {
			target.Close()
			return fail("dial error", "the target closed the connection at once", err)
		}
	}
	s.log.Info("session started")
	return target, end{}, true
}

// relay copies both ways until one side ends, then ends the other, and
// calls done when both have ended. The target is closed at once whichever
// side ends first; the browser always gets everything the target sent,
// then a close frame.
func (s *session) relay(target net.Conn, done func(end)) {
	s.lastActive.Store(time.Now().UnixNano())
	s.startKeepalive()
	up, down := s.browserToTarget, s.targetToBrowser
	if s.v2 != nil {
		up, down = s.browserToTargetV2, s.targetToBrowserV2
	}
	stop := context.AfterFunc(s.ctx, func() { target.Close() })

	var once sync.Once
	var first end
	var running atomic.Int32
	running.Store(2)
	// finish runs as each direction ends. The first to end closes the
	// target and makes the other end too; the last hands the session on.
	finish := func(e end) {
		once.Do(func() {
			target.Close()
			if stopped, ok := s.stopped(); ok {
				e = stopped
			}
			first = e
			if !e.byTarget {
				s.ws.SetReadDeadline(aLongTimeAgo) // in case the browser side ended by writing
				return
			}
			if s.v2 != nil {
				s.sendControl(controlMessage{Type: "closed", Reason: cmp.Or(e.text, e.why)})
			}
			// The browser may still be sending; it answers our close frame
			// with its own, which ends browserToTarget, or the grace period does.
			s.sendClose(e.code, e.text)
			s.ws.SetReadDeadline(time.Now().Add(closeGrace))
		})
		if running.Add(-1) > 0 {
			return
		}
		stop()
		s.stopKeepalive()
		if !first.byTarget {
			s.sendClose(first.code, first.text) // the answer to the browser's close
		}
		done(first)
	}
	// One goroutine per direction, each started afresh with a small stack
	// (the goroutine that dialled is gone by the time they block): this is
	// most of what an idle session costs.
	go func() { finish(up(target)) }()
	go func() { finish(down(target)) }()
}

// browserToTarget writes each message from the browser to the target as a
// line ending in CR LF.
func (s *session) browserToTarget(target net.Conn) end {
	var m message
	var buf []byte
	for {
		if e, ok := s.receive(&m); !ok {
			return e
		}
		// Text is UTF-8 and never holds 0xFF, but a binary message may, and
		// the target may be telnet: double it as IAC IAC.
		buf = telnet.Escape(buf[:0], m.data)
		buf = append(buf, '\r', '\n')
		n, err := target.Write(buf)
		s.up += int64(n)
		s.lastActive.Store(time.Now().UnixNano())
		if err != nil {
			return targetWriteFailed(err)
		}
	}
}

// receive reads the browser's next message, or says why there is none.
func (s *session) receive(m *message) (end, bool) {
	err := messageCodec.Receive(s.ws, m)
	switch {
	case err == nil:
		return end{}, true
	case errors.Is(err, websocket.ErrFrameTooLarge):
		return end{why: "message too big", code: closeTooBig,
			text: fmt.Sprintf("message larger than %d bytes", s.g.opts.MaxMessage)}, false
	case err == io.EOF && s.out.in != nil && s.out.in.eof:
		return end{why: "client connection lost", code: closeNormal}, false // no close frame
	case err == io.EOF:
		return endClientClosed, false
	default:
		return end{why: "client connection lost", code: closeNormal, err: quiet(err)}, false
	}
}

// targetToBrowser reads the target, answers and removes telnet commands,
// and sends each line to the browser as a text frame.
func (s *session) targetToBrowser(target net.Conn) end {
	var dec telnet.Decoder
	var reply []byte
	// Every frame of this direction is added to a batch (begin ... flush).
	fr := lineFramer{emit: func(p []byte) error { return s.out.add(opTextFrame, p) }}
	tr := newTargetReader(target)
	armed := false // a read deadline is set for the prompt delay
	for {
		switch {
		case fr.Pending():
			target.SetReadDeadline(time.Now().Add(promptDelay))
			armed = true
		case armed:
			target.SetReadDeadline(time.Time{})
			armed = false
		}
		tr.watchUrgent = dec.SeenCommand() // a telnet Synch: plain TCP never pays for the check
		bp, n, err := tr.next()
		if n > 0 {
			buf := *bp
			s.down += int64(n)
			var data []byte
			dec.Urgent(tr.urgent)
			data, reply = dec.Decode(buf[:0], reply[:0], buf[:n])
			if len(reply) > 0 {
				if _, err := target.Write(reply); err != nil {
					readBufs.Put(bp)
					return targetWriteFailed(err)
				}
			}
			// One deadline per read, not per frame: a browser that stops
			// reading is dropped instead of holding this goroutine for ever.
			now := time.Now()
			s.lastActive.Store(now.UnixNano())
			s.ws.SetWriteDeadline(now.Add(s.g.opts.WriteTimeout))
			// The lines of one read leave in one write.
			err := s.batch(func() error { return fr.Write(data) })
			readBufs.Put(bp)
			if err != nil {
				return clientWriteFailed(err)
			}
		}
		switch {
		case err == nil:
		case armed && errors.Is(err, os.ErrDeadlineExceeded):
			if err := s.batch(fr.Flush); err != nil {
				return clientWriteFailed(err)
			}
		case err == io.EOF:
			if err := s.batch(fr.Close); err != nil {
				return clientWriteFailed(err)
			}
			return endTargetClosed
		default:
			s.batch(fr.Close)
			return targetLost(err)
		}
	}
}

// readBufs holds the buffers targets are read into: a session takes one
// only while there is data, so idle sessions cost no read buffer (see
// targetReader).
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// batch runs emit, which adds frames with s.out.add, and writes them all
// with one system call.
func (s *session) batch(emit func() error) error {
	s.out.begin()
	err := emit()
	if ferr := s.out.flush(); err == nil {
		err = ferr
	}
	return err
}

// sendText sends one text frame.
func (s *session) sendText(p []byte) error {
	return s.out.frame(opTextFrame, p)
}

// sendClose sends a close frame with a code and a reason, once.
func (s *session) sendClose(code int, reason string) {
	if len(reason) > 123 { // the limit of a control frame's payload
		// Cut between characters: a browser fails a close frame whose
		// reason is not valid UTF-8.
		reason = strings.ToValidUTF8(reason[:123], "")
	}
	s.ws.SetWriteDeadline(time.Now().Add(closeGrace))
	s.out.close(code, reason)
}

// awaitClose waits, for a short while, for the browser to answer our close
// frame. Closing the socket with the browser's frames unread would make the
// kernel reset the connection, and a reset can destroy what we sent last.
// Only for when no relay goroutine reads the WebSocket.
func (s *session) awaitClose() {
	s.ws.SetReadDeadline(time.Now().Add(closeGrace))
	var m message
	for messageCodec.Receive(s.ws, &m) == nil {
	}
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

func (s *session) keepalive() {
	now := time.Now()
	if idle := s.g.opts.IdleTimeout; idle > 0 && now.Sub(time.Unix(0, s.lastActive.Load())) >= idle {
		s.stop(end{why: "idle", code: closeNormal, byTarget: true,
			text: fmt.Sprintf("closed after %s without activity", idle)})
		return
	}
	if s.g.opts.PingInterval > 0 {
		s.ws.SetWriteDeadline(now.Add(s.g.opts.WriteTimeout))
		s.out.frame(opPingFrame, nil)
	}
	s.kmu.Lock()
	if s.timer != nil {
		s.timer.Reset(s.keepaliveDelay(time.Now()))
	}
	s.kmu.Unlock()
}

// quiet drops the errors of normal endings, which are not worth logging.
func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
