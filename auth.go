package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// htpasswd checks HTTP Basic credentials against bcrypt entries in the
// format `htpasswd -B` writes: one "user:$2y$..." line per user.
type htpasswd struct {
	users map[string][]byte // user -> bcrypt hash

	// bcrypt costs tens of milliseconds by design; browsers send the
	// credentials with every request. Verified credentials are remembered for
	// a while (by SHA-256, never in clear), and at most two bcrypt checks run
	// at once, so wrong guesses cannot take every core.
	mu       sync.Mutex
	verified map[[32]byte]time.Time
	slots    chan struct{}
}

const (
	authCacheTTL  = 5 * time.Minute
	authCacheSize = 1024
)

// dummyHash is compared against for unknown users, so that a wrong user
// name takes as long as a wrong password. It is the bcrypt hash (cost 10,
// the default) of 24 random bytes nobody kept; written out rather than
// computed, because computing it would add 60 ms to every start.
var dummyHash = []byte("$2a$10$qJ98t1u82xKCojhvSSuNE.gUBxHa53ZtGYyvc0K.Xis8JJlJcIjD2")

// loadHtpasswd reads an htpasswd file of bcrypt entries.
func loadHtpasswd(path string) (*htpasswd, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-htpasswd: %w", err)
	}
	defer f.Close()
	h := &htpasswd{users: map[string][]byte{}, verified: map[[32]byte]time.Time{}, slots: make(chan struct{}, 2)}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("-htpasswd %s line %d: want user:hash", path, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("-htpasswd %s line %d (user %q): not a bcrypt hash (%v); only bcrypt entries are accepted: create them with htpasswd -B", path, n, user, err)
		}
		h.users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-htpasswd %s: %w", path, err)
	}
	if len(h.users) == 0 {
		return nil, fmt.Errorf("-htpasswd %s: no users in the file; add one with htpasswd -B %s NAME", path, path)
	}
	return h, nil
}

// check reports whether user and password are valid.
func (h *htpasswd) check(user, pass string) bool {
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	now := time.Now()
	h.mu.Lock()
	t, ok := h.verified[key]
	h.mu.Unlock()
	if ok && now.Sub(t) < authCacheTTL {
		return true
	}

	hash, known := h.users[user]
	if !known {
		hash = dummyHash
	}
	h.slots <- struct{}{}
	err := bcrypt.CompareHashAndPassword(hash, []byte(pass))
	<-h.slots
	if err != nil || !known {
		return false
	}
	h.mu.Lock()
	if len(h.verified) >= authCacheSize {
		clear(h.verified)
	}
	h.verified[key] = now
	h.mu.Unlock()
	return true
}

// requireAuth answers 401 to requests without valid credentials.
func (g *Gateway) requireAuth(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if ok && g.opts.Auth.check(user, pass) {
		return true
	}
	if ok {
		g.log.Warn("authentication failed", "client", clientOf(r).addr, "user", user, "path", r.URL.Path)
		g.opts.Metrics.Refuse("auth")
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="wstelnet", charset="UTF-8"`)
	http.Error(w, "401 Unauthorized: this gateway needs a user name and password.", http.StatusUnauthorized)
	return false
}
