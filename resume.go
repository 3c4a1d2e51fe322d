package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"wstelnet/internal/wsframe"
)

// Session resume (PROTOCOL.md, "Resuming a session"): a v2 session opened
// with resume=1 outlives its WebSocket. When the connection is lost
// without a close frame, the session detaches: the target stays connected
// for -resume-window and its output is kept, up to -resume-buffer bytes
// not yet acknowledged by the browser; a new WebSocket that names the
// session carries on from the byte the browser has, both ways.
//
// The relay of a resumable session is v2's, with three differences: the
// output goes through resumable.deliver, which keeps it until acknowledged
// and writes it to whichever socket is attached; the reading direction
// (browserToTargetResumable) survives a lost socket and waits for the next
// one; and a target that ends while detached leaves its tail and the
// closed message for the next socket.

const (
	// sessionIDBytes is the randomness of a session id: 128 bits, as the
	// protocol asks, so that ids cannot be guessed.
	sessionIDBytes = 16
	// maxSessionIDLen bounds an id in a resume message; real ones are 22.
	maxSessionIDLen = 64
	// ackEvery and ackDelay: the gateway acknowledges the browser's bytes
	// at least every 64 KiB and within a second of taking any.
	ackEvery = 64 << 10
	ackDelay = time.Second
	// minResumeBuffer is the smallest -resume-buffer: an acknowledgement
	// comes at least every 64 KiB, so a smaller buffer could stall.
	minResumeBuffer = 64 << 10
	// maxPendingResumes bounds the connections taken without a slot while
	// the gateway is full, in case they are resumes (which take none).
	maxPendingResumes = 64
	// closeResumedElsewhere is the close code for a socket whose session
	// moved to a newer one (RFC 6455 leaves 4000-4999 to applications).
	closeResumedElsewhere = 4001
)

// resumable is a resumable session's state across sockets. mu guards
// everything but the delivery order, which sendMu keeps: the output, the
// backlog a resume sends and the final close leave in the order they were
// produced, whichever goroutine sends them.
type resumable struct {
	id     string
	idHash [32]byte // the registry's key: ids are looked up by hash, then compared in constant time
	user   string   // the -htpasswd user who opened it ("" without auth)
	window time.Duration
	limit  int // -resume-buffer

	sendMu sync.Mutex // held while data, backlogs and the final close go out

	mu        sync.Mutex
	room      sync.Cond // signalled when the buffer shrinks, a socket attaches, or the session ends
	ws        *wsframe.Conn
	out       []byte // output sent (or to send) and not yet acknowledged: a window at the end of buf
	buf       []byte // out's storage, compacted to the front rather than grown (keep)
	outBase   int64  // the offset of out[0]
	in        int64  // browser bytes taken: read and handed to the target
	inAcked   int64  // the last offset we acknowledged
	ackTimer  *time.Timer
	echo      bool // the last echo state the browser was told
	targetEnd *end // the target ended: out holds its whole tail
	ended     bool // the session is finishing: no more resumes
	resumes   int
	expiry    *time.Timer // runs while detached
	lastPing  time.Time   // the oldest ping not answered yet, zero if none
}

func newResumable(user string, window time.Duration, limit int) (*resumable, error) {
	var b [sessionIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make a session id: %w", err)
	}
	r := &resumable{id: base64.RawURLEncoding.EncodeToString(b[:]), user: user, window: window, limit: max(limit, minResumeBuffer)}
	r.idHash = sha256.Sum256([]byte(r.id))
	r.room.L = &r.mu
	return r, nil
}

// shortID is the first characters of an id, enough to correlate log lines;
// whole ids are never logged (they are bearer secrets for the window).
func shortID(id string) string {
	if len(id) > 6 {
		return id[:6]
	}
	return id
}

// resumeRequest is the first message of a resuming socket.
type resumeRequest struct {
	ID     string `json:"id"`
	Offset int64  `json:"offset"`
}

