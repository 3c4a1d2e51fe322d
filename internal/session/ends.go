package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"wstelnet/internal/telnet"
	"wstelnet/internal/wsframe"
)

// Kind is a way a session ends. Every kind has one row in kinds: its log
// text, its close code, its metric label and who closes; an End adds the
// words for this session (a dial error's, say) and the cause.
type Kind uint8

// The kinds of a session that started (SUCC was sent).
const (
	TargetClosed      Kind = iota + 1 // the target closed the connection
	TargetLost                        // a read from the target failed
	TargetWriteFailed                 // a write to the target failed or timed out
	ClientClosed                      // the browser sent a close frame
	ClientLost                        // the browser's connection ended without one
	ClientWriteFailed                 // a write to the browser failed or timed out
	TooBig                            // a message over -max-message
	ProtocolError                     // the browser broke RFC 6455
	Idle                              // -idle-timeout
	Shutdown                          // the gateway shuts down (also refuses new sessions)
	Expired                           // a detached session's -resume-window passed
	Revoked                           // the gateway withdrew the session's credentials
	TargetCorrupt                     // the target's compressed output (MCCP2) cannot be inflated

	// Sessions that never started.
	Busy          // -max-sessions or -max-sessions-per-client
	NoTarget      // no first message in time
	BadTarget     // the first message is not a target
	BadOptions    // v2's query parameters
	UnknownName   // no named target by that name
	Denied        // the target rules refuse the target
	DialFailed    // the target could not be reached
	ResumeRefused // a resume the gateway cannot honour
	Abandoned     // the browser left before the session started
	handedOver    // the socket resumed another session, which owns it now
)

// kindInfo is one row of the table.
type kindInfo struct {
	log   string // the reason in the log line
	code  int    // the close code
	label string // the metric's reason label, for a session that started
	// refusal is the metric's label for a session that never started:
	// a refusal's reason, "dial" for a failed dial (by its kind), ""
	// for a browser that left (abandoned).
	refusal string
	closes  bool   // the gateway closes: it sends the last output, then its close frame
	text    string // the words a person reads, when the End has none of its own
}

var kinds = [...]kindInfo{
	TargetClosed:      {"target closed", wsframe.CloseNormal, "target_closed", "", true, "the target closed the connection"},
	TargetLost:        {"target connection lost", wsframe.CloseNormal, "target_lost", "", true, "the connection to the target was lost"},
	TargetWriteFailed: {"target write failed", wsframe.CloseNormal, "target_lost", "", true, "the connection to the target failed"},
	ClientClosed:      {"client closed", wsframe.CloseNormal, "client_closed", "", false, ""},
	ClientLost:        {"client connection lost", wsframe.CloseNormal, "client_lost", "", false, ""},
	ClientWriteFailed: {"client write failed", wsframe.CloseNormal, "client_lost", "", false, ""},
	TooBig:            {"message too big", wsframe.CloseTooBig, "too_big", "malformed", false, ""},
	ProtocolError:     {"protocol error", wsframe.CloseProtocolError, "protocol_error", "malformed", false, ""},
	Idle:              {"idle", wsframe.CloseNormal, "idle", "", true, ""},
	Shutdown:          {"shutdown", wsframe.CloseGoingAway, "shutdown", "shutting_down", true, "the gateway is shutting down"},
	Expired:           {"resume window expired", wsframe.CloseNormal, "resume_expired", "", true, ""},
	Revoked:           {"credentials revoked", wsframe.CloseNormal, "revoked", "auth", true, "your access to this gateway was withdrawn"},
	TargetCorrupt: {"target's compressed output corrupt", wsframe.CloseNormal, "target_lost", "", true,
		"the game's compressed output (MCCP2) is corrupt, so the gateway ended the session; connect again, and if it happens again, ask the gateway's operator to turn compression off for this game (the target option no-mccp)"},

	Busy:          {"busy", wsframe.CloseTryAgainLater, "other", "limit", true, "the gateway is busy; try again later"},
	NoTarget:      {"no target", wsframe.CloseNormal, "other", "no_target", true, ""},
	BadTarget:     {"bad target", wsframe.CloseNormal, "other", "malformed", true, ""},
	BadOptions:    {"bad options", wsframe.CloseNormal, "other", "malformed", true, ""},
	UnknownName:   {"unknown name", wsframe.CloseNormal, "other", "unknown_name", true, ""},
	Denied:        {"target denied", wsframe.CloseNormal, "other", "target_rule", true, ""},
	DialFailed:    {"dial error", wsframe.CloseNormal, "other", "dial", true, "the connection to the target failed"},
	ResumeRefused: {"resume refused", wsframe.CloseNormal, "other", "resume", true, ""},
	Abandoned:     {"abandoned", wsframe.CloseNormal, "other", "", false, ""},
	handedOver:    {"handed over", 0, "", "", false, ""},
}

// Kinds lists every kind, for tests and for metrics that create every series.
func Kinds() []Kind {
	var all []Kind
	for k := range kinds {
		if k != 0 && Kind(k) != handedOver {
			all = append(all, Kind(k))
		}
	}
	return all
}

func (k Kind) String() string { return kinds[k].log }

// Label is the metrics' reason label of a started session that ended so.
func (k Kind) Label() string { return kinds[k].label }

// Refusal is the metrics' label of a session that ended so before it
// started: a refusal reason, "dial" for a failed dial, "" for abandoned.
func (k Kind) Refusal() string { return kinds[k].refusal }

// Started reports whether the kind ends a session that had started.
func (k Kind) Started() bool { return k < Busy }

