package main

import (
	"time"

	"wstelnet/internal/faillimit"
)

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

// resumeAllowed reports whether client may try to resume a session: not
// after too many unknown ids lately. A refusal says what an unknown id
// gets, so that a guesser learns nothing from it.
func (g *Gateway) resumeAllowed(client string) bool {
	ok, _ := g.resumeFailures.Allow(client)
	return ok
}

// resumeFailed counts a resume of an unknown session from client and
// returns its end, the refusal every unknown id gets; the log has it in
// aggregate.
func (g *Gateway) resumeFailed(client string) end {
	g.resumeFailures.Fail(client)
	e := endRefused("resume refused", errUnknownSession.Error(), nil)
	e.counted = true
	return e
}
