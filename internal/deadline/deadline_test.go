package deadline

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// pipe is a loopback TCP pair; the far end never reads.
func pipe(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// TestRenewBoundsABlockedWrite: a writer whose peer stops reading fails
// within the timeout, whether the deadline was renewed for this write or
// kept from an earlier one.
func TestRenewBoundsABlockedWrite(t *testing.T) {
	c, _ := pipe(t)
	var d Writes
	const timeout = 300 * time.Millisecond
	d.Renew(c, timeout)
	if _, err := c.Write([]byte("a line\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	chunk := make([]byte, 64<<10)
	var err error
	for err == nil {
		d.Renew(c, timeout)
		_, err = c.Write(chunk)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the blocked write ended with %v, want its deadline", err)
	}
	if took := time.Since(start); took > 10*timeout {
		t.Fatalf("the blocked write took %s with a timeout of %s", took, timeout)
	}
}

// TestRenewKeepsARecentDeadline: a deadline with more than 3/4 of the
// timeout left is kept, one with less is renewed, and Forget renews.
func TestRenewKeepsARecentDeadline(t *testing.T) {
	c, _ := pipe(t)
	var d Writes
	d.Renew(c, time.Hour)
	first := d.until.Load()
	d.Renew(c, time.Hour)
	if d.until.Load() != first {
		t.Fatal("a fresh deadline was set again")
	}
	d.Renew(c, time.Minute) // an hour away is more than 3/4 of a minute: kept
	if d.until.Load() != first {
		t.Fatal("a later deadline was replaced by a sooner one")
	}
	d.until.Store(time.Now().Add(30 * time.Minute).UnixNano()) // half the timeout left
	d.Renew(c, time.Hour)
	if d.until.Load() <= first-int64(time.Minute) {
		t.Fatal("a deadline with half its timeout left was not renewed")
	}
	d.Forget()
	d.Renew(c, time.Hour)
	if d.until.Load() == 0 {
		t.Fatal("Forget did not make the next Renew set the deadline")
	}
	var none Writes
	none.Renew(c, 0)
	if none.until.Load() != 0 {
		t.Fatal("a zero timeout set a deadline")
	}
}
