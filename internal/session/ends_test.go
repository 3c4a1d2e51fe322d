package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"wstelnet/internal/policy"
	"wstelnet/internal/wsframe"
)

// TestEndTable: every kind of end has its row: a log text, a close code
// a browser accepts, and a metric label for whichever way it counts.
func TestEndTable(t *testing.T) {
	for _, k := range Kinds() {
		info := kinds[k]
		if info.log == "" {
			t.Errorf("kind %d has no log text", k)
		}
		if !wsframe.ValidCloseCode(info.code) {
			t.Errorf("%s: close code %d", k, info.code)
		}
		if k.Started() && info.label == "" {
			t.Errorf("%s ends started sessions but has no metric label", k)
		}
		if info.closes && NewEnd(k, "").Reason() == "" && k != Idle && k != Expired && k != NoTarget && k != BadTarget && k != BadOptions && k != UnknownName && k != Denied && k != ResumeRefused {
			t.Errorf("%s: the gateway closes, and says nothing to the person", k)
		}
	}
	// What the page is told for the ends people asked about.
	for _, tc := range []struct {
		e    End
		code int
		text string
	}{
		{NewEnd(Shutdown, ""), 1001, "the gateway is shutting down"},
		{NewEnd(TargetClosed, ""), 1000, "the target closed the connection"},
		{endIdle(time.Minute), 1000, "closed after 1m0s without activity"},
		{endExpired(time.Minute), 1000, "the session ended after 1m0s without a connection"},
		{endProtocol(&wsframe.ProtocolError{Code: wsframe.CloseInvalidData, Reason: "bad"}), 1007, "bad"},
		{endProtocol(&wsframe.ProtocolError{Code: wsframe.CloseTooBig, Reason: "big"}), 1009, "big"},
	} {
		if tc.e.Code() != tc.code || tc.e.Reason() != tc.text {
			t.Errorf("%s: %d %q, want %d %q", tc.e.Log(), tc.e.Code(), tc.e.Reason(), tc.code, tc.text)
		}
	}
}

// TestEndsOfReads: a read's error is classified once, for the log and the metrics.
func TestEndsOfReads(t *testing.T) {
	cause := errors.New("cause")
	for name, tc := range map[string]struct {
		e     End
		label string
	}{
		"close frame":   {endOfRead(&wsframe.CloseError{Code: 1000}), "client_closed"},
		"EOF":           {endOfRead(io.EOF), "client_lost"},
		"reset":         {endOfRead(cause), "client_lost"},
		"1002":          {endOfRead(&wsframe.ProtocolError{Code: 1002, Reason: "x"}), "protocol_error"},
		"1009":          {endOfRead(&wsframe.ProtocolError{Code: wsframe.CloseTooBig, Reason: "x"}), "too_big"},
		"target EOF":    {func() End { e, _ := endOfTargetRead(io.EOF); return e }(), "target_closed"},
		"target reset":  {func() End { e, _ := endOfTargetRead(cause); return e }(), "target_lost"},
		"target write":  {withErr(TargetWriteFailed, cause), "target_lost"},
		"browser write": {withErr(ClientWriteFailed, cause), "client_lost"},
	} {
		if got := tc.e.Kind.Label(); got != tc.label {
			t.Errorf("%s: label %q, want %q", name, got, tc.label)
		}
	}
}

// TestRefusalLabels: a session that never started counts as a refusal by
// reason, a failed dial by kind, or abandoned.
func TestRefusalLabels(t *testing.T) {
	before := endOfRead(io.EOF)
	before.beforeTarget = true
	for name, tc := range map[string]struct {
		e               End
		label, dialKind string
	}{
		"busy":              {NewEnd(Busy, "full"), "limit", ""},
		"shutdown":          {NewEnd(Shutdown, ""), "shutting_down", ""},
		"no target":         {endNoTarget(time.Second), "no_target", ""},
		"bad target":        {NewEnd(BadTarget, "x"), "malformed", ""},
		"bad options":       {endBadOptions("x"), "malformed", ""},
		"too big":           {endProtocol(&wsframe.ProtocolError{Code: wsframe.CloseTooBig}), "malformed", ""},
		"denied":            {NewEnd(Denied, "x"), "target_rule", ""},
		"unknown name":      {NewEnd(UnknownName, "x"), "unknown_name", ""},
		"resume refused":    {NewEnd(ResumeRefused, "x"), "resume", ""},
		"NXDOMAIN":          {endDialFailed("x", time.Second, &net.DNSError{Name: "nope.example", IsNotFound: true}), "unknown_name", ""},
		"DNS failure":       {endDialFailed("x", time.Second, &net.DNSError{Name: "x.example", IsTimeout: true}), "dial", "dns"},
		"refused":           {endDialFailed("x", time.Second, &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "dial", "refused"},
		"timeout":           {endDialFailed("x", time.Second, context.DeadlineExceeded), "dial", "timeout"},
		"unreachable":       {endDialFailed("x", time.Second, syscall.EHOSTUNREACH), "dial", "unreachable"},
		"other":             {endDialFailed("x", time.Second, io.ErrUnexpectedEOF), "dial", "other"},
		"client left first": {before, "", ""},
		"SUCC not taken":    {withErr(ClientWriteFailed, io.EOF), "", ""},
	} {
		if got := tc.e.Kind.Refusal(); got != tc.label || tc.e.DialKind != tc.dialKind {
			t.Errorf("%s (%s): refusal %q kind %q, want %q %q", name, tc.e.Log(), got, tc.e.DialKind, tc.label, tc.dialKind)
		}
	}
	if got := before.Log(); got != "client connection lost before sending a target" {
		t.Errorf("a browser that left first is logged as %q", got)
	}
}

// TestDialError: the words a person gets for the dial failures they can do
// something about, from errors as the policy's Dialer wraps them.
func TestDialError(t *testing.T) {
	// An unknown name, as the Dialer returns it (internal/policy's
	// TestDialChecked gets this error from a fake DNS server): a real lookup
	// would leave the machine.
	notFound := fmt.Errorf("dial nowhere.test:23: %w", &net.DNSError{Err: "no such host", Name: "nowhere.test", IsNotFound: true})
	if got, _ := DescribeDialError("nowhere.test:23", time.Second, notFound); !strings.Contains(got, "cannot find host nowhere.test") {
		t.Errorf("the unknown name is worded as %q", got)
	}

	// A refused connection: a listener closed after it gave its port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	d := &policy.Dialer{Policy: policy.New(nil, nil, nil)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err == nil {
		c.Close()
		t.Fatalf("dial %s connected; want it refused", ln.Addr())
	}
	if got, kind := DescribeDialError(ln.Addr().String(), time.Second, err); !strings.Contains(got, "refused the connection") || kind != "refused" {
		t.Errorf("the refused dial is worded as %q (%s)", got, kind)
	}
}
