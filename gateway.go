package main

import (
	"bytes"
	"container/list"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wstelnet/internal/faillimit"
	"wstelnet/internal/metrics"
	"wstelnet/internal/mssp"
	"wstelnet/internal/policy"
	"wstelnet/internal/recording"
	"wstelnet/internal/session"
	"wstelnet/internal/tokens"
	"wstelnet/internal/wsframe"
)

//go:embed static
var staticFiles embed.FS

// gatewayOptions are the gateway's dependencies and limits. Zero values get
// the defaults noted on each field.
type gatewayOptions struct {
	Logger *slog.Logger // required
	// Dial opens the TCP connection to a target. Default: a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// DialTimeout bounds Dial. Default 10s.
	DialTimeout time.Duration
	// Origins are extra page origins allowed to open sessions, normalised
	// by normalizeOrigin.
	Origins []string
	// LoopbackOnly makes every request name a loopback host in its Host
	// header, which defeats DNS rebinding against a gateway on 127.0.0.1.
	LoopbackOnly bool
	// EchoAddr, when set, is filled in on the page as the default target.
	EchoAddr string
	// FirstMessageTimeout bounds the wait for "host:port". Default 10s.
	FirstMessageTimeout time.Duration
	// WriteTimeout drops a browser that stops reading. Default 30s.
	WriteTimeout time.Duration
	// MaxMessage is the largest message accepted from a browser. Default 1 MiB.
	MaxMessage int
	// MaxSessions and MaxPerClient cap live sessions in all and per client
	// address. 0: no cap.
	MaxSessions, MaxPerClient int
	// ExtraDescriptors is what a session holds besides its browser's
	// connection: 1 (the target), 2 while recorded. Descriptors counts with it.
	ExtraDescriptors int
	// MaxPending bounds the sockets waiting for their first message
	// (maxPending unless set: tests make it small).
	MaxPending int
	// IdleTimeout ends a session without data either way for that long. 0: never.
	IdleTimeout time.Duration
	// PingInterval is how often the browser is pinged, so that proxies and
	// NATs keep idle sessions open. 0: never.
	PingInterval time.Duration
	// Auth, when set, requires HTTP Basic credentials for everything but
	// /healthz and /readyz.
	Auth *htpasswd
	// BasePath is the prefix every path lives under, "/" or "/prefix/".
	BasePath string
	// TrustProxy are the peers whose X-Forwarded-For and X-Forwarded-Proto
	// headers are believed.
	TrustProxy []netip.Prefix
	// ResumeWindow is how long a v2 session opened with resume=1 is kept
	// after its connection is lost. 0: resume is off.
	ResumeWindow time.Duration
	// ResumeBuffer bounds the output a resumable session keeps until the
	// browser acknowledges it (at least 64 KiB).
	ResumeBuffer int
	// ResumeMemory bounds the storage all resumable sessions' buffers
	// take together (session.Budget); 0: no bound.
	ResumeMemory int64
	// Recorder, when set, records every session (-record). nil: off.
	Recorder *recording.Recorder
	// Metrics, when set, counts sessions for Prometheus (-metrics-listen). nil: off.
	Metrics *metrics.Metrics

	// Targets returns the named targets (-targets); nil: there are none,
	// and the first message is host:port.
	Targets func() *tokens.Set
	// FreeTargets lets browsers send host:port besides names when Targets
	// is set (-targets with -allow).
	FreeTargets bool
	// DialNamed dials named targets, under their own policy. Default: Dial.
	DialNamed func(ctx context.Context, network, address string) (net.Conn, error)
	// ProxyProtocol are the targets whose connections start with a PROXY
	// protocol header of ProxyProtocolVersion (1 or 2; 0 means 1).
	ProxyProtocol        []policy.Rule
	ProxyProtocolVersion int
	// FrameAncestors are the CSP frame-ancestors sources of the page
	// (-frame-ancestors); none: nobody may frame it.
	FrameAncestors []string
	// NoMCCP refuses MCCP2 compression on every target (-mccp=false).
	NoMCCP bool
	// MSSPInterval is how often a named target with the mssp option is
	// asked about itself (0: every 5 minutes).
	MSSPInterval time.Duration
}