// End says why a session ended, and so what the browser is told.
type End struct {
	Kind Kind
	Text string // the words for the person; kinds' text when empty
	Err  error  // the cause, for the log
	// DialKind, for DialFailed, classifies the dial's error (DialKind).
	DialKind string
	// answer: the browser's close frame answered ours, so the session
	// ended for the reason we closed, not because the browser left.
	answer bool
	// beforeTarget: the browser left before it named a target.
	beforeTarget bool
	// code overrides the kind's close code (a protocol error's 1007, say).
	code int
	// quiet: logged elsewhere (in aggregate), not as a line of its own.
	quiet bool
}

// NewEnd is an end of kind k with words for the person (or the kind's own).
func NewEnd(k Kind, text string) End { return End{Kind: k, Text: text} }

// Reason is what the page shows: the close frame's reason and the closed message's.
func (e End) Reason() string {
	if e.Text != "" {
		return e.Text
	}
	return kinds[e.Kind].text
}

// Code is the close code.
func (e End) Code() int {
	if e.code != 0 {
		return e.code
	}
	return kinds[e.Kind].code
}

// Log is the reason in the session's log line.
func (e End) Log() string {
	if e.beforeTarget {
		return kinds[e.Kind].log + " before sending a target"
	}
	return kinds[e.Kind].log
}

// GatewayCloses reports whether the gateway ends the session (the target
// closed, a timeout, shutdown, a refusal): it delivers what it has, sends
// its close frame first and waits for the browser's answer. Otherwise the
// browser's side ended it and there is nothing to wait for.
func (e End) GatewayCloses() bool { return kinds[e.Kind].closes }

// yieldsToStop reports whether an end may be the effect of a stop rather
// than its own cause: the gateway's side ended (stop closes the target),
// or the browser answered the close frame stop sent. A browser that
// closed or left first keeps its own reason, even if a stop comes after.
func (e End) yieldsToStop() bool { return e.GatewayCloses() || e.answer }

func (e End) zero() bool { return e.Kind == 0 }

// Constructors for the ends with words of their own.

func endIdle(after time.Duration) End {
	return NewEnd(Idle, fmt.Sprintf("closed after %s without activity", after))
}

func endExpired(window time.Duration) End {
	return NewEnd(Expired, fmt.Sprintf("the session ended after %s without a connection", window))
}

func endNoTarget(after time.Duration) End {
	return NewEnd(NoTarget, fmt.Sprintf("no target received within %s; send host:port first", after))
}

func endBadOptions(text string) End {
	return NewEnd(BadOptions, "bad option in the WebSocket URL: "+text)
}

// endDialFailed words a failed dial once, for the FAIL: answer, the log
// and the metric's kind.
func endDialFailed(addr string, timeout time.Duration, err error) End {
	text, kind := DescribeDialError(addr, timeout, err)
	if kind == "unknown_name" {
		return End{Kind: UnknownName, Text: text, Err: err}
	}
	return End{Kind: DialFailed, Text: text, Err: err, DialKind: kind}
}

func withErr(k Kind, err error) End { return End{Kind: k, Err: quiet(err)} }

// DescribeDialError turns a failed dial into words for the FAIL: answer
// and a kind for the metrics: refused, timeout, unreachable, dns, other,
// or unknown_name for a host that does not exist (the user's mistake).
func DescribeDialError(addr string, timeout time.Duration, err error) (text, kind string) {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("cannot find host %s (check the spelling)", dnsErr.Name), "unknown_name"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot look up host %s: %s", dnsErr.Name, dnsErr.Err), "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection (is the service running on that port?)", addr), "refused"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from %s within %s", addr, timeout), "timeout"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s cannot be reached from the gateway (no route)", addr), "unreachable"
	case errors.Is(err, context.Canceled):
		return "the gateway is shutting down", "other"
	default:
		return fmt.Sprintf("cannot connect to %s: %v", addr, err), "other"
	}
}

// endOfTargetRead turns the error of a read from the target into an end;
// ok is false when there is none (err is nil).
func endOfTargetRead(err error) (e End, ok bool) {
	switch {
	case err == nil:
		return End{}, false
	case err == io.EOF:
		return NewEnd(TargetClosed, ""), true
	case errors.Is(err, telnet.ErrCorrupt):
		return withErr(TargetCorrupt, err), true
	default:
		return withErr(TargetLost, err), true
	}
}

// endOfRead turns the error of a read from the browser into an end.
func endOfRead(err error) End {
	var ce *wsframe.CloseError
	var pe *wsframe.ProtocolError
	switch {
	case errors.As(err, &ce):
		return End{Kind: ClientClosed, answer: ce.Answer}
	case errors.As(err, &pe):
		return endProtocol(pe)
	default:
		return withErr(ClientLost, err)
	}
}

// endProtocol is a browser that broke RFC 6455 or sent a message over
// -max-message; the reader has sent the close frame that says so.
func endProtocol(pe *wsframe.ProtocolError) End {
	k := ProtocolError
	if pe.Code == wsframe.CloseTooBig {
		k = TooBig
	}
	return End{Kind: k, Text: pe.Reason, Err: errors.New(pe.Reason), code: pe.Code}
}

// lostConnection reports whether an end is a connection lost without a
// close frame, which a resumable session survives.
func (e End) lostConnection() bool { return e.Kind == ClientLost }

// stopCause carries an end decided outside the relay (shutdown, idle, a
// failed ping) through the session's context.
type stopCause struct{ End }

func (e stopCause) Error() string { return e.Log() }

// quiet drops the errors of normal endings, which are not worth logging.
func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
