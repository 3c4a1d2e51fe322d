//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadWorkerCommand is the hidden subcommand that runs one load client
// process. The load tool starts several, because one process may hold at
// most 20,000 descriptors here, and gives each its own loopback source
// address, because one source and destination pair gives about 28,000
// ports. The coordinator writes a job, then commands, one JSON object a
// line on stdin; the worker answers each command with one JSON line on
// stdout.
const loadWorkerCommand = "load-worker"

// loadJob tells a worker what to open.
type loadJob struct {
	Kind        string // "resume", "v2", "v1", "wsjs" or "floor"
	Addr        string // the relay's host:port
	Target      string // the echo target's host:port, sent as the first message (not to wsjs)
	TLS         bool
	Fingerprint string // the self-signed certificate's SHA-256, as the gateway prints it
	Source      string // the loopback address to dial from
	First       int    // global index of this worker's first session
	Count       int    // sessions this worker opens
	Total       int    // sessions across all workers, for spreading the lines
	InFlight    int    // most opens or resumes in flight at once
	Period      time.Duration
}

// loadCmd is one command from the coordinator.
type loadCmd struct {
	Cmd         string // open, chat, quiet, cut, resume, close
	Base        int64  // chat: Unix ns of the first line of session 0
	From, To    int64  // chat: Unix ns bounds of the measured window
	WaitSeconds int    // quiet: how long to wait for the last echoes
}

// loadReply is a worker's answer to a command.
type loadReply struct {
	Start, End int64 // Unix ns: the first and last open or resume
	OK, Failed int
	Errors     []string       // the first few, for the report
	Refusals   map[string]int // resume: refusals and failed attempts by kind
	Retries    int
	Resent     int // resume: sessions that sent bytes again the gateway had not taken

	Sent, Received, Lost, Disorder int
	Latencies                      []int32 // µs, lines sent in the measured window
}

// loadPad ends every line a session sends, "L seq stamp" and this, where
// stamp is the worker's clock in ns: a short typed line.
const loadPad = " the quick brown fox"

func loadWorkerMain() error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 1<<20)
	out := json.NewEncoder(os.Stdout)
	if !in.Scan() {
		return errors.New("load worker: no job on stdin")
	}
	var job loadJob
	if err := json.Unmarshal(in.Bytes(), &job); err != nil {
		return fmt.Errorf("load worker: read the job: %w", err)
	}
	w := newLoadWorker(job)
	defer w.closeAll()
	for in.Scan() {
		var c loadCmd
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			return fmt.Errorf("load worker: read a command: %w", err)
		}
		var r loadReply
		switch c.Cmd {
		case "open":
			r = w.openAll()
		case "chat":
			w.chat(c)
		case "quiet":
			r = w.quiet(time.Duration(c.WaitSeconds) * time.Second)
		case "cut":
			r = w.cutAll()
		case "resume":
			r = w.resumeAll()
		case "close":
			w.closeAll()
		default:
			return fmt.Errorf("load worker: unknown command %q", c.Cmd)
		}
		if err := out.Encode(r); err != nil {
			return fmt.Errorf("load worker: write the reply: %w", err)
		}
		if c.Cmd == "close" {
			return nil
		}
	}
	return in.Err()
}

type loadWorker struct {
	job    loadJob
	start  time.Time // the clock lines are stamped with
	dialer net.Dialer
	tls    *tls.Config
	ss     []*loadSession

	from, to atomic.Int64 // the measured window, in the worker's clock

	mu   sync.Mutex
	lat  []int32
	errs []string

	chatStop context.CancelFunc
	chatWG   sync.WaitGroup
}

