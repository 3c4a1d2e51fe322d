//go:build unix

package main

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
)

// TestTinyMUXMUDOptions: TinyMUX, a real MUSH, with the MUD options the
// page asks for. It accepts CHARSET UTF-8 and then asks for BINARY; a
// game that does not echo must still get the page's CR LF, or it never
// sees the end of a line (a lone CR is for a Unix telnetd's pty). The
// wizard logs in and speaks UTF-8.
func TestTinyMUXMUDOptions(t *testing.T) {
	addr := startTinyMUX(t)
	var mu sync.Mutex
	var sent []byte // what the gateway wrote to the game
	tg := newTestGateway(t, gatewayOptions{Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &tapConn{Conn: c, write: func(p []byte) { mu.Lock(); sent = append(sent, p...); mu.Unlock() }}, nil
	}})
	ws := tg.connectV2(t, "?cols=80&rows=24&gmcp=1&mtts=137&charset=utf-8", addr)
	ws.readStream([]byte("Welcome to TinyMUX"))
	ws.writeFrame(opBinary, []byte("connect wizard potrzebie\r\n"))
	ws.readStream([]byte("MAIL:"))
	ws.writeFrame(opBinary, []byte("say héllo\r\n"))
	ws.readStream([]byte("You say, “héllo”")) // TinyMUX's quotes, in UTF-8
	ws.writeFrame(opBinary, []byte("think 6 times 7 is [mul(6,7)]\r\n"))
	ws.readStream([]byte("6 times 7 is 42"))
	mu.Lock()
	defer mu.Unlock()
	for _, want := range [][]byte{
		b(tIAC, tSB, oCharset, 2, "UTF-8", tIAC, tSE), // CHARSET ACCEPTED
		b(tIAC, tWILL, oBinary),
		[]byte("say héllo\r\n"),
	} {
		if !bytes.Contains(sent, want) {
			t.Errorf("the gateway did not send TinyMUX %q", want)
		}
	}
}

// tapConn is a connection that reports what is written to it.
type tapConn struct {
	net.Conn
	write func([]byte)
}

func (c *tapConn) Write(p []byte) (int, error) {
	c.write(p)
	return c.Conn.Write(p)
}
