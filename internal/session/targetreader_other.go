//go:build !unix

package session

import (
	"net"
	"syscall"
)

// targetReader reads a target into lent memory. Where the runtime's raw
// reads are not available, the memory is held while the session waits.
type targetReader struct {
	c                   net.Conn
	watchUrgent, urgent bool // urgent data is not detected here
	nowait              bool // ignored: reads wait here

	mccp mccp // an MCCP2 stream being inflated (targetreader.go)
}

func newTargetReader(c net.Conn) *targetReader { return &targetReader{c: c} }

func (r *targetReader) rawConn() syscall.RawConn { return nil }

// read reads what the target has sent into memory st lends.
func (r *targetReader) read(st storage) ([]byte, error) { return r.readHolding(st) }