func newLoadWorker(job loadJob) *loadWorker {
	w := &loadWorker{job: job, start: time.Now()}
	w.dialer = net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(job.Source)}}
	if job.TLS {
		want := strings.ToUpper(strings.ReplaceAll(job.Fingerprint, ":", ""))
		w.tls = &tls.Config{
			// The gateway's certificate is made at its start; the check is
			// its fingerprint, as a person compares it in the browser.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 {
					return errors.New("no certificate")
				}
				sum := sha256.Sum256(raw[0])
				if got := strings.ToUpper(hex.EncodeToString(sum[:])); got != want {
					return fmt.Errorf("certificate fingerprint %s, the gateway printed %s", got, want)
				}
				return nil
			},
		}
	}
	for i := range job.Count {
		w.ss = append(w.ss, &loadSession{w: w, g: job.First + i})
	}
	return w
}

func (w *loadWorker) now() int64 { return int64(time.Since(w.start)) }

func (w *loadWorker) noteErr(err error) {
	w.mu.Lock()
	if len(w.errs) < 5 {
		w.errs = append(w.errs, err.Error())
	}
	w.mu.Unlock()
}

func (w *loadWorker) takeErrs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.errs
	w.errs = nil
	return e
}

// loadSession is one client session and what it has sent and received.
type loadSession struct {
	w *loadWorker
	g int // global index: spreads its lines over the period

	mu       sync.Mutex // writes, the connection, and the counts below
	tcp      *net.TCPConn
	ws       *wsConn
	readDone chan struct{} // closed when the connection's reader ends
	id       string        // resume id
	seq      int           // lines sent
	expect   int           // next line expected back
	bad      int           // lines back out of order, twice, or garbled
	down     int64         // output bytes received (binary payloads)
	acked    int64         // the last ack sent
	up       int64         // bytes sent
	kept     []byte        // bytes sent from keptAt on that the gateway has not acknowledged
	keptAt   int64
	part     []byte // an incomplete line
	greet    bool   // the target's greeting has come
	gone     bool   // the connection ended
}

// dial connects to the relay and upgrades, with the target's greeting
// not yet read.
func (s *loadSession) dial(path, proto string) (*net.TCPConn, *wsConn, error) {
	j := s.w.job
	c, err := s.w.dialer.Dial("tcp", j.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	tcp := c.(*net.TCPConn)
	scheme := "http"
	if s.w.tls != nil {
		tc := tls.Client(c, s.w.tls)
		tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("TLS handshake: %w", err)
		}
		tc.SetDeadline(time.Time{})
		c, scheme = tc, "https"
	}
	ws, err := handshakeSize(c, scheme, j.Addr, path, proto, 4096)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("WebSocket handshake: %w", err)
	}
	return tcp, ws, nil
}

// refusal is a FAIL: answer, with the close code that followed it.
type refusal struct {
	reason string
	code   int
}

func (r *refusal) Error() string { return fmt.Sprintf("FAIL:%s (close code %d)", r.reason, r.code) }

// readText reads the next text message, answering pings; a FAIL: comes
// back as a *refusal.
func readText(ws *wsConn) (string, error) {
	for {
		op, p, code, err := readFrame(ws)
		if err != nil {
			return "", err
		}
		if op == opClose {
			return "", fmt.Errorf("closed with code %d before answering", code)
		}
		if op != opText {
			return "", fmt.Errorf("a binary message before the answer")
		}
		if reason, ok := strings.CutPrefix(string(p), "FAIL:"); ok {
			_, _, code, _ := readFrame(ws)
			return "", &refusal{reason: reason, code: code}
		}
		return string(p), nil
	}
}

// readFrame reads the next data or close frame whole, answering pings.
// For a close frame it returns its status code.
func readFrame(ws *wsConn) (op byte, p []byte, code int, err error) {
	for {
		h, err := ws.fr.ReadHeader()
		if err != nil {
			return 0, nil, 0, err
		}
		if h.Len > 1<<20 {
			return 0, nil, 0, fmt.Errorf("a frame of %d bytes", h.Len)
		}
		p, err := ws.fr.ReadPayload(nil, h)
		if err != nil {
			return 0, nil, 0, err
		}
		switch h.Op {
		case opPing:
			if err := ws.write(opPong, p); err != nil {
				return 0, nil, 0, err
			}
			continue
		case opPong:
			continue
		case opClose:
			if len(p) >= 2 {
				code = int(p[0])<<8 | int(p[1])
			}
			return opClose, p, code, nil
		}
		return h.Op, p, 0, nil
	}
}

