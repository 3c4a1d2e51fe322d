package session

import (
	"net"
	"testing"
)

// tcpPair connects to ln over loopback and gives both ends, closed when
// the test ends.
func tcpPair(t testing.TB, ln net.Listener) (dialed, accepted net.Conn) {
	t.Helper()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dialed.Close() })
	accepted, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accepted.Close() })
	return dialed, accepted
}
