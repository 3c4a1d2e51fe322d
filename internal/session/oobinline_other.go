//go:build !unix

package session

import "net"

// setOOBInline does nothing where the syscall package has no SO_OOBINLINE
// (Windows): urgent data then stays out of the stream, and a telnet
// server's Synch leaves a stray byte.
func setOOBInline(c net.Conn) error { return nil }