// open opens the session and reads until the target's greeting, so that
// an open session is one the target has answered through the relay.
func (s *loadSession) open() error {
	j := s.w.job
	path, proto := "/ws", ""
	switch j.Kind {
	case "resume":
		path, proto = "/ws?resume=1", "wstelnet.v2"
	case "v2":
		proto = "wstelnet.v2"
	case "wsjs", "floor":
		path, proto = "/", "binary"
	}
	tcp, ws, err := s.dial(path, proto)
	if err != nil {
		return err
	}
	fail := func(err error) error { tcp.Close(); return err }
	if proto != "" && ws.protocol != proto {
		return fail(fmt.Errorf("offered subprotocol %s, the server confirmed %q", proto, ws.protocol))
	}
	ws.conn.SetDeadline(time.Now().Add(60 * time.Second))
	if j.Kind != "wsjs" && j.Kind != "floor" { // both relay to one fixed target
		if err := ws.write(opText, []byte(j.Target)); err != nil {
			return fail(fmt.Errorf("send the target: %w", err))
		}
		a, err := readText(ws)
		switch {
		case err != nil:
			return fail(fmt.Errorf("answer to host:port: %w", err))
		case a != "SUCC":
			return fail(fmt.Errorf("answer to host:port is %q, want SUCC", a))
		}
		if j.Kind == "resume" {
			a, err := readText(ws)
			var m struct{ Type, ID string }
			if err == nil {
				err = json.Unmarshal([]byte(a), &m)
			}
			if err != nil || m.Type != "session" || m.ID == "" {
				return fail(fmt.Errorf("want the session message after SUCC, got %q, %v", a, err))
			}
			s.id = m.ID
		}
	}
	s.mu.Lock()
	s.tcp, s.ws = tcp, ws
	s.mu.Unlock()
	// The greeting is a line without a sequence number; the first data the
	// session gets.
	for !s.greet {
		op, p, code, err := readFrame(ws)
		if err == nil && op == opClose {
			err = fmt.Errorf("closed with code %d", code)
		}
		if err != nil {
			s.mu.Lock()
			s.tcp, s.ws = nil, nil // not open: no chat, no cut, no resume
			s.mu.Unlock()
			return fail(fmt.Errorf("wait for the target's greeting: %w", err))
		}
		s.mu.Lock()
		s.take(op, p)
		s.mu.Unlock()
	}
	ws.conn.SetDeadline(time.Time{})
	s.startReader()
	return nil
}

func (s *loadSession) startReader() {
	s.readDone = make(chan struct{})
	go s.read(s.ws, s.readDone)
}

// read is the connection's reader: it takes the echoed lines and the
// gateway's control messages until the connection ends.
func (s *loadSession) read(ws *wsConn, done chan struct{}) {
	defer close(done)
	for {
		h, err := ws.fr.ReadHeader()
		if err != nil {
			break
		}
		if h.Len > 1<<20 {
			break
		}
		p, err := ws.fr.ReadPayload(nil, h)
		if err != nil {
			break
		}
		s.mu.Lock()
		if s.ws != ws { // cut: this connection is no longer the session's
			s.mu.Unlock()
			break
		}
		switch h.Op {
		case opPing:
			err = s.writeLocked(opPong, p)
		case opClose:
			err = io.EOF
		case opText, opBinary, opContinuation:
			s.take(h.Op, p)
		}
		s.mu.Unlock()
		if err != nil {
			break
		}
	}
	s.mu.Lock()
	if s.ws == ws {
		s.gone = true
	}
	s.mu.Unlock()
}

