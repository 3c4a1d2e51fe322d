package main

import (
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"wstelnet/internal/wsframe"
)

// The /websockify endpoint speaks websockify's protocol, so that clients
// made for websockify (fTelnet, noVNC-style clients) work unchanged with a
// token file they already have: the target is the named target of the
// URL's token, there is no first message and no SUCC or FAIL:, and bytes
// go both ways in binary frames, or base64 in text frames for a client
// that still asks for the old "base64" subprotocol.
//
// The bytes are relayed raw, as websockify relays them: such clients do
// their own telnet (fTelnet negotiates with the BBS itself), and a gateway
// that answered the target's negotiation too would answer twice and strip
// what the client needs to see.

// websockifySession is what a /websockify session knows from its URL.
type websockifySession struct {
	token  string // the named target; "" if the URL has none
	base64 bool   // the client asked for the "base64" subprotocol
}

// serveWebsockify is the /websockify endpoint: the same checks as /ws
// (serveSession), websockify's choice of subprotocol, and a session whose
// target is the token's.
func (g *Gateway) serveWebsockify(w http.ResponseWriter, r *http.Request) {
	token := websockifyToken(r.URL.Query())
	// As websockify answers: "binary" if the client offers it; else the
	// "base64" of older websockify, which some clients still ask for
	// alone; else none, which every current client accepts.
	g.serveSession(w, r, []string{"binary", "base64"}, func(s *session) {
		s.wsk = &websockifySession{token: token, base64: s.ws.Protocol() == "base64"}
	})
}

// websockifyToken finds the token the way websockify's clients send it:
// ?token=NAME, or inside a ?path= parameter (noVNC's "path" setting,
// e.g. path=websockify%3Ftoken%3DNAME, when a client passes it on as it is).
func websockifyToken(q url.Values) string {
	if t := q.Get("token"); t != "" {
		return strings.TrimRight(t, "\n") // websockify strips a trailing newline
	}
	if p := q.Get("path"); p != "" {
		if _, query, ok := strings.Cut(p, "?"); ok {
			if inner, err := url.ParseQuery(query); err == nil {
				return strings.TrimRight(inner.Get("token"), "\n")
			}
		}
	}
	return ""
}

// target is the token's named target, or why there is none, for the close frame.
func (wk *websockifySession) target(s *session) (sessionTarget, end, bool) {
	if wk.token == "" {
		return sessionTarget{}, endRefused("no target", "no target: connect to websockify?token=NAME with the name of one of the gateway's targets", nil), false
	}
	if s.g.opts.Targets == nil {
		return sessionTarget{}, endBadTarget("this gateway has no named targets (start it with -targets FILE)"), false
	}
	t, err := s.g.namedTarget(wk.token)
	switch {
	case errors.As(err, new(unknownNameError)):
		return sessionTarget{}, endUnknownName(err.Error()), false
	case err != nil:
		return sessionTarget{}, endBadTarget(err.Error()), false
	}
	return t, end{}, true
}

// browserToTargetRaw writes every data message to the target as it is
// (base64-decoded for a base64 client), as websockify does whatever the
// frame's type.
func (s *session) browserToTargetRaw(target net.Conn) end {
	var buf []byte
	for {
		m, err := s.ws.ReadMessage()
		if err != nil {
			return endOfRead(err)
		}
		data := m.Data
		if s.wsk.base64 {
			buf = slices.Grow(buf[:0], base64.StdEncoding.DecodedLen(len(data)))[:base64.StdEncoding.DecodedLen(len(data))]
			n, err := base64.StdEncoding.Decode(buf, data)
			if err != nil {
				return endProtocol(&wsframe.ProtocolError{Code: wsframe.CloseUnsupportedData, Reason: "not base64: " + err.Error()})
			}
			data = buf[:n]
		}
		s.rec.inputs(data, "")
		n, err := s.writeTarget(target, data)
		s.up += int64(n)
		s.g.opts.Metrics.addUp(n)
		s.lastActive.Store(time.Now().UnixNano())
		if err != nil {
			return endTargetWriteFailed(err)
		}
	}
}

// targetToBrowserRaw sends the target's bytes as they are read, in binary
// frames (base64 in text frames for a base64 client).
func (s *session) targetToBrowserRaw(target net.Conn) end {
	tr := newTargetReader(target)
	var enc []byte
	for {
		bp, n, err := tr.next()
		if n > 0 {
			data := (*bp)[:n]
			s.down += int64(n)
			s.g.opts.Metrics.addDown(n)
			s.rec.output(data)
			s.lastActive.Store(time.Now().UnixNano())
			var op byte = wsframe.OpBinary
			if s.wsk.base64 {
				enc = base64.StdEncoding.AppendEncode(enc[:0], data)
				data, op = enc, wsframe.OpText
			}
			werr := s.ws.Writer().WriteFrame(op, data)
			readBufs.Put(bp)
			if werr != nil {
				return endClientWriteFailed(werr)
			}
		}
		if e, ok := endOfTargetRead(err); ok {
			return e
		}
	}
}

// serveEmbed sends /embed/NAME to the page's embedded view of that
// target, #target=NAME&embed=1, keeping the mode and charset of the query.
func (g *Gateway) serveEmbed(w http.ResponseWriter, r *http.Request) {
	h := url.Values{"target": {r.PathValue("name")}, "embed": {"1"}}
	for _, k := range []string{"mode", "charset"} {
		if v := r.URL.Query().Get(k); v != "" {
			h.Set(k, v)
		}
	}
	http.Redirect(w, r, g.opts.BasePath+"#"+h.Encode(), http.StatusFound)
}
