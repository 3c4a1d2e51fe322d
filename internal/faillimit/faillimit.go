// Package faillimit counts failures (wrong passwords, unknown resume ids)
// per client address, refuses an address that failed too often lately,
// and reports the failures in aggregate: one line per address per
// interval with a count, instead of one per failure, so that a flood of
// guesses neither gets far nor fills the log.
//
// It is pure: time comes from the Now field, and reports go to a function
// the caller gives; tests drive both.
package faillimit

import (
	"sync"
	"time"
)

// maxAddrs bounds the addresses remembered, so that a flood from many
// addresses cannot grow the limiter without bound.
const maxAddrs = 10000

// Limiter refuses an address after Max failures within Window, until the
// window that began with its first failure has passed.
type Limiter struct {
	Max    int           // failures allowed per Window
	Window time.Duration // how long failures count
	// Every is how often an address's failures are reported: its first
	// failure at once, the rest as one count per Every. Default: Window.
	Every time.Duration
	// Report, if set, is called (never under the limiter's lock) with an
	// address, the failures since the last report and whether the address
	// is now refused.
	Report func(addr string, failures int, refused bool)
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	mu    sync.Mutex
	addrs map[string]*entry
	swept time.Time // the last sweep of reports due
}

type entry struct {
	start    time.Time // the window's start: its first failure
	n        int       // failures in the window
	reported time.Time // the last report for this address
	unsaid   int       // failures not reported yet
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Limiter) every() time.Duration {
	if l.Every > 0 {
		return l.Every
	}
	return l.Window
}

// Allow reports whether addr may try again, and if not, after how long
// it may. A nil Limiter allows everything.
func (l *Limiter) Allow(addr string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.addrs[addr]
	if e == nil || now.Sub(e.start) >= l.Window || e.n < l.Max {
		return true, 0
	}
	return false, e.start.Add(l.Window).Sub(now)
}

// Fail records a failure of addr. Reports due (this address's first
// failure, and counts held back for an interval, of any address) are
// made before it returns.
func (l *Limiter) Fail(addr string) {
	if l == nil {
		return
	}
	type report struct {
		addr    string
		n       int
		refused bool
	}
	var due []report
	now := l.now()
	l.mu.Lock()
	if l.addrs == nil {
		l.addrs = map[string]*entry{}
	}
	e := l.addrs[addr]
	if e == nil {
		if len(l.addrs) >= maxAddrs {
			l.forget(now)
		}
		e = &entry{start: now}
		l.addrs[addr] = e
	} else if now.Sub(e.start) >= l.Window {
		e.start, e.n = now, 0
	}
	e.n++
	e.unsaid++
	if e.reported.IsZero() || now.Sub(e.reported) >= l.every() {
		due = append(due, report{addr, e.unsaid, e.n >= l.Max})
		e.reported, e.unsaid = now, 0
	}
	// Once a second at most, say what other addresses held back for an
	// interval, so that the end of a burst is reported too.
	if now.Sub(l.swept) >= time.Second {
		l.swept = now
		for a, o := range l.addrs {
			if o != e && o.unsaid > 0 && now.Sub(o.reported) >= l.every() {
				due = append(due, report{a, o.unsaid, o.n >= l.Max && now.Sub(o.start) < l.Window})
				o.reported, o.unsaid = now, 0
			}
		}
	}
	l.mu.Unlock()
	if l.Report != nil {
		for _, r := range due {
			l.Report(r.addr, r.n, r.refused)
		}
	}
}

// forget drops addresses whose window has passed and whose failures
// were all reported; if that frees nothing (a flood from more addresses
// than maxAddrs, which per-address limits cannot hold back anyway), all.
func (l *Limiter) forget(now time.Time) {
	for a, e := range l.addrs {
		if now.Sub(e.start) >= l.Window && (e.unsaid == 0 || now.Sub(e.reported) >= l.every()) {
			delete(l.addrs, a)
		}
	}
	if len(l.addrs) >= maxAddrs {
		clear(l.addrs)
	}
}

// Len is the number of addresses remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}
