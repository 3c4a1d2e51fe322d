package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// defaultResumeMemory is -resume-memory's default: a quarter of the
// memory the process may use (its cgroup's limit, else the machine's),
// at least 64 MiB; 256 MiB when neither can be read.
func defaultResumeMemory() int64 {
	m := machineMemory()
	if m <= 0 {
		return 256 << 20
	}
	return max(64<<20, m/4)
}

// machineMemory is the cgroup v2 memory.max when one is set, else
// /proc/meminfo's MemTotal; 0 when neither is known (other systems).
func machineMemory() int64 {
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