// parseResume reads {"type":"resume","id":ID,"offset":N}. Its errors are
// shown to a person after FAIL:.
func parseResume(data []byte) (resumeRequest, error) {
	var m struct {
		Type   string `json:"type"`
		ID     string `json:"id"`
		Offset *int64 `json:"offset"`
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Type != "resume" {
		return resumeRequest{}, errors.New(`a resume is {"type":"resume","id":ID,"offset":N}`)
	}
	switch {
	case m.ID == "" || len(m.ID) > maxSessionIDLen || strings.Trim(m.ID, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "":
		return resumeRequest{}, errors.New("the session id is not one this gateway gives out")
	case m.Offset == nil || *m.Offset < 0:
		return resumeRequest{}, errors.New("the resume has no offset (the output bytes you have)")
	}
	return resumeRequest{ID: m.ID, Offset: *m.Offset}, nil
}

// errUnknownSession is the answer for an id that is unknown, expired,
// ended, or another user's: the same words, so that nobody learns which.
var errUnknownSession = errors.New("unknown session: it has ended, expired, or never existed; connect again")

// register makes s findable by its id.
func (g *Gateway) register(s *session) {
	g.mu.Lock()
	g.resumable[s.res.idHash] = s
	g.mu.Unlock()
}

func (g *Gateway) unregister(s *session) {
	g.mu.Lock()
	if g.resumable[s.res.idHash] == s {
		delete(g.resumable, s.res.idHash)
	}
	g.mu.Unlock()
}

// lookup finds the session an id names, for user.
func (g *Gateway) lookup(id, user string) *session {
	h := sha256.Sum256([]byte(id))
	g.mu.Lock()
	s := g.resumable[h]
	g.mu.Unlock()
	if s == nil || subtle.ConstantTimeCompare([]byte(s.res.id), []byte(id)) != 1 ||
		subtle.ConstantTimeCompare([]byte(s.res.user), []byte(user)) != 1 {
		return nil
	}
	return s
}

// announce tells the browser the session's id, right after SUCC.
func (s *session) announce() error {
	b, _ := json.Marshal(struct {
		Type   string `json:"type"`
		ID     string `json:"id"`
		Window int    `json:"window"`
	}{"session", s.res.id, int(s.res.window / time.Second)})
	return s.sendText(b)
}

// socket is the session's WebSocket now: fixed for a plain session, the
// attached one (nil while detached) for a resumable one.
func (s *session) socket() *wsframe.Conn {
	if s.res == nil {
		return s.ws
	}
	s.res.mu.Lock()
	defer s.res.mu.Unlock()
	return s.res.ws
}

// deliver keeps one read's output and sends it to the attached socket, if
// any, after the echo news. A failed write is a lost connection: the
// socket is closed, and the reading direction detaches.
func (r *resumable) deliver(s *session, data []byte, echo, echoChanged bool) {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	r.keep(data)
	if echoChanged {
		r.echo = echo
	}
	ws := r.ws
	r.mu.Unlock()
	if ws == nil {
		return
	}
	if echoChanged {
		if err := sendControlTo(ws, controlMessage{Type: "echo", Remote: &echo}); err != nil {
			ws.Close()
			return
		}
	}
	if len(data) > 0 {
		if err := ws.Writer().WriteFrame(wsframe.OpBinary, data); err != nil {
			ws.Close()
		}
	}
}

// waitRoom blocks until the buffer has room for more output and returns
// how much, or 0 when the session is ending. This is the back-pressure:
// the target is not read while the browser has not acknowledged
// -resume-buffer bytes.
func (r *resumable) waitRoom(s *session) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.out) >= r.limit && !r.ended && s.ctx.Err() == nil {
		r.room.Wait()
	}
	if r.ended || s.ctx.Err() != nil {
		return 0
	}
	return r.limit - len(r.out)
}

// acked takes the browser's acknowledgement of output up to offset.
// Offsets that go backwards or beyond what was sent are ignored.
func (r *resumable) acked(offset int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ackLocked(offset)
}

func (r *resumable) ackLocked(offset int64) {
	if offset <= r.outBase || offset > r.outBase+int64(len(r.out)) {
		return
	}
	r.out = r.out[offset-r.outBase:]
	r.outBase = offset
	if len(r.out) == 0 {
		// All acknowledged: start again at the front of the same storage,
		// which trim frees once the session has been quiet for a while.
		r.out = r.buf[:0]
	}
	r.room.Broadcast()
}

// trim frees the buffer's storage if nothing in it waits for an ack: the
// keepalive timer calls it, so that a session holds a buffer only while
// output flows or is unacknowledged, not while it idles.
func (r *resumable) trim() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.out) == 0 {
		r.out, r.buf = nil, nil
	}
}

// keep adds output to the buffer. The acknowledged head is not freed as
// acks come (that would make every append reallocate): the unacknowledged
// tail moves to the front of the same storage when it would otherwise
// have to grow. Call with mu held.
func (r *resumable) keep(data []byte) {
	if len(data) == 0 {
		return
	}
	if start := cap(r.buf) - cap(r.out); len(r.out)+len(data) > cap(r.out) && start > 0 && len(r.out)+len(data) <= cap(r.buf) {
		n := copy(r.buf, r.out)
		r.out = r.buf[:n]
	}
	if len(r.out)+len(data) > cap(r.out) {
		grown := make([]byte, len(r.out), max(2*cap(r.out), len(r.out)+len(data), 4096))
		copy(grown, r.out)
		r.buf, r.out = grown[:cap(grown)], grown
	}
	r.out = append(r.out, data...)
}

