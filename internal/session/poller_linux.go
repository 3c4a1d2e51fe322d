package session

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Poller waits for quiet sockets on behalf of their sessions, so that a
// session whose browser and target have nothing to say holds no
// goroutine. A goroutine parked in a read keeps at least 4 KiB of stack
// (the runtime shrinks a stack only when under a quarter of it is in
// use, guard included), and a chatty session is quiet nearly all the
// time: with two goroutines a session, 9,000 sessions kept 76 MB of
// stacks (BENCHMARKS.md, "Load").
//
// It is an epoll set of its own beside the runtime's (a socket may be in
// both), edge-triggered like the runtime's, so that each socket is added
// once and never re-armed: a read that finds the socket empty parks that
// side of the session (the browser's between messages, the target's
// between reads), and the next data that arrives wakes it. The set's
// descriptor is itself waited for in the runtime's poller by one
// goroutine, which hands each woken side to a worker; the worker runs it
// until it finds its socket quiet again, or ends.
//
// The Poller is owned by whoever made it (the gateway); Close it once no
// session uses it.
type Poller struct {
	ep    int
	f     *os.File // ep, in the runtime's poller
	mu    sync.Mutex
	byID  map[uint64]*parking
	next  uint64
	tasks chan func() // to an idle worker
	idle  atomic.Int32
	quit  chan struct{}
	done  chan struct{} // the waiting goroutine is gone
	once  sync.Once
	err   error // Close's

	// The clock and the rest while busy (see wait): time.Now and sleep,
	// or a test's.
	now  func() time.Time                                 // read once a look that found events
	rest func(d time.Duration, quit <-chan struct{}) bool // waits d; false if quit was closed first
}

// epollET is syscall.EPOLLET, which the package spells as a negative int.
const epollET = 1 << 31

// coalesceWindow is how long the waiting goroutine rests after each look
// at the set while the gateway is busy, so that the sockets that become
// readable meanwhile are all taken at the next look. Without it, 9,000
// sessions that each send a line a second woke the gateway for nearly
// every line there and back, about 18,000 times a second, and each
// wake-up (the runtime's and the kernel's, the peers' included) cost
// more than the line's reads and writes: resting a millisecond saved
// 15-45% of the relay's CPU, from 0.55 of a core to 0.31-0.41 on a quiet
// host, from 0.67 to 0.52-0.57 on a busier one (BENCHMARKS.md,
// "Coalescing").
// Longer rests saved no more. A millisecond is below what a person
// notices, and is spent only while busy.
const coalesceWindow = time.Millisecond

// busyPeriod and busySides say when the gateway is busy: when in the
// last period at least busySides different sides of sessions (a
// session has two) woke, that is 1,600 a second. One session, however
// fast it talks, never is: a wait would only add to each of its round
// trips, and there are no other sockets to take with it.
const (
	busyPeriod = 10 * time.Millisecond
	busySides  = 16
)

// busy says whether sides different sides woken in elapsed make a busy
// gateway: at least busySides for each busyPeriod.
func busy(sides int, elapsed time.Duration) bool {
	return elapsed > 0 && float64(sides)/elapsed.Seconds() >= busySides/busyPeriod.Seconds()
}

// maxIdleWorkers bounds the workers kept waiting for a woken session;
// more run while more sessions are busy at once, and go when done.
const maxIdleWorkers = 64

// NewPoller makes the set and starts the goroutine that waits for it.
func NewPoller() (*Poller, error) { return newPoller(time.Now, sleep) }

// newPoller is NewPoller with the clock and the rest while busy given
// (a test's, or time.Now and sleep).
func newPoller(now func() time.Time, rest func(time.Duration, <-chan struct{}) bool) (*Poller, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("make an epoll set for quiet sessions: %w", os.NewSyscallError("epoll_create1", err))
	}
	// Non-blocking, so that os.NewFile puts it in the runtime's poller
	// (an epoll set is readable when events are ready).
	if err := syscall.SetNonblock(ep, true); err != nil {
		syscall.Close(ep)
		return nil, fmt.Errorf("make an epoll set for quiet sessions: %w", os.NewSyscallError("fcntl", err))
	}
	p := &Poller{
		ep:    ep,
		f:     os.NewFile(uintptr(ep), "epoll"),
		byID:  map[uint64]*parking{},
		tasks: make(chan func()),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		now:   now,
		rest:  rest,
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		p.f.Close()
		return nil, fmt.Errorf("make an epoll set for quiet sessions: %w", err)
	}
	go p.wait(rc)
	return p, nil
}

// Close stops the waiting goroutine and the idle workers. Sessions still
// parked are not woken: close it after the last session has ended.
func (p *Poller) Close() error {
	if p == nil {
		return nil
	}
	p.once.Do(func() {
		close(p.quit)
		p.err = p.f.Close() // wakes wait
		<-p.done
	})
	return p.err
}