// take handles one message. Call with mu held.
func (s *loadSession) take(op byte, p []byte) {
	if op == opText {
		switch s.w.job.Kind {
		case "v1": // a line, without its ending
			s.line(p)
		case "resume":
			if m, ok := bytes.CutPrefix(p, []byte(`{"type":"ack","offset":`)); ok {
				if n, err := strconv.ParseInt(string(bytes.TrimSuffix(m, []byte("}"))), 10, 64); err == nil {
					s.upAcked(n)
				}
			}
		}
		return
	}
	s.down += int64(len(p))
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.part = append(s.part, p...)
			return
		}
		if len(s.part) > 0 {
			s.part = append(s.part, p[:i]...)
			s.line(s.part)
			s.part = s.part[:0]
		} else {
			s.line(p[:i])
		}
		p = p[i+1:]
	}
	if len(s.part) == 0 {
		s.part = nil
	}
}

// upAcked drops the sent bytes the gateway has taken.
func (s *loadSession) upAcked(n int64) {
	if n > s.keptAt && n <= s.up {
		s.kept = s.kept[n-s.keptAt:]
		s.keptAt = n
		if len(s.kept) == 0 {
			s.kept = nil
		}
	}
}

// line checks one echoed line: the next in sequence, or counted as bad.
func (s *loadSession) line(l []byte) {
	l = bytes.TrimSuffix(l, []byte("\r"))
	rest, ok := bytes.CutPrefix(l, []byte("L "))
	if !ok {
		if s.greet || s.expect > 0 || !bytes.HasPrefix(l, []byte("wstelnet echo server")) {
			s.bad++ // only the greeting comes without a number, and first
		}
		s.greet = true
		return
	}
	f := bytes.Fields(rest)
	if len(f) < 2 {
		s.bad++
		return
	}
	seq, err1 := strconv.Atoi(string(f[0]))
	stamp, err2 := strconv.ParseInt(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil || seq != s.expect {
		s.bad++
		if err1 == nil && seq > s.expect {
			s.expect = seq + 1
		}
		return
	}
	s.expect++
	w := s.w
	if stamp >= w.from.Load() && stamp < w.to.Load() {
		lat := int32((w.now() - stamp) / 1000)
		w.mu.Lock()
		w.lat = append(w.lat, lat)
		w.mu.Unlock()
	}
}

// writeLocked writes one frame with a deadline. Call with mu held.
func (s *loadSession) writeLocked(op byte, p []byte) error {
	s.ws.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.ws.write(op, p)
}

// send sends the next line, and for a resumable session first the ack of
// the output received, as the page does once a second.
func (s *loadSession) send() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws == nil || s.gone {
		return errors.New("the connection has ended")
	}
	if s.w.job.Kind == "resume" && s.down > s.acked {
		if err := s.writeLocked(opText, fmt.Appendf(nil, `{"type":"ack","offset":%d}`, s.down)); err != nil {
			return fmt.Errorf("send an ack: %w", err)
		}
		s.acked = s.down
	}
	l := fmt.Appendf(nil, "L %d %d%s\n", s.seq, s.w.now(), loadPad)
	var err error
	switch s.w.job.Kind {
	case "v1":
		err = s.writeLocked(opText, l[:len(l)-1]) // the gateway adds CR LF
	case "resume":
		s.kept = append(s.kept, l...)
		fallthrough
	default:
		err = s.writeLocked(opBinary, l)
	}
	// A resumable session counts the line as sent even if the write
	// failed: it is kept, and sent again after the resume.
	if err == nil || s.w.job.Kind == "resume" {
		s.seq++
		s.up += int64(len(l))
	}
	if err != nil {
		return fmt.Errorf("send a line: %w", err)
	}
	return nil
}

// openAll opens every session, InFlight at a time.
func (w *loadWorker) openAll() loadReply {
	var r loadReply
	r.Start = time.Now().UnixNano()
	var mu sync.Mutex
	w.parallel(func(s *loadSession) {
		err := s.open()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			r.Failed++
			w.noteErr(fmt.Errorf("open session %d: %w", s.g, err))
			return
		}
		r.OK++
	})
	r.End = time.Now().UnixNano()
	r.Errors = w.takeErrs()
	return r
}

