package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"wstelnet/internal/faillimit"

	"golang.org/x/crypto/bcrypt"
)

// htpasswd checks HTTP Basic credentials against bcrypt entries in the
// format `htpasswd -B` writes: one "user:$2y$..." line per user. The file
// can be read again (reload), on SIGHUP and when it changes.
type htpasswd struct {
	path  string
	users atomic.Pointer[htpasswdUsers]

	// bcrypt costs tens of milliseconds by design; browsers send the
	// credentials with every request. Verified credentials are remembered for
	// a while (by SHA-256, never in clear), and at most bcryptSlots checks
	// run at once, so wrong guesses cannot take every core; at most
	// bcryptQueue more wait for one, and others are refused at once
	// (errAuthBusy), so that a flood of guesses cannot delay a real user
	// without bound.
	mu       sync.Mutex
	verified map[[32]byte]*verifiedCred
	slots    chan struct{}
	queue    chan struct{} // one per check running or waiting
	now      func() time.Time
}

// verifiedCred is a remembered good user and password. While a session
// opened with them is alive (holds > 0), it does not expire: a resume of
// that session must not wait on bcrypt behind anyone's guesses.
type verifiedCred struct {
	user  string
	at    time.Time
	holds int
}

// htpasswdUsers is one reading of the file.
type htpasswdUsers struct {
	hash  map[string][]byte // user -> bcrypt hash
	dummy []byte            // compared against for unknown users
}

const (
	authCacheTTL  = 5 * time.Minute
	authCacheSize = 1024
	bcryptSlots   = 2
	// bcryptQueue is how many checks may wait for a slot: at cost 10,
	// about a second of waiting on two cores.
	bcryptQueue = 32
)

// errAuthBusy is a check refused because too many are waiting.
var errAuthBusy = errors.New("too many password checks at once")

// dummyHash is compared against for unknown users of a file whose entries
// mostly have bcrypt's default cost (10). It is the hash of 24 random
// bytes nobody kept; written out rather than computed, because computing
// it would add 60 ms to every start. Files of another cost get a dummy of
// that cost, made when the file is read (dummyFor).
var dummyHash = []byte("$2a$10$qJ98t1u82xKCojhvSSuNE.gUBxHa53ZtGYyvc0K.Xis8JJlJcIjD2")

// loadHtpasswd reads an htpasswd file of bcrypt entries.
func loadHtpasswd(path string) (*htpasswd, error) {
	u, err := readHtpasswd(path)
	if err != nil {
		return nil, err
	}
	h := &htpasswd{path: path, verified: map[[32]byte]*verifiedCred{},
		slots: make(chan struct{}, bcryptSlots), queue: make(chan struct{}, bcryptSlots+bcryptQueue), now: time.Now}
	h.users.Store(u)
	return h, nil
}

// readHtpasswd reads and checks the file.
func readHtpasswd(path string) (*htpasswdUsers, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-htpasswd: %w", err)
	}
	defer f.Close()
	u := &htpasswdUsers{hash: map[string][]byte{}}
	costs := map[int]int{}
	sc := bufio.NewScanner(io.LimitReader(f, maxHtpasswdBytes))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("-htpasswd %s line %d: want user:hash", path, n)
		}
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return nil, fmt.Errorf("-htpasswd %s line %d (user %q): not a bcrypt hash (%v); only bcrypt entries are accepted: create them with htpasswd -B", path, n, user, err)
		}
		costs[cost]++
		u.hash[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-htpasswd %s: %w", path, err)
	}
	if len(u.hash) == 0 {
		return nil, fmt.Errorf("-htpasswd %s: no users in the file; add one with htpasswd -B %s NAME", path, path)
	}
	u.dummy, err = dummyFor(costs)
	if err != nil {
		return nil, fmt.Errorf("-htpasswd %s: %w", path, err)
	}
	return u, nil
}

// maxHtpasswdBytes bounds the file read: 16 MiB is some 250,000 users.
const maxHtpasswdBytes = 16 << 20

// dummyFor is a hash of the cost most entries have (the highest of equals),
// so that an unknown user name takes as long to refuse as a wrong
// password of a known user: `htpasswd -B` writes cost 5, Go's bcrypt 10.
func dummyFor(costs map[int]int) ([]byte, error) {
	best := 0
	for c, n := range costs {
		if n > costs[best] || (n == costs[best] && c > best) {
			best = c
		}
	}
	if best == bcrypt.DefaultCost {
		return dummyHash, nil
	}
	pass := make([]byte, 24)
	rand.Read(pass)
	return bcrypt.GenerateFromPassword(pass, best)
}

func credKey(user, pass string) [32]byte { return sha256.Sum256([]byte(user + "\x00" + pass)) }

// check reports whether user and password are valid, or errAuthBusy when
// too many checks are waiting to say.
func (h *htpasswd) check(user, pass string) (bool, error) {
	key := credKey(user, pass)
	if h.cached(key) {
		return true, nil
	}
	u := h.users.Load()
	hash, known := u.hash[user]
	if !known {
		hash = u.dummy
	}
	select {
	case h.queue <- struct{}{}:
	default:
		return false, errAuthBusy
	}
	h.slots <- struct{}{}
	err := bcrypt.CompareHashAndPassword(hash, []byte(pass))
	<-h.slots
	<-h.queue
	if err != nil || !known || h.users.Load() != u { // a reload meanwhile: ask again next time
		return false, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.verified) >= authCacheSize {
		for k, c := range h.verified {
			if c.holds == 0 {
				delete(h.verified, k)
			}
		}
	}
	if c := h.verified[key]; c != nil {
		c.at = h.now()
	} else {
		h.verified[key] = &verifiedCred{user: user, at: h.now()}
	}
	return true, nil
}

