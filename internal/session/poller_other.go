//go:build !linux

package session

import "syscall"

// Poller waits for quiet sessions without a goroutine each on Linux
// (poller_linux.go); elsewhere each side of a session waits in a
// goroutine of its own, and NewPoller gives none.
type Poller struct{}

// NewPoller gives a nil Poller: sessions wait the usual way.
func NewPoller() (*Poller, error) { return nil, nil }

// Close does nothing.
func (p *Poller) Close() error { return nil }

type parking struct{}

func (p *Poller) join(func()) *parking          { return nil }
func (k *parking) park(rc syscall.RawConn) bool { return false }
func (k *parking) close()                       {}
func (k *parking) on() bool                     { return false }
func (k *parking) wake()                        {}
