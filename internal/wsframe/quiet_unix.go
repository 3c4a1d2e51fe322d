//go:build unix

package wsframe

import (
	"errors"
	"os"
	"syscall"
)

const rawReads = true

// readFD is the RawConn callback of an armed read: it reads once and
// never asks to wait.
func (q *quietReader) readFD(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), q.p)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			q.quiet = true
		case err != nil:
			q.err = os.NewSyscallError("read", err)
		default:
			q.n = max(n, 0)
		}
		return true
	}
}
