package session

import (
	"net"
	"net/url"
	"strings"
	"time"

	"wstelnet/internal/wsframe"
)

// Protocol is what a session speaks to the browser, chosen once at the
// upgrade: v1's lines, v2's stream with control messages, or websockify's
// raw bytes. Each is a small codec (v1.go, v2.go, raw.go).
type Protocol struct {
	name   string
	v2     V2Options
	err    error // bad v2 query parameters, answered with FAIL: after the first message
	base64 bool  // websockify's "base64" subprotocol
}

// SubprotocolV2 is the WebSocket subprotocol a client asks for to get
// protocol v2 (PROTOCOL.md).
const SubprotocolV2 = "wstelnet.v2"

// V1 is the seed protocol: a text frame per line, both ways.
func V1() Protocol { return Protocol{name: "v1"} }

// V2 is protocol v2 with the options of the WebSocket URL's query; bad
// ones are refused with FAIL: once the first message has come.
func V2(query url.Values) Protocol {
	o, err := ParseV2Options(query)
	return Protocol{name: "v2", v2: o, err: err}
}

// Websockify is websockify's protocol: raw bytes in binary frames, or in
// base64 in text frames for a client that asked for "base64".
func Websockify(base64 bool) Protocol { return Protocol{name: "websockify", base64: base64} }

// Name is "v1", "v2" or "websockify", as the metrics label it.
func (p Protocol) Name() string { return p.name }

// Resumable reports whether the client asked to be able to resume (v2, resume=1).
func (p Protocol) Resumable() bool { return p.name == "v2" && p.err == nil && p.v2.Resume }

// describe fills in what the protocol knows of the terminal.
func (p Protocol) describe(info *Info) {
	if p.name != "v2" {
		return // v1 and /websockify are bytes or lines with no terminal and no size
	}
	info.Cols, info.Rows = p.v2.Cols, p.v2.Rows
	if len(p.v2.Term) > 0 {
		info.Term = strings.ToLower(p.v2.Term[0]) // as a program sees TERM
	}
}

func (p Protocol) codec(writeTimeout time.Duration) codec {
	switch p.name {
	case "v2":
		return newV2(p.v2, writeTimeout)
	case "websockify":
		return &raw{base64: p.base64}
	}
	return newV1()
}

// codec is one protocol's part of the relay.
type codec interface {
	// answers reports whether the start is answered with SUCC or FAIL:.
	answers() bool
	// configure sets what the gateway and the target allow of the MUD
	// options (mud.go), once the target is known and before start.
	configure(m mudSettings)
	// start sends what the protocol sends the target first.
	start(target net.Conn) error
	// fromBrowser handles one message from the browser.
	fromBrowser(s *Session, m wsframe.Message) (End, bool)
	// toBrowser handles one read of the target's output, which it may
	// change in place; urgent says urgent data lies beyond it.
	toBrowser(s *Session, p []byte, urgent bool) (End, bool)
	// telnet reports whether the target has shown it speaks telnet.
	telnet() bool
	// quiet is how long the target may be quiet before prompt; 0: no limit.
	quiet() time.Duration
	// prompt sends what waits for more after a quiet spell (v1's partial line).
	prompt(s *Session) error
	// flush sends what is held when the target has ended.
	flush(s *Session) error
	// closed is the control message that tells the browser why the
	// gateway ends the session, or nil.
	closed(e End) []byte
	// replay is what a resumed connection needs to know at once (v2's echo).
	replay() [][]byte
}
