package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"wstelnet/internal/telnet"
)

// subprotocolV2 is the WebSocket subprotocol a client asks for to get
// protocol v2: the same start as v1, then binary frames carry the byte
// stream both ways and text frames carry JSON control messages. PROTOCOL.md
// describes it.
const subprotocolV2 = "wstelnet.v2"

// telnetMode is the v2 "telnet" query parameter.
type telnetMode int

const (
	telnetAuto telnetMode = iota // answer and remove telnet commands; start nothing
	telnetOn                     // act as a telnet client from the first byte
	telnetOff                    // relay raw TCP byte for byte
)

// streamOptions are the v2 query parameters of the WebSocket URL.
type streamOptions struct {
	telnet     telnetMode
	term       []string // answers to TTYPE SEND, in turn
	cols, rows int      // the window size, 0 if unknown, for NAWS
}

// parseStreamOptions reads telnet=auto|on|off, term=NAME[,NAME...], cols=N and rows=N.
func parseStreamOptions(q url.Values) (streamOptions, error) {
	o := streamOptions{term: []string{"XTERM-256COLOR"}}
	switch v := q.Get("telnet"); v {
	case "", "auto":
	case "on":
		o.telnet = telnetOn
	case "off":
		o.telnet = telnetOff
	default:
		return o, fmt.Errorf("telnet=%q: use auto, on or off", v)
	}
	if v := q.Get("term"); v != "" {
		o.term = strings.Split(v, ",")
		if len(o.term) > 8 {
			return o, errors.New("term: at most 8 terminal types")
		}
		for _, t := range o.term {
			if len(t) == 0 || len(t) > 40 || strings.IndexFunc(t, func(r rune) bool {
				return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
			}) >= 0 {
				return o, fmt.Errorf("term=%q: terminal types are 1 to 40 letters, digits, '-', '_' or '.'", t)
			}
		}
		for i := range o.term {
			o.term[i] = strings.ToUpper(o.term[i]) // RFC 1091 asks for upper case
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"cols", &o.cols}, {"rows", &o.rows}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return o, fmt.Errorf("%s=%q: want a number from 1 to 65535", p.name, v)
			}
			*p.dst = n
		}
	}
	return o, nil
}

// stream is a v2 session's telnet state. mu guards tel; wmu orders writes
// to the target and is taken before mu is released, so that bytes reach the
// target in the order the codec produced them (our WILL NAWS before the size
// that follows it) without holding the codec while a write blocks.
type stream struct {
	opts streamOptions
	mu   sync.Mutex
	tel  *telnet.Decoder // nil when telnet=off
	wmu  sync.Mutex
}

func newStream(o streamOptions) *stream {
	st := &stream{opts: o}
	if o.telnet != telnetOff {
		st.tel = telnet.NewDecoder(telnet.Config{TerminalTypes: o.term, Width: o.cols, Height: o.rows})
	}
	return st
}

// writeTarget runs compute under the codec lock and writes what it returns
// to the target, in the order computed.
func (st *stream) writeTarget(target net.Conn, compute func() []byte) (int, error) {
	st.mu.Lock()
	b := compute()
	st.wmu.Lock()
	st.mu.Unlock()
	defer st.wmu.Unlock()
	if len(b) == 0 {
		return 0, nil
	}
	return target.Write(b)
}

// escaping reports whether client data must be telnet-encoded: always with
// telnet=on, and with telnet=auto once the target has shown it speaks telnet
// (so that 0xFF reaches a plain TCP service unchanged). Call with mu held.
func (st *stream) escaping() bool {
	return st.tel != nil && (st.opts.telnet == telnetOn || st.tel.SeenCommand())
}

// start sends what a telnet client sends on connecting, with telnet=on.
func (st *stream) start(target net.Conn) error {
	if st.opts.telnet != telnetOn {
		return nil
	}
	_, err := st.writeTarget(target, func() []byte { return st.tel.Start(nil) })
	return err
}

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
	var m message
	var buf []byte
	for {
		if e, ok := s.receive(&m); !ok {
			return e
		}
		if m.text {
			if err := s.control(target, m.data); err != nil {
				return targetWriteFailed(err)
			}
			continue
		}
		var n int
		var err error
		if st.tel == nil {
			n, err = target.Write(m.data)
		} else {
			n, err = st.writeTarget(target, func() []byte {
				if !st.escaping() {
					return m.data
				}
				buf = st.tel.Encode(buf[:0], m.data)
				return buf
			})
		}
		s.up += int64(n)
		s.lastActive.Store(time.Now().UnixNano())
		if err != nil {
			return targetWriteFailed(err)
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
		switch {
		case err == nil:
		case err == io.EOF:
			return endTargetClosed
		default:
			return targetLost(err)
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
	now := time.Now()
	s.lastActive.Store(now.UnixNano())
	s.ws.SetWriteDeadline(now.Add(s.g.opts.WriteTimeout))
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
			return targetWriteFailed(err), false
		}
		if echo != d.remoteEcho {
			d.remoteEcho = echo
			if err := s.sendControl(controlMessage{Type: "echo", Remote: &echo}); err != nil {
				return clientWriteFailed(err), false
			}
		}
	}
	if len(data) > 0 {
		if err := s.out.frame(opBinaryFrame, data); err != nil {
			return clientWriteFailed(err), false
		}
	}
	return end{}, true
}