// Gateway is the HTTP handler: the page, /healthz, /readyz and the
// WebSocket endpoints, whose sockets it hands to the session engine.
type Gateway struct {
	opts   gatewayOptions
	log    *slog.Logger
	mux    *http.ServeMux
	index  []byte // the rendered page
	runID  string // names this run in session ids; see newSessionID
	csp    string // the Content-Security-Policy of every response
	nextID atomic.Uint64
	env    *session.Env // what every session is given

	mu        sync.Mutex
	sessions  map[*tracked]struct{} // every socket handed to the engine, until its session ends
	slots     int                   // sessions that hold a slot (-max-sessions)
	perClient map[string]int        // slots per client address
	pending   list.List             // *tracked waiting for their first message, oldest first (maxPending)
	draining  bool                  // Drain was called: new sessions are refused, /readyz says 503
	closing   bool
	wg        sync.WaitGroup // one count per tracked session

	// Wrong passwords and resumes of unknown sessions, per client address (auth.go).
	authFailures, resumeFailures *faillimit.Limiter
	targetList                   targetListCache // /targets.json (targets.go)
	mssp                         *mssp.Poller    // games' MSSP answers for /targets.json; nil without -targets
	quiet                        *session.Poller // waits for quiet sessions' sockets; closed once the last session has ended
}

// tracked is a session as the gateway counts it.
type tracked struct {
	s       *session.Session // nil for a moment, until Start returns
	client  string
	slot    bool          // it holds a slot
	waiting *list.Element // in Gateway.pending: no first message yet
	evicted bool          // pushed out of pending by newer sockets: refused
}

// maxPending bounds the sockets that have not sent their first message
// yet, beyond one for each resumable session held (which may all come
// back at once, after a proxy in front restarts: each lost connection
// freed the descriptor its resume takes). They hold no slot. Past the
// bound, the one that has waited longest is refused (busy, which the page
// retries), so that connections that say nothing cannot crowd out real
// ones, which speak within a round trip. Each costs a descriptor and a
// few KiB.
const maxPending = 1024

