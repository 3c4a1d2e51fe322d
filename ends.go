package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"wstelnet/internal/wsframe"
)

// end says why a session, or one direction of it, ended, and so what the
// browser is told. Every way a session can end has one constructor here;
// session.finish acts on them.
type end struct {
	why  string // for the log
	code int    // close code sent to the browser
	text string // close reason shown to the person (cut to 123 bytes when sent)
	// gatewayCloses: the gateway ends the session (the target closed, a
	// timeout, shutdown, a refusal). It delivers what it has, sends its
	// close frame first and waits for the browser's answer. Otherwise the
	// browser's side ended it (closed, lost, broke the protocol) and there
	// is nothing to wait for.
	gatewayCloses bool
	err           error // the cause, if any, for the log
	// handedOver: the socket resumed another session and belongs to it
	// now; this session just ends, without a close or a log line of its own.
	handedOver bool
	// answer: the browser's close frame answered ours, so the session
	// ended for the reason we closed, not because the browser left.
	answer bool
	// counted: the end is logged in aggregate elsewhere (a guessed resume
	// id, failures.go), not by a line of its own.
	counted bool
}

var errShuttingDown = errors.New("the gateway is shutting down")

// Ends the gateway decides.

func endTargetClosed() end {
	return end{why: "target closed", code: wsframe.CloseNormal, text: "the target closed the connection", gatewayCloses: true}
}

func endShutdown() end {
	return end{why: "shutdown", code: wsframe.CloseGoingAway, text: errShuttingDown.Error(), gatewayCloses: true}
}

func endIdle(after time.Duration) end {
	return end{why: "idle", code: wsframe.CloseNormal, text: fmt.Sprintf("closed after %s without activity", after), gatewayCloses: true}
}

func endTargetWriteFailed(err error) end {
	return end{why: "target write failed", code: wsframe.CloseNormal, text: "the connection to the target failed", gatewayCloses: true, err: quiet(err)}
}

func endTargetLost(err error) end {
	return end{why: "target connection lost", code: wsframe.CloseNormal, text: "the connection to the target was lost", gatewayCloses: true, err: quiet(err)}
}

// endUserRemoved: a reload of -htpasswd removed the session's user.
func endUserRemoved() end {
	return end{why: "user removed", code: wsframe.CloseNormal, text: "your user name was removed from the gateway's password file", gatewayCloses: true}
}

// Refusals: sessions that never started. text is for the FAIL: answer
// and the close reason.

// endBusy: -max-sessions or -max-sessions-per-client was reached.
func endBusy(text string) end { return endRefused("busy", text, nil) }

func endNoTarget(after time.Duration) end {
	return endRefused("no target", fmt.Sprintf("no target received within %s; send host:port first", after), nil)
}

// endBadTarget: the first message is not a target.
func endBadTarget(text string) end { return endRefused("bad target", text, nil) }

// endBadOptions: protocol v2's query parameters are wrong.
func endBadOptions(text string) end {
	return endRefused("bad options", "bad option in the WebSocket URL: "+text, nil)
}

// endUnknownName: the first message names no target the gateway has.
func endUnknownName(text string) end { return endRefused("unknown name", text, nil) }

// endDenied: the target rules refuse the target.
func endDenied(text string) end { return endRefused("target denied", text, nil) }

// endDialFailed: the target could not be reached; err is the cause.
func endDialFailed(text string, err error) end { return endRefused("dial error", text, err) }

// endExpired is a detached session whose browser did not come back
// within -resume-window.
func endExpired(window time.Duration) end {
	return end{why: "resume window expired", code: wsframe.CloseNormal, text: fmt.Sprintf("the session ended after %s without a connection", window), gatewayCloses: true}
}

// endRefused is a session that never started: why for the log, text for
// the FAIL: answer and the close reason.
func endRefused(why, text string, err error) end {
	return end{why: why, code: wsframe.CloseNormal, text: text, gatewayCloses: true, err: err}
}

// beforeTarget is added to the why of a browser that left before it named
// a target.
const beforeTarget = " before sending a target"

// endOfTargetRead turns the error of a read from the target into an end;
// ok is false when there is none (err is nil).
func endOfTargetRead(err error) (e end, ok bool) {
	switch {
	case err == nil:
		return end{}, false
	case err == io.EOF:
		return endTargetClosed(), true
	default:
		return endTargetLost(err), true
	}
}

// Ends the browser's side brings about.

func endClientClosed() end {
	return end{why: "client closed", code: wsframe.CloseNormal}
}

// endClientLost is a connection that ended without a close frame: a
// network loss, a proxy that cut it, a failed ping or a write timeout.
func endClientLost(err error) end {
	return end{why: "client connection lost", code: wsframe.CloseNormal, err: quiet(err)}
}

func endClientWriteFailed(err error) end {
	return end{why: "client write failed", code: wsframe.CloseNormal, err: quiet(err)}
}

// endProtocol is a browser that broke RFC 6455 or sent a message over
// -max-message; the reader has sent the close frame that says so.
func endProtocol(pe *wsframe.ProtocolError) end {
	why := "protocol error"
	if pe.Code == wsframe.CloseTooBig {
		why = "message too big"
	}
	return end{why: why, code: pe.Code, text: pe.Reason, err: errors.New(pe.Reason)}
}

// endOfRead turns the error of a read from the browser into an end.
func endOfRead(err error) end {
	var ce *wsframe.CloseError
	var pe *wsframe.ProtocolError
	switch {
	case errors.As(err, &ce):
		e := endClientClosed()
		e.answer = ce.Answer
		return e
	case errors.As(err, &pe):
		return endProtocol(pe)
	default:
		return endClientLost(err)
	}
}

// yieldsToStop reports whether an end may be the effect of a stop rather than
// its own cause: the gateway's side ended (stop closes the target), or the
// browser answered the close frame stop sent. A browser that closed or
// left first keeps its own reason, even if a stop comes right after.
func (e end) yieldsToStop() bool { return e.gatewayCloses || e.answer }

// endCause carries an end decided outside the relay (shutdown, idle, a
// failed ping) through the session's context.
type endCause struct{ end }

func (e endCause) Error() string { return e.why }

// quiet drops the errors of normal endings, which are not worth logging.
func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
