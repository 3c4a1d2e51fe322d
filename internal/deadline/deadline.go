// Package deadline renews a connection's write deadline without resetting
// a runtime timer at every write.
//
// A relay writes a line at a time: setting the deadline before each write
// costs a timer update in the runtime's poller (a lock and a heap fix)
// and a clock read, several per line at thousands of sessions. A write
// deadline is a bound on how long a stuck peer may hold a writer, not a
// precise instant, so Writes keeps the one it set and renews it only when
// less than three quarters of the timeout is left: a write that blocks
// still fails between 3/4 and all of the timeout after it began, and a
// busy connection renews once per quarter of the timeout instead of once
// per write.
package deadline

import (
	"net"
	"sync/atomic"
	"time"
)

// Writes renews a connection's write deadline. Its zero value is ready;
// it is safe for concurrent use (two writers may renew at once: each sets
// a deadline at least as late as the bound requires).
type Writes struct {
	until atomic.Int64 // the deadline set, in Unix nanoseconds; 0: none known
}

// Renew makes sure c's write deadline is at least 3/4 of timeout away,
// setting it to timeout from now when it is not. A timeout of 0 or less
// sets nothing.
func (d *Writes) Renew(c net.Conn, timeout time.Duration) {
	if timeout <= 0 {
		return
	}
	now := time.Now()
	if d.until.Load()-now.UnixNano() > int64(timeout)/4*3 {
		return
	}
	at := now.Add(timeout)
	c.SetWriteDeadline(at)
	d.until.Store(at.UnixNano())
}

// Forget is for whoever sets c's write deadline by other means: the next
// Renew sets it again.
func (d *Writes) Forget() { d.until.Store(0) }
