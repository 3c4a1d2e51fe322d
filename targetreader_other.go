//go:build !unix

package main

import "net"

// targetReader reads a target into pooled buffers. Where the runtime's raw
// reads are not available, the buffer is held while the session waits.
type targetReader struct {
	c                   net.Conn
	watchUrgent, urgent bool // urgent data is not detected here
	max                 int  // read at most this much (0: a whole buffer), for back-pressure
}

func newTargetReader(c net.Conn) *targetReader { return &targetReader{c: c} }

// next reads what the target has sent into a pooled buffer, which the
// caller gives back with readBufs.Put; bp is nil when n is 0.
func (r *targetReader) next() (bp *[]byte, n int, err error) { return r.readHolding() }
