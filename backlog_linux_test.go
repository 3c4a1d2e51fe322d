package main

import "syscall"

// listenBacklog re-issues listen(2) with a new backlog on a listening socket.
func listenBacklog(fd, n int) { syscall.Listen(fd, n) }