// parallel runs f for every session, at most InFlight at once.
func (w *loadWorker) parallel(f func(*loadSession)) {
	sem := make(chan struct{}, max(1, w.job.InFlight))
	var wg sync.WaitGroup
	for _, s := range w.ss {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(s)
		}()
	}
	wg.Wait()
}

// chat starts every open session sending a line each Period, session g
// at Base + g/Total of a period, so that the lines are spread evenly.
func (w *loadWorker) chat(c loadCmd) {
	w.from.Store(c.From - w.start.UnixNano())
	w.to.Store(c.To - w.start.UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	w.chatStop = cancel
	base := time.Unix(0, c.Base)
	period := w.job.Period
	for _, s := range w.ss {
		if s.ws == nil {
			continue
		}
		first := base.Add(time.Duration(int64(period) * int64(s.g) / int64(max(1, w.job.Total))))
		w.chatWG.Add(1)
		go func() {
			defer w.chatWG.Done()
			t := time.NewTimer(time.Until(first))
			defer t.Stop()
			next := first
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if err := s.send(); err != nil {
					w.noteErr(fmt.Errorf("session %d: %w", s.g, err))
					return
				}
				next = next.Add(period)
				t.Reset(time.Until(next))
			}
		}()
	}
}

// quiet stops the lines, waits up to wait for every line sent to come
// back, and counts.
func (w *loadWorker) quiet(wait time.Duration) loadReply {
	if w.chatStop != nil {
		w.chatStop()
		w.chatWG.Wait()
		w.chatStop = nil
	}
	deadline := time.Now().Add(wait)
	for {
		missing := 0
		for _, s := range w.ss {
			s.mu.Lock()
			if s.ws != nil && !s.gone && s.expect < s.seq {
				missing++
			}
			s.mu.Unlock()
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var r loadReply
	for _, s := range w.ss {
		s.mu.Lock()
		r.Sent += s.seq
		r.Received += s.expect - s.bad
		if s.expect < s.seq {
			r.Lost += s.seq - s.expect
		}
		r.Disorder += s.bad
		s.mu.Unlock()
	}
	w.mu.Lock()
	r.Latencies, w.lat = w.lat, nil
	w.mu.Unlock()
	r.Errors = w.takeErrs()
	return r
}

// cutAll sends each open session one more line and drops its connection
// right after it with a TCP reset, no close frame: a network that went
// away. The line may be lost in the reset, in which case the gateway's
// resumed message says so and the session sends it again.
func (w *loadWorker) cutAll() loadReply {
	var r loadReply
	var readers []chan struct{}
	for _, s := range w.ss {
		if s.ws == nil {
			continue
		}
		if err := s.send(); err != nil {
			w.noteErr(fmt.Errorf("session %d before the cut: %w", s.g, err))
		}
		s.mu.Lock()
		s.tcp.SetLinger(0)
		s.tcp.Close()
		s.ws = nil
		s.gone = false
		readers = append(readers, s.readDone)
		s.mu.Unlock()
		r.OK++
	}
	for _, d := range readers {
		<-d
	}
	r.Errors = w.takeErrs()
	return r
}

// resumeAll resumes every cut session, InFlight at a time, trying again
// after a refusal the page would retry (busy, close code 1013, or a
// connection that failed) with the page's backoff, within the window.
func (w *loadWorker) resumeAll() loadReply {
	r := loadReply{Refusals: map[string]int{}}
	r.Start = time.Now().UnixNano()
	var mu sync.Mutex
	count := func(kind string) {
		mu.Lock()
		r.Refusals[kind]++
		mu.Unlock()
	}
	sem := make(chan struct{}, max(1, w.job.InFlight))
	var wg sync.WaitGroup
	var last int64
	for _, s := range w.ss {
		if s.id == "" || s.tcp == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			backoff := 500 * time.Millisecond
			deadline := time.Now().Add(55 * time.Second) // within the 60 s window
			for {
				sem <- struct{}{}
				resent, err := s.resume()
				<-sem
				if err == nil {
					mu.Lock()
					r.OK++
					if resent {
						r.Resent++
					}
					last = max(last, time.Now().UnixNano())
					mu.Unlock()
					return
				}
				var ref *refusal
				retry := true
				switch {
				case errors.As(err, &ref) && ref.code == 1013:
					count("busy (1013): " + firstWords(ref.reason, 6))
				case errors.As(err, &ref):
					count(fmt.Sprintf("final (%d): %s", ref.code, firstWords(ref.reason, 6)))
					retry = false
				default:
					count("connection failed: " + firstWords(err.Error(), 6))
				}
				if !retry || time.Now().Add(backoff).After(deadline) {
					mu.Lock()
					r.Failed++
					mu.Unlock()
					w.noteErr(fmt.Errorf("resume session %d: %w", s.g, err))
					return
				}
				mu.Lock()
				r.Retries++
				mu.Unlock()
				time.Sleep(backoff) // the page's backoff, not a wait for readiness
				backoff = min(2*backoff, 5*time.Second)
			}
		}()
	}
	wg.Wait()
	r.End = last
	// One more line each, after the resume, to check both ways.
	for _, s := range w.ss {
		if s.ws != nil {
			if err := s.send(); err != nil {
				w.noteErr(fmt.Errorf("session %d after the resume: %w", s.g, err))
			}
		}
	}
	r.Errors = w.takeErrs()
	return r
}

// firstWords shortens a reason to its first n words, for counting kinds.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "…")
	}
	return strings.Join(f, " ")
}