// took counts browser bytes handed to the target, and acknowledges them
// at least every ackEvery bytes and within ackDelay.
func (r *resumable) took(s *session, n int) {
	r.mu.Lock()
	r.in += int64(n)
	now := r.in-r.inAcked >= ackEvery
	if !now && r.ackTimer == nil && r.in > r.inAcked {
		r.ackTimer = time.AfterFunc(ackDelay, func() { r.sendAck() })
	}
	r.mu.Unlock()
	if now {
		r.sendAck()
	}
}

// sendAck acknowledges the browser's bytes taken so far, on the attached
// socket; while detached, the resume's "received" says it instead.
func (r *resumable) sendAck() {
	r.sendMu.Lock() // after a resume's SUCC, never before it
	defer r.sendMu.Unlock()
	r.mu.Lock()
	if r.ackTimer != nil {
		r.ackTimer.Stop()
		r.ackTimer = nil
	}
	in, ws := r.in, r.ws
	if ws != nil {
		r.inAcked = in
	}
	r.mu.Unlock()
	if ws != nil {
		sendOffset(ws, "ack", in)
	}
}

// sendOffset sends {"type":typ,"offset":n}.
func sendOffset(ws *wsframe.Conn, typ string, n int64) error {
	return ws.Writer().WriteFrame(wsframe.OpText, fmt.Appendf(nil, `{"type":%q,"offset":%d}`, typ, n))
}

func sendControlTo(ws *wsframe.Conn, m controlMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return ws.Writer().WriteFrame(wsframe.OpText, b)
}

// detach lets go of a lost socket, unless a resume has already replaced
// it, and starts the window. It closes the socket without a close frame.
func (s *session) detach(ws *wsframe.Conn, cause error) {
	r := s.res
	ws.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ws != ws || r.ended {
		return
	}
	r.ws = nil
	r.lastPing = time.Time{}
	if r.expiry != nil {
		r.expiry.Stop()
	}
	// The window starts again at each loss.
	r.expiry = time.AfterFunc(r.window, func() { s.stop(endExpired(r.window)) })
	s.g.opts.Metrics.detach(1)
	s.rec.mark("connection lost")
	s.log.Info("session detached", "id", shortID(r.id), "cause", quiet(cause), "window", r.window)
}

// awaitSocket waits for a socket to be attached, and returns it, or nil
// when the session is stopped (expiry, idle, shutdown).
func (s *session) awaitSocket() *wsframe.Conn {
	r := s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.ws == nil && s.ctx.Err() == nil {
		r.room.Wait()
	}
	return r.ws
}

// resume attaches ws, whose first message asked to resume this session
// at output offset, or says why not (errUnknownSession for anything that
// must not tell an unknown id from someone else's).
func (s *session) resume(ws *wsframe.Conn, offset int64, client string) error {
	r := s.res
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	if r.ended || s.ctx.Err() != nil {
		r.mu.Unlock()
		return errUnknownSession
	}
	if offset < r.outBase || offset > r.outBase+int64(len(r.out)) {
		have := fmt.Sprintf("%d to %d", r.outBase, r.outBase+int64(len(r.out)))
		r.mu.Unlock()
		return fmt.Errorf("offset %d is outside what the gateway still holds (%s); connect again", offset, have)
	}
	old := r.ws
	r.ws = ws
	r.resumes++
	if r.expiry != nil {
		r.expiry.Stop()
		r.expiry = nil
	}
	r.lastPing = time.Time{}
	r.ackLocked(offset) // a resume acknowledges what the browser has
	backlog := r.out[offset-r.outBase:]
	in, echo, targetEnd := r.in, r.echo, r.targetEnd
	r.inAcked = in
	r.room.Broadcast()
	r.mu.Unlock()

	if old == nil {
		s.g.opts.Metrics.detach(-1)
	}
	s.g.opts.Metrics.resumed()
	s.rec.mark("resumed")
	if old != nil {
		// One socket per session: the old one did not notice its loss yet.
		old.WriteClose(closeResumedElsewhere, "the session was resumed on another connection")
		old.Close()
	}
	s.log.Info("session resumed", "id", shortID(r.id), "from", client, "offset", offset, "received", in, "backlog", len(backlog))
	// The answer, the state the browser may have missed, then the output
	// from its offset on; a failed write is a lost socket, as ever.
	send := func() error {
		if err := ws.Writer().WriteFrame(wsframe.OpText, []byte("SUCC")); err != nil {
			return err
		}
		b, _ := json.Marshal(struct {
			Type     string `json:"type"`
			Offset   int64  `json:"offset"`
			Received int64  `json:"received"`
		}{"resumed", offset, in})
		if err := ws.Writer().WriteFrame(wsframe.OpText, b); err != nil {
			return err
		}
		if echo {
			if err := sendControlTo(ws, controlMessage{Type: "echo", Remote: &echo}); err != nil {
				return err
			}
		}
		if len(backlog) > 0 {
			if err := ws.Writer().WriteFrame(wsframe.OpBinary, backlog); err != nil {
				return err
			}
		}
		if targetEnd != nil {
			return s.closeResumable(ws, *targetEnd)
		}
		return nil
	}
	if err := send(); err != nil {
		ws.Close()
	}
	return nil
}

