package machine

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestMemory: on Linux the answer is the machine's MemTotal, or the
// cgroup's limit when that is lower; never more than MemTotal.
func TestMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		if m := Memory(); m != 0 {
			t.Fatalf("Memory() = %d on %s, want 0 (unknown)", m, runtime.GOOS)
		}
		return
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skipf("no /proc/meminfo: %v", err)
	}
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			total, _ = strconv.ParseInt(f[1], 10, 64)
			total <<= 10
		}
	}
	m := Memory()
	if m <= 0 || m > total {
		t.Fatalf("Memory() = %d, want more than 0 and at most MemTotal %d", m, total)
	}
	if c, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(c)), 10, 64); err == nil && n < total && m != n {
			t.Fatalf("Memory() = %d, want the cgroup's limit %d", m, n)
		}
	}
}