func newGateway(opts gatewayOptions) (*Gateway, error) {
	if opts.Dial == nil {
		opts.Dial = (&net.Dialer{}).DialContext
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.FirstMessageTimeout <= 0 {
		opts.FirstMessageTimeout = 10 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 1 << 20
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = maxPending
	}
	if opts.BasePath == "" {
		opts.BasePath = "/"
	}
	if opts.DialNamed == nil {
		opts.DialNamed = opts.Dial
	}
	g := &Gateway{opts: opts, log: opts.Logger, sessions: map[*tracked]struct{}{}, perClient: map[string]int{}, runID: newRunID()}
	g.env = &session.Env{
		Log:                 opts.Logger,
		DialTimeout:         opts.DialTimeout,
		FirstMessageTimeout: opts.FirstMessageTimeout,
		WriteTimeout:        opts.WriteTimeout,
		IdleTimeout:         opts.IdleTimeout,
		PingInterval:        opts.PingInterval,
		ResumeWindow:        opts.ResumeWindow,
		ResumeBuffer:        opts.ResumeBuffer,
		Budget:              session.NewBudget(opts.ResumeMemory),
		Resumes:             session.NewRegistry(),
		NoMCCP:              opts.NoMCCP,
		Version:             version(),
	}
	// Without it every session keeps a goroutine waiting on each side:
	// 4 KiB or more each, and nothing else changes.
	if p, err := session.NewPoller(); err != nil {
		g.log.Warn("quiet sessions will each keep two goroutines", "err", err)
	} else {
		g.quiet, g.env.Poller = p, p
	}
	// Only observers that are on: the engine calls each without a check.
	if opts.Metrics != nil {
		g.env.Observers = append(g.env.Observers, opts.Metrics)
		opts.Metrics.Ready(g.Draining)
		opts.Metrics.Capacity(g.env.Budget.Used, g.env.Budget.Limit(), g.Waiting, g.Descriptors)
	}
	if opts.Recorder != nil {
		g.env.Observers = append(g.env.Observers, opts.Recorder)
	}
	g.csp = contentSecurityPolicy(opts.FrameAncestors)
	if opts.Targets != nil {
		g.mssp = g.newMSSPPoller()
	}
	g.newLimiters()
	g.env.ResumeGuard = g.resumeFailures

	index, err := renderIndex(opts.EchoAddr, opts.FrameAncestors)
	if err != nil {
		return nil, err
	}
	g.index = index
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	wsEndpoint := http.HandlerFunc(g.serveWebSocket)

	// Every path lives under the base path; p("/x") is "/prefix/x".
	base := strings.TrimSuffix(opts.BasePath, "/")
	p := func(path string) string { return base + path }
	g.mux = http.NewServeMux()
	g.mux.Handle("GET "+p("/{$}"), g.authed(http.HandlerFunc(g.serveIndex)))
	g.mux.Handle("GET "+p("/index.html"), g.authed(http.HandlerFunc(g.serveIndex)))
	g.mux.Handle("GET "+p("/"), g.authed(http.StripPrefix(base, http.FileServerFS(static))))
	// Health checks come from load balancers, which have no password.
	// /healthz: the process is alive; /readyz: it takes new sessions.
	g.mux.HandleFunc("GET "+p("/healthz"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	g.mux.HandleFunc("GET "+p("/readyz"), g.serveReady)
	g.mux.Handle("GET "+p("/ws"), g.authed(wsEndpoint))
	// The tutorial's clients hardcode this path.
	g.mux.Handle("GET "+p("/websocket/ws"), g.authed(wsEndpoint))
	g.mux.Handle("GET "+p("/websockify"), g.authed(http.HandlerFunc(g.serveWebsockify)))
	g.mux.Handle("GET "+p("/targets.json"), g.authed(http.HandlerFunc(g.serveTargetList)))
	g.mux.Handle("GET "+p("/embed/{name}"), g.authed(http.HandlerFunc(g.serveEmbed)))
	if base != "" {
		g.mux.Handle("GET "+base, http.RedirectHandler(opts.BasePath, http.StatusMovedPermanently))
	}
	return g, nil
}

// newRunID is a short random name for this run of the gateway.
func newRunID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:6]
}

// newSessionID names a session in the logs and its recording: the run's
// random name and a counter, e.g. "k3qf9a-12". The counter keeps the
// sessions of a run in order; the run's name keeps ids apart across
// restarts and between gateways that share a -record directory.
func (g *Gateway) newSessionID() string {
	return g.runID + "-" + strconv.FormatUint(g.nextID.Add(1), 10)
}

// renderIndex fills the echo server's address into the page, so that a new
// user only has to click Connect, and tells the page the gateway's
// version (for GMCP Core.Hello) and the -frame-ancestors, the only
// origins the page posts a game's data to and takes messages from when
// it is framed.
func renderIndex(echoAddr string, frameAncestors []string) ([]byte, error) {
	t, err := template.ParseFS(staticFiles, "static/index.html")
	if err != nil {
		return nil, fmt.Errorf("parse embedded page: %w", err)
	}
	data := struct{ EchoHost, EchoPort, Version, FrameAncestors string }{
		Version:        version(),
		FrameAncestors: strings.Join(frameAncestors, " "),
	}
	if echoAddr != "" {
		data.EchoHost, data.EchoPort, _ = net.SplitHostPort(echoAddr)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render embedded page: %w", err)
	}
	return buf.Bytes(), nil
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := g.identify(r)
	r = withClient(r, c)
	// Behind a trusted proxy, the proxy decides which host names it serves.
	if g.opts.LoopbackOnly && !c.viaProxy && !isLoopbackHost(r.Host) {
		g.log.Warn("request refused: Host is not a loopback name", "host", r.Host, "client", c.addr)
		g.opts.Metrics.Refuse("host")
		http.Error(w, fmt.Sprintf("403 Forbidden: this gateway listens on loopback and only answers to Host localhost or a loopback address, not %q.", r.Host), http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", g.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	g.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy is the page's policy. The page loads nothing from
// other hosts and may only talk back to its own origin; nobody may frame
// it (clickjacking a console is bad news) but the -frame-ancestors a
// sysop lists. style-src adds 'unsafe-inline' for xterm.js (terminal
// mode): its DOM renderer writes <style> elements (theme, cell size) and
// sets style attributes on cells (truecolor, contrast), both blocked
// under default-src 'self'. Scripts stay 'self' only.
func contentSecurityPolicy(frameAncestors []string) string {
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	return "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors " + ancestors + "; base-uri 'none'; form-action 'none'"
}

// authed asks for credentials first when -htpasswd is set.
func (g *Gateway) authed(h http.Handler) http.Handler {
	if g.opts.Auth == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.requireAuth(w, r) {
			h.ServeHTTP(w, r)
		}
	})
}

func (g *Gateway) serveIndex(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(routeCookie); err != nil {
		g.setRouteCookie(w, r)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(g.index)
}

// routeCookie names a cookie that only a load balancer reads: a random
// value per browser, set with the page, so that a proxy in front of
// several gateways can hash it (nginx: hash $cookie_wstelnet_route
// consistent) and send every later request of that browser, its
// WebSockets and their resumes included, to the same gateway, the one
// that holds its sessions. The gateway itself ignores it.
const routeCookie = "wstelnet_route"

func (g *Gateway) setRouteCookie(w http.ResponseWriter, r *http.Request) {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	http.SetCookie(w, &http.Cookie{
		Name:     routeCookie,
		Value:    base64.RawURLEncoding.EncodeToString(b[:]),
		Path:     g.opts.BasePath,
		HttpOnly: true,                          // no script needs it
		Secure:   clientOf(r).scheme == "https", // as the browser reached us, proxy included
		SameSite: http.SameSiteStrictMode,
		// No expiry: it lasts as long as the browser session, longer than
		// any session resume it serves.
	})
}

// serveWebSocket is the WebSocket endpoint of protocols v1 and v2.
func (g *Gateway) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	// wstelnet.v2 if the client offers it, else none (v1).
	g.serveSession(w, r, []string{session.SubprotocolV2}, func(ws *wsframe.Conn) session.Config {
		p := session.V1()
		if ws.Protocol() == session.SubprotocolV2 {
			p = session.V2(r.URL.Query())
		}
		return session.Config{Protocol: p, Choose: g.chooseTarget}
	})
}

// serveSession serves a WebSocket endpoint: it answers plain HTTP requests
// with a useful message, refuses cross-site upgrades before the
// handshake, upgrades with the first of protocols the client offers,
// lets endpoint choose the session's protocol and target, takes a slot,
// and hands the socket to the session engine.
func (g *Gateway) serveSession(w http.ResponseWriter, r *http.Request, protocols []string, endpoint func(*wsframe.Conn) session.Config) {
	if !r.ProtoAtLeast(1, 1) {
		// A proxy without "proxy_http_version 1.1" would pass the upgrade
		// on as HTTP/1.0, which cannot carry a WebSocket.
		http.Error(w, "400 Bad Request: WebSockets need HTTP/1.1; if a proxy is in front, make it speak HTTP/1.1 to the gateway.", http.StatusBadRequest)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "426 Upgrade Required: this is wstelnet's WebSocket endpoint; open the page at / in a browser instead.", http.StatusUpgradeRequired)
		return
	}
	c := clientOf(r)
	if err := g.checkOrigin(r); err != nil {
		g.log.Warn("WebSocket refused", "client", c.addr, "origin", r.Header.Get("Origin"), "err", err)
		g.opts.Metrics.Refuse("origin")
		http.Error(w, "403 Forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	ws, err := wsframe.Upgrade(w, r, protocols, wsframe.Options{MaxMessage: g.opts.MaxMessage, WriteTimeout: g.opts.WriteTimeout})
	if err != nil {
		return // the library answered 400
	}
	cfg := endpoint(ws)
	cfg.WS = ws
	cfg.ID = g.newSessionID()
	cfg.Client = c.addr
	cfg.Peer = c.addrPort()
	cfg.TLS = c.scheme == "https"
	user, pass, _ := r.BasicAuth() // checked by authed
	cfg.User = user
	t := g.track(c.addr, &cfg)
	cfg.Admit = func(resume bool) (session.End, bool) { return g.admit(t, resume) }
	// A live session keeps its user's cached credentials from expiring, so
	// that its resume never waits on bcrypt behind password guessers.
	hold := g.opts.Auth.hold(user, pass)
	cfg.Done = func() {
		hold.release()
		g.untrack(t)
	}
	// The session goes on in its own goroutine and this handler returns, so
	// that net/http lets go of the connection's buffers and goroutine.
	s := session.Start(g.env, cfg)
	g.mu.Lock()
	t.s = s
	closing, evicted := g.closing, t.evicted
	g.mu.Unlock()
	switch {
	case closing:
		s.Stop(session.NewEnd(session.Shutdown, ""))
	case evicted:
		s.Stop(endCrowded())
	}
}

// track counts a socket handed to the engine. It takes no slot yet
// (admit does, once the first message says what the socket wants): it
// waits among the pending, the oldest of which is refused when too many
// wait. Once the gateway shuts down, it is refused at once.
func (g *Gateway) track(client string, cfg *session.Config) *tracked {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := &tracked{client: client}
	g.sessions[t] = struct{}{}
	g.wg.Add(1)
	if g.closing {
		e := session.NewEnd(session.Shutdown, "")
		cfg.Refuse = &e
		return t
	}
	if g.pending.Len() >= g.opts.MaxPending+g.env.Resumes.Len() {
		old := g.pending.Remove(g.pending.Front()).(*tracked)
		old.waiting, old.evicted = nil, true
		if old.s != nil {
			old.s.Stop(endCrowded())
		}
	}
	t.waiting = g.pending.PushBack(t)
	return t
}

// endCrowded refuses a socket pushed out of the pending ones: it may try
// again (the page does, for a resume).
func endCrowded() session.End {
	return session.NewEnd(session.Busy, "the gateway is busy: too many connections are waiting to say what they want; try again")
}

// admit decides, once t's first message has come, whether its session may
// go on. A resume always may while the gateway runs, even full or
// draining: its session holds a slot already, and the resume only moves
// it to this socket. A new session takes a slot, if there is one and the
// gateway is not draining.
func (g *Gateway) admit(t *tracked, resume bool) (session.End, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.evicted {
		return endCrowded(), false
	}
	if t.waiting != nil {
		g.pending.Remove(t.waiting)
		t.waiting = nil
	}
	switch err := g.busyLocked(t.client); {
	case g.closing:
		return session.NewEnd(session.Shutdown, ""), false
	case resume:
		return session.End{}, true
	case g.draining:
		return session.NewEnd(session.Shutdown, ""), false
	case err != nil:
		return session.NewEnd(session.Busy, err.Error()), false
	}
	t.slot = true
	g.slots++
	g.perClient[t.client]++
	return session.End{}, true
}

// checkOrigin implements the rule against cross-site WebSocket hijacking: a
// browser (which always sends Origin) may open a session only from the
// gateway's own page or an origin listed with -origin. Clients that send no
// Origin are not browsers and are not subject to it.
func (g *Gateway) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("origin %q is not allowed to open sessions (not a web origin)", origin)
	}
	got := normalizeOrigin(u.Scheme, u.Host)
	if c := clientOf(r); got == normalizeOrigin(c.scheme, c.host) || slices.Contains(g.opts.Origins, got) {
		return nil
	}
	return fmt.Errorf("origin %s is not allowed to open sessions; to allow a page there, start wstelnet with -origin %s", got, got)
}

// requestScheme is the scheme the browser used to reach the gateway.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// normalizeOrigin gives scheme://host:port in lower case with the default
// port written out, so that http://Example.org and http://example.org:80 compare equal.
func normalizeOrigin(scheme, hostport string) string {
	scheme = strings.ToLower(scheme)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if port == "" {
		switch scheme {
		case "https", "wss":
			port = "443"
		default:
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(host), port)
}

// isLoopbackHost reports whether a Host header names this machine: localhost
// (or a name under .localhost, which browsers resolve to loopback themselves)
// or a loopback IP address.
func isLoopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Sessions is the number of live sessions: those that hold a slot.
func (g *Gateway) Sessions() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.slots
}

// Descriptors is how many descriptors the sessions hold: a browser's
// connection for every socket handed to the engine, and the target's (and
// a recording's) for every slot. A few moments' lag is fine: it bounds,
// with a reserve, what the listener takes (shedListener, server.go).
func (g *Gateway) Descriptors() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sessions) + g.slots*max(1, g.opts.ExtraDescriptors)
}

