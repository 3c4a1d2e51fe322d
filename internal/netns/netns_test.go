package netns

import (
	"net"
	"testing"
)

// TestLoopbackOnly: in the namespace, loopback works and an address that
// is not loopback has no route; outside it, the test ran there.
func TestLoopbackOnly(t *testing.T) {
	if LoopbackOnly(t) {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback in the namespace: %v", err)
	}
	c.Close()
	// TEST-NET-1 (RFC 5737): with no route, the kernel refuses at once.
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		c.Close()
		t.Fatal("a route to 192.0.2.1 in a namespace that should have only loopback")
	}
}
