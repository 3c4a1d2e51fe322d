package main

import (
	"errors"
	"fmt"
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
	resume     bool     // resume=1: the session may outlive its socket (resume.go)
}

// parseStreamOptions reads telnet=auto|on|off, term=NAME[,NAME...], cols=N,
// rows=N and resume=1.
func parseStreamOptions(q url.Values) (streamOptions, error) {
	o := streamOptions{term: []string{"XTERM-256COLOR"}}
	switch v := q.Get("resume"); v {
	case "", "0":
	case "1":
		o.resume = true
	default:
		return o, fmt.Errorf("resume=%q: use 1 to make the session resumable, or leave it out", v)
	}
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
	// cols and rows are the window size the target was last told (guarded by mu).
	cols, rows int
	// writeTimeout bounds each write to the target (-write-timeout).
	writeTimeout time.Duration
	mu           sync.Mutex
	tel          *telnet.Decoder // nil when telnet=off
	wmu          sync.Mutex
}

func newStream(o streamOptions) *stream {
	st := &stream{opts: o, cols: o.cols, rows: o.rows}
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
	target.SetWriteDeadline(time.Now().Add(st.writeTimeout))
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
