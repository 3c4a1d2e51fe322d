package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"wstelnet/internal/recording"
)

// TestFloodsKeepServing: under a password-guessing flood, an id-guessing
// flood and a recording flood at once, a real user logs in for the first
// time, opens a session, loses it and resumes it. The bounds are generous
// (10 s for the lot); BenchmarkAuthWrongUser and the limiter's tests hold
// the mechanisms.
func TestFloodsKeepServing(t *testing.T) {
	if testing.Short() {
		t.Skip("floods")
	}
	echo := startTestEcho(t)
	h := mustHtpasswd(t, bobLine)
	dir := t.TempDir()
	rec := &recording.Recorder{Dir: dir, Max: 64 << 20, Budget: recording.NewBudget(dir, 1<<20)}
	tg := newTestGateway(t, gatewayOptions{Auth: h, ResumeWindow: time.Minute, Recorder: rec,
		TrustProxy: mustPrefixes(t, "127.0.0.1"), MaxPerClient: 100})
	rec.Log = tg.gw.log
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	flood := func(n int, f func()) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					f()
				}
			}()
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	bobAuth := basicAuth("bob", "correct horse")
	flood(50, func() { // wrong passwords from one address
		req, _ := http.NewRequestWithContext(ctx, "GET", tg.srv.URL+"/", nil)
		req.Header.Set("Authorization", basicAuth("bob", "guess"))
		req.Header.Set("X-Forwarded-For", "192.0.2.66")
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	flood(5, func() { // resume ids from another
		ws, _ := tg.dialWS(goroutineTB{t}, "/ws?resume=1", http.Header{"Authorization": {bobAuth}, "X-Forwarded-For": {"192.0.2.77"},
			"Sec-WebSocket-Protocol": {subprotocolV2}})
		if ws != nil {
			ws.sendText(`{"type":"resume","id":"AAAAAAAAAAAAAAAAAAAAAA","offset":0}`)
			ws.read(10 * time.Second)
			ws.c.Close()
		}
	})
	target := floodTarget(t)
	flood(3, func() { // recorded sessions that flood
		ws, _ := tg.dialWS(goroutineTB{t}, "/ws", http.Header{"Authorization": {bobAuth}, "X-Forwarded-For": {"192.0.2.88"}})
		if ws == nil {
			return
		}
		defer ws.c.Close()
		ws.sendText(target)
		for ctx.Err() == nil {
			if _, _, err := ws.read(10 * time.Second); err != nil {
				return
			}
		}
	})
	defer func() {
		if t.Failed() {
			l := tg.logs()
			t.Logf("auth %v resume %v record %v", strings.Count(l, "authentication failed"), strings.Count(l, "resume refused"), strings.Count(l, "recording stopped at -record-total"))
		}
	}()
	waitFor(t, "the floods to be under way", func() bool {
		l := tg.logs()
		return strings.Contains(l, "authentication failed") && strings.Contains(l, "resume refused") && strings.Contains(l, "recording stopped at -record-total")
	})

	start := time.Now()
	// A first login: no cached credentials, from an address of its own.
	var status int
	for range 10 {
		req, _ := http.NewRequest("GET", tg.srv.URL+"/", nil)
		req.Header.Set("Authorization", bobAuth)
		req.Header.Set("X-Forwarded-For", "192.0.2.10")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if status = resp.StatusCode; status != http.StatusServiceUnavailable {
			break
		}
	}
	if status != 200 {
		t.Fatalf("the real user's login under the floods: %d", status)
	}
	t.Logf("login: %v", time.Since(start))
	c := tg.openResumable(t, echo.Addr(), http.Header{"Authorization": {bobAuth}, "X-Forwarded-For": {"192.0.2.10"}})
	for !bytes.Contains(c.got, []byte("leave.\r\n")) {
		c.read()
	}
	c.cut()
	t.Logf("session: %v", time.Since(start))
	waitFor(t, "the session to detach", func() bool { return strings.Contains(tg.logs(), "session detached") })
	t.Logf("detached: %v", time.Since(start))
	c.resume()
	c.ws.writeFrame(opBinary, []byte("still me\r\n"))
	for !bytes.Contains(c.got, []byte("still me\r\n")) {
		c.read()
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("login, session and resume under the floods took %v", took)
	} else {
		t.Logf("login, session and resume under the floods: %v", took)
	}
	if size, _ := dirSize(t, dir); size > 1<<20 {
		t.Errorf("recordings hold %d bytes, over -record-total", size)
	}
}
