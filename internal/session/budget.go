package session

import (
	"sync"
	"sync/atomic"
)

// Budget bounds the memory every resumable session together keeps for
// output the browser has not acknowledged. Without it, each may hold up to
// -resume-buffer: a thousand sessions whose pages stopped acknowledging
// (detached, or slow on purpose) behind targets that flood would hold a
// thousand times that. With it, a session whose buffer is full and cannot
// grow within the budget stops reading its target (back-pressure, as
// when its own buffer is full) until an acknowledgement or another
// session's end gives room back.
//
// What counts is storage, not bytes: a ring's size past its first minRead
// bytes, which every session may have whatever the budget says, so that an
// attached session always makes progress (that part is the stated per-
// session overhead).
type Budget struct {
	limit int64

	mu      sync.Mutex
	used    int64
	waiting map[*resumable]struct{} // sessions stopped for room, to wake
	gives   uint64                  // counts gives, so that wake knows whether room came back while it ran
	waking  atomic.Bool
}

// NewBudget makes a budget of limit bytes; limit <= 0 means none.
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		return nil
	}
	return &Budget{limit: limit, waiting: map[*resumable]struct{}{}}
}

// Used is the storage held now beyond the sessions' first minRead bytes.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Limit is the budget's size (0: none).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// charge is what storage of size c counts.
func charge(c int) int64 { return int64(max(0, c-minRead)) }

// grow asks for storage to go from size from to size to; force takes it
// even past the limit (for output that must be kept, having been taken
// from the target already).
func (b *Budget) grow(from, to int, force bool) bool {
	if b == nil {
		return true
	}
	d := charge(to) - charge(from)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !force && d > 0 && b.used+d > b.limit {
		return false
	}
	b.used += d
	return true
}

// stall records r as waiting for room; the next give wakes it. Call it
// with r.mu held, right after grow said no, so that no give is missed.
func (b *Budget) stall(r *resumable) {
	if b == nil {
		return // nothing to wait for: the session's own limit stops it
	}
	b.mu.Lock()
	b.waiting[r] = struct{}{}
	b.mu.Unlock()
}

// give returns storage of size c.
func (b *Budget) give(c int) {
	if b == nil || c == 0 {
		return
	}
	b.mu.Lock()
	b.used -= charge(c)
	b.gives++
	wake := len(b.waiting) > 0
	b.mu.Unlock()
	// The caller holds its own session's locks, which a stalled session's
	// wake-up takes: a goroutine of the budget's does it, one at a time.
	if wake && b.waking.CompareAndSwap(false, true) {
		go b.wake()
	}
}

// wake lets every stalled session try again; those that still find no
// room stall again, until the next give.
func (b *Budget) wake() {
	for {
		b.mu.Lock()
		stalled, gen := b.waiting, b.gives
		b.waiting = map[*resumable]struct{}{}
		b.mu.Unlock()
		for r := range stalled {
			r.unstall()
		}
		b.waking.Store(false)
		// A give that came while this ran saw waking set and left its
		// wake-up to us: go round again for it.
		b.mu.Lock()
		more := len(b.waiting) > 0 && b.gives != gen
		b.mu.Unlock()
		if !more || !b.waking.CompareAndSwap(false, true) {
			return
		}
	}
}
