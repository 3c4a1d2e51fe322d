package wsframe

import (
	"cmp"
	"errors"
	"io"
	"net"
	"syscall"
)

// ErrQuiet is what TryReadMessage returns when the connection has nothing
// to read: nothing buffered, and the socket empty.
var ErrQuiet = errors.New("websocket: nothing to read yet")

// quietReader is the connection as the Reader's buffer reads it: it
// reads as net.Conn does, except for one read after arm, which returns
// ErrQuiet at once if the socket is empty instead of waiting. Only a read
// at a message's start is armed, so a message begun is read to its end.
type quietReader struct {
	nc    net.Conn
	rc    syscall.RawConn // nil: every read waits
	armed bool

	p     []byte
	n     int
	quiet bool
	err   error
	fn    func(fd uintptr) bool // readFD, bound once
}

func newQuietReader(nc net.Conn) *quietReader {
	q := &quietReader{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok && rawReads {
		q.rc, _ = sc.SyscallConn()
	}
	q.fn = q.readFD
	return q
}

// arm makes the next read return ErrQuiet rather than wait.
func (q *quietReader) arm() { q.armed = true }

func (q *quietReader) Read(p []byte) (int, error) {
	if !q.armed {
		return q.nc.Read(p)
	}
	q.armed = false
	q.p, q.n, q.quiet, q.err = p, 0, false, nil
	err := q.rc.Read(q.fn)
	q.p = nil
	switch {
	case q.quiet:
		return 0, ErrQuiet
	case err == nil && q.err == nil && q.n == 0:
		return 0, io.EOF
	case err == nil && q.err == nil:
		return q.n, nil
	}
	// As net.Conn's Read says it: a closed connection, a deadline, a reset.
	return 0, &net.OpError{Op: "read", Net: "tcp", Source: q.nc.LocalAddr(), Addr: q.nc.RemoteAddr(), Err: cmp.Or(err, q.err)}
}