// resume reattaches the session on a new connection: the output goes on
// from the bytes it has, and it sends again what the gateway did not take.
func (s *loadSession) resume() (resent bool, err error) {
	tcp, ws, err := s.dial("/ws?resume=1", "wstelnet.v2")
	if err != nil {
		return false, err
	}
	fail := func(err error) (bool, error) { tcp.Close(); return false, err }
	ws.conn.SetDeadline(time.Now().Add(60 * time.Second))
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if err := ws.write(opText, fmt.Appendf(nil, `{"type":"resume","id":%q,"offset":%d}`, s.id, down)); err != nil {
		return fail(fmt.Errorf("send the resume: %w", err))
	}
	a, err := readText(ws)
	if err != nil {
		return fail(err)
	}
	if a != "SUCC" {
		return fail(fmt.Errorf("answer to the resume: %q", a))
	}
	a, err = readText(ws)
	var m struct {
		Type             string
		Offset, Received int64
	}
	if err == nil {
		err = json.Unmarshal([]byte(a), &m)
	}
	if err != nil || m.Type != "resumed" {
		return fail(fmt.Errorf("want the resumed message after SUCC, got %q, %v", a, err))
	}
	ws.conn.SetDeadline(time.Time{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Offset != s.down {
		return fail(fmt.Errorf("resumed at output offset %d, asked for %d", m.Offset, s.down))
	}
	if m.Received < s.keptAt || m.Received > s.up {
		return fail(fmt.Errorf("the gateway has our bytes up to %d, but we keep %d to %d", m.Received, s.keptAt, s.up))
	}
	s.upAcked(m.Received)
	s.tcp, s.ws, s.gone = tcp, ws, false
	if len(s.kept) > 0 {
		if err := s.writeLocked(opBinary, s.kept); err != nil {
			s.ws = nil
			return fail(fmt.Errorf("send again what the gateway did not take: %w", err))
		}
	}
	s.startReader()
	return len(s.kept) > 0, nil
}

// closeAll ends every session with a close frame, as a page that is left.
func (w *loadWorker) closeAll() {
	if w.chatStop != nil {
		w.chatStop()
		w.chatWG.Wait()
		w.chatStop = nil
	}
	for _, s := range w.ss {
		s.mu.Lock()
		if s.ws != nil {
			s.ws.close()
			s.ws = nil
		}
		s.mu.Unlock()
	}
}
