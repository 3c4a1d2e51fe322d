//go:build unix

package main

import (
	"errors"
	"net"
	"syscall"
)

// waitReadable blocks until c has something to read (data, end of stream
// or an error) without reading it, so that an idle session holds no read
// buffer: the buffer is taken from a pool only once there is data. It
// honours c's read deadline and returns when c is closed.
func waitReadable(c net.Conn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Wait only while there is nothing at all; anything else (data,
		// end of stream, an error) is for the real Read to report.
		return !errors.Is(err, syscall.EAGAIN)
	})
}
