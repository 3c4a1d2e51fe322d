package session

import (
	"testing"
	"time"
)

// TestBudget: storage past each ring's first minRead bytes is granted up
// to the limit, forced grants go past it, and giving storage back wakes
// the sessions that stalled for room.
func TestBudget(t *testing.T) {
	b := NewBudget(64 << 10)
	if !b.grow(0, minRead, false) || b.Used() != 0 {
		t.Fatalf("the first %d bytes must be free of the budget: used %d", minRead, b.Used())
	}
	if !b.grow(minRead, 64<<10+minRead, false) || b.Used() != 64<<10 {
		t.Fatalf("a grant within the limit: used %d", b.Used())
	}
	if b.grow(64<<10+minRead, 128<<10, false) {
		t.Fatal("a grant past the limit")
	}
	var r resumable
	r.cond.L = &r.mu
	r.stalled = true
	b.stall(&r)
	if !b.grow(minRead, 2*minRead, true) || b.Used() != 64<<10+minRead {
		t.Fatalf("a forced grant: used %d", b.Used())
	}
	b.give(2 * minRead)
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		stalled := r.stalled
		r.mu.Unlock()
		if !stalled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a give did not wake the stalled session")
		}
		<-tick.C
	}
	if var0 := (*Budget)(nil); !var0.grow(0, 1<<30, false) || var0.Used() != 0 {
		t.Fatal("no budget must grant everything")
	}
}

// TestRingWithinBudget: a ring grows within the budget, by a doubling when
// the whole step does not fit, and not at all when nothing does; what it
// gives back returns to the budget.
func TestRingWithinBudget(t *testing.T) {
	b := NewBudget(32<<10 - minRead) // room for 32 KiB of storage in all
	g := ring{budget: b}
	g.free(4<<10, 4<<10, 1<<20)
	g.added(4 << 10)
	g.free(1, 1, 1<<20) // a doubling to 8 KiB
	if len(g.buf) != 8<<10 {
		t.Fatalf("storage %d, want 8 KiB", len(g.buf))
	}
	g.added(len(g.buf) - g.n)
	g.free(1, 1, 1<<20) // 16 KiB
	g.added(len(g.buf) - g.n)
	g.free(1, 1, 1<<20) // 32 KiB: the whole step (to the limit) does not fit, a doubling does
	if len(g.buf) != 32<<10 || b.Used() != 32<<10-minRead {
		t.Fatalf("storage %d, used %d; want 32 KiB and %d", len(g.buf), b.Used(), 32<<10-minRead)
	}
	g.added(len(g.buf) - g.n)
	if p := g.free(1, 1, 1<<20); len(p) != 0 || !g.full() {
		t.Fatalf("grew past the budget: storage %d", len(g.buf))
	}
	g.ack(g.base + int64(g.n))
	g.release(false)
	if b.Used() != 0 {
		t.Fatalf("used %d after the ring let its storage go", b.Used())
	}
}
