package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wstelnet/internal/machine"
	"wstelnet/internal/policy"
	"wstelnet/internal/session"
)

const defaultListen = "127.0.0.1:8000"

// config is the parsed command line.
type config struct {
	listen      string
	echo        string
	origins     []string // normalised as scheme://host:port
	dialTimeout time.Duration

	allow, deny []policy.Rule // target rules

	htpasswd      string
	tlsCert       string
	tlsKey        string
	tlsSelfSigned bool

	maxSessions, maxPerClient int
	idleTimeout               time.Duration
	writeTimeout              time.Duration
	maxMessage                int
	pingInterval              time.Duration
	resumeWindow              time.Duration
	resumeBuffer              int
	resumeMemory              int64

	basePath   string
	trustProxy []netip.Prefix

	metricsListen string
	metricsHosts  []string // Host names the metrics answer to, besides IPs and localhost

	recordDir   string
	recordInput bool
	recordMax   int64
	recordTotal int64

	logFormat       string
	drainDelay      time.Duration
	shutdownTimeout time.Duration

	targets              string        // -targets: a token file or a directory of them
	frameAncestors       []string      // CSP frame-ancestors sources
	proxyProtocol        []policy.Rule // targets that get a PROXY protocol header
	proxyProtocolVersion int
	mccp                 bool // agree to MCCP2 compression
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
	var raw rawFlags
	fs := newFlagSet(&cfg, &raw)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err}
	}
	return cfg, cfg.complete(fs, raw)
}

// rawFlags are the flags parsed further once all are read.
type rawFlags struct {
	origins, trustProxy, allow, deny string
	frameAncestors, proxyProtocol    string
	metricsHosts                     string
}

