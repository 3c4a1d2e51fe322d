package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Tests of -htpasswd: HTTP Basic authentication with bcrypt entries.

// bobLine was written by `htpasswd -nbB -C 4 bob 'correct horse'` (apache2-utils).
const bobLine = "bob:$2y$04$zzSlwjSMUZbnzznuSlxwretJbF/ma9teDNO/XL9OMpONfmimma1yS"

func writeHtpasswd(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuthentication(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	auth, err := loadHtpasswd(writeHtpasswd(t, "# users", bobLine, "alice:"+string(hash)))
	if err != nil {
		t.Fatal(err)
	}
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{Auth: auth})
	for _, tc := range []struct {
		name, path, user, pass string
		want                   int
	}{
		{"page without credentials", "/", "", "", 401},
		{"asset without credentials", "/wstelnet.js", "", "", 401},
		{"page, wrong password", "/", "alice", "guess", 401},
		{"page, unknown user", "/", "mallory", "s3cret", 401},
		{"page, htpasswd -B entry", "/", "bob", "correct horse", 200},
		{"page, Go bcrypt entry", "/", "alice", "s3cret", 200},
		{"page again (cached)", "/", "alice", "s3cret", 200},
		{"health check needs none", "/healthz", "", "", 200},
		{"readiness check needs none", "/readyz", "", "", 200},
	} {
		req, _ := http.NewRequest("GET", tg.srv.URL+tc.path, nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.name, resp.Status, tc.want)
		}
		if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// The WebSocket needs the credentials too.
	hdr := http.Header{"Origin": {tg.origin()}}
	if ws, resp := tg.dialWS(t, "/ws", hdr); ws != nil || resp.StatusCode != 401 {
		t.Fatalf("WebSocket without credentials: %v", resp.Status)
	}
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("bob", "correct horse")
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	ws, resp := tg.dialWS(t, "/ws", hdr)
	if ws == nil {
		t.Fatalf("WebSocket with credentials: %s", resp.Status)
	}
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
	if n := tg.dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1", n)
	}
}

func TestHtpasswdFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"MD5 entry", []string{"carol:$apr1$JQgO8alx$siqPimX7Sj6zAcbbqYFrU."}, "htpasswd -B"},
		{"plain text", []string{"dave:password"}, "not a bcrypt hash"},
		{"no colon", []string{"dave"}, "want user:hash"},
		{"empty", []string{"# nobody"}, "no users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadHtpasswd(writeHtpasswd(t, tc.lines...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := loadHtpasswd(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file is accepted")
	}
}

// TestDummyHashCost: unknown users are checked against a hash as costly as
// the default, or a wrong user name would answer faster than a wrong password.
func TestDummyHashCost(t *testing.T) {
	if cost, err := bcrypt.Cost(dummyHash); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("dummyHash cost %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
}
