package main

import "syscall"

// listenBacklog re-issues listen(2) with a new backlog on a listening
// socket; false where that is not possible.
func listenBacklog(fd uintptr, n int) bool { return syscall.Listen(int(fd), n) == nil }
