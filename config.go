package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	defaultListen = "127.0.0.1:8000"
	// shutdownTimeout bounds how long SIGINT/SIGTERM waits for sessions to
	// receive their close frames before the process exits anyway.
	shutdownTimeout = 10 * time.Second
)

// config is the parsed command line.
type config struct {
	listen      string
	echo        string
	origins     []string // normalised as scheme://host:port
	dialTimeout time.Duration
}

// usageError is a bad command line: main exits 2 on it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// parseConfig reads the command line. Help and flag errors are printed to
// stderr by the flag package; the returned error says what was wrong.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var origins string
	fs := flag.NewFlagSet("wstelnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", defaultListen, "`address` to serve the page and WebSocket on (a bare port argument, as in 'wstelnet 8000', means that port on 127.0.0.1)")
	fs.StringVar(&cfg.echo, "echo", "", "also run the built-in line echo server on `address` (e.g. 127.0.0.1:7000) and fill it in on the page")
	fs.StringVar(&origins, "origin", "", "comma-separated extra page `origins` (e.g. https://app.example.com) allowed to open sessions, besides the gateway's own")
	fs.DurationVar(&cfg.dialTimeout, "dial-timeout", 10*time.Second, "how long to wait for a target to accept a connection")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: wstelnet [flags] [port]\n\nwstelnet serves a web page and a WebSocket endpoint that relay browser sessions to TCP services.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err}
	}

	switch fs.NArg() {
	case 0:
	case 1:
		port, err := strconv.ParseUint(fs.Arg(0), 10, 16)
		if err != nil || port == 0 {
			return cfg, usagef("the argument %q is not a port number (1-65535); use -listen for a full address", fs.Arg(0))
		}
		if isFlagSet(fs, "listen") {
			return cfg, usagef("give either -listen or a port argument, not both")
		}
		cfg.listen = net.JoinHostPort("127.0.0.1", fs.Arg(0))
	default:
		return cfg, usagef("too many arguments %q: the only argument is an optional port", fs.Args())
	}

	if err := checkListenAddr("-listen", cfg.listen); err != nil {
		return cfg, err
	}
	if cfg.echo != "" {
		if err := checkListenAddr("-echo", cfg.echo); err != nil {
			return cfg, err
		}
	}
	if cfg.dialTimeout <= 0 {
		return cfg, usagef("-dial-timeout must be positive, e.g. 10s")
	}
	var err error
	if cfg.origins, err = parseOrigins(origins); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkListenAddr rejects addresses net.Listen would reject later with a
// less helpful message.
func checkListenAddr(flagName, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("%s %q: want host:port, e.g. 127.0.0.1:8000 (%v)", flagName, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return usagef("%s %q: the port must be a number from 0 to 65535", flagName, addr)
	}
	return nil
}

// parseOrigins parses -origin: comma-separated http or https origins without path.
func parseOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, usagef("-origin %q: want an origin such as https://app.example.com (scheme, host and optional port, nothing else)", o)
		}
		out = append(out, normalizeOrigin(u.Scheme, u.Host))
	}
	return out, nil
}
