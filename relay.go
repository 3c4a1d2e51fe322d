package main

import (
	"cmp"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// relay copies both ways until one side ends, then ends the other, and
// calls finish when both have ended. The target is closed at once whichever
// side ends first; when the gateway ends the session, the browser still
// gets everything the target sent, then a close frame.
func (s *session) relay(target net.Conn) {
	s.lastActive.Store(time.Now().UnixNano())
	s.startKeepalive()
	up, down := s.browserToTarget, s.targetToBrowser
	switch {
	case s.v2 != nil:
		up, down = s.browserToTargetV2, s.targetToBrowserV2
	case s.wsk != nil:
		up, down = s.browserToTargetRaw, s.targetToBrowserRaw
	}
	stop := context.AfterFunc(s.ctx, func() { target.Close() })

	var once sync.Once
	var first end
	var running atomic.Int32
	running.Store(2)
	// ended runs as each direction ends. The first to end closes the
	// target and makes the other end too; the last finishes the session.
	ended := func(e end) {
		once.Do(func() {
			target.Close()
			if stopped, ok := s.stopped(); ok && e.yieldsToStop() {
				e = stopped
			}
			first = e
			if !e.gatewayCloses {
				// The browser's side ended: if it was a write that failed,
				// the reading direction must stop too.
				s.ws.SetReadDeadline(aLongTimeAgo)
				return
			}
			if s.v2 != nil {
				s.sendControl(controlMessage{Type: "closed", Reason: cmp.Or(e.text, e.why)})
			}
			// The browser may still be sending; it answers our close frame
			// with its own, which ends browserToTarget, or the grace period does.
			s.ws.WriteClose(e.code, e.text)
			s.ws.SetReadDeadline(time.Now().Add(closeGrace))
		})
		if running.Add(-1) > 0 {
			return
		}
		stop()
		s.stopKeepalive()
		s.finish(first)
	}
	// One goroutine per direction, each started afresh with a small stack
	// (the goroutine that dialled is gone by the time they block): this is
	// most of what an idle session costs.
	go func() { ended(up(target)) }()
	go func() { ended(down(target)) }()
}
