//go:build !linux

package main

// listenBacklog is Linux-only: the tests that need a full accept queue
// are skipped elsewhere.
func listenBacklog(fd uintptr, n int) bool { return false }
