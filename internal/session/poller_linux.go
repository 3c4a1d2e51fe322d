package session

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// Poller waits for quiet targets on behalf of their sessions, so that a
// session whose target has nothing to say holds no goroutine on that
// side. A goroutine parked in a read keeps at least 4 KiB of stack (the
// runtime shrinks a stack only when under a quarter of it is in use,
// guard included), and a chatty session's target is quiet nearly all the
// time: with two goroutines a session, 9,000 sessions kept 76 MB of
// stacks (BENCHMARKS.md, "Load").
//
// It is an epoll set of its own beside the runtime's (a socket may be in
// both), edge-triggered like the runtime's, so that each socket is added
// once and never re-armed: a read that finds the socket empty parks the
// session, and the next data that arrives wakes it. The set's descriptor
// is itself waited for in the runtime's poller by one goroutine, which
// hands each woken session to a worker; the worker runs the session's
// target side until that finds its target quiet again, or ends.
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
}

// epollET is syscall.EPOLLET, which the package spells as a negative int.
const epollET = 1 << 31

// maxIdleWorkers bounds the workers kept waiting for a woken session;
// more run while more sessions are busy at once, and go when done.
const maxIdleWorkers = 16

// NewPoller makes the set and starts the goroutine that waits for it.
func NewPoller() (*Poller, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("make an epoll set for quiet targets: %w", os.NewSyscallError("epoll_create1", err))
	}
	// Non-blocking, so that os.NewFile puts it in the runtime's poller
	// (an epoll set is readable when events are ready).
	if err := syscall.SetNonblock(ep, true); err != nil {
		syscall.Close(ep)
		return nil, fmt.Errorf("make an epoll set for quiet targets: %w", os.NewSyscallError("fcntl", err))
	}
	p := &Poller{
		ep:    ep,
		f:     os.NewFile(uintptr(ep), "epoll"),
		byID:  map[uint64]*parking{},
		tasks: make(chan func()),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		p.f.Close()
		return nil, fmt.Errorf("make an epoll set for quiet targets: %w", err)
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
	for {
		if err := rc.Read(take); err != nil {
			return // closed
		}
		for _, ev := range events[:n] {
			p.ready(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		}
	}
}

// ready wakes the session with id, or notes that its target is readable
// if it is running.
func (p *Poller) ready(id uint64) {
	p.mu.Lock()
	k := p.byID[id]
	p.mu.Unlock()
	if k == nil {
		return // ended since
	}
	k.mu.Lock()
	if !k.parked {
		k.pending = true
		k.mu.Unlock()
		return
	}
	k.parked = false
	k.mu.Unlock()
	p.dispatch(k.run)
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

// parking is one session's target side as the Poller knows it.
type parking struct {
	p   *Poller
	id  uint64
	run func() // runs the target side until it parks again or ends

	off atomic.Bool // never park again: the target was closed, or the set refused it

	mu      sync.Mutex
	added   bool // the socket is in the set
	parked  bool // no goroutine runs the target side: the Poller will
	pending bool // readable since it last read (an event while running)
}

// on says whether the target side may ask for reads that do not wait.
func (k *parking) on() bool { return k != nil && !k.off.Load() }

// join makes run the way to resume a session's target side. A nil
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

// park is called by the target side when a read found the socket empty:
// true means the goroutine may return, the Poller runs the side again
// when the target is readable; false means read again (data came
// meanwhile, or the target is closed and the read will say so).
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
	if !k.added {
		// Adding a socket that is already readable reports it at once,
		// so data that came after the read is not missed; the event
		// waits for mu, and finds the side parked.
		var err error
		cerr := rc.Control(func(fd uintptr) {
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(uint32(k.id)), Pad: int32(uint32(k.id >> 32))}
			err = syscall.EpollCtl(k.p.ep, syscall.EPOLL_CTL_ADD, int(fd), &ev)
		})
		if cerr != nil || err != nil {
			k.off.Store(true) // closed meanwhile, or no room: wait the usual way
			return false
		}
		k.added = true
	}
	k.parked = true
	return true
}

// close says the target was closed: a parked side is run to find that
// out and end, and the Poller forgets the session (closing the socket
// took it out of the set).
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