// wait takes the set's events as they come and wakes their sessions.
//
// While the gateway is busy (busy), it rests a window (coalesceWindow)
// after each look that did not fill events, and the sockets that became
// readable meanwhile are all taken at the next look and handed to
// workers in one go, instead of one wake-up each. While it is not, it
// looks again as soon as the set is readable, and a lone session's round
// trips wait for nothing.
func (p *Poller) wait(rc syscall.RawConn) {
	defer close(p.done)
	events := make([]syscall.EpollEvent, 256)
	var n int
	// take looks before it waits, every time: RawConn.Read forgets a
	// readiness the runtime saw before it was called, so an epoll_wait
	// skipped because the last one emptied the list could leave events
	// that came meanwhile unseen until the next.
	take := func(fd uintptr) bool {
		var err error
		n, err = syscall.EpollWait(int(fd), events, 0)
		if err != nil || n <= 0 {
			n = 0
			return false // nothing yet (EINTR too): wait
		}
		return true
	}
	var (
		period  time.Time // when the current busyPeriod began
		epoch   uint32    // the period's number, for parking.seen
		sides   int       // different sides woken in the period
		busyNow bool      // the last period was busy
	)
	for {
		if err := rc.Read(take); err != nil {
			return // closed
		}
		now := p.now()
		if elapsed := now.Sub(period); elapsed >= busyPeriod {
			busyNow = busy(sides, elapsed)
			period, sides = now, 0
			epoch++
		}
		for _, ev := range events[:n] {
			if k := p.ready(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32); k != nil && k.seen != epoch {
				k.seen = epoch
				sides++
			}
		}
		if busyNow && n < len(events) && !p.rest(coalesceWindow, p.quit) {
			return // closed
		}
	}
}

// sleep is rest's default: it waits d, and says false if quit is closed
// first.
func sleep(d time.Duration, quit <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-quit:
		return false
	}
}

// ready wakes the side with id, or notes that its socket is readable
// if it is running; it gives the side, or nil if it has ended.
func (p *Poller) ready(id uint64) *parking {
	p.mu.Lock()
	k := p.byID[id]
	p.mu.Unlock()
	if k == nil {
		return nil // ended since
	}
	k.mu.Lock()
	if !k.parked {
		k.pending = true
		k.mu.Unlock()
		return k
	}
	k.parked = false
	k.mu.Unlock()
	p.dispatch(k.run)
	return k
}

// dispatch runs run on an idle worker, or on a new one.
func (p *Poller) dispatch(run func()) {
	select {
	case p.tasks <- run:
	default:
		go p.work(run)
	}
}

// work runs what it is given, then waits for more while few wait.
func (p *Poller) work(run func()) {
	for {
		run()
		if p.idle.Add(1) > maxIdleWorkers {
			p.idle.Add(-1)
			return
		}
		select {
		case run = <-p.tasks:
			p.idle.Add(-1)
		case <-p.quit:
			p.idle.Add(-1)
			return
		}
	}
}

// parking is one side of a session as the Poller knows it.
type parking struct {
	p   *Poller
	id  uint64
	run func() // runs the side until it parks again or ends

	off atomic.Bool // never park again: the session is ending, or the set refused the socket

	mu      sync.Mutex
	added   syscall.RawConn // the socket in the set (the browser's changes with a resume)
	parked  bool            // no goroutine runs the side: the Poller will
	pending bool            // readable since it last read (an event while running)

	seen uint32 // the busyPeriod it last woke in; wait's alone
}

// on says whether the side may ask for reads that do not wait.
func (k *parking) on() bool { return k != nil && !k.off.Load() }

// join makes run the way to resume one side of a session. A nil
// Poller gives a nil parking, which never parks.
func (p *Poller) join(run func()) *parking {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	k := &parking{p: p, id: p.next, run: run}
	p.byID[k.id] = k
	return k
}

// park is called by a side when a read found its socket rc empty: true
// means the goroutine may return, the Poller runs the side again when
// rc is readable (or wake or close is called); false means read again
// (data came meanwhile, or the socket is closed and the read will say so).
func (k *parking) park(rc syscall.RawConn) bool {
	if k == nil || rc == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.off.Load():
		return false
	case k.pending:
		k.pending = false
		return false
	}
	if k.added != rc {
		// Adding a socket that is already readable reports it at once,
		// so data that came after the read is not missed; the event
		// waits for mu, and finds the side parked. A socket replaced (a
		// resume) left the set when it was closed.
		var err error
		cerr := rc.Control(func(fd uintptr) {
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(uint32(k.id)), Pad: int32(uint32(k.id >> 32))}
			err = syscall.EpollCtl(k.p.ep, syscall.EPOLL_CTL_ADD, int(fd), &ev)
			if errors.Is(err, syscall.EEXIST) {
				err = syscall.EpollCtl(k.p.ep, syscall.EPOLL_CTL_MOD, int(fd), &ev)
			}
		})
		if cerr != nil {
			return false // closed meanwhile: the read says so
		}
		if err != nil {
			k.off.Store(true) // no room in the set: wait the usual way
			return false
		}
		k.added = rc
	}
	k.parked = true
	return true
}

// wake runs a parked side at once: its socket was closed or replaced
// under it, or what it waits for changed. A running side reads again
// before it parks.
func (k *parking) wake() {
	if k == nil {
		return
	}
	k.mu.Lock()
	parked := k.parked
	k.parked, k.pending = false, !parked
	k.mu.Unlock()
	if parked {
		k.p.dispatch(k.run)
	}
}

// close says the side's socket was closed, or the session is ending: a
// parked side is run to find that out, its reads wait from now on, and
// the Poller forgets it (closing a socket takes it out of the set).
func (k *parking) close() {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.off.Store(true)
	wake := k.parked
	k.parked = false
	k.mu.Unlock()
	k.p.mu.Lock()
	delete(k.p.byID, k.id)
	k.p.mu.Unlock()
	if wake {
		k.p.dispatch(k.run)
	}
}
