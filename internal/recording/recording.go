// Package recording records sessions in asciicast v2 (-record DIR), which
// asciinema plays: an observer of the session engine.
package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"wstelnet/internal/asciicast"
	"wstelnet/internal/session"
)

// Recorder writes each session to a file of its own in asciicast v2
// (-record DIR), which asciinema plays. A recording never breaks a
// session: a directory it cannot write to, a full disk or the size limit
// stop the recording, with a log line, and the session goes on.
type Recorder struct {
	Dir   string
	Max   int64 // -record-max
	Input bool  // -record-input: also what the browser sends (passwords too)
	Log   *slog.Logger
	// Failed counts a recording that failed; nil: not counted.
	Failed func()
	// Budget is -record-total (budget.go); nil: no total limit.
	Budget *Budget
}

// recording is one session's file. Output comes from the relay's
// target-to-browser goroutine, input and resizes from the other, hence mu.
// A nil *recording records nothing, so that the relay needs no other check.
type recording struct {
	fail      func()
	mu        sync.Mutex
	f         *os.File
	bw        *asciicast.File   // whole events only, within -record-total
	cast      *asciicast.Writer // nil once the recording has stopped
	start     time.Time
	lastFlush time.Time
	input     bool
	path      string
	log       *slog.Logger
}

// recordFlushEvery bounds how much of a live session a crash can lose:
// the buffer is written out at the first event after this long.
const recordFlushEvery = time.Second

// Name is the file name of session id's recording started at t: it
// sorts by time and names the session as the logs do.
func Name(t time.Time, id string) string {
	return t.UTC().Format("20060102T150405Z") + "-" + id + ".cast"
}

// Dialed and NotStarted: only started sessions are recorded.
func (r *Recorder) Dialed(time.Duration, error) {}
func (r *Recorder) NotStarted(session.End)      {}

// Started opens the recording of a session, with the terminal size and
// type the browser gave (0 and "" when it gave none). On failure it logs
// why and returns nil: the session goes on unrecorded.
func (r *Recorder) Started(info session.Info) session.Watcher {
	if !r.Budget.room(r.Log) {
		return nil
	}
	now := time.Now()
	path := filepath.Join(r.Dir, Name(now, info.ID))
	// O_EXCL: never append to, or replace, another session's recording.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		info.Log.Warn("cannot record the session", "err", err)
		r.failed()
		return nil
	}
	cols, rows := info.Cols, info.Rows
	if cols <= 0 || rows <= 0 {
		cols, rows = 80, 24
	}
	rec, err := newRecording(f, asciicast.Header{Width: cols, Height: rows, Timestamp: now, Title: info.Target, Term: info.Term}, r.Max, r.Input, info.Log, r.Failed, r.Budget.shared())
	if err != nil {
		f.Close()
		os.Remove(path) // no empty recordings left behind
		info.Log.Warn("cannot record the session", "file", path, "err", err)
		r.failed()
		return nil
	}
	return rec
}

func (r *Recorder) failed() {
	if r.Failed != nil {
		r.Failed()
	}
}

// newRecording writes the header to f and returns the recording.
func newRecording(f *os.File, h asciicast.Header, max int64, input bool, log *slog.Logger, fail func(), budget *asciicast.Budget) (*recording, error) {
	bw := asciicast.NewFile(f, budget)
	cast, err := asciicast.NewWriter(bw, h, max)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	return &recording{f: f, bw: bw, cast: cast, start: h.Timestamp, lastFlush: h.Timestamp, input: input, path: f.Name(), log: log, fail: fail}, nil
}

// Output records bytes the target sent, as the browser gets them (telnet
// commands removed).
func (rec *recording) Output(p []byte, _ int) {
	if len(p) == 0 {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.write(func(t time.Duration) error { return rec.cast.Write(t, asciicast.Output, p) })
}

// Input records what the browser sent, followed by suffix, with -record-input.
func (rec *recording) Input(p []byte, suffix string, _ int) {
	if !rec.input {
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

// Resize records the browser's new terminal size.
func (rec *recording) Resize(cols, rows int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.write(func(t time.Duration) error { return rec.cast.Resize(t, cols, rows) })
}

// Detached and Resumed are marked in the recording.
func (rec *recording) Detached() { rec.mark("connection lost") }
func (rec *recording) Resumed()  { rec.mark("resumed") }

// mark records a marker.
func (rec *recording) mark(label string) {
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
		if rec.fail != nil {
			rec.fail()
		}
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

// Ended ends the recording with the session and gives its file's path
// to the session's log line.
func (rec *recording) Ended(session.End, time.Duration) []any {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.cast != nil {
		if err := rec.stop(); err != nil {
			rec.log.Warn("recording failed at its end", "file", rec.path, "err", err)
		}
	}
	return []any{"recording", rec.path}
}

// CheckDir tells at start-up, rather than at every session, that
// -record names no directory this process can write to.
func CheckDir(dir string) error {
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
