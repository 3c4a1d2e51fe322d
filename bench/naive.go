//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"golang.org/x/net/websocket"
)

// naiveRelayCommand, as the first argument, makes this program the naive
// relay instead of the harness.
const naiveRelayCommand = "naive-relay"

// runNaiveRelay is the straightforward v1 relay the issue compares the
// gateway with: golang.org/x/net/websocket, the target's lines read with
// bufio.Reader.ReadLine and each sent with websocket.Message.Send, each
// message from the browser written with CR LF. It speaks enough of v1
// (host:port, SUCC) for the harness's line client, and nothing more: no
// telnet, no UTF-8 repair, no prompts, no limits. It prints a URL line like
// the gateway's when ready and runs until killed.
func runNaiveRelay() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Printf("naive relay: open http://%s/ in your browser\n", ln.Addr())
	return http.Serve(ln, websocket.Handler(naiveSession))
}

func naiveSession(ws *websocket.Conn) {
	defer ws.Close()
	var addr string
	if err := websocket.Message.Receive(ws, &addr); err != nil {
		return
	}
	target, err := net.Dial("tcp", strings.TrimSpace(addr))
	if err != nil {
		websocket.Message.Send(ws, "FAIL:"+err.Error())
		return
	}
	defer target.Close()
	if err := websocket.Message.Send(ws, "SUCC"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() { // browser to target
		defer close(done)
		defer target.Close()
		for {
			var line string
			if err := websocket.Message.Receive(ws, &line); err != nil {
				return
			}
			if _, err := io.WriteString(target, line+"\r\n"); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(target)
	for {
		line, _, err := r.ReadLine()
		if err != nil {
			break
		}
		if err := websocket.Message.Send(ws, string(line)); err != nil {
			break
		}
	}
	target.Close()
	ws.Close() // sends the close frame, which ends the other goroutine's Receive
	<-done
}

// naiveMain runs the naive relay and exits.
func naiveMain() {
	if err := runNaiveRelay(); err != nil {
		fmt.Fprintf(os.Stderr, "naive relay: %v\n", err)
		os.Exit(1)
	}
}
