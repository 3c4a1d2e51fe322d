//go:build !linux

// The benchmark harness measures processes through Linux's /proc,
// rlimits and parent-death signals; elsewhere it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: the benchmark harness runs on Linux only")
	os.Exit(2)
}
