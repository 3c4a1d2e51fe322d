package asciicast

import (
	"errors"
	"os"
	"sync/atomic"
)

// This file is the package's one part that does I/O: File, where a
// recording is written, so that a full disk or a directory's budget ends
// a recording cleanly.

// ErrBudget is returned once the recordings together have used their
// Budget.
var ErrBudget = errors.New("asciicast: the recordings reached their total budget")

// Budget is the bytes all recordings together may take; recordings share
// one. A nil Budget has no limit.
type Budget struct {
	max  int64
	used atomic.Int64
	out  atomic.Bool // a take did not fit: no room until Reset
}

// NewBudget is a budget of max bytes of which used are taken already
// (the recordings already on disk).
func NewBudget(max, used int64) *Budget {
	b := &Budget{max: max}
	b.used.Store(used)
	return b
}

// take takes n bytes, or none if they do not fit.
func (b *Budget) take(n int64) bool {
	if b == nil {
		return true
	}
	for {
		u := b.used.Load()
		if u+n > b.max {
			b.out.Store(true)
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// Left is how many bytes are left, 0 once a write did not fit; with a
// nil Budget, -1.
func (b *Budget) Left() int64 {
	if b == nil {
		return -1
	}
	if b.out.Load() {
		return 0
	}
	return max(0, b.max-b.used.Load())
}

// Reset says that used bytes are taken now, after the recordings on disk
// were counted again (some were deleted).
func (b *Budget) Reset(used int64) {
	if b != nil {
		b.used.Store(used)
		b.out.Store(false)
	}
}

// fileBuffer is how much File holds before writing it out.
const fileBuffer = 32 << 10

// File writes a recording to f, buffered, holding whole events only: the
// Writer hands it one line per Write. A write that fails (a full disk)
// cuts the file back to its last whole event, so that a player still
// plays it, and the recording ends there; Close removes a file that holds
// not even the header. Its methods are not safe for concurrent use.
type File struct {
	f      *os.File
	budget *Budget
	buf    []byte
	good   int64 // bytes in f, all whole lines
	err    error // sticky
}

// NewFile writes to f within budget (nil: none).
func NewFile(f *os.File, budget *Budget) *File {
	return &File{f: f, budget: budget}
}

// Write takes one whole line (an event, or the header), or none of it if
// the budget has no room for it.
func (w *File) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if !w.budget.take(int64(len(p))) {
		w.err = ErrBudget
		return 0, ErrBudget
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= fileBuffer {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes out what is held. If the write fails, the file is cut back
// to its last whole line and the error is returned, then and after.
func (w *File) Flush() error {
	if w.err != nil && w.err != ErrBudget {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	if err != nil {
		if n > 0 {
			w.f.Truncate(w.good) // best effort: a pipe cannot be cut
		}
		w.buf = w.buf[:0]
		w.err = err
		return err
	}
	w.good += int64(n)
	w.buf = w.buf[:0]
	return nil
}

// Written is the bytes in the file, all whole lines.
func (w *File) Written() int64 { return w.good }

// Close writes out what is held and closes the file; a file with nothing
// in it is removed.
func (w *File) Close() error {
	err := w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if w.good == 0 {
		os.Remove(w.f.Name())
	}
	if err == ErrBudget {
		return nil // what fitted is written whole
	}
	return err
}
