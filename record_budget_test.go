package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"wstelnet/internal/recording"
)

// floodTarget is a target that sends lines as fast as it can until the
// connection ends.
func floodTarget(t *testing.T) string {
	line := []byte(strings.Repeat("flood ", 30) + "\r\n")
	chunk := []byte{}
	for len(chunk) < 16<<10 {
		chunk = append(chunk, line...)
	}
	return startTarget(t, func(c net.Conn) {
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
}

// dirSize is the bytes of the regular files in dir, and how many are empty.
func dirSize(t *testing.T, dir string) (total int64, empty []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		total += fi.Size()
		if fi.Size() == 0 {
			empty = append(empty, e.Name())
		}
	}
	return total, empty
}

// floodSession opens a line session to target, takes some of its output
// and closes it.
func floodSession(t *testing.T, addr, target string) {
	t.Helper()
	floodUntil(t, addr, target, func(i int) bool { return i == 200 })
}

// floodUntil opens a line session to target, takes its output until
// enough(frames taken) and closes it.
func floodUntil(t *testing.T, addr, target string, enough func(int) bool) {
	t.Helper()
	ws, resp := dialWSAt(t, addr, nil, "/ws", nil)
	if ws == nil {
		t.Fatal(resp.Status)
	}
	ws.sendText(target)
	ws.expectText("SUCC")
	for i := 0; !enough(i); i++ {
		ws.next()
	}
	ws.sendClose()
	ws.readUntilClose()
}

// TestRecordTotal: the recordings of a directory stay within -record-total
// however much the targets send, counting the files there at start; the
// log says once that recording stopped, and sessions go on.
func TestRecordTotal(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "old.cast"), strings.Repeat("x", 10000))
	const total = 100 << 10
	var logs lockedBuffer
	url, _, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-record", dir, "-record-total", "102400", "-echo", "127.0.0.1:0"}, &logs)
	defer stop()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	flood := floodTarget(t)
	for i := range 6 {
		floodSession(t, addr, flood)
		if size, _ := dirSize(t, dir); size > total {
			t.Fatalf("after %d flooding sessions the directory holds %d bytes, over -record-total %d", i+1, size, total)
		}
	}
	waitFor(t, "the sessions to end", func() bool { return strings.Count(logs.String(), "session ended") == 6 })
	log := logs.String()
	if n := strings.Count(log, "-record-total reached"); n != 1 {
		t.Errorf("%d log lines say -record-total was reached, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, "recording stopped at -record-total") {
		t.Errorf("no log line says a running recording stopped:\n%s", log)
	}
	// Every recording is whole: each line an event.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "old.cast" && strings.HasSuffix(e.Name(), ".cast") {
			castEvents(t, filepath.Join(dir, e.Name()))
		}
	}
	if _, empty := dirSize(t, dir); len(empty) > 0 {
		t.Errorf("empty files left behind: %v", empty)
	}
}

// TestRecordDiskFull: on a full file system (a 512 KiB tmpfs) a recording
// ends with its last whole event, which asciinema still plays, and a
// recording that cannot even start leaves no empty file behind.
func TestRecordDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	tg, logs := recordingGateway(t, recording.Recorder{Dir: dir})
	flood := floodTarget(t)
	addr := tg.srv.Listener.Addr().String()
	floodUntil(t, addr, flood, func(i int) bool { return i%100 == 0 && strings.Contains(logs.String(), "recording failed") })
	path := recordedFile(t, logs, dir)
	if !strings.Contains(logs.String(), "recording failed") {
		t.Fatalf("the disk did not fill up:\n%s", logs.String())
	}
	_, events := castEvents(t, path) // fails on a line cut short
	if len(events) == 0 {
		t.Error("no events kept")
	}
	asciinemaCat(t, path)

	before := strings.Count(logs.String(), "session ended")
	for range 2 {
		floodSession(t, addr, flood)
	}
	waitFor(t, "the sessions to end", func() bool { return strings.Count(logs.String(), "session ended") == before+2 })
	if _, empty := dirSize(t, dir); len(empty) > 0 {
		t.Errorf("empty recordings left behind on the full disk: %v", empty)
	}
}