// Waiting is the number of sockets waiting for their first message.
func (g *Gateway) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pending.Len()
}

// serveReady answers a load balancer's readiness check: 200 while the
// gateway takes new sessions, 503 from the moment a drain begins.
func (g *Gateway) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if g.Draining() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("draining: the gateway is shutting down and takes no new sessions\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// Drain begins a shutdown: from now on new sessions get FAIL: saying the
// gateway is shutting down and /readyz answers 503, while the listener
// and the open sessions go on, so that a load balancer can take the
// gateway out before Shutdown ends them.
func (g *Gateway) Drain() {
	g.mu.Lock()
	g.draining = true
	g.mu.Unlock()
}

// closingNow reports whether Shutdown has been called.
func (g *Gateway) closingNow() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

// Draining reports whether Drain or Shutdown has been called.
func (g *Gateway) Draining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.draining || g.closing
}

// busyLocked says why the gateway cannot take a new session from client,
// if so, in words for the FAIL: answer.
func (g *Gateway) busyLocked(client string) error {
	switch {
	case g.opts.MaxSessions > 0 && g.slots >= g.opts.MaxSessions:
		return fmt.Errorf("the gateway is busy (%d sessions open, the most it allows); try again later", g.slots)
	case g.opts.MaxPerClient > 0 && g.perClient[client] >= g.opts.MaxPerClient:
		return fmt.Errorf("the gateway is busy: you already have %d sessions open, the most it allows per address; close one and try again", g.perClient[client])
	}
	return nil
}

