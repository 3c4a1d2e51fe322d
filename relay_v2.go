package main

import (
	"encoding/json"
	"fmt"
	"net"
	"time"

	"wstelnet/internal/telnet"
	"wstelnet/internal/wsframe"
)

// Protocol v2 (PROTOCOL.md): after SUCC, binary frames carry the byte
// stream both ways, telnet-encoded towards a telnet target, and text
// frames carry JSON control messages. stream.go holds the options and the
// telnet state these loops share.

// controlMessage is a v2 text frame, either way.
type controlMessage struct {
	Type    string `json:"type"`
	Cols    int    `json:"cols,omitempty"`
	Rows    int    `json:"rows,omitempty"`
	Remote  *bool  `json:"remote,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Offset  *int64 `json:"offset,omitempty"` // ack, from a resumable session's browser
}

func (s *session) sendControl(m controlMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.sendText(b)
}

// browserToTargetV2 writes binary messages to the target as they are
// (telnet-encoded when the target speaks telnet) and acts on control messages.
func (s *session) browserToTargetV2(target net.Conn) end {
	e, _ := s.browserToTargetV2On(s.ws, target)
	return e
}

// browserToTargetV2On reads ws until it ends, and says whether it was lost
// (ended without a close frame, which a resumable session survives).
func (s *session) browserToTargetV2On(ws *wsframe.Conn, target net.Conn) (e end, lost bool) {
	st := s.v2
	var buf []byte
	for {
		m, err := ws.ReadMessage()
		if err != nil {
			e := endOfRead(err)
			return e, e.why == endClientLost(nil).why
		}
		if m.Text {
			if e, ok := s.control(target, m.Data); !ok {
				return e, false
			}
			continue
		}
		s.rec.inputs(m.Data, "")
		var n int
		if st.tel == nil {
			n, err = s.writeTarget(target, m.Data)
		} else {
			n, err = st.writeTarget(target, func() []byte {
				if !st.escaping() {
					return m.Data
				}
				buf = st.tel.Encode(buf[:0], m.Data)
				return buf
			})
		}
		s.up += int64(n)
		s.g.opts.Metrics.addUp(n)
		s.lastActive.Store(time.Now().UnixNano())
		if err != nil {
			return endTargetWriteFailed(err), false
		}
		if s.res != nil {
			s.res.took(s, len(m.Data)) // offsets count the browser's bytes, before telnet encoding
		}
	}
}

// control acts on one control message from the browser. A malformed or
// unknown one gets an "error" control message back and changes nothing:
// the session goes on. It ends the session only when a write fails: the
// answer to the browser or the telnet command to the target.
func (s *session) control(target net.Conn, data []byte) (end, bool) {
	st := s.v2
	complain := func(msg string) (end, bool) {
		if err := s.sendControl(controlMessage{Type: "error", Message: msg}); err != nil {
			return endClientWriteFailed(err), false
		}
		return end{}, true
	}
	var c controlMessage
	if err := json.Unmarshal(data, &c); err != nil {
		return complain("a text message must be a JSON control message: " + err.Error())
	}
	var cmd func() []byte // what to send the target, under the codec lock
	switch c.Type {
	case "ack":
		if s.res == nil {
			return complain("ack: this session was not opened with resume=1")
		}
		if c.Offset == nil {
			return complain(`ack: want {"type":"ack","offset":N}`)
		}
		s.res.acked(*c.Offset)
		return end{}, true
	case "resize":
		if c.Cols < 1 || c.Cols > 65535 || c.Rows < 1 || c.Rows > 65535 {
			return complain("resize: cols and rows must be numbers from 1 to 65535")
		}
		s.rec.resize(c.Cols, c.Rows)
		cmd = func() []byte {
			// A browser sends its size again after a resume: tell the
			// target only if it changed.
			if st.cols == c.Cols && st.rows == c.Rows {
				return nil
			}
			st.cols, st.rows = c.Cols, c.Rows
			return st.tel.SetWindowSize(nil, c.Cols, c.Rows)
		}
	case "ping":
		// The page's heartbeat (PROTOCOL.md, "Heartbeat"): browsers cannot
		// see WebSocket pings, so it asks; any answer shows the path works.
		if err := s.sendControl(controlMessage{Type: "pong"}); err != nil {
			return endClientWriteFailed(err), false
		}
		return end{}, true
	case "break":
		cmd = func() []byte {
			if !st.escaping() {
				return nil // not a telnet target: there is no break to send
			}
			return telnet.Break(nil)
		}
	default:
		return complain(fmt.Sprintf("unknown control message type %q", c.Type))
	}
	if st.tel == nil {
		return end{}, true // telnet=off: nothing to tell the target
	}
	if _, err := st.writeTarget(target, cmd); err != nil {
		return endTargetWriteFailed(err), false
	}
	return end{}, true
}

// targetToBrowserV2 sends the target's bytes as binary frames, as read:
// telnet commands answered and removed, lines neither split nor joined.
// It tells the browser when the target takes over or gives back echo.
func (s *session) targetToBrowserV2(target net.Conn) end {
	var d downV2
	tr := newTargetReader(target)
	for {
		if s.res != nil {
			// Back-pressure: read no more than the resume buffer has room for.
			if tr.max = s.res.waitRoom(s); tr.max == 0 {
				return endTargetLost(net.ErrClosed) // the session is ending
			}
		}
		tr.watchUrgent = d.telnet // a telnet Synch: plain TCP never pays for the check
		bp, n, err := tr.next()
		if n > 0 {
			d.urgent = tr.urgent
			e, ok := s.forwardV2(target, (*bp)[:n], &d)
			readBufs.Put(bp)
			if !ok {
				return e
			}
		}
		if e, ok := endOfTargetRead(err); ok {
			return e
		}
	}
}

// downV2 is what targetToBrowserV2 keeps between reads.
type downV2 struct {
	reply      []byte // telnet answers to the target
	remoteEcho bool   // what the browser was last told
	telnet     bool   // the target has sent a telnet command
	urgent     bool   // urgent data lies beyond this read (telnet.Decoder.Urgent)
}

// forwardV2 handles one read from the target: telnet, echo news, data.
func (s *session) forwardV2(target net.Conn, data []byte, d *downV2) (end, bool) {
	st := s.v2
	s.down += int64(len(data))
	s.g.opts.Metrics.addDown(len(data))
	now := time.Now()
	s.lastActive.Store(now.UnixNano())
	echoChanged := false
	if st.tel != nil {
		echo := d.remoteEcho
		_, err := st.writeTarget(target, func() []byte {
			st.tel.Urgent(d.urgent)
			data, d.reply = st.tel.Decode(data[:0], d.reply[:0], data)
			echo = st.tel.RemoteEcho()
			d.telnet = st.tel.SeenCommand()
			return d.reply
		})
		if err != nil {
			return endTargetWriteFailed(err), false
		}
		if echo != d.remoteEcho {
			d.remoteEcho, echoChanged = echo, true
		}
	}
	s.rec.output(data)
	if s.res != nil {
		s.res.deliver(s, data, d.remoteEcho, echoChanged)
		return end{}, true
	}
	if echoChanged {
		echo := d.remoteEcho
		if err := s.sendControl(controlMessage{Type: "echo", Remote: &echo}); err != nil {
			return endClientWriteFailed(err), false
		}
	}
	if len(data) > 0 {
		if err := s.ws.Writer().WriteFrame(wsframe.OpBinary, data); err != nil {
			return endClientWriteFailed(err), false
		}
	}
	return end{}, true
}
