package session

import (
	"encoding/base64"
	"net"
	"slices"
	"time"

	"wstelnet/internal/wsframe"
)

// raw is websockify's protocol: bytes go both ways as they are, in binary
// frames, or base64 in text frames for a client that asked for the old
// "base64" subprotocol. There is no first message and no SUCC or FAIL:.
// The bytes are relayed raw, as websockify relays them: such clients do
// their own telnet (fTelnet negotiates with the BBS itself), and a gateway
// that answered the target's negotiation too would answer twice and strip
// what the client needs to see.
type raw struct {
	base64 bool
	up     []byte // browserToTarget's scratch
	down   []byte // targetToBrowser's
}

func (c *raw) answers() bool         { return false }
func (c *raw) configure(mudSettings) {} // bytes as they are: the client does its own telnet
func (c *raw) start(net.Conn) error  { return nil }
func (c *raw) telnet() bool          { return false }
func (c *raw) quiet() time.Duration  { return 0 }
func (c *raw) prompt(*Session) error { return nil }
func (c *raw) flush(*Session) error  { return nil }
func (c *raw) closed(End) []byte     { return nil }
func (c *raw) replay() [][]byte      { return nil }

// fromBrowser writes every data message to the target as it is
// (base64-decoded for a base64 client), as websockify does whatever the
// frame's type.
func (c *raw) fromBrowser(s *Session, m wsframe.Message) (End, bool) {
	data := m.Data
	if c.base64 {
		n := base64.StdEncoding.DecodedLen(len(data))
		c.up = slices.Grow(c.up[:0], n)[:n]
		n, err := base64.StdEncoding.Decode(c.up, data)
		if err != nil {
			return endProtocol(&wsframe.ProtocolError{Code: wsframe.CloseUnsupportedData, Reason: "not base64: " + err.Error()}), false
		}
		data = c.up[:n]
	}
	s.obs.input(data, "", len(data)) // before the target can answer it
	n, err := s.writeTarget(data)
	s.up.Add(int64(n))
	s.active()
	if err != nil {
		return withErr(TargetWriteFailed, err), false
	}
	return End{}, true
}

// toBrowser sends the target's bytes as they are read.
func (c *raw) toBrowser(s *Session, p []byte, _ bool) (End, bool) {
	s.obs.output(p, len(p))
	var err error
	if c.base64 {
		c.down = base64.StdEncoding.AppendEncode(c.down[:0], p)
		err = s.b.text(c.down)
	} else {
		err = s.b.output(p)
	}
	if err != nil {
		return withErr(ClientWriteFailed, err), false
	}
	return End{}, true
}
