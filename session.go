package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
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
	readBufSize = 32 << 10
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
// serveSession owns it: it starts the two relay goroutines and waits for both.
type session struct {
	g      *Gateway
	ws     *websocket.Conn
	log    *slog.Logger
	ctx    context.Context // cancelled by Gateway.Shutdown
	cancel context.CancelFunc

	wmu    sync.Mutex // serialises our frames and guards ws.PayloadType and closed
	closed bool       // the close frame has been sent: nothing may follow it

	up, down int64 // bytes browser->target and target->browser, each owned by one goroutine
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
)

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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := ws.Request().RemoteAddr // not ws.RemoteAddr(): that is the Origin
	s := &session{
		g:      g,
		ws:     ws,
		log:    g.log.With("session", g.nextID.Add(1), "client", client),
		ctx:    ctx,
		cancel: cancel,
	}
	if !g.track(s) {
		s.sendClose(closeGoingAway, "the gateway is shutting down")
		return
	}
	defer g.untrack(s)

	start := time.Now()
	e := s.serve()
	attrs := []any{"reason", e.why, "bytes_up", s.up, "bytes_down", s.down, "duration", time.Since(start).Round(time.Millisecond)}
	if e.err != nil {
		attrs = append(attrs, "err", e.err)
	}
	s.log.Info("session ended", attrs...)
}

// shutdown asks the session to end with 1001 (going away).
func (s *session) shutdown() { s.cancel() }

// serve runs the seed protocol: first message, dial, SUCC or FAIL, relay.
func (s *session) serve() end {
	target, e, ok := s.open()
	if !ok {
		return e
	}
	defer target.Close()
	return s.relay(target)
}

