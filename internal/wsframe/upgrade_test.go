package wsframe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// upgradeServer serves Upgrade on loopback and hands each Conn to got.
func upgradeServer(t *testing.T, got chan<- *Conn) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, []string{"second", "first"}, Options{MaxMessage: 1 << 10, WriteTimeout: 5 * time.Second})
		if err == nil {
			got <- c
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

const handshake = "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

// TestUpgradeEarlyData: a client that sends its first frames with the
// request, before the 101, loses none of them.
func TestUpgradeEarlyData(t *testing.T) {
	got := make(chan *Conn, 1)
	addr := upgradeServer(t, got)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wire := []byte(fmt.Sprintf(handshake, addr))
	wire = append(wire, masked(0x81, []byte("first"))...)
	wire = append(wire, masked(0x82, []byte("second"))...)
	c.Write(wire) // one write: the frames arrive with the request
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	if resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("Sec-WebSocket-Accept %q", resp.Header.Get("Sec-WebSocket-Accept"))
	}
	s := <-got
	defer s.Close()
	for _, want := range []string{"first", "second"} {
		m, err := s.ReadMessage()
		if err != nil || string(m.Data) != want {
			t.Fatalf("got %q, %v; want %q", m.Data, err, want)
		}
	}
	// The connection stays open after the handler returned: the library's
	// deferred close ended only its lease.
	if err := s.Writer().WriteFrame(OpText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	r := NewReader(br, false, nil)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := r.ReadFrame(0)
	if err != nil || string(f.Payload) != "still here" {
		t.Fatalf("got %q, %v", f.Payload, err)
	}
}

// TestUpgradeRefused: a bad handshake is answered by the library and the
// connection closed; no Conn comes out.
func TestUpgradeRefused(t *testing.T) {
	got := make(chan *Conn, 1)
	addr := upgradeServer(t, got)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, strings.Replace(handshake, "Version: 13", "Version: 7", 1), addr)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, _ := io.ReadAll(c) // ends when the server closes
	if !bytes.HasPrefix(all, []byte("HTTP/1.1 400")) {
		t.Fatalf("got %q, want a 400 answer", all)
	}
	select {
	case <-got:
		t.Fatal("a Conn came out of a refused handshake")
	default:
	}
}

// FuzzReader feeds arbitrary bytes to the server's reader: it must not
// panic, must keep to the size limit, and every text message it returns
// is valid UTF-8; once it fails it stays failed.
func FuzzReader(f *testing.F) {
	f.Add(masked(0x81, []byte("hello")))
	f.Add(append(masked(0x01, []byte("he")), masked(0x80, []byte("llo"))...))
	f.Add(masked(0x89, []byte("ping")))
	f.Add(masked(0x88, closePayload(1000, "bye")))
	f.Add([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1})
	f.Add(appendHeader(nil, 0x81, 0, 3))
	f.Fuzz(func(t *testing.T, wire []byte) {
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(wire), 16), true, nil)
		r.SetMaxMessage(64)
		var failed error
		for {
			m, err := r.ReadMessage()
			if err != nil {
				var pe *ProtocolError
				var ce *CloseError
				if errors.As(err, &pe) || errors.As(err, &ce) {
					failed = err
				}
				break
			}
			if len(m.Data) > 64 {
				t.Fatalf("message of %d bytes over the limit of 64", len(m.Data))
			}
			if m.Text && !utf8.Valid(m.Data) {
				t.Fatalf("invalid UTF-8 text message %q", m.Data)
			}
		}
		if failed != nil {
			if _, err := r.ReadMessage(); err != failed {
				t.Fatalf("after %v, a read returned %v", failed, err)
			}
		}
	})
}

// TestUpgradeSubprotocol: the server's first choice among those the client
// offers, or none; the Conn says which.
func TestUpgradeSubprotocol(t *testing.T) {
	got := make(chan *Conn, 1)
	addr := upgradeServer(t, got) // speaks "second", then "first"
	for _, tc := range []struct{ offered, want string }{
		{"", ""},
		{"first", "first"},
		{"first, second", "second"},
		{"other, first", "first"},
		{"other", ""},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		req := strings.Replace(handshake, "\r\n\r\n", "\r\n", 1)
		if tc.offered != "" {
			req += "Sec-WebSocket-Protocol: " + tc.offered + "\r\n"
		}
		fmt.Fprintf(c, req+"\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("offered %q: %v %v", tc.offered, resp, err)
		}
		s := <-got
		if h := resp.Header.Get("Sec-WebSocket-Protocol"); h != tc.want || s.Protocol() != tc.want {
			t.Errorf("offered %q: answered %q, Conn says %q; want %q", tc.offered, h, s.Protocol(), tc.want)
		}
		s.Close()
		c.Close()
	}
}
