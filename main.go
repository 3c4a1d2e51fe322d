// Command wstelnet is a web telnet gateway: it serves a page and a WebSocket
// endpoint, and relays each browser session to the TCP service it names
// (a telnet BBS or MUD, an HTTP, SMTP or Redis server, a device console).
//
// Two wire protocols share one start, the seed protocol of the 2012
// tutorial: the browser's first text message is "host:port", and the
// gateway answers "SUCC" or "FAIL:<reason>". Then, in the seed protocol
// (v1), every text message is a line in either direction; in protocol v2
// (subprotocol wstelnet.v2), binary messages carry the byte stream and
// text messages carry JSON control messages. README.md documents the
// flags and the security model, PROTOCOL.md the protocols, and
// ARCHITECTURE.md where each step of a session lives.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts the graceful shutdown (and the drain); a
	// second one ends the process at once, as a person pressing Ctrl+C
	// twice expects.
	context.AfterFunc(ctx, stop)
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

// run is the whole program: the configuration, the server, serving until
// ctx ends, and a graceful shutdown. It returns a usageError for bad
// command lines and flag.ErrHelp after -h, so that main can pick the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	srv, err := newServer(cfg, stdout, newLogger(cfg.logFormat, stderr))
	if err != nil {
		return err
	}
	if err := srv.serve(ctx); err != nil {
		srv.close()
		return err
	}
	return srv.shutdown()
}

// newLogger logs to w in format "text" or "json".
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
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
