package main

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"wstelnet/internal/telnet"
	"wstelnet/internal/wsframe"
)

// The seed protocol (v1): after SUCC, every text message is a line, both
// ways. The target's telnet commands are refused and removed.

// browserToTarget writes each message from the browser to the target as a
// line ending in CR LF.
func (s *session) browserToTarget(target net.Conn) end {
	var buf []byte
	for {
		m, err := s.ws.ReadMessage()
		if err != nil {
			return endOfRead(err)
		}
		// Text is UTF-8 and never holds 0xFF, but a binary message may, and
		// the target may be telnet: double it as IAC IAC.
		s.rec.inputs(m.Data, "\r\n")
		buf = telnet.Escape(buf[:0], m.Data)
		buf = append(buf, '\r', '\n')
		n, err := s.writeTarget(target, buf)
		s.up += int64(n)
		s.g.opts.Metrics.addUp(n)
		s.lastActive.Store(time.Now().UnixNano())
		if err != nil {
			return endTargetWriteFailed(err)
		}
	}
}

// writeTarget writes p to the target within -write-timeout: a target that
// takes nothing for that long is as gone as a browser that does not read.
func (s *session) writeTarget(target net.Conn, p []byte) (int, error) {
	target.SetWriteDeadline(time.Now().Add(s.g.opts.WriteTimeout))
	return target.Write(p)
}

// targetToBrowser reads the target, answers and removes telnet commands,
// and sends each line to the browser as a text frame.
func (s *session) targetToBrowser(target net.Conn) end {
	var dec telnet.Decoder
	var reply []byte
	out := s.ws.Writer()
	// Every frame of this direction is added to a batch (Begin ... Flush).
	fr := lineFramer{emit: func(p []byte) error { return out.Add(wsframe.OpText, p) }}
	tr := newTargetReader(target)
	armed := false // a read deadline is set for the prompt delay
	for {
		switch {
		case fr.Pending():
			target.SetReadDeadline(time.Now().Add(promptDelay))
			armed = true
		case armed:
			target.SetReadDeadline(time.Time{})
			armed = false
		}
		tr.watchUrgent = dec.SeenCommand() // a telnet Synch: plain TCP never pays for the check
		bp, n, err := tr.next()
		if n > 0 {
			buf := *bp
			s.down += int64(n)
			s.g.opts.Metrics.addDown(n)
			var data []byte
			dec.Urgent(tr.urgent)
			data, reply = dec.Decode(buf[:0], reply[:0], buf[:n])
			if len(reply) > 0 {
				if _, err := s.writeTarget(target, reply); err != nil {
					readBufs.Put(bp)
					return endTargetWriteFailed(err)
				}
			}
			s.lastActive.Store(time.Now().UnixNano())
			s.rec.output(data)
			// The lines of one read leave in one write.
			err := s.batch(func() error { return fr.Write(data) })
			readBufs.Put(bp)
			if err != nil {
				return endClientWriteFailed(err)
			}
		}
		switch {
		case err == nil:
		case armed && errors.Is(err, os.ErrDeadlineExceeded):
			if err := s.batch(fr.Flush); err != nil {
				return endClientWriteFailed(err)
			}
		case err == io.EOF:
			if err := s.batch(fr.Close); err != nil {
				return endClientWriteFailed(err)
			}
			return endTargetClosed()
		default:
			s.batch(fr.Close)
			return endTargetLost(err)
		}
	}
}

// batch runs emit, which adds frames to the writer's batch, and writes
// them all with one system call.
func (s *session) batch(emit func() error) error {
	out := s.ws.Writer()
	out.Begin()
	err := emit()
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}
