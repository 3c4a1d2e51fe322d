package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"wstelnet/internal/echo"
	"wstelnet/internal/machine"
	"wstelnet/internal/metrics"
	"wstelnet/internal/policy"
	"wstelnet/internal/recording"
)

// Plain HTTP requests (the page, its files, /healthz, a refused upgrade)
// get these bounds; a WebSocket upgrade clears them when the connection is
// hijacked, and the session sets its own.
var defaultHTTPTimeouts = httpTimeouts{
	// A client that trickles its request headers.
	ReadHeader: 10 * time.Second,
	// A request whose declared body never comes (the server reads what
	// is left of a body before the next request).
	Read: 30 * time.Second,
	// A client that asks and does not read, e.g. one that pipelines GETs
	// of the page's files: the largest (xterm.js, 300 KB) over a slow
	// phone link is well inside a minute.
	Write: time.Minute,
	// Keep-alive connections from browsers that went away.
	Idle: 2 * time.Minute,
}

type httpTimeouts struct{ ReadHeader, Read, Write, Idle time.Duration }

// server is the running program: the listener, the echo server, the
// gateway and the HTTP server that serves it.
type server struct {
	log             *slog.Logger
	ln              net.Listener
	echo            *echo.Server // nil without -echo
	metricsLn       net.Listener // nil without -metrics-listen
	metricsHTTP     *http.Server
	targets         *targetStore // nil without -targets
	reload          *reloader    // SIGHUP, -htpasswd and the TLS keys
	gw              *Gateway
	http            *http.Server
	drainDelay      time.Duration
	shutdownTimeout time.Duration
}

