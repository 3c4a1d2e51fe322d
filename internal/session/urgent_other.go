//go:build !linux

package session

// urgentPending is Linux's alone (urgent_linux.go). Elsewhere the gateway
// does not learn of urgent data: a telnet Synch's IAC DM is still removed
// (on systems with SO_OOBINLINE), but the output before it is shown rather
// than discarded, which costs the browser a little output it would have
// lost, nothing more.
func urgentPending(fd uintptr) bool { return false }
