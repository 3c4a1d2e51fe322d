package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain runs every test, then fails the run if goroutines or file
// descriptors outlived them: every test is covered, including those that
// run in parallel, which a check per test could not tell apart.
func TestMain(m *testing.M) {
	// The runtime's network poller opens two descriptors at first use,
	// for good: start it before counting.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	// So does os/signal, a goroutine at the first Notify (-targets's SIGHUP).
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	signal.Stop(c)
	g0, fd0 := runtime.NumGoroutine(), openFDs()
	code := m.Run()
	if code == 0 {
		if err := checkLeaks(g0, fd0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkLeaks waits up to 10 s for the goroutines and descriptors to fall
// back to what they were before the tests, as sessions and servers finish
// closing.
func checkLeaks(g0, fd0 int) error {
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		g, fd := runtime.NumGoroutine(), openFDs()
		if g <= g0 && fd <= fd0 {
			return nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("leak after the tests: %d goroutines (were %d), %d descriptors (were %d: %s)\n%s", g, g0, fd, fd0, fdList(), buf)
		}
		<-tick.C // nothing signals the end of a goroutine: poll
	}
}

// openFDs counts this process's open descriptors, or -1 where /proc is not.
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// fdList says what each open descriptor is, for the leak report.
func fdList() string {
	entries, _ := os.ReadDir("/proc/self/fd")
	var out []string
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"="+target)
	}
	return strings.Join(out, " ")
}
