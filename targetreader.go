package main

import "sync"

// readBufs holds the buffers targets are read into: a session takes one
// only while there is data, so idle sessions cost no read buffer (see
// targetReader, in targetreader_unix.go and, elsewhere, targetreader_other.go).
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// room is the part of b one read may fill.
func (r *targetReader) room(b []byte) []byte {
	if r.max > 0 && r.max < len(b) {
		return b[:r.max]
	}
	return b
}

// readHolding reads with net.Conn.Read, holding a buffer while it waits:
// for connections without a RawConn, and systems without raw reads.
func (r *targetReader) readHolding() (bp *[]byte, n int, err error) {
	bp = readBufs.Get().(*[]byte)
	n, err = r.c.Read(r.room(*bp))
	if n == 0 {
		readBufs.Put(bp)
		bp = nil
	}
	return bp, n, err
}
