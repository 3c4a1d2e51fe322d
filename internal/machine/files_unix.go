//go:build unix

package machine

import "syscall"

// OpenFiles is the most descriptors the process may hold: the soft
// RLIMIT_NOFILE, which the Go runtime raises to the hard limit at start.
// ok is false when it cannot be read or is so large (RLIM_INFINITY among
// them) that it bounds nothing.
func OpenFiles() (n int, ok bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0, false
	}
	return int(r.Cur), true
}
