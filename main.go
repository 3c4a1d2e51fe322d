// Command wstelnet is a web telnet gateway: it serves a page and a WebSocket
// endpoint, and relays each browser session to the TCP service it names
// (a telnet BBS or MUD, an HTTP, SMTP or Redis server, a device console).
//
// The wire protocol is the seed protocol of the 2012 tutorial: the browser's
// first text message is "host:port", the gateway answers "SUCC" or
// "FAIL:<reason>", and then every text message is a line in either direction.
// README.md documents it, the flags and the security model.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"wstelnet/internal/policy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintf(os.Stderr, "wstelnet: %v\nRun 'wstelnet -h' for the list of flags.\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "wstelnet: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole program: flags, listeners, the HTTP server and a graceful
// shutdown when ctx ends. It returns a usageError for bad command lines and
// flag.ErrHelp after -h, so that main can pick the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	var logger *slog.Logger
	if cfg.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}

	allow, err := policy.ParseRules("-allow", cfg.allow)
	if err != nil {
		return usageError{err}
	}
	deny, err := policy.ParseRules("-deny", cfg.deny)
	if err != nil {
		return usageError{err}
	}
	var auth *htpasswd
	if cfg.htpasswd != "" {
		if auth, err = loadHtpasswd(cfg.htpasswd); err != nil {
			return usageError{err}
		}
	}
	tc, fingerprint, err := tlsConfig(cfg)
	if err != nil {
		return usageError{err}
	}

	// Checked before listening: an open proxy must not exist even for a moment.
	if !isLoopbackAddr(cfg.listen) && len(allow) == 0 {
		return usagef("-listen %s: %s", cfg.listen, policy.AllowHint)
	}
	if len(cfg.trustProxy) > 0 && len(allow) == 0 {
		// A proxy in front exposes even a gateway on loopback.
		return usagef("-trust-proxy means a proxy exposes the gateway beyond this machine: %s", policy.AllowHint)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using that port? pick another with -listen)", cfg.listen, err)
	}
	defer ln.Close()
	loopback := isLoopbackAddr(ln.Addr().String())

	var echoAddr string
	if cfg.echo != "" {
		echo, err := startEcho(cfg.echo, logger)
		if err != nil {
			return err
		}
		defer echo.Close()
		echoAddr = echo.Addr()
		logger.Info("echo server listening", "addr", echoAddr)
		if len(allow) > 0 {
			// The page offers the echo server; -allow should not have to name it.
			rules, err := policy.ParseRules("-echo", echoAddr)
			if err != nil {
				return err
			}
			allow = append(allow, rules...)
		}
	}
	targets := policy.New(allow, deny, []netip.AddrPort{ln.Addr().(*net.TCPAddr).AddrPort()})

	gw, err := newGateway(gatewayOptions{
		Logger:       logger,
		Dial:         (&policy.Dialer{Policy: targets}).DialContext,
		DialTimeout:  cfg.dialTimeout,
		Origins:      cfg.origins,
		LoopbackOnly: loopback,
		EchoAddr:     echoAddr,
		WriteTimeout: cfg.writeTimeout,
		MaxMessage:   cfg.maxMessage,
		MaxSessions:  cfg.maxSessions,
		MaxPerClient: cfg.maxPerClient,
		IdleTimeout:  cfg.idleTimeout,
		PingInterval: cfg.pingInterval,
		Auth:         auth,
		BasePath:     cfg.basePath,
		TrustProxy:   cfg.trustProxy,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: gw,
		// A client that trickles its request headers would otherwise hold a
		// connection and a goroutine for ever.
		ReadHeaderTimeout: 10 * time.Second,
		// Keep-alive connections from browsers that went away are reclaimed.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}

	if fingerprint != "" {
		fmt.Fprintf(stdout, "wstelnet: self-signed certificate, SHA-256 fingerprint %s\n", fingerprint)
	}
	if auth != nil && tc == nil {
		logger.Warn("-htpasswd without TLS: passwords cross the network in clear text unless a TLS proxy sits in front; add -tls-cert and -tls-key, or -tls-self-signed")
	}
	if targets.Open() && loopback {
		logger.Info("no -allow rules: any target may be dialled, which is fine while only this machine can reach the gateway")
	}
	fmt.Fprintf(stdout, "wstelnet: open %s in your browser\n", pageURL(ln.Addr(), tc != nil, cfg.basePath))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down", "sessions", gw.Sessions())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	// Shutdown stops the listener and idle HTTP connections; it neither closes
	// nor waits for hijacked WebSocket connections, which the gateway ends itself.
	httpErr := srv.Shutdown(sctx)
	gwErr := gw.Shutdown(sctx)
	if err := errors.Join(httpErr, gwErr); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// pageURL is the address a person should open for a listener on addr.
func pageURL(addr net.Addr, https bool, basePath string) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port) + basePath
}

// isLoopbackAddr reports whether a listening address (host:port) is on
// loopback only, in which case the Host check against DNS rebinding applies.
// It is isLoopbackHost for the host, narrowed to an IP address or localhost
// itself: net.Listen asks the system resolver about any other name, which,
// unlike a browser, need not keep names under .localhost on loopback.
func isLoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if _, err := netip.ParseAddr(host); err != nil && !strings.EqualFold(host, "localhost") {
		return false
	}
	return isLoopbackHost(host)
}
