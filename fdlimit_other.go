//go:build !unix

package main

// openFileLimit: other systems have no per-process descriptor limit to read.
func openFileLimit() (int, bool) { return 0, false }
