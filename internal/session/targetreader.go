package session

import "sync"

// storage lends the target reader the memory for one read: the direct
// side lends a pooled buffer, the resumable side a free part of its
// resume buffer, so that output is read where it is kept.
type storage interface {
	// lend returns where the next read goes; it is called only once the
	// socket has data (or on systems without raw reads, before the wait).
	lend() []byte
	// unused says the read found nothing after all.
	unused()
}

// readBufs holds the buffers targets are read into by the direct side: a
// session takes one only while there is data, so idle sessions cost no
// read buffer (see targetReader, in targetreader_unix.go and, elsewhere,
// targetreader_other.go).
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// readHolding reads with net.Conn.Read, holding the memory while it
// waits: for connections without a RawConn, and systems without raw reads.
func (r *targetReader) readHolding(st storage) ([]byte, error) {
	p := st.lend()
	n, err := r.c.Read(p)
	if n == 0 {
		st.unused()
		return nil, err
	}
	return p[:n], err
}
