//go:build unix

package main

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// targetReader reads a target into pooled buffers without holding one
// while it waits: an idle session costs no read buffer. It reads in the
// callback of the connection's RawConn, which the runtime calls when the
// socket may be readable: a buffer is taken from the pool for the read
// and given back at once if there was nothing after all. That is as many
// system calls as net.Conn.Read makes, with the same deadlines and
// closing.
type targetReader struct {
	c  net.Conn
	rc syscall.RawConn // nil: fall back to c.Read

	bp  *[]byte
	n   int
	err error
	fn  func(fd uintptr) bool // r.read, bound once: binding it per read would allocate

	max         int  // set by the caller: read at most this much (0: a whole buffer), for back-pressure
	watchUrgent bool // set by the caller: after each read, ask whether urgent data lies ahead
	urgent      bool // the answer for the last read (urgent_linux.go)
}

func newTargetReader(c net.Conn) *targetReader {
	r := &targetReader{c: c}
	if sc, ok := c.(syscall.Conn); ok {
		r.rc, _ = sc.SyscallConn()
	}
	r.fn = r.read
	return r
}

// next reads what the target has sent into a pooled buffer, which the
// caller gives back with readBufs.Put; bp is nil when n is 0.
func (r *targetReader) next() (bp *[]byte, n int, err error) {
	if r.rc == nil {
		return r.readHolding()
	}
	r.bp, r.n, r.err, r.urgent = nil, 0, nil, false
	if err := r.rc.Read(r.fn); err != nil {
		return nil, 0, err // a deadline, or the connection closed
	}
	switch {
	case r.err != nil:
		return nil, 0, os.NewSyscallError("read", r.err)
	case r.n == 0:
		return nil, 0, io.EOF
	}
	return r.bp, r.n, nil
}

// read is the RawConn callback: true when it has a result, false to wait
// until the socket is readable.
func (r *targetReader) read(fd uintptr) bool {
	bp := readBufs.Get().(*[]byte)
	for {
		n, err := syscall.Read(int(fd), r.room(*bp))
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			readBufs.Put(bp)
			return false
		case err != nil || n <= 0:
			readBufs.Put(bp)
			r.err = err
			return true
		}
		r.bp, r.n = bp, n
		r.urgent = r.watchUrgent && urgentPending(fd)
		return true
	}
}
