package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"wstelnet/internal/metrics"
	"wstelnet/internal/recording"
	"wstelnet/internal/wsframe"
)

// Micro-benchmarks of the hot paths. The comparison with websockify and
// raw TCP is `go run ./bench` (BENCHMARKS.md).

// The variants with +metrics and +record show what -metrics-listen and
// -record cost; the plain ones must not change when they are off.
// v2-resume is v2 with resume=1: the gateway keeps what it sends until the
// client acknowledges it, and the client acknowledges every 64 KiB, as
// the page does.
func BenchmarkRelay(b *testing.B) {
	for _, name := range []string{"v1", "v2", "v2-resume", "v1+metrics", "v2+metrics", "v1+metrics+record", "v2+metrics+record"} {
		proto, _, _ := strings.Cut(name, "+")
		b.Run(name, func(b *testing.B) {
			// -resume-buffer as the program has it by default (1 MiB): a 64 KiB
			// buffer with acks every 64 KiB would measure a stop-and-wait.
			opts := gatewayOptions{Logger: testLogger(discardTB{b}), ResumeWindow: time.Minute, ResumeBuffer: 1 << 20}
			if strings.Contains(name, "+metrics") {
				opts.Metrics = metrics.New()
			}
			if strings.Contains(name, "+record") {
				opts.Recorder = &recording.Recorder{Dir: b.TempDir(), Max: 1 << 40, Log: opts.Logger, Failed: opts.Metrics.RecordingFailed}
			}
			const lines = 100_000
			line := strings.Repeat("x", 78) + "\r\n"
			chunk := []byte(strings.Repeat(line, 400))
			addr := startTarget(b, func(c net.Conn) {
				for sent := 0; sent < lines; sent += 400 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			})
			tg := newTestGateway(b, opts)
			b.SetBytes(int64(lines * len(line)))
			b.ReportAllocs()
			for b.Loop() {
				var ws *wsClient
				switch proto {
				case "v1":
					ws = tg.connect(b, addr)
				case "v2":
					ws, _ = tg.dialWS(b, "/ws", http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
					ws.sendText(addr)
					ws.expectText("SUCC")
				case "v2-resume":
					ws, _ = tg.dialWS(b, "/ws?resume=1", http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
					ws.sendText(addr)
					ws.expectText("SUCC")
					ws.drainAcking()
					ws.c.Close()
					continue
				}
				ws.drain()
				ws.c.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
		})
	}
}

// drainAcking is drain for a resumable session: it acknowledges the
// output every 64 KiB, as the page does, and checks that nothing is lost.
func (ws *wsClient) drainAcking() {
	var got, acked int64
	var msg, frame []byte // reused, as a browser's would be: the gateway's costs are measured
	for {
		f, err := ws.r.ReadFrame(0)
		if err != nil {
			ws.t.Fatal(err)
		}
		switch f.Op {
		case opClose:
			return
		case opBinary:
			got += int64(len(f.Payload))
			if got-acked >= ackEvery {
				acked = got
				msg = strconv.AppendInt(append(msg[:0], `{"type":"ack","offset":`...), got, 10)
				msg = append(msg, '}')
				key := [4]byte{1, 2, 3, 4}
				frame = wsframe.AppendMaskedHeader(frame[:0], opText, len(msg), key)
				start := len(frame)
				frame = append(frame, msg...)
				wsframe.Mask(key, 0, frame[start:])
				ws.writeRaw(frame)
			}
		}
	}
}

// BenchmarkIdleSession measures the memory an idle v2 session costs, with
// and without resume=1: heap and stacks in use, after a GC, per session,
// for 1000 sessions open at once to a target that says nothing, on a
// fresh gateway; the median of the iterations. Both sides run in this
// process, so the figure includes the test client's and the target's
// share (the same in both); the difference is what resume adds. A round
// of sessions is opened and closed first, so that pools and maps have
// grown before the measurement.
func BenchmarkIdleSession(b *testing.B) {
	const sessions = 1000
	addr := startTarget(b, func(c net.Conn) { io.Copy(io.Discard, c) })
	open := func(tg *testGateway, query string, resume bool) []*wsClient {
		clients := make([]*wsClient, sessions)
		for i := range clients {
			ws, _ := tg.dialWS(b, query, http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
			ws.sendText(addr)
			ws.expectText("SUCC")
			if resume {
				if op, p := ws.next(); op != opText || !bytes.Contains(p, []byte(`"session"`)) {
					b.Fatalf("got op %d %q, want the session message", op, p)
				}
			}
			clients[i] = ws
		}
		if n := tg.gw.Sessions(); n != sessions {
			b.Fatalf("%d sessions, want %d", n, sessions) // each has had its SUCC
		}
		return clients
	}
	closeAll := func(tg *testGateway, clients []*wsClient) {
		for _, ws := range clients {
			ws.sendClose() // a resumable session lost without one would wait for its window
		}
		for tg.gw.Sessions() > 0 {
			runtime.Gosched() // the sessions end as they read their close
		}
		for _, ws := range clients {
			ws.c.Close()
		}
	}
	for _, resume := range []bool{false, true} {
		name, query := "v2", "/ws"
		if resume {
			name, query = "v2-resume", "/ws?resume=1"
		}
		b.Run(name, func(b *testing.B) {
			var per []float64
			for b.Loop() {
				tg := newTestGateway(b, gatewayOptions{Logger: testLogger(discardTB{b}), ResumeWindow: time.Minute, PingInterval: time.Hour})
				closeAll(tg, open(tg, query, resume))
				before := memInUse()
				clients := open(tg, query, resume)
				per = append(per, float64(memInUse()-before)/sessions)
				closeAll(tg, clients)
			}
			slices.Sort(per)
			b.ReportMetric(per[len(per)/2], "B/session")
		})
	}
}

// memInUse is the heap and the stacks in use after a GC.
func memInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// BenchmarkResumeRecovery measures how long a lost session takes to come
// back, on the gateway's side: from the reset of the client's connection
// to the first byte of new output through a new connection (a WebSocket
// handshake, the resume, SUCC, "resumed", and one line echoed by the
// target). The page adds its wait before the first attempt (about 0.5 s).
func BenchmarkResumeRecovery(b *testing.B) {
	// Not io.Copy(c, c): splice(2) would take a pipe pair from the
	// runtime's pool, which outlives the test and looks like a leak.
	echo := startTarget(b, func(c net.Conn) { io.Copy(struct{ io.Writer }{c}, c) })
	tg := newTestGateway(b, gatewayOptions{Logger: testLogger(discardTB{b}), ResumeWindow: time.Minute})
	c := tg.openResumable(b, echo, nil)
	sent := 0
	for b.Loop() {
		c.cut()
		c.resume()
		c.ws.writeFrame(opBinary, []byte("x\n"))
		sent += 2
		for len(c.got) < sent {
			c.read()
		}
	}
}

// drain reads frames, into the reader's reused buffer, until the close frame.
func (ws *wsClient) drain() {
	for {
		f, err := ws.r.ReadFrame(0)
		if err != nil {
			ws.t.Fatal(err)
		}
		if f.Op == opClose {
			return
		}
	}
}
