package mssp

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

const (
	iac, sb, se, will, do = 255, 250, 240, 251, 253
	optMSSP               = 70
)

// game listens on loopback and plays one game for readMSSP: it sends
// first, then whatever the test sends after the poller's DO MSSP.
func game(t *testing.T, first, afterDo []byte) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(first)
		if afterDo == nil {
			return // hangs up: no MSSP here
		}
		want := []byte{iac, do, optMSSP}
		got := make([]byte, 0, len(want))
		buf := make([]byte, 64)
		for !bytes.Contains(got, want) {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				t.Errorf("the poller never said DO MSSP; it said %q", got)
				return
			}
		}
		c.Write(afterDo)
		io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func answer(vars ...string) []byte {
	b := []byte{iac, sb, optMSSP}
	for i, v := range vars {
		b = append(b, byte(1+i%2)) // MSSP_VAR, MSSP_VAL
		b = append(b, v...)
	}
	return append(b, iac, se)
}

func TestReadMSSP(t *testing.T) {
	c := game(t, []byte{iac, will, optMSSP}, answer("NAME", "Fake MUD", "PLAYERS", "7"))
	got, err := readMSSP(c)
	if err != nil || string(got) != `{"NAME":"Fake MUD","PLAYERS":"7"}` {
		t.Fatalf("readMSSP = %s, %v", got, err)
	}
}

// TestReadMSSPRefusals: each way a game fails to answer gets an error
// that says what it did, and never an answer bigger than the menu takes.
func TestReadMSSPRefusals(t *testing.T) {
	for _, tc := range []struct {
		name           string
		first, afterDo []byte
		want           string
	}{
		{"no MSSP", []byte("Welcome!\r\n"), nil, "does the game offer MSSP"},
		{"too big", []byte{iac, will, optMSSP}, answer("NAME", strings.Repeat("x", maxJSON)), "more than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readMSSP(game(t, tc.first, tc.afterDo))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("readMSSP = %s, %v; want an error saying %q", got, err, tc.want)
			}
		})
	}
}
