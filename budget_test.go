package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestResumeMemoryBudget: sessions whose pages never acknowledge, behind
// targets that flood, and then detached, hold no more than -resume-memory
// together (plus a stated overhead per session), however large
// -resume-buffer is: their targets are simply not read. Without the
// budget, these 100 sessions would hold 100 MiB.
func TestResumeMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const (
		sessions = 100
		budget   = 16 << 20
		// The stated overhead: per session, the first 4 KiB of its buffer
		// (outside the budget), its sockets' and goroutines' memory, and
		// the collector's slack for storage given back (GOGC=100 may let
		// the heap reach twice what is live before a collection).
		perSession = 64 << 10
		slack      = budget + 16<<20
	)
	flood := startTarget(t, func(c net.Conn) {
		chunk := []byte(strings.Repeat("flood ", 32<<10/6))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	bin := buildWstelnet(t)
	gw := startGatewayProcess(t, bin, "", "-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0",
		"-resume-buffer", strconv.Itoa(1<<20), "-resume-memory", strconv.Itoa(budget), "-max-sessions-per-client", "0")
	before := processRSS(t, gw.cmd.Process.Pid)

	hdr := http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}}
	var clients []*rclient
	for range sessions {
		ws, resp := dialWSAt(t, gw.addr, nil, "/ws?resume=1&telnet=off", hdr)
		if ws == nil {
			t.Fatalf("refused: %s", resp.Status)
		}
		ws.sendText(flood)
		ws.expectText("SUCC")
		ws.next() // the session message
		clients = append(clients, &rclient{t: t, ws: ws})
	}
	for _, c := range clients {
		c.cut() // never acknowledged anything
	}
	// The sessions fill the budget and stop there.
	var held int64
	waitFor(t, "the budget to fill", func() bool {
		held = scrapeValue(t, gw.metrics, "wstelnet_resume_memory_bytes")
		return held >= budget-2<<20
	})
	if held > budget {
		t.Errorf("the sessions hold %d bytes beyond their first 4 KiB, over the budget of %d", held, budget)
	}
	// The whole process, after a collection has had its chance: RSS is
	// measured, never asserted with a timer.
	after := processRSS(t, gw.cmd.Process.Pid)
	limit := before + budget + sessions*perSession + slack
	t.Logf("RSS %d MiB before, %d MiB with %d sessions holding %d MiB of output (bound %d MiB)", before>>20, after>>20, sessions, held>>20, limit>>20)
	if after > limit {
		t.Errorf("the process grew from %d to %d bytes: over the budget plus its overhead (%d)", before, after, limit)
	}
	// And the targets wait: the budget stays put while they are unread.
	if again := scrapeValue(t, gw.metrics, "wstelnet_resume_memory_bytes"); again > budget {
		t.Errorf("%d bytes held later, over the budget", again)
	}
}

// processRSS is a process's resident memory, from /proc.
func processRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// scrapeValue reads one unlabelled metric from the gateway's /metrics.
func scrapeValue(t *testing.T, url, name string) int64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return int64(f)
		}
	}
	t.Fatalf("no %s at %s", name, url)
	return 0
}
