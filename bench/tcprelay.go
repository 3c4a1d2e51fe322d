//go:build linux

package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

// tcpRelayCommand, as the first argument followed by a target address,
// makes this program a plain TCP relay instead of the harness.
const tcpRelayCommand = "tcp-relay"

// runTCPRelay relays every connection to target with two io.Copy calls
// (splice on Linux), with no WebSocket and no framing: the cheapest a
// relay process can be. It puts a floor under what any relay can achieve
// on this machine, so that the gateway's figures can be told apart from
// the cost of an extra process hop, which no relay avoids.
func runTCPRelay(target string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Printf("tcp relay: open http://%s/ in your browser\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go relayTCP(c, target)
	}
}

func relayTCP(c net.Conn, target string) {
	defer c.Close()
	t, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{})
	go func() { // client to target
		defer close(done)
		io.Copy(t, c)
		t.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(c, t)
	c.(*net.TCPConn).CloseWrite() // the target's end, passed on; the client closes when it has read it
	<-done
}

// tcpRelayMain runs the plain relay and exits.
func tcpRelayMain(target string) {
	if err := runTCPRelay(target); err != nil {
		fmt.Fprintf(os.Stderr, "tcp relay: %v\n", err)
		os.Exit(1)
	}
}
