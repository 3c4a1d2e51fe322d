//go:build !unix

package machine

// OpenFiles: other systems have no per-process descriptor limit to read.
func OpenFiles() (int, bool) { return 0, false }
