package main

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The descriptor budget. A session holds two descriptors (the browser's
// connection and the target's), three while it is recorded; connections
// wait for their first message without a slot (maxPending), plain HTTP
// requests (the page, its files, health checks) need a few more, and the
// process itself (listeners, logs, the targets and htpasswd files being
// read, the echo server) some.
const (
	fdReserve      = 128 // the process's own, and connections being shed (maxShedWriters)
	fdHTTPHeadroom = 256 // page loads and checks beside the sessions
)

// sessionCapacity is how many sessions a process allowed limit
// descriptors can hold, at perSession descriptors each.
func sessionCapacity(limit, perSession int) int {
	return max(0, (limit-fdReserve-maxPending-fdHTTPHeadroom)/perSession)
}

// shedListener accepts connections only while the process has
// descriptors to serve them with: past that, a new connection gets a short
// 503 and is closed, so that the process never fails in accept with "too
// many open files" (net/http would retry it in a loop, stalling every new
// connection, resumes included) and the sessions already open go on. The
// connections it returns are the kernel's own (*net.TCPConn), so that
// WebSocket writes keep using writev; what they hold is counted by
// http.Server's ConnState and the gateway (Gateway.Descriptors).
type shedListener struct {
	net.Listener
	room  func() bool // another connection may be taken
	plain bool        // a 503 can be written: no TLS over this listener
	log   *slog.Logger
	shed  func() // counts a shed connection (metrics)

	writers  atomic.Int64 // 503s being written
	lastWarn atomic.Int64 // UnixNano of the last log line about shedding
}

// maxShedWriters bounds the goroutines writing 503s: past it, a connection
// is closed without one.
const maxShedWriters = 16

var overloaded = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 69\r\n\r\n503: the gateway has no room for more connections; try again shortly\n")

func (l *shedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.room() {
			return c, err
		}
		l.refuse(c)
	}
}

// refuse sheds c: a 503 if it can be written quickly, else just a close.
func (l *shedListener) refuse(c net.Conn) {
	if l.shed != nil {
		l.shed()
	}
	if now := time.Now().UnixNano(); now-l.lastWarn.Load() > int64(10*time.Second) {
		l.lastWarn.Store(now)
		l.log.Warn("out of descriptors for new connections: answering 503 until sessions end; raise the open-file limit (LimitNOFILE=) or add a gateway")
	}
	if !l.plain || l.writers.Add(1) > maxShedWriters {
		if l.plain {
			l.writers.Add(-1)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // give the descriptor back now, not after a FIN_WAIT
		}
		c.Close()
		return
	}
	// Owned by the listener; it ends within the deadline.
	go func() {
		defer l.writers.Add(-1)
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write(overloaded)
		c.Close()
	}()
}

// httpConns counts the plain HTTP connections a server holds, from its
// ConnState: a hijacked one (a WebSocket) is the gateway's to count.
type httpConns struct{ n atomic.Int64 }

func (h *httpConns) track(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		h.n.Add(1)
	case http.StateHijacked, http.StateClosed:
		h.n.Add(-1)
	}
}
