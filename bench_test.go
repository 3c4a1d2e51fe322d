package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// Micro-benchmarks of the hot paths. The comparison with websockify and
// raw TCP is `go run ./bench` (BENCHMARKS.md).

func BenchmarkAppendValidUTF8(b *testing.B) {
	line := []byte(strings.Repeat("caf\xe9 ol\xe9 ", 8)) // Latin-1 text: every é is invalid
	buf := make([]byte, 0, 4*len(line))
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendValidUTF8(buf[:0], line)
	}
}

// BenchmarkRelay measures a whole session over loopback: a target writes
// 80-column lines, the gateway relays them, a client counts what arrives.
// Allocations include the client's few; the per-line figure is what counts.
//
// The variants with +metrics and +record show what -metrics-listen and
// -record cost; the plain ones must not change when they are off.
func BenchmarkRelay(b *testing.B) {
	for _, name := range []string{"v1", "v2", "v1+metrics", "v2+metrics", "v1+metrics+record", "v2+metrics+record"} {
		proto, _, _ := strings.Cut(name, "+")
		b.Run(name, func(b *testing.B) {
			opts := gatewayOptions{Logger: testLogger(discardTB{b})}
			if strings.Contains(name, "+metrics") {
				opts.Metrics = newMetrics()
			}
			if strings.Contains(name, "+record") {
				opts.Recorder = &recorder{dir: b.TempDir(), max: 1 << 40, log: opts.Logger, metrics: opts.Metrics}
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
				if proto == "v1" {
					ws = tg.connect(b, addr)
				} else {
					ws, _ = tg.dialWS(b, "/ws", http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
					ws.sendText(addr)
					ws.expectText("SUCC")
				}
				ws.drain()
				ws.c.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
		})
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
