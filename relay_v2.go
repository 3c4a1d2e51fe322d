package main

import (
	"encoding/json"
	"fmt"
	"io"
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
	st := s.v2
	var buf []byte
	for {
		m, err := s.ws.ReadMessage()
		if err != nil {
			return endOfRead(err)
		}
		if m.Text {
			if err := s.control(target, m.Data); err != nil {
				return endTargetWriteFailed(err)
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
			return endTargetWriteFailed(err)
		}
	}
}

// control acts on one control message from the browser. A malformed or
// unknown one gets an "error" control message back and changes nothing:
// the session goes on. Only a failed write to the target is returned.
func (s *session) control(target net.Conn, data []byte) error {
	st := s.v2
	var c controlMessage
	if err := json.Unmarshal(data, &c); err != nil {
		s.sendControl(controlMessage{Type: "error", Message: "a text message must be a JSON control message: " + err.Error()})
		return nil
	}
	switch c.Type {
	case "resize":
		if c.Cols < 1 || c.Cols > 65535 || c.Rows < 1 || c.Rows > 65535 {
			s.sendControl(controlMessage{Type: "error", Message: "resize: cols and rows must be numbers from 1 to 65535"})
			return nil
		}
		s.rec.resize(c.Cols, c.Rows)
		if st.tel == nil {
			return nil
		}
		var buf []byte
		_, err := st.writeTarget(target, func() []byte { return st.tel.SetWindowSize(buf, c.Cols, c.Rows) })
		return err
	case "break":
		if st.tel == nil {
			return nil
		}
		_, err := st.writeTarget(target, func() []byte {
			if !st.escaping() {
				return nil // not a telnet target: there is no break to send
			}
			return telnet.Break(nil)
		})
		return err
	default:
		s.sendControl(controlMessage{Type: "error", Message: fmt.Sprintf("unknown control message type %q", c.Type)})
		return nil
	}
}

// targetToBrowserV2 sends the target's bytes as binary frames, as read:
// telnet commands answered and removed, lines neither split nor joined.
// It tells the browser when the target takes over or gives back echo.
func (s *session) targetToBrowserV2(target net.Conn) end {
	var d downV2
	tr := newTargetReader(target)
	for {
		bp, n, err := tr.next()
		if n > 0 {
			e, ok := s.forwardV2(target, (*bp)[:n], &d)
			readBufs.Put(bp)
			if !ok {
				return e
			}
		}
		switch {
		case err == nil:
		case err == io.EOF:
			return endTargetClosed()
		default:
			return endTargetLost(err)
		}
	}
}

// downV2 is what targetToBrowserV2 keeps between reads.
type downV2 struct {
	reply      []byte // telnet answers to the target
	remoteEcho bool   // what the browser was last told
}

// forwardV2 handles one read from the target: telnet, echo news, data.
func (s *session) forwardV2(target net.Conn, data []byte, d *downV2) (end, bool) {
	st := s.v2
	s.down += int64(len(data))
	s.g.opts.Metrics.addDown(len(data))
	now := time.Now()
	s.lastActive.Store(now.UnixNano())
	if st.tel != nil {
		echo := d.remoteEcho
		_, err := st.writeTarget(target, func() []byte {
			data, d.reply = st.tel.Decode(data[:0], d.reply[:0], data)
			echo = st.tel.RemoteEcho()
			return d.reply
		})
		if err != nil {
			return endTargetWriteFailed(err), false
		}
		if echo != d.remoteEcho {
			d.remoteEcho = echo
			if err := s.sendControl(controlMessage{Type: "echo", Remote: &echo}); err != nil {
				return endClientWriteFailed(err), false
			}
		}
	}
	if len(data) > 0 {
		s.rec.output(data)
		if err := s.ws.Writer().WriteFrame(wsframe.OpBinary, data); err != nil {
			return endClientWriteFailed(err), false
		}
	}
	return end{}, true
}
