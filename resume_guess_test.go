package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestResumeGuessLimit: an address that asked to resume maxResumeFailures
// unknown sessions is refused even a real id, with the words an unknown
// id gets, and the guesses are logged in aggregate, not a line or two
// each. Other addresses resume as before.
func TestResumeGuessLimit(t *testing.T) {
	echo := startTestEcho(t)
	tg := newTestGateway(t, gatewayOptions{ResumeWindow: time.Minute, TrustProxy: mustPrefixes(t, "127.0.0.1")})
	c := tg.openResumable(t, echo.Addr(), http.Header{"X-Forwarded-For": {"192.0.2.10"}})
	for !bytes.Contains(c.got, []byte("leave.\r\n")) {
		c.read()
	}
	c.cut()
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })

	guesser := http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {subprotocolV2}, "X-Forwarded-For": {"192.0.2.66"}}
	before := strings.Count(tg.logs(), "\n")
	for i := range maxResumeFailures + 10 {
		fail := tg.refusedResume(t, guesser, fmt.Sprintf(`{"type":"resume","id":"guess%017d","offset":0}`, i))
		if fail != "FAIL:"+"unknown session: it has ended, expired, or never existed; connect again" {
			t.Fatalf("guess %d: FAIL %q", i, fail)
		}
	}
	// The real id, from the guesser's address: refused as unknown.
	if fail := tg.refusedResume(t, guesser, fmt.Sprintf(`{"type":"resume","id":%q,"offset":%d}`, c.id, len(c.got))); fail != "FAIL:"+"unknown session: it has ended, expired, or never existed; connect again" {
		t.Errorf("the real id after %d guesses: FAIL %q, want %q", maxResumeFailures+10, fail, "unknown session: it has ended, expired, or never existed; connect again")
	}
	logs := tg.logs()
	lines := strings.Split(logs, "\n")[before:]
	if n := len(lines); n > 5 {
		t.Errorf("%d log lines for %d guesses, want them in aggregate:\n%s", n, maxResumeFailures+11, strings.Join(lines, "\n"))
	}
	if !strings.Contains(logs, "failures=") || !strings.Contains(logs, "192.0.2.66") {
		t.Errorf("no aggregate line naming the guesser:\n%s", logs)
	}
	// The owner, from its own address, resumes.
	c.hdr.Set("X-Forwarded-For", "192.0.2.10")
	c.resume()
	c.ws.writeFrame(opBinary, []byte("back\r\n"))
	for !bytes.Contains(c.got, []byte("back\r\n")) {
		c.read()
	}
}
