// Package machine reads what this process and machine allow, for the
// defaults of the flags that bound the gateway: how many descriptors it
// may hold (-max-sessions) and how much memory it may use
// (-resume-memory).
package machine

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Memory is the memory the process may use: the cgroup v2 memory.max
// when one is set, else /proc/meminfo's MemTotal; 0 when neither is known
// (other systems).
func Memory() int64 {
	total := int64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if kb, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				total = n << 10
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			return n // "max" (no limit) does not parse
		}
	}
	return total
}