// cached reports whether the credentials with key were verified lately,
// or are held by a live session.
func (h *htpasswd) cached(key [32]byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.verified[key]
	return c != nil && (c.holds > 0 || h.now().Sub(c.at) < authCacheTTL)
}

// credHold keeps a session's verified credentials from expiring while the
// session is alive; release lets them go. The zero credHold holds nothing.
type credHold struct {
	h   *htpasswd
	key [32]byte
}

// hold pins the verified credentials user and pass (which the request
// that opens a session carried) until release.
func (h *htpasswd) hold(user, pass string) credHold {
	if h == nil || user == "" {
		return credHold{}
	}
	key := credKey(user, pass)
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.verified[key]
	if c == nil {
		// Checked by authed a moment ago, and dropped since (a reload, a
		// full cache): not pinned, a resume checks again.
		return credHold{}
	}
	c.holds++
	return credHold{h: h, key: key}
}

// release undoes hold; the credentials expire as others do from now.
func (ch credHold) release() {
	if ch.h == nil {
		return
	}
	ch.h.mu.Lock()
	defer ch.h.mu.Unlock()
	if c := ch.h.verified[ch.key]; c != nil && c.holds > 0 {
		c.holds--
		c.at = ch.h.now()
	}
}

// reload reads the file again. On success it forgets the credentials of
// users removed or given a new password and returns the removed users; on
// failure the last good file stays.
func (h *htpasswd) reload() (removed []string, users int, err error) {
	u, err := readHtpasswd(h.path)
	if err != nil {
		return nil, len(h.users.Load().hash), err
	}
	old := h.users.Swap(u)
	gone := map[string]bool{}
	for user, hash := range old.hash {
		if nh, ok := u.hash[user]; !ok {
			removed = append(removed, user)
			gone[user] = true
		} else if string(nh) != string(hash) {
			gone[user] = true
		}
	}
	h.mu.Lock()
	for k, c := range h.verified {
		if gone[c.user] {
			delete(h.verified, k)
		}
	}
	h.mu.Unlock()
	slices.Sort(removed)
	return removed, len(u.hash), nil
}

// requireAuth answers 401 to requests without valid credentials, 429 to
// an address that guessed wrong too often lately, and 503 when too many
// checks are waiting; the last two with Retry-After.
func (g *Gateway) requireAuth(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if ok && g.opts.Auth.cached(credKey(user, pass)) {
		return true // what a real user sends with every request, at no cost
	}
	addr := clientOf(r).addr
	if ok {
		if allowed, after := g.authFailures.Allow(addr); !allowed {
			g.opts.Metrics.Refuse("auth")
			retryAfter(w, after)
			http.Error(w, "429 Too Many Requests: too many wrong passwords from your address; try again later.", http.StatusTooManyRequests)
			return false
		}
		good, err := g.opts.Auth.check(user, pass)
		if err != nil {
			g.opts.Metrics.Refuse("auth")
			retryAfter(w, time.Second)
			http.Error(w, "503 Service Unavailable: the gateway is checking too many passwords at once; try again in a moment.", http.StatusServiceUnavailable)
			return false
		}
		if good {
			return true
		}
		g.authFailures.Fail(addr)
		g.opts.Metrics.Refuse("auth")
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="wstelnet", charset="UTF-8"`)
	http.Error(w, "401 Unauthorized: this gateway needs a user name and password.", http.StatusUnauthorized)
	return false
}

// retryAfter sets Retry-After to d in whole seconds, at least 1.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((d+time.Second-1)/time.Second))))
}

// Guesses: wrong passwords and resumes of unknown sessions are counted per
// client address (internal/faillimit). Past a limit the address is refused
// for the rest of the window, and the log gets one line per address per
// minute with a count rather than a line per guess.

const (
	// maxAuthFailures wrong passwords per failureWindow from one address:
	// more than a person mistyping, and behind one NAT, several.
	maxAuthFailures = 20
	// maxResumeFailures refused resumes per failureWindow from one address.
	// The page asks to resume only sessions it had, and gives up at the
	// first unknown one; a guesser of 128-bit ids asks thousands of times.
	maxResumeFailures = 20
	failureWindow     = time.Minute
)

// newLimiters makes the gateway's failure limiters.
func (g *Gateway) newLimiters() {
	g.authFailures = &faillimit.Limiter{Max: maxAuthFailures, Window: failureWindow,
		Report: func(addr string, n int, refused bool) {
			g.log.Warn("authentication failed", "client", addr, "failures", n, "refused", refused)
		}}
	g.resumeFailures = &faillimit.Limiter{Max: maxResumeFailures, Window: failureWindow,
		Report: func(addr string, n int, refused bool) {
			g.log.Warn("resume refused: unknown session", "client", addr, "failures", n, "refused", refused)
		}}
}