// newFlagSet defines every flag, writing into cfg and raw.
func newFlagSet(cfg *config, raw *rawFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("wstelnet", flag.ContinueOnError)
	fs.StringVar(&cfg.listen, "listen", defaultListen, "`address` to serve the page and WebSocket on (a bare port argument, as in 'wstelnet 8000', means that port on 127.0.0.1)")
	fs.StringVar(&cfg.echo, "echo", "", "also run the built-in line echo server on `address` (e.g. 127.0.0.1:7000) and fill it in on the page")
	fs.StringVar(&raw.origins, "origin", "", "comma-separated extra page `origins` (e.g. https://app.example.com) allowed to open sessions, besides the gateway's own")
	fs.DurationVar(&cfg.dialTimeout, "dial-timeout", 10*time.Second, "how long to wait for a target to accept a connection")

	fs.StringVar(&raw.allow, "allow", "", "comma-separated target `rules` that may be dialled: host names (bbs.example.org, *.example.org), IPs, CIDRs (10.0.0.0/8) or *, each with an optional :PORT or :LO-HI; required when listening beyond loopback or behind -trust-proxy, unless -targets names the only targets")
	fs.StringVar(&raw.deny, "deny", "", "comma-separated target `rules` that may not be dialled (same forms as -allow); deny beats allow")

	fs.StringVar(&cfg.targets, "targets", "", "read named targets from `file` (or every file of a directory) in websockify's token file format, 'name: host:port [proxy-protocol] [# description]'; re-read on SIGHUP and when it changes. Without -allow only these can be reached")
	fs.StringVar(&raw.proxyProtocol, "proxy-protocol", "", "comma-separated target `rules` (as -allow) whose connections start with a PROXY protocol header carrying the visitor's address and port (default none: no target learns it)")
	fs.IntVar(&cfg.proxyProtocolVersion, "proxy-protocol-version", 1, "PROXY protocol `version`: 1 (text) or 2 (binary)")
	fs.BoolVar(&cfg.mccp, "mccp", true, "agree when a target offers MCCP2 compression (a MUD), and inflate its output in the gateway; false refuses it everywhere (a named target's no-mccp option refuses it for that target)")
	fs.StringVar(&raw.frameAncestors, "frame-ancestors", "", "space- or comma-separated `origins` whose pages may show the page in a frame (CSP frame-ancestors), e.g. https://bbs.example.org (default none: nobody may frame it)")

	fs.StringVar(&cfg.htpasswd, "htpasswd", "", "require HTTP Basic authentication with the bcrypt entries of `file` (made with htpasswd -B)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "serve HTTPS and WSS with the certificate chain in `file` (PEM; needs -tls-key)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "the private key for -tls-cert, in `file` (PEM)")
	fs.BoolVar(&cfg.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS and WSS with a self-signed certificate made at start-up (for quick tries; its SHA-256 fingerprint is printed)")

	fs.IntVar(&cfg.maxSessions, "max-sessions", 0, "most sessions open at once (0: as many as the open-file limit allows, two descriptors each; a larger number is lowered to that)")
	fs.IntVar(&cfg.maxPerClient, "max-sessions-per-client", 20, "most sessions open at once from one client address (0: no limit)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 30*time.Minute, "close a session after this long without data either way (0: never)")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", 30*time.Second, "drop a browser that has not taken our data for this long")
	fs.IntVar(&cfg.maxMessage, "max-message", 1<<20, "largest message in `bytes` accepted from a browser; a larger one ends its session with close code 1009")
	fs.DurationVar(&cfg.pingInterval, "ping-interval", 25*time.Second, "send WebSocket pings this often, so that proxies and NATs keep idle sessions open (0: never)")

	fs.DurationVar(&cfg.resumeWindow, "resume-window", time.Minute, "keep a v2 session opened with resume=1 this long after its connection is lost, for the page to resume it (0: resume off)")
	fs.Int64Var(&cfg.resumeMemory, "resume-memory", defaultResumeMemory(), "most `bytes` of memory all resumable sessions together may hold for output not yet acknowledged (default: a quarter of the machine's or the cgroup's memory, at least 64 MiB); when it is reached, sessions whose buffers are full wait, their targets unread, instead of memory growing (0: no limit)")
	fs.IntVar(&cfg.resumeBuffer, "resume-buffer", 1<<20, "most output `bytes` a resumable session keeps until the browser acknowledges them; when full, the target is not read (at least 65536)")
	fs.StringVar(&cfg.basePath, "base-path", "/", "serve everything under this `prefix`, e.g. /telnet/, for a reverse proxy")
	fs.StringVar(&raw.trustProxy, "trust-proxy", "", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed")

	fs.StringVar(&cfg.metricsListen, "metrics-listen", "", "serve Prometheus metrics at /metrics on this separate `address` (e.g. 127.0.0.1:9100), without authentication: keep it on the operator's network")
	fs.StringVar(&raw.metricsHosts, "metrics-hosts", "", "comma-separated host `names` by which Prometheus reaches -metrics-listen; requests with another name in Host are refused (IP addresses and localhost are always answered), against DNS rebinding")

	fs.StringVar(&cfg.recordDir, "record", "", "record every session in asciicast v2 (asciinema play FILE) to a file of its own, mode 0600, in `directory`: what the target sent and the terminal's size; recordings hold whatever the sessions show")
	fs.BoolVar(&cfg.recordInput, "record-input", false, "with -record, also record what users type, which includes their PASSWORDS")
	fs.Int64Var(&cfg.recordMax, "record-max", 64<<20, "largest recording in `bytes`; past it the recording stops with a marker and the session goes on")
	fs.Int64Var(&cfg.recordTotal, "record-total", 1<<30, "most `bytes` all recordings in the -record directory may take together, those already there included (1073741824 is 1 GiB); past it recordings stop and new sessions are not recorded until files are deleted, and sessions go on (0: no limit)")

	fs.StringVar(&cfg.logFormat, "log-format", "text", "log `format`: text or json")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", 0, "on SIGINT or SIGTERM, first drain for this long: /readyz answers 503 and new sessions are refused while open ones go on, so that a load balancer can take the gateway out (0: end sessions at once)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT or SIGTERM, after -drain-delay, how long to wait for sessions to close before exiting")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: wstelnet [flags] [port]\n\nwstelnet serves a web page and a WebSocket endpoint that relay browser sessions to TCP services.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// complete checks the parsed flags against each other and parses the
// lists; its errors are usageErrors.
func (cfg *config) complete(fs *flag.FlagSet, raw rawFlags) error {
	switch fs.NArg() {
	case 0:
	case 1:
		port, err := strconv.ParseUint(fs.Arg(0), 10, 16)
		if err != nil || port == 0 {
			return usagef("the argument %q is not a port number (1-65535); use -listen for a full address", fs.Arg(0))
		}
		if isFlagSet(fs, "listen") {
			return usagef("give either -listen or a port argument, not both")
		}
		cfg.listen = net.JoinHostPort("127.0.0.1", fs.Arg(0))
	default:
		return usagef("too many arguments %q: the only argument is an optional port", fs.Args())
	}

	if err := checkListenAddr("-listen", cfg.listen); err != nil {
		return err
	}
	if cfg.echo != "" {
		if err := checkListenAddr("-echo", cfg.echo); err != nil {
			return err
		}
	}
	if cfg.metricsListen != "" {
		if err := checkListenAddr("-metrics-listen", cfg.metricsListen); err != nil {
			return err
		}
	}
	if cfg.dialTimeout <= 0 {
		return usagef("-dial-timeout must be positive, e.g. 10s")
	}
	var err error
	if cfg.origins, err = parseOrigins(raw.origins); err != nil {
		return err
	}
	if cfg.trustProxy, err = parsePrefixes("-trust-proxy", raw.trustProxy); err != nil {
		return err
	}
	if cfg.basePath, err = cleanBasePath(cfg.basePath); err != nil {
		return err
	}
	if cfg.allow, err = policy.ParseRules("-allow", raw.allow); err != nil {
		return usageError{err}
	}
	if cfg.deny, err = policy.ParseRules("-deny", raw.deny); err != nil {
		return usageError{err}
	}
	if cfg.proxyProtocol, err = policy.ParseRules("-proxy-protocol", raw.proxyProtocol); err != nil {
		return usageError{err}
	}
	if cfg.frameAncestors, err = parseFrameAncestors(raw.frameAncestors); err != nil {
		return err
	}
	if cfg.metricsHosts, err = parseHostNames("-metrics-hosts", raw.metricsHosts); err != nil {
		return err
	}
	if cfg.proxyProtocolVersion != 1 && cfg.proxyProtocolVersion != 2 {
		return usagef("-proxy-protocol-version %d: want 1 or 2", cfg.proxyProtocolVersion)
	}
	// Checked before listening: an open proxy must not exist even for a
	// moment. Named targets alone are no open proxy: only they can be reached.
	if !isLoopbackAddr(cfg.listen) && len(cfg.allow) == 0 && cfg.targets == "" {
		return usagef("-listen %s: %s", cfg.listen, policy.AllowHint)
	}
	if len(cfg.trustProxy) > 0 && len(cfg.allow) == 0 && cfg.targets == "" {
		// A proxy in front exposes even a gateway on loopback.
		return usagef("-trust-proxy means a proxy exposes the gateway beyond this machine: %s", policy.AllowHint)
	}
	switch {
	case (cfg.tlsCert == "") != (cfg.tlsKey == ""):
		return usagef("-tls-cert and -tls-key go together: give both files")
	case cfg.tlsSelfSigned && cfg.tlsCert != "":
		return usagef("give either -tls-self-signed or -tls-cert and -tls-key, not both")
	case cfg.logFormat != "text" && cfg.logFormat != "json":
		return usagef("-log-format %q: want text or json", cfg.logFormat)
	case cfg.maxSessions < 0 || cfg.maxPerClient < 0:
		return usagef("-max-sessions and -max-sessions-per-client must be 0 (no limit) or more")
	case cfg.maxMessage < 1:
		return usagef("-max-message must be at least 1 byte")
	case cfg.idleTimeout < 0 || cfg.pingInterval < 0 || cfg.drainDelay < 0:
		return usagef("-idle-timeout, -ping-interval and -drain-delay must be 0 (off) or more")
	case cfg.recordInput && cfg.recordDir == "":
		return usagef("-record-input needs -record DIR")
	case cfg.recordMax < 4096:
		return usagef("-record-max must be at least 4096 bytes")
	case cfg.recordTotal < 0:
		return usagef("-record-total must be 0 (no limit) or more bytes")
	case cfg.resumeWindow < 0:
		return usagef("-resume-window must be 0 (off) or more, e.g. 60s")
	case cfg.resumeMemory < 0:
		return usagef("-resume-memory must be 0 (no limit) or a number of bytes")
	case cfg.resumeBuffer < session.MinResumeBuffer:
		return usagef("-resume-buffer must be at least %d bytes: browsers acknowledge every 64 KiB", session.MinResumeBuffer)
	case cfg.writeTimeout <= 0 || cfg.shutdownTimeout <= 0:
		return usagef("-write-timeout and -shutdown-timeout must be positive, e.g. 30s")
	}
	return nil
}

// cleanBasePath makes a -base-path "/" or "/prefix/".
func cleanBasePath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") ||
		strings.ContainsAny(p, "?#{} \t\\") {
		return "", usagef("-base-path %q: want a path such as /telnet/", p)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
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

// frameAncestorRE is one origin of -frame-ancestors, as CSP writes it: a
// scheme, a host (maybe *.domain), an optional port. Nothing else may
// reach the header.
var frameAncestorRE = regexp.MustCompile(`^https?://(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+(:([0-9]{1,5}|\*))?$|^https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?$`)

// parseFrameAncestors parses -frame-ancestors: origins separated by
// commas or spaces, or 'self'.
func parseFrameAncestors(list string) ([]string, error) {
	var out []string
	for _, o := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		lo := strings.TrimSuffix(strings.ToLower(o), "/")
		switch {
		case lo == "'self'" || lo == "self":
			out = append(out, "'self'")
		case frameAncestorRE.MatchString(lo):
			out = append(out, lo)
		default:
			return nil, usagef("-frame-ancestors %q: want origins such as https://bbs.example.org or https://*.example.org, or 'self'", o)
		}
	}
	return out, nil
}

// defaultResumeMemory is -resume-memory's default: a quarter of the
// memory the process may use (its cgroup's limit, else the machine's),
// at least 64 MiB; 256 MiB when neither can be read.
func defaultResumeMemory() int64 {
	m := machine.Memory()
	if m <= 0 {
		return 256 << 20
	}
	return max(64<<20, m/4)
}
