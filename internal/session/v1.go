package session

import (
	"net"
	"time"

	"wstelnet/internal/telnet"
	"wstelnet/internal/wsframe"
)

// The seed protocol (v1): after SUCC, every text message is a line, both
// ways. The target's telnet commands are refused and removed.

// promptDelay is the quiet spell after which a partial line (a prompt
// such as "login: ") is sent without waiting for its line ending.
const promptDelay = 50 * time.Millisecond

// v1 is the seed protocol's codec. Each direction's fields belong to that
// direction's goroutine.
type v1 struct {
	up []byte // browserToTarget's scratch

	dec   *telnet.Decoder // refuses every option until configure allows the MUD ones
	reply []byte
	fr    lineFramer
	add   func(op byte, p []byte) error // the batch being written, for fr.emit
}

func newV1() *v1 { return &v1{dec: new(telnet.Decoder)} }

// configure lets the target compress its output (MCCP2) and mark its
// prompts (EOR), if allowed; every other option stays refused.
func (c *v1) configure(m mudSettings) { c.dec = telnet.NewDecoder(m.v1Config()) }

func (c *v1) answers() bool        { return true }
func (c *v1) start(net.Conn) error { return nil }
func (c *v1) telnet() bool         { return c.dec.SeenCommand() }
func (c *v1) closed(End) []byte    { return nil }
func (c *v1) replay() [][]byte     { return nil }
func (c *v1) quiet() time.Duration {
	if c.fr.Pending() {
		return promptDelay
	}
	return 0
}

// fromBrowser writes each message to the target as a line ending in CR LF.
func (c *v1) fromBrowser(s *Session, m wsframe.Message) (End, bool) {
	// Text is UTF-8 and never holds 0xFF, but a binary message may, and
	// the target may be telnet: double it as IAC IAC.
	c.up = telnet.Escape(c.up[:0], m.Data)
	c.up = append(c.up, '\r', '\n')
	s.obs.input(m.Data, "\r\n", len(c.up)) // before the target can answer it
	n, err := s.writeTarget(c.up)
	s.up.Add(int64(n))
	s.active()
	if err != nil {
		return withErr(TargetWriteFailed, err), false
	}
	return End{}, true
}

// toBrowser answers and removes telnet commands, and sends each line the
// read completes as a text frame; the lines of one read leave in one
// write. A prompt marked by the target (IAC GA, IAC EOR) is sent at once,
// without its quiet spell. At the start of a compressed stream the rest
// of the read goes to the target reader to inflate; while it runs, no
// read deadline can time a quiet spell (it would break the inflater's
// read), so a partial line waits for its end, a prompt mark, or the
// stream's end: MUDs that compress mark their prompts.
func (c *v1) toBrowser(s *Session, p []byte, urgent bool) (End, bool) {
	wire := len(p)
	c.dec.Urgent(urgent)
	src := p
	for len(src) > 0 {
		var data []byte
		var n int
		var ev telnet.Event
		data, c.reply, n, ev = c.dec.DecodeEvent(src[:0], c.reply[:0], src)
		src = src[n:]
		if len(c.reply) > 0 {
			if _, err := s.writeTarget(c.reply); err != nil {
				return withErr(TargetWriteFailed, err), false
			}
		}
		if len(data) > 0 || wire > 0 {
			s.obs.output(data, wire)
			wire = 0
		}
		step := func() error { return c.fr.Write(data) }
		if ev == telnet.EventPrompt {
			step = func() error {
				if err := c.fr.Write(data); err != nil {
					return err
				}
				return c.fr.Flush()
			}
		}
		if err := c.lines(s, step); err != nil {
			return withErr(ClientWriteFailed, err), false
		}
		if ev == telnet.EventCompress {
			s.tr.inflate(src)
			s.log.Debug("the target compresses its output (MCCP2)")
			break
		}
	}
	return End{}, true
}

func (c *v1) prompt(s *Session) error { return c.lines(s, c.fr.Flush) }
func (c *v1) flush(s *Session) error  { return c.lines(s, c.fr.Close) }

// lines runs one of the framer's steps with its frames going into one batch.
func (c *v1) lines(s *Session, step func() error) error {
	if c.fr.emit == nil {
		c.fr.emit = func(p []byte) error { return c.add(wsframe.OpText, p) }
	}
	return s.b.frames(func(add func(op byte, p []byte) error) error {
		c.add = add
		return step()
	})
}
