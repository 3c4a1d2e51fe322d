package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"wstelnet/internal/asciicast"
)

// recorder writes each session to a file of its own in asciicast v2
// (-record DIR), which asciinema plays. A recording never breaks a
// session: a directory it cannot write to, a full disk or the size limit
// stop the recording, with a log line, and the session goes on.
type recorder struct {
	dir   string
	max   int64 // -record-max
	input bool  // -record-input: also what the browser sends (passwords too)
	log   *slog.Logger
	// metrics counts failed recordings; nil: not counted.
	metrics *metrics
	// budget is -record-total (recordbudget.go); nil: no total limit.
	budget *recordBudget
}

// recording is one session's file. Output comes from the relay's
// target-to-browser goroutine, input and resizes from the other, hence mu.
// A nil *recording records nothing, so that the relay needs no other check.
type recording struct {
	mu        sync.Mutex
	f         *os.File
	bw        *asciicast.File   // whole events only, within -record-total
	cast      *asciicast.Writer // nil once the recording has stopped
	start     time.Time
	lastFlush time.Time
	input     bool
	path      string
	log       *slog.Logger
	metrics   *metrics
}

// recordFlushEvery bounds how much of a live session a crash can lose:
// the buffer is written out at the first event after this long.
const recordFlushEvery = time.Second

// recordingName is the file name of session id's recording started at t:
// it sorts by time and names the session as the logs do.
func recordingName(t time.Time, id string) string {
	return t.UTC().Format("20060102T150405Z") + "-" + id + ".cast"
}

// start opens the recording of a session to target, with the terminal
// size and type the browser gave (0 and "" when it gave none). On failure
// it logs why and returns nil: the session goes on unrecorded.
func (r *recorder) start(log *slog.Logger, id, target string, cols, rows int, term string) *recording {
	if r == nil || !r.budget.room(r.log) {
		return nil
	}
	now := time.Now()
	path := filepath.Join(r.dir, recordingName(now, id))
	// O_EXCL: never append to, or replace, another session's recording.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		log.Warn("cannot record the session", "err", err)
		r.metrics.recordingFailed()
		return nil
	}
	if cols <= 0 || rows <= 0 {
		cols, rows = 80, 24
	}
	rec, err := newRecording(f, asciicast.Header{Width: cols, Height: rows, Timestamp: now, Title: target, Term: term}, r.max, r.input, log, r.metrics, r.budget.shared())
	if err != nil {
		f.Close()
		os.Remove(path) // no empty file is left behind
		log.Warn("cannot record the session", "file", path, "err", err)
		r.metrics.recordingFailed()
		return nil
	}
	return rec
}

// newRecording writes the header to f and returns the recording.
func newRecording(f *os.File, h asciicast.Header, max int64, input bool, log *slog.Logger, m *metrics, budget *asciicast.Budget) (*recording, error) {
	bw := asciicast.NewFile(f, budget)
	cast, err := asciicast.NewWriter(bw, h, max)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	return &recording{f: f, bw: bw, cast: cast, start: h.Timestamp, lastFlush: h.Timestamp, input: input, path: f.Name(), log: log, metrics: m}, nil
}

// output records bytes the target sent, as the browser gets them (telnet
// commands removed).
func (rec *recording) output(p []byte) {
	if rec == nil || len(p) == 0 {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.write(func(t time.Duration) error { return rec.cast.Write(t, asciicast.Output, p) })
}

// inputs records what the browser sent, followed by suffix, with -record-input.
func (rec *recording) inputs(p []byte, suffix string) {
	if rec == nil || !rec.input {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.write(func(t time.Duration) error {
		err := rec.cast.Write(t, asciicast.Input, p)
		if err == nil && suffix != "" {
			err = rec.cast.Write(t, asciicast.Input, []byte(suffix))
		}
		return err
	})
}

// resize records the browser's new terminal size.
func (rec *recording) resize(cols, rows int) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.write(func(t time.Duration) error { return rec.cast.Resize(t, cols, rows) })
}

// mark records a marker, e.g. a lost connection or a resume.
func (rec *recording) mark(label string) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.write(func(t time.Duration) error { return rec.cast.Marker(t, label) })
}

// write runs one event under mu and handles its end: the limit or a failed write.
func (rec *recording) write(event func(time.Duration) error) {
	if rec.cast == nil {
		return
	}
	now := time.Now()
	err := event(now.Sub(rec.start))
	if err == nil && now.Sub(rec.lastFlush) >= recordFlushEvery {
		rec.lastFlush = now
		err = rec.bw.Flush()
	}
	switch {
	case errors.Is(err, asciicast.ErrLimit):
		rec.log.Info("recording stopped at -record-max; the session goes on", "file", rec.path, "bytes", rec.cast.Written())
		rec.stop()
	case errors.Is(err, asciicast.ErrBudget):
		rec.log.Warn("recording stopped at -record-total; the session goes on", "file", rec.path, "bytes", rec.bw.Written())
		rec.stop()
	case err != nil:
		rec.log.Warn("recording failed; the session goes on", "file", rec.path, "err", err)
		rec.metrics.recordingFailed()
		rec.stop()
	}
}

// stop writes out and closes the file; later events are dropped.
func (rec *recording) stop() error {
	err := rec.cast.Close(time.Since(rec.start))
	if cerr := rec.bw.Close(); err == nil || errors.Is(err, asciicast.ErrBudget) {
		err = cerr
	}
	rec.cast = nil
	return err
}

// close ends the recording with the session and returns its file's path
// for the session's log line ("" without a recording).
func (rec *recording) close() string {
	if rec == nil {
		return ""
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.cast != nil {
		if err := rec.stop(); err != nil {
			rec.log.Warn("recording failed at its end", "file", rec.path, "err", err)
		}
	}
	return rec.path
}

// checkRecordDir tells at start-up, rather than at every session, that
// -record names no directory this process can write to.
func checkRecordDir(dir string) error {
	f, err := os.CreateTemp(dir, ".wstelnet-check-*")
	if err != nil {
		return fmt.Errorf("-record %s: %w (create the directory, writable by the gateway's user)", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrapPath drops the *PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// termName is the TERM a v2 session's terminal claims (the first type
// the browser offered), as a program would see it: in lower case.
func termName(types []string) string {
	if len(types) == 0 {
		return ""
	}
	return strings.ToLower(types[0])
}
