//go:build unix

package machine

import (
	"syscall"
	"testing"
)

// TestOpenFiles: the answer is the soft limit the kernel reports.
func TestOpenFiles(t *testing.T) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	n, ok := OpenFiles()
	if r.Cur > 1<<30 {
		if ok {
			t.Fatalf("OpenFiles() = %d, true for an unbounded limit", n)
		}
		return
	}
	if !ok || n != int(r.Cur) {
		t.Fatalf("OpenFiles() = %d, %v, want %d, true", n, ok, r.Cur)
	}
}
