package session

import (
	"bytes"
	"net"
	"syscall"
	"testing"
	"time"

	"wstelnet/internal/telnet"
)

// sendUrgent sends b with MSG_OOB: its last byte is TCP urgent data, as a
// telnet server sends the IAC of IAC DM.
func sendUrgent(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Sendto(int(fd), b, syscall.MSG_OOB, nil) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatalf("send urgent: %v", serr)
	}
}

// TestUrgentDiscard: data read while urgent data is pending lies before the
// mark and is discarded; the read at the mark is not, and the decoder drops
// the DM. Linux ends a read at the mark, which is what makes this exact.
func TestUrgentDiscard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, srv := tcpPair(t, ln)
	if err := setOOBInline(c); err != nil {
		t.Fatal(err)
	}

	srv.Write([]byte("flushed output"))
	sendUrgent(t, srv, []byte{telnet.IAC})
	srv.Write([]byte("\xf2# "))

	// Wait, with a deadline, until the urgent byte is in: from then on the
	// reads are what this test is about.
	rc, _ := c.(syscall.Conn).SyscallConn()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var pending bool
		rc.Control(func(fd uintptr) { pending = urgentPending(fd) })
		if pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the urgent data never arrived")
		}
	}

	tr := newTargetReader(c)
	tr.watchUrgent = true
	var dec telnet.Decoder
	var shown []byte
	for i := 0; !bytes.Contains(shown, []byte("# ")); i++ {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var st direct
		read, err := tr.read(&st)
		if err != nil {
			t.Fatalf("read %d: %v (shown %q)", i, err, shown)
		}
		if i == 0 && (string(read) != "flushed output" || !tr.urgent) {
			t.Errorf("first read %q, urgent %v: want the bytes before the mark, urgent", read, tr.urgent)
		}
		dec.Urgent(tr.urgent)
		shown, _ = dec.Decode(shown, nil, read)
		st.release()
	}
	if string(shown) != "# " {
		t.Errorf("shown %q, want %q", shown, "# ")
	}
}

// BenchmarkUrgentPending is what a read from a telnet target costs more
// for the Synch: one ppoll(2) that does not wait.
func BenchmarkUrgentPending(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rc, _ := c.(syscall.Conn).SyscallConn()
	rc.Control(func(fd uintptr) {
		b.ReportAllocs()
		for b.Loop() {
			if urgentPending(fd) {
				b.Fatal("urgent data on an idle socket")
			}
		}
	})
}