// newServer listens and builds everything run serves, or says why it cannot.
func newServer(cfg config, stdout io.Writer, logger *slog.Logger) (*server, error) {
	var auth *htpasswd
	var err error
	if cfg.htpasswd != "" {
		if auth, err = loadHtpasswd(cfg.htpasswd); err != nil {
			return nil, usageError{err}
		}
	}
	tc, keys, fingerprint, err := tlsConfig(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another program using that port? pick another with -listen)", cfg.listen, err)
	}
	s := &server{log: logger, ln: ln, drainDelay: cfg.drainDelay, shutdownTimeout: cfg.shutdownTimeout}
	loopback := isLoopbackAddr(ln.Addr().String())

	allow := cfg.allow
	var echoAddr string
	if cfg.echo != "" {
		if s.echo, err = echo.Start(cfg.echo, logger); err != nil {
			ln.Close()
			return nil, err
		}
		echoAddr = s.echo.Addr()
		logger.Info("echo server listening", "addr", echoAddr)
		if len(allow) > 0 {
			// The page offers the echo server; -allow should not have to name it.
			rules, err := policy.ParseRules("-echo", echoAddr)
			if err != nil {
				s.close()
				return nil, err
			}
			allow = append(allow, rules...)
		}
	}

	var m *metrics.Metrics
	if cfg.metricsListen != "" {
		if s.metricsLn, err = net.Listen("tcp", cfg.metricsListen); err != nil {
			s.close()
			return nil, fmt.Errorf("-metrics-listen %s: %w (is another program using that port?)", cfg.metricsListen, err)
		}
		m = metrics.New()
		s.metricsHTTP = newHTTPServer(checkMetricsHost(m.Handler(), cfg.metricsHosts, logger), defaultHTTPTimeouts, logger)
		if !isLoopbackAddr(s.metricsLn.Addr().String()) {
			logger.Warn("-metrics-listen is reachable beyond this machine and has no authentication: anyone who reaches it reads the metrics; prefer a loopback or private address, or a firewall", "addr", s.metricsLn.Addr().String())
		}
		fmt.Fprintf(stdout, "wstelnet: Prometheus metrics at http://%s/metrics\n", s.metricsLn.Addr())
	}
	var rec *recording.Recorder
	if cfg.recordDir != "" {
		if err := recording.CheckDir(cfg.recordDir); err != nil {
			s.close()
			return nil, err
		}
		rec = &recording.Recorder{Dir: cfg.recordDir, Max: cfg.recordMax, Input: cfg.recordInput, Log: logger, Failed: m.RecordingFailed}
		if cfg.recordTotal > 0 {
			rec.Budget = recording.NewBudget(cfg.recordDir, cfg.recordTotal)
		}
		logger.Info("recording sessions", "dir", cfg.recordDir, "input", cfg.recordInput, "max_bytes", cfg.recordMax, "total_bytes", cfg.recordTotal)
	}
	self := []netip.AddrPort{ln.Addr().(*net.TCPAddr).AddrPort()}
	targets := policy.New(allow, cfg.deny, self)
	named, err := s.namedTargets(cfg, allow, self)
	if err != nil {
		s.close()
		return nil, err
	}

	// The sessions the process can hold: past them a new session is
	// refused (busy), and past its descriptors a new connection gets a 503
	// (shedListener, below), never "too many open files" in accept.
	perSession := 2
	if rec != nil {
		perSession = 3
	}
	fdLimit, fdKnown := machine.OpenFiles()
	if fdKnown {
		hold := sessionCapacity(fdLimit, perSession)
		switch {
		case cfg.maxSessions == 0:
			cfg.maxSessions = max(1, hold)
			logger.Info("-max-sessions set from the open-file limit", "max_sessions", cfg.maxSessions, "open_file_limit", fdLimit, "descriptors_per_session", perSession)
		case cfg.maxSessions > hold:
			logger.Warn("-max-sessions lowered to what the open-file limit allows; raise the limit (LimitNOFILE= in systemd, ulimit -n) to hold more", "asked", cfg.maxSessions, "max_sessions", max(1, hold), "open_file_limit", fdLimit, "descriptors_per_session", perSession)
			cfg.maxSessions = max(1, hold)
		}
	}

	s.gw, err = newGateway(gatewayOptions{
		Logger:           logger,
		Dial:             (&policy.Dialer{Policy: targets}).DialContext,
		DialTimeout:      cfg.dialTimeout,
		Origins:          cfg.origins,
		LoopbackOnly:     loopback,
		EchoAddr:         echoAddr,
		WriteTimeout:     cfg.writeTimeout,
		MaxMessage:       cfg.maxMessage,
		MaxSessions:      cfg.maxSessions,
		MaxPerClient:     cfg.maxPerClient,
		ExtraDescriptors: perSession - 1,
		IdleTimeout:      cfg.idleTimeout,
		PingInterval:     cfg.pingInterval,
		Auth:             auth,
		BasePath:         cfg.basePath,
		TrustProxy:       cfg.trustProxy,
		ResumeWindow:     cfg.resumeWindow,
		ResumeBuffer:     cfg.resumeBuffer,
		ResumeMemory:     cfg.resumeMemory,
		Recorder:         rec,
		Metrics:          m,

		Targets:              named.set,
		FreeTargets:          cfg.targets == "" || len(cfg.allow) > 0,
		DialNamed:            named.dial,
		ProxyProtocol:        cfg.proxyProtocol,
		ProxyProtocolVersion: cfg.proxyProtocolVersion,
		FrameAncestors:       cfg.frameAncestors,
		NoMCCP:               !cfg.mccp,
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.http = newHTTPServer(s.gw, defaultHTTPTimeouts, logger)
	if fdKnown {
		var conns httpConns
		s.http.ConnState = conns.track
		gw := s.gw
		s.ln = &shedListener{
			Listener: ln,
			room: func() bool {
				held := int(conns.n.Load()) + gw.Descriptors() + fdReserve
				if s.echo != nil {
					held += s.echo.Conns() // -echo's side of its sessions is in this process too
				}
				return held < fdLimit
			},
			plain: tc == nil,
			log:   logger,
			shed:  func() { m.Refuse("overload") },
		}
	}
	if tc != nil {
		s.ln = tls.NewListener(s.ln, tc)
	}

	s.reload = newReloader(logger, targetsPollInterval, auth, keys, func(users []string) {
		n := s.gw.EndSessionsOf(users)
		logger.Warn("users removed from -htpasswd: their sessions end", "users", users, "sessions", n)
	})

	if fingerprint != "" {
		fmt.Fprintf(stdout, "wstelnet: self-signed certificate, SHA-256 fingerprint %s\n", fingerprint)
	}
	if auth != nil && tc == nil {
		logger.Warn("-htpasswd without TLS: passwords cross the network in clear text unless a TLS proxy sits in front; add -tls-cert and -tls-key, or -tls-self-signed")
	}
	if len(cfg.proxyProtocol) > 0 {
		logger.Info("targets matching -proxy-protocol get a PROXY protocol header: they see each visitor's address and port", "rules", fmt.Sprint(cfg.proxyProtocol), "version", cfg.proxyProtocolVersion)
	}
	if targets.Open() && loopback && cfg.targets == "" {
		logger.Info("no -allow rules: any target may be dialled, which is fine while only this machine can reach the gateway")
	}
	fmt.Fprintf(stdout, "wstelnet: open %s in your browser\n", pageURL(ln.Addr(), tc != nil, cfg.basePath))
	return s, nil
}

// newHTTPServer serves h with the given bounds on plain HTTP requests.
func newHTTPServer(h http.Handler, t httpTimeouts, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serve serves until ctx ends (SIGINT or SIGTERM) or serving fails.
func (s *server) serve(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.http.Serve(s.ln) }()
	if s.metricsHTTP != nil {
		go func() {
			if err := s.metricsHTTP.Serve(s.metricsLn); err != http.ErrServerClosed {
				errc <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
		return nil
	}
}

// shutdown drains for -drain-delay (the listener and the open sessions go
// on, /readyz answers 503, new sessions are refused), then ends every
// session with 1001 and stops serving, within -shutdown-timeout. Sessions
// come first, and do not wait for plain HTTP:
// an idle keep-alive connection or a request body that never comes must
// not delay their close frames. HTTP requests still unfinished at the
// deadline are cut; that is not a failure.
func (s *server) shutdown() error {
	s.gw.Drain()
	if s.drainDelay > 0 {
		s.log.Info("draining: /readyz answers 503 and new sessions are refused", "sessions", s.gw.Sessions(), "for", s.drainDelay)
		time.Sleep(s.drainDelay) // the drain itself: nothing to wait for but time
	}
	s.log.Info("shutting down", "sessions", s.gw.Sessions())
	ctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	gwErr := make(chan error, 1)
	go func() { gwErr <- s.gw.Shutdown(ctx) }()
	if err := s.http.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		s.log.Info("cut HTTP requests still unfinished at -shutdown-timeout")
		s.http.Close()
	}
	// The sessions first, then the rest: -echo is the target of some of
	// them, and closing it while their Stop is still on its way would end
	// them as "target closed" (code 1000) instead of 1001.
	err := <-gwErr
	s.close()
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// close releases the listeners. (The metrics stay up through the drain,
// so that scrapes see it, until here.)
func (s *server) close() {
	s.ln.Close()
	if s.metricsHTTP != nil {
		s.metricsHTTP.Close()
	}
	if s.metricsLn != nil {
		s.metricsLn.Close() // in case it was never served
	}
	if s.echo != nil {
		s.echo.Close()
	}
	if s.targets != nil {
		s.targets.stop()
	}
	if s.reload != nil {
		s.reload.stop()
	}
}

// The metrics listener has no authentication, so a web page must not be
// able to read it through the visitor's browser (DNS rebinding: a name
// of the attacker's that resolves to the listener's address). A browser
// sends the name it resolved in Host; an IP address in Host cannot have
// been rebound. So the listener answers Host values that are IP
// addresses, localhost, or names listed with -metrics-hosts (the name
// Prometheus scrapes it by), and refuses the rest with 403.

// checkMetricsHost wraps the metrics handler with the Host check.
func checkMetricsHost(h http.Handler, names []string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !metricsHostAllowed(r.Host, names) {
			log.Warn("metrics request refused: Host is not an IP address, localhost or a -metrics-hosts name", "host", r.Host, "client", remoteIP(r.RemoteAddr))
			http.Error(w, fmt.Sprintf("403 Forbidden: the metrics answer to Host names given with -metrics-hosts, IP addresses and localhost, not %q.", r.Host), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsHostAllowed reports whether a Host header may reach the metrics.
func metricsHostAllowed(hostport string, names []string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return isLoopbackHost(host) || slices.Contains(names, host)
}

var hostNameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// parseHostNames parses -metrics-hosts: comma-separated host names.
func parseHostNames(flagName, list string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n == "" {
			continue
		}
		if !hostNameRE.MatchString(n) {
			return nil, usagef("%s %q: want host names such as prometheus-target.example.org, without a port", flagName, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// The descriptor budget. A session holds two descriptors (the browser's
// connection and the target's), three while it is recorded; connections
// wait for their first message without a slot (maxPending), plain HTTP
// requests (the page, its files, health checks) need a few more, and the
// process itself (listeners, logs, the targets and htpasswd files being
// read, the echo server) some.
const (
	fdReserve      = 128 // the process's own, and connections being shed (maxShedWriters)
	fdHTTPHeadroom = 256 // page loads and checks beside the sessions
)

// sessionCapacity is how many sessions a process allowed limit
// descriptors can hold, at perSession descriptors each.
func sessionCapacity(limit, perSession int) int {
	return max(0, (limit-fdReserve-maxPending-fdHTTPHeadroom)/perSession)
}

// shedListener accepts connections only while the process has
// descriptors to serve them with: past that, a new connection gets a short
// 503 and is closed, so that the process never fails in accept with "too
// many open files" (net/http would retry it in a loop, stalling every new
// connection, resumes included) and the sessions already open go on. The
// connections it returns are the kernel's own (*net.TCPConn), so that
// WebSocket writes keep using writev; what they hold is counted by
// http.Server's ConnState and the gateway (Gateway.Descriptors).
type shedListener struct {
	net.Listener
	room  func() bool // another connection may be taken
	plain bool        // a 503 can be written: no TLS over this listener
	log   *slog.Logger
	shed  func() // counts a shed connection (metrics)

	writers  atomic.Int64 // 503s being written
	lastWarn atomic.Int64 // UnixNano of the last log line about shedding
}

// maxShedWriters bounds the goroutines writing 503s: past it, a connection
// is closed without one.
const maxShedWriters = 16

var overloaded = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 69\r\n\r\n503: the gateway has no room for more connections; try again shortly\n")

func (l *shedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.room() {
			return c, err
		}
		l.refuse(c)
	}
}

// refuse sheds c: a 503 if it can be written quickly, else just a close.
func (l *shedListener) refuse(c net.Conn) {
	if l.shed != nil {
		l.shed()
	}
	if now := time.Now().UnixNano(); now-l.lastWarn.Load() > int64(10*time.Second) {
		l.lastWarn.Store(now)
		l.log.Warn("out of descriptors for new connections: answering 503 until sessions end; raise the open-file limit (LimitNOFILE=) or add a gateway")
	}
	if !l.plain || l.writers.Add(1) > maxShedWriters {
		if l.plain {
			l.writers.Add(-1)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // give the descriptor back now, not after a FIN_WAIT
		}
		c.Close()
		return
	}
	// Owned by the listener; it ends within the deadline.
	go func() {
		defer l.writers.Add(-1)
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write(overloaded)
		c.Close()
	}()
}

// httpConns counts the plain HTTP connections a server holds, from its
// ConnState: a hijacked one (a WebSocket) is the gateway's to count.
type httpConns struct{ n atomic.Int64 }

func (h *httpConns) track(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		h.n.Add(1)
	case http.StateHijacked, http.StateClosed:
		h.n.Add(-1)
	}
}
