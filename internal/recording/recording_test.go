package recording

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"wstelnet/internal/asciicast"
	"wstelnet/internal/session"
)

// TestWriteFails: a recording whose file fails mid-session (as on a full
// disk: a pipe whose reader is gone) says so once and records no more.
func TestWriteFails(t *testing.T) {
	// A write that fails, as on a full disk: a pipe whose reader is gone.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var buf lockedBuffer
	rec, err := newRecording(w, asciicast.Header{Width: 80, Height: 24, Timestamp: time.Now()}, 1<<20, false, slog.New(slog.NewTextHandler(&buf, nil)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	rec.lastFlush = time.Time{} // write through at once
	rec.Output([]byte("lost"), 4)
	rec.Output([]byte("dropped"), 7)
	if attrs := rec.Ended(session.End{}, 0); len(attrs) != 2 || attrs[1] == "" {
		t.Errorf("the end names the file as %v", attrs)
	}
	if n := strings.Count(buf.buf.String(), "recording failed"); n != 1 {
		t.Errorf("%d log lines about the failure, want 1: %s", n, buf.buf.String())
	}
}

// lockedBuffer is a log that the recording's goroutines may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
