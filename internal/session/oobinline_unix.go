//go:build unix

package session

import (
	"net"
	"syscall"
)

// setOOBInline keeps TCP urgent data in a target's byte stream
// (SO_OOBINLINE), as telnet clients do. A telnet server marks IAC DM as
// urgent (the Synch of RFC 854: after an interrupt or a break); without
// this the kernel takes the urgent byte out of the stream, the rest of the
// command reaches the browser as a stray byte, and a plain TCP service that
// sends urgent data loses a byte.
func setOOBInline(c net.Conn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
	}); err != nil {
		return err
	}
	return serr
}
