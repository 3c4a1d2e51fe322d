package main

import (
	"net/http"
	"net/url"
	"strings"

	"wstelnet/internal/session"
	"wstelnet/internal/wsframe"
)

// The /websockify endpoint speaks websockify's protocol, so that clients
// made for websockify (fTelnet, noVNC-style clients) work unchanged with a
// token file they already have: the target is the named target of the
// URL's token, there is no first message and no SUCC or FAIL:, and bytes
// go both ways as they are (the engine's raw codec, internal/session/raw.go).

// serveWebsockify is the /websockify endpoint: the same checks as /ws
// (serveSession), websockify's choice of subprotocol, and a session whose
// target is the token's.
func (g *Gateway) serveWebsockify(w http.ResponseWriter, r *http.Request) {
	token := websockifyToken(r.URL.Query())
	// As websockify answers: "binary" if the client offers it; else the
	// "base64" of older websockify, which some clients still ask for
	// alone; else none, which every current client accepts.
	g.serveSession(w, r, []string{"binary", "base64"}, func(ws *wsframe.Conn) session.Config {
		return session.Config{
			Protocol: session.Websockify(ws.Protocol() == "base64"),
			Fixed:    func() (session.Target, session.End) { return g.websockifyTarget(token) },
		}
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
func (g *Gateway) websockifyTarget(token string) (session.Target, session.End) {
	switch {
	case token == "":
		return session.Target{}, session.NewEnd(session.NoTarget, "no target: connect to websockify?token=NAME with the name of one of the gateway's targets")
	case g.opts.Targets == nil:
		return session.Target{}, session.NewEnd(session.BadTarget, "this gateway has no named targets (start it with -targets FILE)")
	}
	return g.namedTarget(token)
}
