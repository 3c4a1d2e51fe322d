package policy

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wstelnet/internal/netns"
)

// fakeDNS is a DNS server on loopback that answers A and AAAA queries from
// a table, so that names can resolve to any address without a packet
// leaving the machine.
type fakeDNS struct {
	records map[string][]netip.Addr // by lower-case FQDN; absent: NXDOMAIN
	mu      sync.Mutex
	queries map[string]int // "name. TypeA" -> count
	addr    string
}

func startFakeDNS(t *testing.T, records map[string][]string) *fakeDNS {
	t.Helper()
	d := &fakeDNS{records: map[string][]netip.Addr{}, queries: map[string]int{}}
	for name, ips := range records {
		d.records[name] = addrs(ips...)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := d.answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return d
}

func (d *fakeDNS) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	d.mu.Lock()
	d.queries[name+" "+q.Type.String()]++
	d.mu.Unlock()

	ips, known := d.records[name]
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true, RCode: rcode})
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for _, ip := range ips {
		switch {
		case q.Type == dnsmessage.TypeA && ip.Is4():
			b.AResource(rh, dnsmessage.AResource{A: ip.As4()})
		case q.Type == dnsmessage.TypeAAAA && ip.Is6():
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: ip.As16()})
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// count is how many queries of a type ("TypeA", "TypeAAAA") name got.
func (d *fakeDNS) count(name, typ string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[name+" "+typ]
}

// resolver sends every query to the fake server, whatever server
// /etc/resolv.conf names; /etc/hosts is still read first.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "udp", d.addr)
		},
	}
}

// listenLoopback listens on 127.0.0.1 with a port the system picks.
func listenLoopback(t *testing.T, addr string) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

func portOf(ln net.Listener) string { return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) }

// expectConnection accepts the connection a successful dial made.
func expectConnection(t *testing.T, ln *net.TCPListener, c net.Conn) {
	t.Helper()
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := ln.Accept()
	if err != nil {
		t.Fatalf("the listener got no connection: %v", err)
	}
	defer got.Close()
	if got.RemoteAddr().String() != c.LocalAddr().String() {
		t.Errorf("the listener got a connection from %v, the dial was from %v", got.RemoteAddr(), c.LocalAddr())
	}
}

// expectNoConnection checks that nothing connected to ln. A dial that
// returned has completed its handshake, so its connection would be waiting
// in the accept queue: a short wait is enough.
func expectNoConnection(t *testing.T, ln *net.TCPListener) {
	t.Helper()
	ln.SetDeadline(time.Now().Add(50 * time.Millisecond))
	c, err := ln.Accept()
	if err == nil {
		c.Close()
		t.Fatalf("%v got a connection from %v", ln.Addr(), c.RemoteAddr())
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("accept: %v", err)
	}
}

// expectDenied checks that a dial was refused by the policy, with reason in its words.
func expectDenied(t *testing.T, c net.Conn, err error, target, reason string) {
	t.Helper()
	if err == nil {
		c.Close()
		t.Fatalf("dial %s connected; want it refused", target)
	}
	var denied *DeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("dial %s: %v; want a *DeniedError", target, err)
	}
	if denied.Target != target || !strings.Contains(denied.Reason, reason) {
		t.Errorf("dial %s: %q; want it about %s, saying %q", target, err, target, reason)
	}
}

// checkLeaks fails the test if goroutines or file descriptors outlive it:
// every connection a dial made, and the fake DNS server, must be closed.
// Call it first, so that its cleanup runs after every other one. (The root
// package has its own; test helpers are not shared across packages.)
func checkLeaks(t *testing.T) {
	t.Helper()
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			g, fd := runtime.NumGoroutine(), openFDs(t)
			if g <= g0 && fd <= fd0 {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("leak: %d goroutines (was %d), %d descriptors (was %d)\n%s", g, g0, fd, fd0, buf)
				return
			}
			<-tick.C
		}
	})
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

