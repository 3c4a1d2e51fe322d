package session

import (
	"math/bits"
	"sync"
)

// ring is a resumable session's output not yet acknowledged: n bytes from
// buf[head] on, wrapping at the end of buf, the first being the stream's
// byte base. The target is read straight into its free part, so nothing
// is copied as output flows; the storage grows (up to the session's
// limit) only when more is unacknowledged than it holds, and is let go
// when the session is idle. Its user holds the locks.
type ring struct {
	buf    []byte
	head   int
	n      int
	base   int64
	budget *Budget // what all sessions' storage may add up to; nil: no bound
}

// full reports whether no byte fits without more storage.
func (g *ring) full() bool { return len(g.buf) > 0 && g.n == len(g.buf) }

// tail is where the next byte goes.
func (g *ring) tail() int {
	if len(g.buf) == 0 {
		return 0
	}
	return (g.head + g.n) % len(g.buf)
}

// free returns the free space after the tail, at most most bytes, growing
// the storage first if less than need is free in all (up to limit).
func (g *ring) free(need, most, limit int) []byte {
	if g.n == 0 {
		g.head = 0 // the most room in one piece
	}
	if len(g.buf)-g.n < need && len(g.buf) < limit {
		// Doubling while little is kept (a chatty session stays small);
		// past a whole read's worth, a flood: straight to the limit, so
		// that its bytes are not moved again at every doubling.
		d := pow2(max(2*len(g.buf), g.n+need, minRead))
		c := d
		if c > readBufSize {
			c = limit
		}
		// Within the budget: the whole step, else a doubling, else
		// nothing (the caller has what is free, and stalls on none).
		if !g.grow(min(limit, c), false) && d < c {
			g.grow(min(limit, d), false)
		}
	}
	t := g.tail()
	end := len(g.buf)
	if t < g.head || (t == g.head && g.n > 0) {
		end = g.head // wrapped: up to the oldest byte kept
	}
	return g.buf[t:min(end, t+most)]
}

// grow moves the bytes kept to new storage of size c, and gives the old
// back to the pool: call it where no writer may still send from it. It
// reports false, changing nothing, when the budget has no room (force
// takes it anyway).
func (g *ring) grow(c int, force bool) bool {
	if !g.budget.grow(len(g.buf), c, force) {
		return false
	}
	nb := getStorage(c)
	a, b := g.slices(g.base, g.n)
	copy(nb[copy(nb, a):], b)
	putStorage(g.buf)
	g.buf, g.head = nb, 0
	return true
}

// added takes k bytes written at the tail.
func (g *ring) added(k int) { g.n += k }

// appended copies p in (for output not read into the ring), growing as needed.
func (g *ring) appended(p []byte) {
	if len(g.buf)-g.n < len(p) {
		g.grow(pow2(max(2*len(g.buf), g.n+len(p), minRead)), true) // taken from the target: kept whatever the budget
	}
	for len(p) > 0 {
		t := g.tail()
		end := len(g.buf)
		if t < g.head {
			end = g.head
		}
		k := copy(g.buf[t:end], p)
		g.n += k
		p = p[k:]
	}
}

// ack forgets the bytes before offset; offsets outside what is kept are ignored.
func (g *ring) ack(offset int64) bool {
	k := offset - g.base
	if k <= 0 || k > int64(g.n) {
		return false
	}
	g.head = (g.head + int(k)) % len(g.buf)
	g.n -= int(k)
	g.base = offset
	return true
}

// holds reports whether offset is within what is kept (its end included).
func (g *ring) holds(offset int64) bool {
	return offset >= g.base && offset <= g.base+int64(g.n)
}

// slices are the k bytes kept from offset on, in one piece or two.
func (g *ring) slices(offset int64, k int) (a, b []byte) {
	if k == 0 || len(g.buf) == 0 {
		return nil, nil
	}
	s := (g.head + int(offset-g.base)) % len(g.buf)
	if s+k <= len(g.buf) {
		return g.buf[s : s+k], nil
	}
	return g.buf[s:], g.buf[:s+k-len(g.buf)]
}

// from is what is kept from offset to the end, in one piece or two.
func (g *ring) from(offset int64) (a, b []byte) {
	return g.slices(offset, int(g.base+int64(g.n)-offset))
}

// release gives the storage back to the pool if nothing is kept (or
// always, when the session is over): call it where no writer may still
// send from it.
func (g *ring) release(always bool) {
	if g.n == 0 || always {
		g.budget.give(len(g.buf))
		putStorage(g.buf)
		g.buf, g.head, g.n = nil, 0, 0
	}
}

// Storage is pooled by size: sessions come and go, and fresh storage
// costs its zeroing and page faults on top of the allocation. Sizes are
// powers of two (and -resume-buffer itself, the cap), so there are few
// pools. A stale byte never leaks: only what the target sent this session
// lies between head and head+n.
var ringStorage sync.Map // size -> *sync.Pool of *[]byte

func getStorage(c int) []byte {
	if p, ok := ringStorage.Load(c); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, c)
}

func putStorage(b []byte) {
	if len(b) == 0 {
		return
	}
	p, _ := ringStorage.LoadOrStore(len(b), &sync.Pool{})
	p.(*sync.Pool).Put(&b)
}

// pow2 is the least power of two not below n.
func pow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}