// open reads "host:port", dials it and answers SUCC, or FAIL:<reason> and
// closes the WebSocket.
func (s *session) open() (net.Conn, end, bool) {
	fail := func(why, reason string, err error) (net.Conn, end, bool) {
		s.sendText([]byte("FAIL:" + reason))
		s.sendClose(closeNormal, "")
		return nil, end{why: why, err: err}, false
	}

	// Until Shutdown, a blocked read of the first message is ended by its deadline.
	kick := context.AfterFunc(s.ctx, func() { s.ws.SetReadDeadline(aLongTimeAgo) })
	s.ws.MaxPayloadBytes = maxTargetLen
	s.ws.SetReadDeadline(time.Now().Add(s.g.opts.FirstMessageTimeout))
	var m message
	err := messageCodec.Receive(s.ws, &m)
	if !kick() || s.ctx.Err() != nil {
		return fail("shutdown", "the gateway is shutting down", nil)
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
	s.log = s.log.With("target", addr)

	ctx, cancel := context.WithTimeout(s.ctx, s.g.opts.DialTimeout)
	target, err := s.g.opts.Dial(ctx, "tcp", addr)
	cancel()
	if err != nil {
		return fail("dial error", dialError(addr, s.g.opts.DialTimeout, err), err)
	}
	if err := s.sendText([]byte("SUCC")); err != nil {
		target.Close()
		return nil, end{why: "client gone", err: err}, false
	}
	s.log.Info("session started")
	return target, end{}, true
}

// relay copies both ways until one side ends, then ends the other. The
// target is closed at once whichever side ends first; the browser always
// gets everything the target sent, then a close frame.
func (s *session) relay(target net.Conn) end {
	done := make(chan end, 2)
	go func() { done <- s.browserToTarget(target) }()
	go func() { done <- s.targetToBrowser(target) }()
	stop := context.AfterFunc(s.ctx, func() { target.Close() })
	defer stop()

	first := <-done
	target.Close()
	if s.ctx.Err() != nil {
		first = endShutdown
	}
	if first.byTarget {
		// The browser may still be sending; it answers our close frame with
		// its own, which ends browserToTarget, or the grace period does.
		s.sendClose(first.code, first.text)
		s.ws.SetReadDeadline(time.Now().Add(closeGrace))
		<-done
	} else {
		s.ws.SetReadDeadline(aLongTimeAgo) // in case the browser side ended by writing
		<-done
		s.sendClose(first.code, first.text)
	}
	return first
}

// browserToTarget writes each message from the browser to the target as a
// line ending in CR LF.
func (s *session) browserToTarget(target net.Conn) end {
	var m message
	var buf []byte
	for {
		err := messageCodec.Receive(s.ws, &m)
		switch {
		case errors.Is(err, websocket.ErrFrameTooLarge):
			return end{why: "message too big", code: closeTooBig,
				text: fmt.Sprintf("message larger than %d bytes", s.g.opts.MaxMessage)}
		case err == io.EOF:
			return endClientClosed
		case err != nil:
			return end{why: "client connection lost", code: closeNormal, err: quiet(err)}
		}
		// Text is UTF-8 and never holds 0xFF, but a binary message may, and
		// the target may be telnet: double it as IAC IAC.
		buf = telnet.Escape(buf[:0], m.data)
		buf = append(buf, '\r', '\n')
		n, err := target.Write(buf)
		s.up += int64(n)
		if err != nil {
			return end{why: "target write failed", code: closeNormal, text: "the connection to the target failed", byTarget: true, err: quiet(err)}
		}
	}
}

// targetToBrowser reads the target, answers and removes telnet commands,
// and sends each line to the browser as a text frame.
func (s *session) targetToBrowser(target net.Conn) end {
	buf := make([]byte, readBufSize)
	var dec telnet.Decoder
	var reply []byte
	fr := lineFramer{emit: s.sendText}
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
		n, err := target.Read(buf)
		if n > 0 {
			s.down += int64(n)
			var data []byte
			data, reply = dec.Decode(buf[:0], reply[:0], buf[:n])
			if len(reply) > 0 {
				if _, err := target.Write(reply); err != nil {
					return end{why: "target write failed", code: closeNormal, text: "the connection to the target failed", byTarget: true, err: quiet(err)}
				}
			}
			// One deadline per read, not per frame: a browser that stops
			// reading is dropped instead of holding this goroutine for ever.
			s.ws.SetWriteDeadline(time.Now().Add(s.g.opts.WriteTimeout))
			if err := fr.Write(data); err != nil {
				return end{why: "client write failed", code: closeNormal, err: quiet(err)}
			}
		}
		switch {
		case err == nil:
		case armed && errors.Is(err, os.ErrDeadlineExceeded):
			if err := fr.Flush(); err != nil {
				return end{why: "client write failed", code: closeNormal, err: quiet(err)}
			}
		case err == io.EOF:
			if err := fr.Close(); err != nil {
				return end{why: "client write failed", code: closeNormal, err: quiet(err)}
			}
			return endTargetClosed
		default:
			fr.Close()
			return end{why: "target connection lost", code: closeNormal, text: "the connection to the target was lost", byTarget: true, err: quiet(err)}
		}
	}
}

// sendText sends one text frame.
func (s *session) sendText(p []byte) error {
	return s.writeFrame(websocket.TextFrame, p)
}

// writeFrame sends one frame of the given type. Pongs that the library
// sends from the reading goroutine take its own lock; ours keeps the frame
// type and the order of our frames straight.
func (s *session) writeFrame(typ byte, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	s.ws.PayloadType = typ
	_, err := s.ws.Write(p)
	return err
}

// sendClose sends a close frame with a code and a reason, once.
func (s *session) sendClose(code int, reason string) {
	if len(reason) > 123 { // the limit of a control frame's payload
		reason = reason[:123]
	}
	payload := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	payload = append(payload, reason...)
	s.ws.SetWriteDeadline(time.Now().Add(closeGrace))
	s.writeFrame(websocket.CloseFrame, payload)
	s.wmu.Lock()
	s.closed = true
	s.wmu.Unlock()
}

// quiet drops the errors of normal endings, which are not worth logging.
func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
