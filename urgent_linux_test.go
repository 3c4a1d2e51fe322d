package main

import (
	"net"
	"syscall"
	"testing"
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

// TestUrgentStaysInStream: a telnet target's Synch (IAC DM with the IAC
// sent as urgent data) is removed whole, in both protocols; without
// SO_OOBINLINE the DM reached the browser as a stray 0xF2.
func TestUrgentStaysInStream(t *testing.T) {
	for _, proto := range []string{"v1", "v2"} {
		t.Run(proto, func(t *testing.T) {
			more := make(chan struct{})
			addr := startTarget(t, func(c net.Conn) {
				c.Write(append([]byte{tIAC, tWILL, oSGA}, "before\r\n"...))
				<-more
				sendUrgent(t, c, []byte{tIAC})
				c.Write([]byte("\xf2after\r\n"))
			})
			tg := newTestGateway(t, gatewayOptions{})
			if proto == "v1" {
				ws := tg.connect(t, addr)
				ws.expectText("before")
				close(more)
				ws.expectText("after")
				return
			}
			ws := tg.connectV2(t, "", addr)
			ws.readStream([]byte("before\r\n"))
			close(more)
			if data, _ := ws.readStream([]byte("after\r\n")); string(data) != "after\r\n" {
				t.Errorf("after the Synch the browser got %q, want %q", data, "after\r\n")
			}
		})
	}
}
