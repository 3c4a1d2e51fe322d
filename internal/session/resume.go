package session

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"wstelnet/internal/wsframe"
)

// Session resume (PROTOCOL.md, "Resuming a session"): a v2 session opened
// with resume=1 outlives its WebSocket. resumable is its browser side, a
// layer under the one relay in the manner of Eternal Terminal's
// BackedReader and BackedWriter: the relay reads messages and writes
// output as ever, and resumable decides which socket that is. When the
// connection is lost without a close frame, the session detaches: the
// target stays connected for -resume-window and its output is kept, up to
// -resume-buffer bytes the browser has not acknowledged; a new WebSocket
// that names the session carries on from the byte the browser has, both
// ways.
//
// The target's output is read straight into the resume buffer (resumable
// is the target reader's storage) and frames are written from there: the
// default path pays no copy for being resumable.

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
	// MinResumeBuffer is the smallest -resume-buffer: an acknowledgement
	// comes at least every 64 KiB, so a smaller buffer could stall.
	MinResumeBuffer = 64 << 10
	// minRead is the least room a read of the target gets before the
	// buffer is compacted or grown, and the buffer's first size. A chatty
	// session holds its storage from one line until the browser's ack a
	// second later, nearly always: 512 bytes hold a few lines, and reads
	// that fill it ask for twice as much next time (fill), so a flood
	// reaches whole reads in a few steps. At 4 KiB, 9,000 chatty sessions
	// held 32 MiB more for the same lines.
	minRead = 512
	// CloseResumedElsewhere is the close code for a socket whose session
	// moved to a newer one (RFC 6455 leaves 4000-4999 to applications).
	CloseResumedElsewhere = 4001
	// retireTimeout bounds the close frame a replaced socket is sent: a
	// resume never waits on the connection it replaces.
	retireTimeout = 100 * time.Millisecond
)

// errStopped is what read returns when the session was stopped while it
// waited for a connection.
var errStopped = errors.New("the session was stopped while detached")

// errUnknownSession is the answer for an id that is unknown, expired,
// ended, or another user's: the same words, so that nobody learns which.
var errUnknownSession = errors.New("unknown session: it has ended, expired, or never existed; connect again")

// resumable is the browser's side of a resumable session. Lock order:
// sendMu, then mu. sendMu is held while output, a resume's answer and
// backlog, acknowledgements and the end go out, so that they leave in
// order; mu guards the state and is never held while writing.
type resumable struct {
	s      *Session
	id     string
	idHash [32]byte // the registry's key: ids are looked up by hash, then compared in constant time
	user   string   // the -htpasswd user who opened it ("" without auth)
	window time.Duration
	limit  int // -resume-buffer

	sendMu sync.Mutex

	mu   sync.Mutex
	cond sync.Cond     // a socket attaches, room frees up, or the session stops
	ws   *wsframe.Conn // attached; nil while detached
	live bool          // ws has had the resume's answer: output may go to it
	// cause is why the gateway gave up on ws (no pong, a failed write),
	// for the detach's log line.
	cause error

	// The output the browser has not acknowledged; the target is read
	// into its free part (lent: the target reader holds that part now).
	out     ring
	lent    bool
	lentLen int  // how much was lent
	stalled bool // full, and the budget has no room to grow: waits for Budget.wake or an ack
	// The last mark (a prompt's end) and the output's offset it fell at:
	// the mark is not kept with the output, so a resume whose backlog
	// ends there sends it again.
	markMsg []byte
	markAt  int64
	want    int // the room the next read should get: minRead, doubling for floods

	in, inAcked int64       // browser bytes taken (counted as read, before they are handed to the target), and acknowledged
	ackTimer    *time.Timer // made once, then reset: a chatty session would make one a line
	ackArmed    bool        // ackTimer runs for bytes not yet acknowledged
	ackBuf      []byte      // the ack message, appended anew each time

	// The end, once decided by the gateway: its closed message goes out
	// after the last output, on the attached socket or the next one.
	decided    *End
	closedMsg  []byte
	closedOn   *wsframe.Conn // the socket that got the close frame: its end ends the session
	final      *time.Timer   // bounds the wait for a resume once the end is decided
	stopping   bool
	finished   bool
	resumes    int
	expiry     *time.Timer // runs while detached
	lastPing   time.Time   // the oldest ping not answered yet, zero if none
	detachedAt time.Time
}