func TestDialChecked(t *testing.T) {
	checkLeaks(t)
	dns := startFakeDNS(t, map[string][]string{
		"metadata.test.": {"169.254.169.254"},
		"loop.test.":     {"127.0.0.1"},
		"both.test.":     {"127.0.0.1", "::1"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dialer := func(allow, deny string, self ...netip.AddrPort) *Dialer {
		return &Dialer{
			Policy:   New(mustRules(t, "-allow", allow), mustRules(t, "-deny", deny), self),
			Resolver: dns.resolver(),
		}
	}

	t.Run("open policy dials localhost", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		c, err := dialer("", "").DialContext(ctx, "tcp", "localhost:"+portOf(ln))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, ln, c)
	})

	t.Run("defaults dial an IP literal", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := &Dialer{Policy: New(nil, nil, nil)} // no resolver needed: no lookup
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, ln, c)
	})

	t.Run("denied by IP", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := dialer("", "127.0.0.0/8")
		for _, target := range []string{"localhost:" + portOf(ln), "127.0.0.1:" + portOf(ln), "loop.test:" + portOf(ln)} {
			c, err := d.DialContext(ctx, "tcp", target)
			expectDenied(t, c, err, target, "-deny 127.0.0.0/8")
		}
		expectNoConnection(t, ln)
	})

	t.Run("denied by name", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		d := dialer("", "localhost,loop.test")
		for _, target := range []string{"localhost:" + portOf(ln), "LocalHost:" + portOf(ln), "Loop.Test.:" + portOf(ln)} {
			c, err := d.DialContext(ctx, "tcp", target)
			expectDenied(t, c, err, target, "refuses it")
		}
		expectNoConnection(t, ln)
		// The name rule is about the name: the address itself is not denied.
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, ln, c)
	})

	t.Run("not allowed", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		target := "localhost:" + portOf(ln)
		c, err := dialer("bbs.example.org,10.0.0.0/8", "").DialContext(ctx, "tcp", target)
		expectDenied(t, c, err, target, "no -allow rule matches")
		expectNoConnection(t, ln)
	})

	t.Run("name resolving to a denied IP", func(t *testing.T) {
		// The name resolves to an address that is not loopback: in a
		// network namespace with only loopback, a bug would send nothing.
		if netns.LoopbackOnly(t) {
			return
		}
		ln := listenLoopback(t, "127.0.0.1:0")
		d := dialer("", "")
		// Nothing listens at 169.254.169.254: the refusal must come before any dial.
		c, err := d.DialContext(ctx, "tcp", "metadata.test:80")
		expectDenied(t, c, err, "metadata.test:80", "it resolves to 169.254.169.254, and link-local addresses")
		// One denied address refuses the whole target, even with an allowed
		// one. (Loopback only: with several answers, the resolver sorts them
		// by connecting a UDP socket to each, which sends nothing but is
		// still not for a test to do with an outside address.)
		target := "both.test:" + portOf(ln)
		c, err = dialer("", "::1").DialContext(ctx, "tcp", target)
		expectDenied(t, c, err, target, "it resolves to ::1, which -deny ::1 refuses")
		expectNoConnection(t, ln)
	})

	t.Run("own address", func(t *testing.T) {
		ln := listenLoopback(t, "127.0.0.1:0")
		self := ln.Addr().(*net.TCPAddr).AddrPort()
		d := dialer("", "", self)
		for _, target := range []string{ln.Addr().String(), "localhost:" + portOf(ln)} {
			c, err := d.DialContext(ctx, "tcp", target)
			expectDenied(t, c, err, target, "the gateway listens on "+ln.Addr().String())
		}
		// Listening on every address: its port on loopback is its own too.
		any := netip.AddrPortFrom(netip.IPv4Unspecified(), self.Port())
		target := "localhost:" + portOf(ln)
		c, err := dialer("", "", any).DialContext(ctx, "tcp", target)
		expectDenied(t, c, err, target, "the gateway listens on 0.0.0.0:"+portOf(ln))
		expectNoConnection(t, ln)

		// Only its own port: another service on loopback is reached.
		other := listenLoopback(t, "127.0.0.1:0")
		c, err = d.DialContext(ctx, "tcp", other.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectConnection(t, other, c)
	})

	t.Run("one lookup, dropped IPs not dialled, next IP after a failure", func(t *testing.T) {
		ln4 := listenLoopback(t, "127.0.0.1:0")
		ln6, err := net.Listen("tcp", "[::1]:"+portOf(ln4))
		if err != nil {
			t.Skipf("no IPv6 loopback listener on the same port: %v", err)
		}
		defer ln6.Close()
		target := "both.test:" + portOf(ln4)
		before := dns.count("both.test.", "TypeA")

		// Only 127.0.0.1 allowed: ::1 is dropped, whatever order DNS gives.
		c, err := dialer("127.0.0.1", "").DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		expectConnection(t, ln4, c)
		c.Close()
		expectNoConnection(t, ln6.(*net.TCPListener))
		if n := dns.count("both.test.", "TypeA") - before; n != 1 {
			t.Errorf("one dial made %d A queries; want exactly one lookup", n)
		}

		// Only ::1 allowed: 127.0.0.1 is dropped.
		c, err = dialer("::1", "").DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		expectConnection(t, ln6.(*net.TCPListener), c)
		c.Close()
		expectNoConnection(t, ln4)

		// Both allowed, ::1 no longer listening: whichever comes first, the
		// dial ends up at 127.0.0.1.
		ln6.Close()
		c, err = dialer("127.0.0.1,::1", "").DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		expectConnection(t, ln4, c)
		c.Close()
	})

	t.Run("errors", func(t *testing.T) {
		var dnsErr *net.DNSError
		_, err := dialer("", "").DialContext(ctx, "tcp", "nowhere.test:23")
		// The gateway's dialError words these errors for a person by what
		// they wrap; the root package's TestDialError checks the words.
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound || dnsErr.Name != "nowhere.test" {
			t.Errorf("unknown name: %v; want a not-found *net.DNSError for nowhere.test", err)
		}
		if want := "dial nowhere.test:23: "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("unknown name: %v; want it to start %q", err, want)
		}
		// A refused connection: a listener closed after it gave its port.
		ln := listenLoopback(t, "127.0.0.1:0")
		ln.Close()
		_, err = dialer("", "").DialContext(ctx, "tcp", ln.Addr().String())
		var denied *DeniedError
		if err == nil || errors.As(err, &denied) || !strings.Contains(err.Error(), "dial "+ln.Addr().String()) {
			t.Errorf("closed port: %v; want the dial error", err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("closed port: %v; want it to wrap ECONNREFUSED", err)
		}
		if _, err := dialer("", "").DialContext(ctx, "tcp", "localhost:telnet"); err == nil || !strings.Contains(err.Error(), `port "telnet" is not a number`) {
			t.Errorf("named port: %v; want it refused before any lookup", err)
		}
		if _, err := dialer("", "").DialContext(ctx, "udp", ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("udp: %v; want it refused", err)
		}
		cancelled, stop := context.WithCancel(ctx)
		stop()
		if _, err := dialer("", "").DialContext(cancelled, "tcp", ln.Addr().String()); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v; want context.Canceled", err)
		}
	})
}
