package session

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestBusy: the gateway is busy from 1,600 different sides woken a
// second; one session (two sides), however fast it talks, never is.
func TestBusy(t *testing.T) {
	for _, c := range []struct {
		sides   int
		elapsed time.Duration
		want    bool
	}{
		{0, busyPeriod, false},
		{2, busyPeriod, false}, // a lone session
		{busySides - 1, busyPeriod, false},
		{busySides, busyPeriod, true},
		{180, busyPeriod, true}, // 9,000 chatty sessions
		{busySides, 2 * busyPeriod, false},
		{2 * busySides, 2 * busyPeriod, true},
		{1000, time.Hour, false},          // a quiet hour, then a look
		{1 << 30, 1<<63 - 1, false},       // the first look (the zero time)
		{busySides, 0, false},             // no time has passed: no rate
		{busySides, busyPeriod / 2, true}, // more than enough in less
	} {
		if got := busy(c.sides, c.elapsed); got != c.want {
			t.Errorf("busy(%d, %v) = %v, want %v", c.sides, c.elapsed, got, c.want)
		}
	}
}

// pollerSide is one side parked with a Poller over a real loopback
// socket: it reads what comes, one byte at a time, and parks when the
// socket is empty.
type pollerSide struct {
	peer net.Conn // the other end, to write to
	got  chan<- byte
	park chan<- struct{} // one each time the side parks
	rc   syscall.RawConn
	k    *parking
}

func (s *pollerSide) run() {
	var b [1]byte
	for {
		var n int
		var err error
		if cerr := s.rc.Read(func(fd uintptr) bool {
			n, err = syscall.Read(int(fd), b[:])
			return true // never wait in the runtime's poller: the Poller does
		}); cerr != nil {
			return
		}
		switch {
		case n > 0:
			s.got <- b[0]
		case errors.Is(err, syscall.EAGAIN):
			if s.k.park(s.rc) {
				s.park <- struct{}{}
				return
			}
		default:
			return // closed
		}
	}
}

// TestPollerCoalescesWhileBusy: with many sides woken in a period, the
// Poller rests a window after each look, and the sockets that become
// readable meanwhile are all taken at the next look; no side runs while
// it rests. The clock and the rest are the test's, so nothing here
// depends on how fast the machine is.
func TestPollerCoalescesWhileBusy(t *testing.T) {
	var (
		mu     sync.Mutex
		clock  = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
		nLooks int // the Poller reads its clock once a look that found events
	)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); nLooks++; return clock }
	looks := func() int { mu.Lock(); defer mu.Unlock(); return nLooks }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	rests := make(chan time.Duration, 1)
	release := make(chan struct{})
	rest := func(d time.Duration, quit <-chan struct{}) bool {
		rests <- d
		select {
		case <-release:
			return true
		case <-quit:
			return false
		}
	}
	p, err := newPoller(now, rest)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 2 * busySides // enough to make a period busy
	got := make(chan byte, n)
	parked := make(chan struct{}, n)
	sides := make([]*pollerSide, n)
	for i := range sides {
		c, sc := tcpPair(t, ln)
		rc, err := sc.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		s := &pollerSide{peer: c, got: got, park: parked, rc: rc}
		s.k = p.join(s.run)
		sides[i] = s
		go s.run()
	}
	// write writes b to each of sides.
	write := func(sides []*pollerSide, b byte) {
		t.Helper()
		for _, s := range sides {
			if _, err := s.peer.Write([]byte{b}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// collect waits for m sides to have read b and parked again.
	collect := func(m int, b byte) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for range m {
			select {
			case g := <-got:
				if g != b {
					t.Fatalf("a side read %q, want %q", g, b)
				}
			case <-timeout:
				t.Fatalf("sides never ran to read %q", b)
			}
		}
		for range m {
			<-parked
		}
	}
	collect(0, 0) // the sides' first reads found nothing
	for range n {
		<-parked
	}

	// A first round, in one instant of the clock: not busy yet, so no
	// look rests (it would block here, with no release).
	write(sides, 'a')
	collect(n, 'a')

	// A period later, one side: the look that takes it finds the last
	// period busy (n different sides), and rests.
	advance(busyPeriod)
	write(sides[:1], 'b')
	collect(1, 'b')
	restsOnce(t, rests)

	// While it rests, every side's socket becomes readable, and no side
	// runs; then one look takes them all.
	write(sides, 'c')
	select {
	case g := <-got:
		t.Fatalf("a side read %q while the Poller rested", g)
	default:
	}
	before := looks()
	release <- struct{}{}
	collect(n, 'c')
	if got := looks() - before; got != 1 {
		t.Errorf("the Poller took %d readable sockets in %d looks after its rest, want 1", n, got)
	}
	restsOnce(t, rests) // still busy: rests again

	// Closed while it rests, it stops.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// restsOnce waits for the Poller to rest, a window.
func restsOnce(t *testing.T, rests <-chan time.Duration) {
	t.Helper()
	select {
	case d := <-rests:
		if d != coalesceWindow {
			t.Fatalf("the Poller rests %v, want %v", d, coalesceWindow)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the Poller did not rest after a busy period")
	}
}