// targetEnded records that the target ended (its whole tail is in the
// buffer) and, if a socket is attached, delivers the end; otherwise the
// next resume will.
func (s *session) targetEnded(e end) {
	r := s.res
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	r.targetEnd = &e
	ws := r.ws
	r.mu.Unlock()
	if ws != nil {
		if err := s.closeResumable(ws, e); err != nil {
			ws.Close()
		}
	}
}

// closeResumable ends the session on ws the way v2 does: the closed
// message after the tail, then the close frame, whose answer ends the
// reading direction.
func (s *session) closeResumable(ws *wsframe.Conn, e end) error {
	if err := sendControlTo(ws, controlMessage{Type: "closed", Reason: e.text}); err != nil {
		return err
	}
	err := ws.WriteClose(e.code, e.text)
	ws.SetReadDeadline(time.Now().Add(closeGrace))
	return err
}

// relayResumable is the relay of a resumable session. The target side
// ends when the target does; the browser side ends the session: on a
// close frame, a protocol error, or a stop (expiry, idle, shutdown).
func (s *session) relayResumable(target net.Conn) {
	s.lastActive.Store(time.Now().UnixNano())
	s.startKeepalive()
	// A stop wakes whatever waits: the target read, the room, a detached
	// wait; an attached browser gets the close frame that says why.
	stop := context.AfterFunc(s.ctx, func() {
		target.Close()
		s.res.mu.Lock()
		ws := s.res.ws
		s.res.room.Broadcast()
		s.res.mu.Unlock()
		if ws != nil {
			if e, ok := s.stopped(); ok && e.gatewayCloses {
				sendControlTo(ws, controlMessage{Type: "closed", Reason: e.text})
				ws.WriteClose(e.code, e.text)
				ws.SetReadDeadline(time.Now().Add(closeGrace))
			} else {
				ws.SetReadDeadline(aLongTimeAgo)
			}
		}
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.targetEnded(s.targetToBrowserV2(target))
	}()
	go func() {
		e := s.browserToTargetResumable(target)
		if stopped, ok := s.stopped(); ok && e.yieldsToStop() {
			e = stopped
		}
		target.Close()
		s.res.mu.Lock()
		if s.res.ws == nil {
			s.g.opts.Metrics.detach(-1) // ended while detached
		}
		s.res.ended = true
		if s.res.expiry != nil {
			s.res.expiry.Stop()
		}
		if s.res.ackTimer != nil {
			s.res.ackTimer.Stop()
		}
		s.res.room.Broadcast()
		s.res.mu.Unlock()
		wg.Wait()
		stop()
		s.stopKeepalive()
		s.finish(e)
	}()

}

// browserToTargetResumable is browserToTargetV2 across sockets: a socket
// lost without a close frame detaches the session, and the loop goes on
// with the next one.
func (s *session) browserToTargetResumable(target net.Conn) end {
	ws := s.socket()
	for {
		e, lost := s.browserToTargetV2On(ws, target)
		if !lost || s.ctx.Err() != nil {
			return e
		}
		s.detach(ws, e.err)
		if ws = s.awaitSocket(); ws == nil {
			if stopped, ok := s.stopped(); ok {
				return stopped
			}
			return e
		}
	}
}

// resumeOther hands this socket, whose first message asked to resume a
// session, to that session; or says why not. A resume never dials.
func (s *session) resumeOther(data []byte) end {
	refused := func(err error) end {
		s.log.Warn("resume refused", "reason", err)
		return endRefused("resume refused", err.Error(), nil)
	}
	req, err := parseResume(data)
	if err != nil {
		return refused(err)
	}
	if !s.g.resumeAllowed(s.client) {
		return s.g.resumeFailed(s.client)
	}
	other := s.g.lookup(req.ID, s.user)
	if other == nil {
		return s.g.resumeFailed(s.client)
	}
	if err := other.resume(s.ws, req.Offset, s.client); err != nil {
		return refused(err)
	}
	return end{handedOver: true}
}

// unanswered reports whether the ping before this one, sent on ws, is
// still without a pong after bound; if not, this ping is the one to watch.
func (r *resumable) unanswered(ws *wsframe.Conn, now time.Time, bound time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ws != ws {
		return false
	}
	if !r.lastPing.IsZero() && ws.Reader().LastPong().Before(r.lastPing) {
		return now.Sub(r.lastPing) > bound
	}
	r.lastPing = now
	return false
}
