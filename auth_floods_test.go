package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Tests of -htpasswd under guessing (issue 19): a bounded wait for bcrypt,
// a limit of wrong passwords per address, credentials that do not expire
// under a live session, and unknown users that cost what known ones do.

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

// occupySlots takes every bcrypt slot, as a flood of slow checks does,
// and returns the function that gives them back (also run at cleanup, so
// that a failing test does not leave handlers blocked).
func occupySlots(t *testing.T, h *htpasswd) (release func()) {
	held := 0
	for range cap(h.slots) {
		h.slots <- struct{}{}
		held++
	}
	release = func() {
		for ; held > 0; held-- {
			<-h.slots
		}
	}
	t.Cleanup(release)
	return release
}

// getAuthed GETs the page with credentials, from addr as a trusted proxy
// says (addr "": the test's own).
func getAuthed(t *testing.T, tg *testGateway, user, pass, addr string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", tg.srv.URL+"/", nil)
	req.Header.Set("Authorization", basicAuth(user, pass))
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestAuthQueueBounded: while bcrypt is busy, at most bcryptQueue checks
// wait; the next ones are refused at once with 503 and Retry-After,
// instead of queueing behind a flood without end.
func TestAuthQueueBounded(t *testing.T) {
	h := mustHtpasswd(t, bobLine)
	tg := newTestGateway(t, gatewayOptions{Auth: h})
	release := occupySlots(t, h)
	n := bcryptQueue + 5
	codes := make(chan *http.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", tg.srv.URL+"/", nil)
			req.Header.Set("Authorization", basicAuth("bob", fmt.Sprint("guess", i)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp
		}()
	}
	busy := 0
	deadline := time.After(10 * time.Second)
	for busy < n-cap(h.queue) {
		select {
		case resp := <-codes:
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("a check past the queue: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
			}
			busy++
		case <-deadline:
			t.Fatalf("%d of %d checks past the queue refused within 10 s; the queue is not bounded", busy, n-cap(h.queue))
		}
	}
	release()
	wg.Wait()
	close(codes)
	for resp := range codes {
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a queued wrong password: %s, want 401", resp.Status)
		}
	}
}

// TestAuthFailureLimit: an address that guessed wrong maxAuthFailures
// times is refused with 429 and Retry-After, without a bcrypt check;
// other addresses, and credentials verified before, are not.
func TestAuthFailureLimit(t *testing.T) {
	h := mustHtpasswd(t, bobLine)
	tg := newTestGateway(t, gatewayOptions{Auth: h, TrustProxy: mustPrefixes(t, "127.0.0.1")})
	if resp := getAuthed(t, tg, "bob", "correct horse", "192.0.2.1"); resp.StatusCode != 200 {
		t.Fatalf("bob: %s", resp.Status)
	}
	for i := range maxAuthFailures {
		if resp := getAuthed(t, tg, "bob", "guess", "192.0.2.1"); resp.StatusCode != 401 {
			t.Fatalf("wrong password %d: %s, want 401", i+1, resp.Status)
		}
	}
	resp := getAuthed(t, tg, "bob", "guess", "192.0.2.1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("past the limit: %s, Retry-After %q; want 429 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	// Refused without a check: the slots are taken, and the answer still comes.
	release := occupySlots(t, h)
	if resp := getAuthed(t, tg, "mallory", "x", "192.0.2.1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("past the limit, slots busy: %s, want 429", resp.Status)
	}
	if resp := getAuthed(t, tg, "bob", "correct horse", "192.0.2.1"); resp.StatusCode != 200 {
		t.Errorf("bob's verified credentials from the refused address: %s, want 200", resp.Status)
	}
	release()
	if resp := getAuthed(t, tg, "bob", "guess", "192.0.2.2"); resp.StatusCode != 401 {
		t.Errorf("another address: %s, want 401", resp.Status)
	}
	logs := tg.logs()
	if n := strings.Count(logs, "authentication failed"); n > 3 {
		t.Errorf("%d log lines for %d wrong passwords from two addresses, want them in aggregate:\n%s", n, maxAuthFailures+3, logs)
	}
}

// TestAuthHeldWhileSessionLives: a session's credentials do not expire
// while it is alive, so that its resume gets in at once even when bcrypt
// is busy with guesses; once it ends they expire as others do.
func TestAuthHeldWhileSessionLives(t *testing.T) {
	echo := startTestEcho(t)
	h := mustHtpasswd(t, bobLine)
	var mu sync.Mutex
	now := time.Now()
	h.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	later := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	tg := newTestGateway(t, gatewayOptions{Auth: h, ResumeWindow: time.Hour})
	hdr := http.Header{"Authorization": {basicAuth("bob", "correct horse")}}
	c := tg.openResumable(t, echo.Addr(), hdr)
	for !bytes.Contains(c.got, []byte("leave.\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })

	later(2 * authCacheTTL)
	release := occupySlots(t, h) // bcrypt is busy
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.resume()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a resume of a live session waits for bcrypt: its credentials expired")
	}
	release()
	c.ws.sendClose()
	c.ws.readUntilClose()
	waitFor(t, "the session to end", func() bool { return tg.gw.Sessions() == 0 })
	later(2 * authCacheTTL)
	if h.cached(credKey("bob", "correct horse")) {
		t.Error("the credentials stay after the session ended")
	}
}

// TestUnknownUserCost: an unknown user is checked against a hash of the
// cost most of the file's entries have, so that a wrong user name is
// refused as slowly as a wrong password.
func TestUnknownUserCost(t *testing.T) {
	hash := func(cost int) string {
		b, _ := bcrypt.GenerateFromPassword([]byte("x"), cost)
		return string(b)
	}
	for _, tc := range []struct {
		name  string
		lines []string
		want  int
	}{
		{"htpasswd -B (cost 5)", []string{"a:" + hash(5), "b:" + hash(5)}, 5},
		{"Go's default", []string{"a:" + hash(10)}, 10},
		{"mostly 4", []string{"a:" + hash(4), "b:" + hash(4), "c:" + hash(6)}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHtpasswd(t, tc.lines...)
			if cost, err := bcrypt.Cost(h.users.Load().dummy); err != nil || cost != tc.want {
				t.Errorf("unknown users cost %d (%v), want %d", cost, err, tc.want)
			}
		})
	}
}

// BenchmarkAuthWrongUser compares refusing a wrong password with refusing
// an unknown user, for a file made by htpasswd -B (cost 5): the two should
// take the same time.
func BenchmarkAuthWrongUser(b *testing.B) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("right"), 5)
	path := b.TempDir() + "/htpasswd"
	writeFile(b, path, "alice:"+string(hash)+"\n")
	h, err := loadHtpasswd(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, user := range []string{"alice", "nobody"} {
		b.Run(user, func(b *testing.B) {
			for b.Loop() {
				h.check(user, "wrong")
			}
		})
	}
}

func mustPrefixes(t testing.TB, list string) []netip.Prefix {
	t.Helper()
	p, err := parsePrefixes("-trust-proxy", list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHtpasswdReloadOnChange: a changed -htpasswd is read again without a
// signal; a removed user's sessions end, with a log line, and the others
// go on.
func TestHtpasswdReloadOnChange(t *testing.T) {
	echo := startTestEcho(t)
	alice, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), 4)
	path := writeHtpasswd(t, bobLine, "alice:"+string(alice))
	h, err := loadHtpasswd(path)
	if err != nil {
		t.Fatal(err)
	}
	tg := newTestGateway(t, gatewayOptions{Auth: h})
	rl := newReloader(tg.gw.log, 10*time.Millisecond, h, nil, func(users []string) {
		tg.gw.log.Warn("users removed from -htpasswd: their sessions end", "users", users, "sessions", tg.gw.EndSessionsOf(users))
	})
	defer rl.stop()
	open := func(user, pass string) *wsClient {
		ws, resp := tg.dialWS(t, "/ws", http.Header{"Authorization": {basicAuth(user, pass)}})
		if ws == nil {
			t.Fatalf("%s: %s", user, resp.Status)
		}
		ws.sendText(echo.Addr())
		ws.expectText("SUCC")
		ws.expectText(strings.TrimSuffix(echoGreeting, "\r\n"))
		return ws
	}
	a, b := open("alice", "wonderland"), open("bob", "correct horse")
	writeFile(t, path, bobLine+"\n# alice left\n")
	if reason := a.expectClose(1000); !strings.Contains(reason, "removed") {
		t.Errorf("alice's session closed with %q", reason)
	}
	b.sendText("still here")
	b.expectText("still here")
	// The line is written once the sessions are told to end, which may be
	// after alice's close reached us.
	waitFor(t, "the log line for the removal", func() bool {
		return strings.Contains(tg.logs(), `users removed from -htpasswd: their sessions end" users=[alice] sessions=1`)
	})
}
