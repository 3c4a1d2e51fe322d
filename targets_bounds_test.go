package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"wstelnet/internal/tokens"
)

// TestTargetsBounded: a targets file past the bounds (entries, bytes) is
// refused at load with an error that says so, as at start and at reload.
func TestTargetsBounded(t *testing.T) {
	dir := t.TempDir()
	var many strings.Builder
	for i := range maxTargets + 1 {
		fmt.Fprintf(&many, "t%d: 127.0.0.1:%d\n", i, 1000+i%60000)
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"too many", many.String(), "more than 10000 named targets"},
		{"too big", "a: 127.0.0.1:7\n" + strings.Repeat("# "+strings.Repeat("x", 1000)+"\n", maxTargetsBytes/1000), "more than 4194304 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTokens(t, dir, tc.name, tc.content)
			if _, _, err := readTargets(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	// At the bound, fine.
	path := writeTokens(t, dir, "ok", strings.Join(strings.SplitAfter(many.String(), "\n")[:maxTargets], ""))
	if set, _, err := readTargets(path); err != nil || set.Len() != maxTargets {
		t.Errorf("%d targets: %v", maxTargets, err)
	}
}

type discardResponse struct{ h http.Header }

func (d discardResponse) Header() http.Header         { return d.h }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}

// TestTargetListCached: /targets.json is made once per set of targets, not
// once per request: the bytes allocated by many requests are about one
// body's, and a reload (a new set) gives a new body.
func TestTargetListCached(t *testing.T) {
	var ts []tokens.Target
	for i := range 5000 {
		ts = append(ts, tokens.Target{Name: fmt.Sprintf("t%d", i), Addr: "127.0.0.1:7", Description: strings.Repeat("d", 150)})
	}
	set := tokens.NewSet(ts)
	g, err := newGateway(gatewayOptions{Logger: testLogger(t), Targets: func() *tokens.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Shutdown(context.Background()) })
	body := len(g.targetListBody())
	req, _ := http.NewRequest("GET", "/targets.json", nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 20
	for range n {
		g.serveTargetList(discardResponse{http.Header{}}, req)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(body) {
		t.Errorf("%d requests for a %d-byte list allocated %d bytes: the body is made per request", n, body, alloc)
	}
	set = tokens.NewSet(ts[:1])
	if got := string(g.targetListBody()); !strings.Contains(got, `"t0"`) || strings.Contains(got, `"t1"`) {
		t.Errorf("after a reload: %.100s", got)
	}
}