func newResumable(s *Session, ws *wsframe.Conn) (*resumable, error) {
	var b [sessionIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make a session id: %w", err)
	}
	r := &resumable{
		s:      s,
		id:     base64.RawURLEncoding.EncodeToString(b[:]),
		user:   s.cfg.User,
		window: s.env.ResumeWindow,
		limit:  max(s.env.ResumeBuffer, MinResumeBuffer),
		ws:     ws,
		live:   true,
		want:   minRead,
	}
	r.out.budget = s.env.Budget
	r.idHash = sha256.Sum256([]byte(r.id))
	r.cond.L = &r.mu
	return r, nil
}

// announce tells the browser the session's id, right after SUCC.
func (r *resumable) announce() error {
	return r.ws.Writer().WriteFrame(wsframe.OpText, Control{Type: "session", ID: r.id, Window: int(r.window / time.Second)}.encode())
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
	ID     string
	Offset int64
}

// parseResume reads {"type":"resume","id":ID,"offset":N}. Its errors are
// shown to a person after FAIL:.
func parseResume(data []byte) (resumeRequest, error) {
	var m Control
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

// Registry finds resumable sessions by id.
type Registry struct {
	mu sync.Mutex
	m  map[[32]byte]*resumable
}

func NewRegistry() *Registry { return &Registry{m: map[[32]byte]*resumable{}} }

func (g *Registry) add(r *resumable) {
	g.mu.Lock()
	g.m[r.idHash] = r
	g.mu.Unlock()
}

// Len is the number of resumable sessions held: each may come back on a
// new socket at any moment.
func (g *Registry) Len() int {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}

func (g *Registry) remove(r *resumable) {
	g.mu.Lock()
	if g.m[r.idHash] == r {
		delete(g.m, r.idHash)
	}
	g.mu.Unlock()
}

// lookup finds the session an id names, for user.
func (g *Registry) lookup(id, user string) *resumable {
	h := sha256.Sum256([]byte(id))
	g.mu.Lock()
	r := g.m[h]
	g.mu.Unlock()
	if r == nil || subtle.ConstantTimeCompare([]byte(r.id), []byte(id)) != 1 ||
		subtle.ConstantTimeCompare([]byte(r.user), []byte(user)) != 1 {
		return nil
	}
	return r
}

// read returns the next message from whichever socket is attached,
// waiting for one while detached. A socket that ends without a close
// frame detaches the session; a close frame, a protocol error, or the
// end of the socket that got our close frame end it. Browser bytes are
// counted here, under the same lock a resume reads the count with: a
// message is either in the resume's "received" or read from the new
// socket, never both, even if its write to the target is still under way.
func (r *resumable) read(nowait bool) (wsframe.Message, error) {
	for {
		ws, err := r.attached()
		if err != nil {
			return wsframe.Message{}, err
		}
		m, err := readWS(ws, nowait)
		if errors.Is(err, wsframe.ErrQuiet) {
			return m, err // nothing begun: a resume meanwhile wakes the parked side again
		}
		r.mu.Lock()
		if r.ws != ws {
			// A resume replaced the socket: what it read after that is not
			// in the resume's count, and the browser sends it again.
			r.mu.Unlock()
			continue
		}
		if err != nil {
			if r.closedOn == ws || !endOfRead(err).lostConnection() || r.finished {
				r.mu.Unlock()
				return m, err
			}
			r.detachLocked(err)
			r.mu.Unlock()
			ws.Close()
			continue
		}
		due := false
		if !m.Text {
			r.in += int64(len(m.Data))
			due = r.in-r.inAcked >= ackEvery
			if !due && !r.ackArmed {
				r.ackArmed = true
				if r.ackTimer == nil {
					r.ackTimer = time.AfterFunc(ackDelay, r.sendAck)
				} else {
					r.ackTimer.Reset(ackDelay)
				}
			}
		}
		r.mu.Unlock()
		if due {
			r.sendAck()
		}
		return m, nil
	}
}

func (r *resumable) rawConn() syscall.RawConn {
	r.mu.Lock()
	ws := r.ws
	r.mu.Unlock()
	if ws == nil {
		return nil
	}
	return ws.RawConn()
}

// attached waits for a socket, or says the session stopped.
func (r *resumable) attached() (*wsframe.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.ws == nil && !r.stopping {
		r.cond.Wait()
	}
	if r.ws == nil {
		return nil, errStopped
	}
	return r.ws, nil
}

// detachLocked lets go of the attached socket, lost, and starts the window
// again. Call with mu held.
func (r *resumable) detachLocked(err error) {
	cause := r.cause
	if cause == nil {
		cause = quiet(err)
	}
	if cause == nil {
		cause = errors.New("the connection closed without a close frame")
	}
	r.ws, r.live, r.cause, r.lastPing = nil, false, nil, time.Time{}
	r.detachedAt = time.Now()
	if r.expiry != nil {
		r.expiry.Stop()
	}
	r.expiry = time.AfterFunc(r.window, func() { r.s.Stop(endExpired(r.window)) })
	r.s.obs.detached()
	r.s.log.Info("session detached", "id", shortID(r.id), "cause", cause, "window", r.window)
}

// lose gives up on ws, if it is still the attached socket: the reading
// side sees it closed and detaches, with cause in the log.
func (r *resumable) lose(ws *wsframe.Conn, cause error) {
	r.mu.Lock()
	if r.ws == ws && r.cause == nil {
		r.cause = cause
	}
	r.mu.Unlock()
	ws.Close()
	r.s.browserPark.Load().wake() // closing took the socket out of the Poller's set
}

// fill reads the target into the resume buffer: no more than it has room
// for (back-pressure: the target is not read while the browser has not
// acknowledged -resume-buffer bytes).
func (r *resumable) fill(tr *targetReader) ([]byte, error) {
	for {
		r.mu.Lock()
		for (r.out.n >= r.limit || r.stalled) && !r.stopping {
			r.cond.Wait()
		}
		stopping := r.stopping
		r.mu.Unlock()
		if stopping {
			return nil, net.ErrClosed
		}
		if r.makeRoom() {
			break
		}
	}
	p, err := tr.next(r)
	if len(p) == 0 {
		return p, err // nothing read (the target was quiet, or ended): nothing to learn
	}
	// Reads that fill what was lent ask for more room next time, up to a
	// whole read; short ones for less: a chatty session keeps a small
	// buffer, a flood gets reads as large as the direct side's.
	r.mu.Lock()
	switch {
	case len(p) == r.lentLen && r.lentLen >= r.want/2 && r.want < readBufSize:
		// Filled a read of a good part of what it wanted: a flood. A
		// small piece before the ring wraps, filled, says nothing.
		r.want *= 2
	case len(p) < r.want/4 && r.want > minRead:
		r.want /= 2
	}
	r.mu.Unlock()
	return p, err
}

// makeRoom makes sure the next read has room: free storage, or more
// within the budget (Budget). Without, the session stalls until room
// comes back, its target unread, and makeRoom reports false.
func (r *resumable) makeRoom() bool {
	r.sendMu.Lock() // growing moves the bytes kept: no resume may be sending them
	defer r.sendMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.out.full() {
		return true
	}
	r.out.free(1, 1, r.limit)
	if !r.out.full() {
		return true
	}
	r.stalled = true
	r.s.env.Budget.stall(r)
	return false
}

// unstall: the budget may have room again (Budget.wake).
func (r *resumable) unstall() {
	r.mu.Lock()
	r.stalled = false
	r.cond.Broadcast()
	r.mu.Unlock()
}

// lend gives the target reader the free part of the buffer after what
// is kept, growing the storage (never beyond -resume-buffer) if too little
// is free. It holds sendMu for a moment: a resume may still be sending
// bytes that an acknowledgement has freed meanwhile, and those must not be
// read over until it is done.
func (r *resumable) lend() []byte {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	room := r.limit - r.out.n
	// A session that reads little (want at minRead) asks for a few lines'
	// room, not a whole minRead free: a 512-byte ring holding one
	// unacknowledged line would otherwise grow to 1 KiB at every read,
	// and a chatty session always holds a line.
	need := r.want
	if need <= minRead {
		need = minRead / 4
	}
	p := r.out.free(min(room, need), min(room, readBufSize), r.limit)
	r.lent, r.lentLen = true, len(p)
	return p
}

// unused: the socket had nothing after all. A session waiting for its
// target holds no storage (it was lent before the read found out), as
// the direct side holds no pooled buffer.
func (r *resumable) unused() {
	r.sendMu.Lock() // no resume is sending from the storage
	r.mu.Lock()
	r.lent = false
	r.out.release(false)
	r.mu.Unlock()
	r.sendMu.Unlock()
}

func (r *resumable) release() {
	r.mu.Lock()
	r.lent = false
	r.mu.Unlock()
}

// output keeps p, which the target was read into (buf[tail:] as lent, or
// its beginning after telnet decoding, or the part after the last
// output's), and sends it to the attached
// socket, if it is live. A failed write is a lost connection.
func (r *resumable) output(p []byte) error {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	if len(p) > 0 {
		if t := r.out.tail(); r.lent && t < len(r.out.buf) && &p[0] == &r.out.buf[t] {
			r.out.added(len(p))
		} else {
			r.out.appended(p) // not read into the buffer: not the v2 codec's way
		}
	}
	// What was lent stays lent until release: a codec may send a read in
	// several pieces (the data before a GMCP message, the data after),
	// each decoded in place right after the last.
	ws := r.liveSocket()
	var ack []byte
	if ws != nil && len(p) > 0 && r.in > r.inAcked {
		ack = r.takeAck() // rides with the output: no timer, no write of its own
	}
	r.mu.Unlock()
	if ws == nil || len(p) == 0 {
		return nil
	}
	var err error
	if ack == nil {
		err = ws.Writer().WriteFrame(wsframe.OpBinary, p)
	} else {
		err = batch(ws.Writer(), func(add func(op byte, p []byte) error) error {
			if err := add(wsframe.OpBinary, p); err != nil {
				return err
			}
			return add(wsframe.OpText, ack)
		})
	}
	if err != nil {
		r.lose(ws, fmt.Errorf("write: %w", err))
	}
	return nil
}

// takeAck acknowledges the browser's bytes taken so far and returns the
// message that says so. Call with mu and sendMu held, for the live socket.
// An echo or an answer to what was typed usually follows within
// milliseconds, and the ack goes out with it: a chatty session's acks
// cost no write and no timer of their own.
func (r *resumable) takeAck() []byte {
	if r.ackArmed {
		r.ackTimer.Stop()
		r.ackArmed = false
	}
	r.inAcked = r.in
	r.ackBuf = appendAck(r.ackBuf[:0], r.in)
	return r.ackBuf
}

// appendAck appends {"type":"ack","offset":n}, as Control.encode would
// write it, without reflection or allocation.
func appendAck(b []byte, n int64) []byte {
	b = append(b, `{"type":"ack","offset":`...)
	return append(strconv.AppendInt(b, n, 10), '}')
}

// liveSocket is the attached socket if output may go to it. Call with mu held.
func (r *resumable) liveSocket() *wsframe.Conn {
	if r.live {
		return r.ws
	}
	return nil
}

// text sends a control message in order with the output; while detached
// it is not sent (the codec's replay tells a resumed socket what it needs).
func (r *resumable) text(p []byte) error {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.toLive(wsframe.OpText, p)
	return nil
}

// mark sends a control message that marks the output so far (a
// prompt's end), as text does, and remembers where it fell.
func (r *resumable) mark(p []byte) error {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	r.markMsg, r.markAt = p, r.out.base+int64(r.out.n)
	r.mu.Unlock()
	r.toLive(wsframe.OpText, p)
	return nil
}

// reply answers the browser on the live socket, without waiting for output.
func (r *resumable) reply(p []byte) error {
	r.toLive(wsframe.OpText, p)
	return nil
}

// toLive writes one frame to the live socket, if there is one; a failed
// write is a lost connection.
func (r *resumable) toLive(op byte, p []byte) {
	r.mu.Lock()
	ws := r.liveSocket()
	r.mu.Unlock()
	if ws != nil {
		if err := ws.Writer().WriteFrame(op, p); err != nil {
			r.lose(ws, fmt.Errorf("write: %w", err))
		}
	}
}

func (r *resumable) frames(emit func(add func(op byte, p []byte) error) error) error {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	ws := r.liveSocket()
	r.mu.Unlock()
	if ws == nil {
		return emit(func(byte, []byte) error { return nil })
	}
	if err := batch(ws.Writer(), emit); err != nil {
		r.lose(ws, fmt.Errorf("write: %w", err))
	}
	return nil
}

// acked takes the browser's acknowledgement of output up to offset.
func (r *resumable) acked(offset int64) bool {
	r.mu.Lock()
	r.ackLocked(offset)
	r.mu.Unlock()
	return true
}

// ackLocked forgets the output before offset. Offsets that go backwards or
// beyond what was sent are ignored. Call with mu held.
func (r *resumable) ackLocked(offset int64) {
	if r.out.ack(offset) {
		r.stalled = false // room of its own
		r.cond.Broadcast()
	}
}

// sendAck acknowledges the browser's bytes taken so far, on the live
// socket; while detached, the resume's "received" says it instead.
func (r *resumable) sendAck() {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	ws := r.liveSocket()
	if ws == nil || r.in == r.inAcked {
		// Detached (the resume's "received" says it), or the ack went
		// out with output while this waited for the lock.
		if r.ackArmed {
			r.ackTimer.Stop()
			r.ackArmed = false
		}
		r.mu.Unlock()
		return
	}
	ack := r.takeAck()
	r.mu.Unlock()
	if err := ws.Writer().WriteFrame(wsframe.OpText, ack); err != nil {
		r.lose(ws, fmt.Errorf("write: %w", err))
	}
}

// end ends the session on the browser's side. An end the gateway decided
// goes out after the last output, on the live socket or, if there is
// none, on the next resume, which must come within the window: a
// resume does not restart it.
func (r *resumable) end(e End, closed []byte) {
	if !e.GatewayCloses() {
		return // the browser closed, or broke the protocol: the reading is over
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	r.decided, r.closedMsg = &e, closed
	if r.final == nil {
		r.final = time.AfterFunc(r.window, func() { r.s.Stop(endExpired(r.window)) })
	}
	ws := r.liveSocket()
	r.mu.Unlock()
	if ws != nil {
		r.sendEnd(ws, e, closed)
	}
}

// sendEnd sends the closed message and the close frame. Once they are
// out, the socket's end (the browser's answer, or closeGrace) ends the
// session. Call with sendMu held.
func (r *resumable) sendEnd(ws *wsframe.Conn, e End, closed []byte) {
	var err error
	if closed != nil {
		err = ws.Writer().WriteFrame(wsframe.OpText, closed)
	}
	if err == nil {
		// closedOn first: a browser that reads the close frame may cut
		// the connection at once, and its reader must see that as the
		// end, not as a connection lost (which would hold the session
		// for a resume that cannot come).
		r.mu.Lock()
		r.closedOn = ws
		r.mu.Unlock()
		err = ws.WriteClose(e.Code(), e.Reason())
	}
	if err != nil {
		r.mu.Lock()
		if r.closedOn == ws {
			r.closedOn = nil // the end did not go out: the next resume gets it
		}
		r.mu.Unlock()
		r.lose(ws, fmt.Errorf("write the end: %w", err))
		return
	}
	ws.SetReadDeadline(time.Now().Add(closeGrace))
}

// stopped wakes whatever waits: for a socket, for room.
func (r *resumable) stopped() {
	r.mu.Lock()
	r.stopping = true
	r.cond.Broadcast()
	r.mu.Unlock()
}

// ping pings the attached socket. A socket whose last ping is without a
// pong after bound is lost, whatever TCP thinks: closing it makes the
// reading side detach. While idle, the buffer's storage is let go.
func (r *resumable) ping(now time.Time, bound time.Duration) (End, bool) {
	r.sendMu.Lock() // no resume is sending from the storage
	r.mu.Lock()
	if !r.lent {
		r.out.release(false) // if nothing waits for an ack: an idle session holds no buffer
	}
	r.sendMu.Unlock()
	ws := r.ws
	if ws == nil {
		r.mu.Unlock()
		return End{}, true // detached: nothing to ping until a resume
	}
	if !r.lastPing.IsZero() && ws.Reader().LastPong().Before(r.lastPing) {
		if now.Sub(r.lastPing) > bound {
			r.mu.Unlock()
			r.lose(ws, fmt.Errorf("no answer to pings for %s (the network may have frozen)", bound))
			return End{}, true
		}
	} else {
		r.lastPing = now
	}
	r.mu.Unlock()
	if err := ws.Writer().WriteFrame(wsframe.OpPing, nil); err != nil && !errors.Is(err, wsframe.ErrCloseSent) {
		r.lose(ws, fmt.Errorf("ping: %w", err))
	}
	return End{}, true
}

// resume attaches ws, whose first message asked to resume this session
// at output offset, or says why not (errUnknownSession for anything that
// must not tell an unknown id from someone else's). It never waits on
// the socket it replaces: that one is sent 4001 only if nothing is being
// written to it, and closed, which ends any write blocked on it.
func (r *resumable) resume(ws *wsframe.Conn, offset int64, client string) error {
	r.mu.Lock()
	if r.stopping || r.finished || r.closedOn != nil {
		r.mu.Unlock()
		return errUnknownSession
	}
	if !r.out.holds(offset) {
		have := fmt.Sprintf("%d to %d", r.out.base, r.out.base+int64(r.out.n))
		r.mu.Unlock()
		return fmt.Errorf("offset %d is outside what the gateway still holds (%s); connect again", offset, have)
	}
	old := r.ws
	r.ws, r.live, r.cause, r.lastPing = ws, false, nil, time.Time{}
	r.resumes++
	if r.expiry != nil {
		r.expiry.Stop() // the window; a decided end's final timer goes on
		r.expiry = nil
	}
	received := r.in
	r.inAcked = received
	away := time.Since(r.detachedAt)
	r.cond.Broadcast()
	r.mu.Unlock()

	if old != nil {
		// One socket per session: the old one did not notice its loss yet.
		old.Writer().TryWriteClose(CloseResumedElsewhere, "the session was resumed on another connection", retireTimeout)
		old.Close()
	}
	// A browser side parked with the Poller waits for the old socket, or
	// for none: it reads the new one now.
	r.s.browserPark.Load().wake()
	r.s.obs.resumed()
	attrs := []any{"id", shortID(r.id), "from", client, "offset", offset, "received", received}
	if old == nil {
		attrs = append(attrs, "away", away.Round(time.Millisecond))
	} else {
		attrs = append(attrs, "replaced", "a connection still attached")
	}

	// The answer, the state the browser may have missed, the output from
	// its offset on, and the end if there is one; nothing else goes out
	// before them (sendMu).
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	r.ackLocked(offset) // a resume acknowledges what the browser has
	b1, b2 := r.out.from(max(offset, r.out.base))
	end, closed := r.decided, r.closedMsg
	// The backlog ends at the last mark, which the browser has not seen:
	// it has not had the bytes before it.
	var mark []byte
	if r.markAt == r.out.base+int64(r.out.n) && r.markAt > offset {
		mark = r.markMsg
	}
	held := len(r.out.buf)
	r.mu.Unlock()
	// buffer: the memory the session held for its output (at most -resume-buffer).
	r.s.log.Info("session resumed", append(attrs, "backlog", len(b1)+len(b2), "buffer", held)...)

	send := func() error {
		if err := ws.Writer().WriteFrame(wsframe.OpText, []byte("SUCC")); err != nil {
			return err
		}
		if err := ws.Writer().WriteFrame(wsframe.OpText, Control{Type: "resumed", Offset: &offset, Received: &received}.encode()); err != nil {
			return err
		}
		for _, m := range r.s.codec.replay() {
			if err := ws.Writer().WriteFrame(wsframe.OpText, m); err != nil {
				return err
			}
		}
		for _, b := range [][]byte{b1, b2} {
			if len(b) > 0 {
				if err := ws.Writer().WriteFrame(wsframe.OpBinary, b); err != nil {
					return err
				}
			}
		}
		if mark != nil {
			return ws.Writer().WriteFrame(wsframe.OpText, mark)
		}
		return nil
	}
	if err := send(); err != nil {
		r.lose(ws, fmt.Errorf("write the resume's answer: %w", err))
		return nil
	}
	r.mu.Lock()
	r.live = r.ws == ws
	r.mu.Unlock()
	if end != nil {
		r.sendEnd(ws, *end, closed)
	}
	return nil
}

// finish lets go of the session's socket and forgets the session.
func (r *resumable) finish() {
	r.s.env.Resumes.remove(r)
	r.mu.Lock()
	r.finished = true
	for _, t := range []*time.Timer{r.expiry, r.final, r.ackTimer} {
		if t != nil {
			t.Stop()
		}
	}
	ws := r.ws
	e := r.decided
	r.mu.Unlock()
	r.sendMu.Lock() // a resume still sending from the storage is done
	r.mu.Lock()
	r.out.release(true)
	r.mu.Unlock()
	r.sendMu.Unlock()
	if ws != nil {
		if e != nil {
			ws.WriteClose(e.Code(), e.Reason()) // nothing if it went out
		} else {
			ws.WriteClose(1000, "")
		}
		ws.Linger(closeGrace)
	}
}

func (r *resumable) resumeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resumes
}
