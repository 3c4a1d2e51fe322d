package session

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"wstelnet/internal/telnet"
)

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
// errQuiet is what a read with nowait returns when the target has sent
// nothing more (where reads can be raw: elsewhere they wait).
var errQuiet = errors.New("the target has sent nothing more")

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

// mccp is the target's output while it is compressed (MCCP2): the codec
// finds the stream's start (inflate) and the target reader inflates it
// into the memory the browser side lends, as much as fits, so that a
// stream inflating 1000 to 1 is read under the same back-pressure as
// plain output. At the stream's end the bytes that followed it in the
// last read (plain again) come next, then the socket.
type mccp struct {
	z     *telnet.Inflater
	rest  []byte                         // what followed the end of the last stream, not yet given out
	count func(compressed, inflated int) // the metrics' share: bytes since the last count
	c, i  int64                          // the counts of this stream already given to count
	// All streams' bytes, compressed and inflated, for the session's log line.
	compressed, inflated int64
}

// inflate starts inflating: first is what followed the stream's start in
// the read that found it.
func (r *targetReader) inflate(first []byte) {
	r.mccp.z = telnet.NewInflater(r.c, first)
	r.mccp.c, r.mccp.i = 0, 0
}

// inflating reports whether a compressed stream is running: reads then
// block inside the inflater, which a read deadline would break, so no
// quiet spell may be timed with one.
func (r *targetReader) inflating() bool { return r.mccp.z != nil || len(r.mccp.rest) > 0 }

// next reads the target's next output into st's memory: inflated while
// a stream runs, what followed its end, or else the socket as read does.
func (r *targetReader) next(st storage) ([]byte, error) {
	m := &r.mccp
	switch {
	case len(m.rest) > 0:
		p := st.lend()
		n := copy(p, m.rest)
		m.rest = m.rest[n:]
		r.urgent = false
		return p[:n], nil
	case m.z != nil:
		p := st.lend()
		n, err := m.z.Read(p)
		r.urgent = false
		if c, i := m.z.Counts(); c != m.c || i != m.i {
			m.compressed += c - m.c
			m.inflated += i - m.i
			if m.count != nil {
				m.count(int(c-m.c), int(i-m.i))
			}
			m.c, m.i = c, i
		}
		if err == io.EOF {
			// The stream ended; the target's bytes are plain again.
			m.rest, m.z, err = bytes.Clone(m.z.Rest()), nil, nil
		}
		if n == 0 {
			st.unused()
			return nil, err
		}
		return p[:n], err
	}
	return r.read(st)
}
