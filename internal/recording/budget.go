package recording

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"wstelnet/internal/asciicast"
)

// Budget is -record-total: the bytes the recordings in -record DIR
// may take together, those there at start included. Past it, running
// recordings stop at their last whole event and no new one starts, with
// one log line, until files are deleted; sessions go on.
type Budget struct {
	dir    string
	max    int64
	budget *asciicast.Budget

	mu      sync.Mutex
	full    bool      // the log said so
	counted time.Time // the last count of the directory
}

const (
	// recordRoom is the least budget a new recording needs: its header
	// and some events.
	recordRoom = 4 << 10
	// recordRecount is how often a full budget looks at the directory
	// again, in case files were deleted.
	recordRecount = 10 * time.Second
)

// NewBudget counts the recordings already in dir against max.
func NewBudget(dir string, max int64) *Budget {
	return &Budget{dir: dir, max: max, budget: asciicast.NewBudget(max, castBytes(dir)), counted: time.Now()}
}

// castBytes is the size of the recordings (*.cast) in dir.
func castBytes(dir string) int64 {
	entries, _ := os.ReadDir(dir)
	var n int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".cast") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

// shared is the budget the recordings write within; nil without one.
func (b *Budget) shared() *asciicast.Budget {
	if b == nil {
		return nil
	}
	return b.budget
}

// room reports whether a new recording may start, and says once when
// the budget is full that none will until files are deleted.
func (b *Budget) room(log *slog.Logger) bool {
	if b == nil || b.budget.Left() >= recordRoom {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := time.Now(); now.Sub(b.counted) >= recordRecount {
		b.counted = now
		b.budget.Reset(castBytes(b.dir))
		if b.budget.Left() >= recordRoom {
			if b.full {
				log.Info("recordings resume: files were deleted and -record-total has room again", "dir", b.dir, "left_bytes", b.budget.Left())
			}
			b.full = false
			return true
		}
	}
	if !b.full {
		b.full = true
		log.Warn("-record-total reached: new sessions are not recorded until recordings are deleted from the directory; sessions go on",
			"dir", b.dir, "max_bytes", b.max)
	}
	return false
}
