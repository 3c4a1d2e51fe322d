package session

import (
	"log/slog"
	"time"
)

// Observer watches sessions at the engine's seams: metrics and recordings
// are observers. The engine calls it from its own goroutines, so an
// implementation must be safe for concurrent use and must not block; it
// has no way to fail a session (nothing it returns is an error, and a
// panic in it is recovered and logged).
type Observer interface {
	// Dialed is a dial that was made (not one the target rules refused,
	// nor one cut short by a shutdown): how long it took, and its error.
	Dialed(took time.Duration, err error)
	// Started is a session that sent SUCC (on /websockify: that dialled).
	// It returns what watches the rest of that session's life, or nil.
	Started(Info) Watcher
	// NotStarted is a session that ended before it started: refused, a
	// failed dial, or left by its browser.
	NotStarted(End)
}

// Info describes a session as it starts.
type Info struct {
	ID       string       // as in the logs
	Protocol string       // "v1", "v2" or "websockify"
	Target   string       // host:port dialled
	Cols     int          // the terminal's size, 0 if unknown (v2 only)
	Rows     int          //
	Term     string       // the terminal type, lower case, "" if none (v2 only)
	Log      *slog.Logger // the session's logger
	Start    time.Time    // when the WebSocket was upgraded
}

// Watcher watches one started session. Its methods are called by the
// session's goroutines: Input, Resize from the browser's side, Output from
// the target's, the others from either; never two at once for the same
// direction.
type Watcher interface {
	// Input is what the browser sent, as the target gets it (before telnet
	// escaping), then suffix (v1's CR LF), just before it is written, so
	// that it comes before whatever the target answers; wire is the bytes
	// to be written to the target.
	Input(p []byte, suffix string, wire int)
	// Output is what the browser gets (telnet commands removed); wire is
	// the bytes read from the target.
	Output(p []byte, wire int)
	// Resize is the browser's new terminal size.
	Resize(cols, rows int)
	// Detached and Resumed: a resumable session lost its connection, or
	// got a new one.
	Detached()
	Resumed()
	// Ended is the session's end; it returns attributes for the
	// session's log line (a recording's file, say).
	Ended(e End, duration time.Duration) []any
}

// watchers fans one session's events out to its observers' watchers.
// Nothing an observer does can break a session: its panics are recovered
// (guard). A nil *watchers (a session that never started) does nothing.
type watchers struct {
	ws  []Watcher
	log *slog.Logger
}

// guard runs one call to an observer, recovering a panic.
func guard(log *slog.Logger, f func()) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("an observer failed; the session goes on", "panic", r)
		}
	}()
	f()
}

func (w *watchers) each(f func(Watcher)) {
	if w == nil {
		return
	}
	for _, x := range w.ws {
		guard(w.log, func() { f(x) })
	}
}

func (w *watchers) input(p []byte, suffix string, wire int) {
	w.each(func(x Watcher) { x.Input(p, suffix, wire) })
}
func (w *watchers) output(p []byte, wire int) { w.each(func(x Watcher) { x.Output(p, wire) }) }
func (w *watchers) resize(cols, rows int)     { w.each(func(x Watcher) { x.Resize(cols, rows) }) }
func (w *watchers) detached()                 { w.each(func(x Watcher) { x.Detached() }) }

// CompressionWatcher is a Watcher that also counts a target's compressed
// output (MCCP2): the bytes read from the target, and what they inflated to.
type CompressionWatcher interface {
	Compressed(compressed, inflated int)
}

func (w *watchers) mccp(compressed, inflated int) {
	w.each(func(x Watcher) {
		if c, ok := x.(CompressionWatcher); ok {
			c.Compressed(compressed, inflated)
		}
	})
}
func (w *watchers) resumed() { w.each(func(x Watcher) { x.Resumed() }) }

func (w *watchers) ended(e End, d time.Duration) []any {
	var attrs []any
	w.each(func(x Watcher) { attrs = append(attrs, x.Ended(e, d)...) })
	return attrs
}

// observers fans the engine's events out to every observer.
type observers struct {
	os  []Observer
	log *slog.Logger
}

func (o observers) dialed(took time.Duration, err error) {
	for _, x := range o.os {
		guard(o.log, func() { x.Dialed(took, err) })
	}
}

func (o observers) notStarted(e End) {
	for _, x := range o.os {
		guard(o.log, func() { x.NotStarted(e) })
	}
}

func (o observers) started(info Info) *watchers {
	w := &watchers{log: info.Log}
	for _, x := range o.os {
		guard(o.log, func() {
			if wt := x.Started(info); wt != nil {
				w.ws = append(w.ws, wt)
			}
		})
	}
	return w
}
