package asciicast

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFileBudget: events are taken whole or not at all, within a budget
// shared by files, and a file the budget left empty is removed.
func TestFileBudget(t *testing.T) {
	dir := t.TempDir()
	b := NewBudget(1000, 100)
	open := func(name string) (*File, string) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		return NewFile(f, b), path
	}
	a, aPath := open("a.cast")
	w, err := NewWriter(a, Header{Width: 80, Height: 24, Timestamp: time.Unix(0, 0)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; werr == nil; i++ {
		werr = w.Write(time.Duration(i)*time.Millisecond, Output, []byte("0123456789012345678901234567890123456789"))
	}
	if !errors.Is(werr, ErrBudget) {
		t.Fatalf("past the budget: %v, want ErrBudget", werr)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(aPath)
	if fi.Size() > 900 || fi.Size() < 800 {
		t.Errorf("the file holds %d bytes of a budget of 900 left", fi.Size())
	}
	if b.Left() != 0 {
		t.Errorf("%d bytes left once a write did not fit, want 0", b.Left())
	}
	c, cPath := open("c.cast")
	if _, err := NewWriter(c, Header{Width: 80, Height: 24}, 0); !errors.Is(err, ErrBudget) {
		t.Errorf("a header past the budget: %v", err)
	}
	c.Close()
	if _, err := os.Stat(cPath); !os.IsNotExist(err) {
		t.Errorf("an empty recording is left behind: %v", err)
	}
	b.Reset(0)
	if b.Left() != 1000 {
		t.Errorf("after Reset(0): %d left, want 1000", b.Left())
	}
}
