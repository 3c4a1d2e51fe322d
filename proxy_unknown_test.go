package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"wstelnet/internal/policy"
)

// TestForwardedForUnknown: when a trusted proxy's X-Forwarded-For entry
// for the client is no address ("unknown", as nginx may write), a target
// that wants a PROXY header is told the client is unknown (v1 UNKNOWN, v2
// LOCAL), not given the proxy's address as the visitor's; the log says so.
func TestForwardedForUnknown(t *testing.T) {
	for _, tc := range []struct {
		version int
		xff     string
		want    []byte
	}{
		{1, "unknown", []byte("PROXY UNKNOWN\r\n")},
		{1, "198.51.100.7, unknown", []byte("PROXY UNKNOWN\r\n")},
		{2, "unknown", append(append([]byte(nil), signature()...), 0x20, 0x00, 0x00, 0x00)},
		{1, "198.51.100.7", []byte("PROXY TCP4 198.51.100.7 127.0.0.1 0 ")},
	} {
		t.Run(tc.xff, func(t *testing.T) {
			got := make(chan []byte, 1)
			target := startTarget(t, func(c net.Conn) {
				b := make([]byte, len(tc.want))
				io.ReadFull(c, b)
				got <- b
			})
			rules, err := policy.ParseRules("-proxy-protocol", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			tg := newTestGateway(t, gatewayOptions{TrustProxy: mustPrefixes(t, "127.0.0.1"), ProxyProtocol: rules, ProxyProtocolVersion: tc.version})
			ws, resp := tg.dialWS(t, "/ws", http.Header{"X-Forwarded-For": {tc.xff}})
			if ws == nil {
				t.Fatal(resp.Status)
			}
			ws.sendText(target)
			ws.expectText("SUCC")
			if b := <-got; !bytes.Equal(b, tc.want) {
				t.Errorf("the target got %q, want %q", b, tc.want)
			}
			if unknown := strings.Contains(tc.xff, "unknown"); unknown != strings.Contains(tg.logs(), "the client is unknown") {
				t.Errorf("logged the unknown client: %v, want %v", !unknown, unknown)
			}
		})
	}
}

// signature starts a PROXY protocol v2 header.
func signature() []byte {
	return []byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}
}
