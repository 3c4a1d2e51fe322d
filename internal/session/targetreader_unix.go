//go:build unix

package session

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// targetReader reads a target into lent memory without holding any while
// it waits: an idle session costs no read buffer. It reads in the
// callback of the connection's RawConn, which the runtime calls when the
// socket may be readable: the memory is asked for then, and given back at
// once if there was nothing after all. That is as many system calls as
// net.Conn.Read makes, with the same deadlines and closing.
type targetReader struct {
	c  net.Conn
	rc syscall.RawConn // nil: fall back to c.Read

	st  storage
	p   []byte
	err error
	fn  func(fd uintptr) bool // r.readFD, bound once: binding it per read would allocate

	watchUrgent bool // set by the caller: after each read, ask whether urgent data lies ahead
	urgent      bool // the answer for the last read (urgent_linux.go)

	// nowait, set by the caller, makes a read that finds the socket empty
	// return errQuiet instead of waiting: the Poller waits instead.
	nowait bool
	quiet  bool

	mccp mccp // an MCCP2 stream being inflated (targetreader.go)
}

// rawConn is the socket, for the Poller; nil if there is none.
func (r *targetReader) rawConn() syscall.RawConn { return r.rc }

func newTargetReader(c net.Conn) *targetReader {
	r := &targetReader{c: c}
	if sc, ok := c.(syscall.Conn); ok {
		r.rc, _ = sc.SyscallConn()
	}
	r.fn = r.readFD
	return r
}

// read reads what the target has sent into memory st lends, and returns
// the part read.
func (r *targetReader) read(st storage) ([]byte, error) {
	if r.rc == nil {
		return r.readHolding(st)
	}
	r.st, r.p, r.err, r.urgent, r.quiet = st, nil, nil, false, false
	err := r.rc.Read(r.fn)
	r.st = nil
	switch {
	case err != nil:
		return nil, err // a deadline, or the connection closed
	case r.quiet:
		return nil, errQuiet
	case r.err != nil:
		return nil, os.NewSyscallError("read", r.err)
	case r.p == nil:
		return nil, io.EOF
	}
	return r.p, nil
}

// readFD is the RawConn callback: true when it has a result, false to
// wait until the socket is readable.
func (r *targetReader) readFD(fd uintptr) bool {
	p := r.st.lend()
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			r.st.unused()
			r.quiet = r.nowait
			return r.nowait
		case err != nil || n <= 0:
			r.st.unused()
			r.err = err
			return true
		}
		r.p = p[:n]
		r.urgent = r.watchUrgent && urgentPending(fd)
		return true
	}
}