// untrack forgets a session that has ended, and gives back its slot.
func (g *Gateway) untrack(t *tracked) {
	g.mu.Lock()
	delete(g.sessions, t)
	if t.slot {
		g.slots--
		if g.perClient[t.client]--; g.perClient[t.client] <= 0 {
			delete(g.perClient, t.client)
		}
	} else if t.waiting != nil {
		g.pending.Remove(t.waiting)
	}
	g.mu.Unlock()
	g.wg.Done()
}

// Shutdown ends every session with close code 1001 (going away), those
// let in to resume too, and waits for them to finish. When ctx ends
// first, the sessions still open (a browser that does not take its close
// frame) are cut without one.
func (g *Gateway) Shutdown(ctx context.Context) error {
	if g.mssp != nil {
		g.mssp.Stop()
	}
	g.mu.Lock()
	g.closing = true
	for t := range g.sessions {
		if t.s != nil {
			t.s.Stop(session.NewEnd(session.Shutdown, ""))
		}
	}
	g.mu.Unlock()

	done := make(chan struct{})
	go func() { g.wg.Wait(); g.quiet.Close(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	n := len(g.sessions)
	for t := range g.sessions {
		if t.s != nil {
			t.s.Cut()
		}
	}
	g.mu.Unlock()
	g.log.Warn("cut sessions that did not close in time", "sessions", n)
	// Cut connections end their sessions at once; this bound is for a bug.
	select {
	case <-done:
		return nil
	case <-time.After(2 * time.Second):
		return fmt.Errorf("%d sessions still open after they were cut", g.Sessions())
	}
}

// EndSessionsOf ends the sessions of users (a -htpasswd reload removed
// them), and returns how many it ended.
func (g *Gateway) EndSessionsOf(users []string) int {
	gone := map[string]bool{}
	for _, u := range users {
		gone[u] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for t := range g.sessions {
		if t.s != nil && t.s.User() != "" && gone[t.s.User()] {
			t.s.Stop(session.NewEnd(session.Revoked, "your user name was removed from the gateway's password file"))
			n++
		}
	}
	return n
}

// version is the gateway's version as the build recorded it (a module
// version, or the VCS revision), for MUDs that ask (NEW-ENVIRON's
// CLIENT_VERSION); "dev" when the build says nothing.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "dev"
}
