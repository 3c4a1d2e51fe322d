package session

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"wstelnet/internal/wsframe"
)

// relay copies both ways until one side ends, then ends the other, and
// finishes the session when both have ended. The target is closed at once
// whichever side ends first; when the gateway ends the session, the
// browser still gets everything the target sent, then the close frame.
// One goroutine per direction, each named for the way it copies, started
// afresh with a small stack (the goroutine that dialled is gone by the
// time they block). When the gateway has a Poller, a direction gives its
// goroutine back whenever its socket is quiet, and the Poller runs it
// again when the socket has data: a quiet session holds no goroutine.
func (s *Session) relay(target net.Conn) {
	s.target = target
	s.tr = newTargetReader(target)
	s.tr.mccp.count = s.obs.mccp
	s.active()
	s.startKeepalive()

	var once sync.Once
	var first End
	var running atomic.Int32
	running.Store(2)
	var stop func() bool // the AfterFunc below, made before either direction starts
	// closeTarget closes the target; a target's direction parked with the
	// Poller runs to find that out.
	closeTarget := func() {
		target.Close()
		s.targetPark.close()
	}
	// ended runs as each direction ends. The first to end decides the end,
	// closes the target and ends the browser's side; the last finishes.
	ended := func(e End) {
		once.Do(func() {
			closeTarget()
			if stopped, ok := s.stopped(); ok && e.yieldsToStop() {
				e = stopped
			}
			first = e
			s.b.end(e, s.codec.closed(e))
			// The browser's side reads on, waiting, until the answer to
			// the close frame or the deadline end has set.
			s.browserPark.Load().close()
		})
		if running.Add(-1) > 0 {
			return
		}
		stop()
		s.finish(first)
	}
	fromTarget := func() {
		if e, done := s.targetToBrowser(); done {
			ended(e)
		}
	}
	fromBrowser := func() {
		if e, done := s.browserToTarget(); done {
			ended(e)
		}
	}
	s.targetPark = s.env.Poller.join(fromTarget)
	s.browserPark.Store(s.env.Poller.join(fromBrowser))
	// A Stop closes the target, which ends the target's direction; the
	// browser's side wakes whatever waits on it.
	stop = context.AfterFunc(s.ctx, func() {
		closeTarget()
		s.b.stopped()
	})
	go fromBrowser()
	go fromTarget()
}

// browserToTarget hands each message from the browser to the codec, which
// writes it to the target (or acts on it: a v2 control message). Like
// targetToBrowser, it returns false when it has parked with the Poller,
// between messages: the browser was quiet.
func (s *Session) browserToTarget() (End, bool) {
	k := s.browserPark.Load()
	for {
		m, err := s.b.read(k.on())
		if err != nil {
			if errors.Is(err, wsframe.ErrQuiet) {
				if k.park(s.b.rawConn()) {
					return End{}, false
				}
				continue // a message came meanwhile, or the socket changed or closed
			}
			if e, ok := s.stopped(); ok && errors.Is(err, errStopped) {
				return e, true // a resumable session stopped while it waited for a connection
			}
			return endOfRead(err), true
		}
		if e, ok := s.codec.fromBrowser(s, m); !ok {
			return e, true
		}
	}
}

// targetToBrowser reads the target into the browser side's memory and
// hands each read to the codec, which sends it on (a v2 stream, v1's
// lines). A codec that holds a partial line gets a quiet spell's deadline
// to send it by. It returns false, and not the end, when it has parked
// with the Poller: the target was quiet, and the Poller runs it again
// when the target sends (or is closed). It parks only between
// reads with no deadline set and no compressed stream running, so that
// it starts again with nothing but the target reader kept.
func (s *Session) targetToBrowser() (End, bool) {
	tr := s.tr
	armed := false // a read deadline is set for the codec's quiet spell
	for {
		switch wait := s.codec.quiet(); {
		case wait > 0 && !tr.inflating(): // a deadline would break the inflater's read
			s.target.SetReadDeadline(time.Now().Add(wait))
			armed = true
		case armed:
			s.target.SetReadDeadline(time.Time{})
			armed = false
		}
		tr.watchUrgent = s.codec.telnet() // a telnet Synch: plain TCP never pays for the check
		tr.nowait = s.targetPark.on() && !armed && !tr.inflating()
		p, err := s.b.fill(tr)
		if len(p) > 0 {
			s.down.Add(int64(len(p)))
			s.active()
			e, ok := s.codec.toBrowser(s, p, tr.urgent)
			s.b.release()
			if !ok {
				return e, true
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, errQuiet):
			if s.targetPark.park(tr.rawConn()) {
				return End{}, false
			}
			// Data came meanwhile, or the target was closed (or refused
			// by the set, and on is false now): read again.
		case armed && errors.Is(err, os.ErrDeadlineExceeded):
			if err := s.codec.prompt(s); err != nil {
				return withErr(ClientWriteFailed, err), true
			}
		default:
			e, _ := endOfTargetRead(err)
			// The target's last line may have no ending.
			if err := s.codec.flush(s); err != nil && e.Kind == TargetClosed {
				return withErr(ClientWriteFailed, err), true
			}
			return e, true
		}
	}
}
