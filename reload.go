package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// What can change without a restart: on SIGHUP the gateway re-reads
// -htpasswd and -tls-cert/-tls-key (and -targets, in targets.go's
// store); -htpasswd is also re-read when the file changes, as -targets
// is. A file that cannot be read or is broken keeps the last good one.
// SIGHUP never ends the process.

// reloader is the loop that reloads on SIGHUP and polls -htpasswd.
type reloader struct {
	log  *slog.Logger
	poll time.Duration

	auth      *htpasswd   // nil without -htpasswd
	authStamp string      // the file's fingerprint when last read; owned by the loop
	keys      *certHolder // nil without -tls-cert
	// removed is told of users no longer in -htpasswd, to end their sessions.
	removed func(users []string)

	hup    chan os.Signal
	check  chan struct{} // a nudge to look at the files now (tests)
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newReloader starts listening for SIGHUP at once (from here on it does
// not end the process) and starts the loop.
func newReloader(log *slog.Logger, poll time.Duration, auth *htpasswd, keys *certHolder, removed func([]string)) *reloader {
	rl := &reloader{log: log, poll: poll, auth: auth, keys: keys, removed: removed, hup: make(chan os.Signal, 1), check: make(chan struct{}, 1)}
	if auth != nil {
		rl.authStamp, _ = fingerprint(auth.path)
	}
	signal.Notify(rl.hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	rl.cancel = cancel
	rl.wg.Add(1)
	go rl.watch(ctx)
	return rl
}

// stop ends the loop and stops listening for SIGHUP (which would then
// end the process again).
func (rl *reloader) stop() {
	signal.Stop(rl.hup)
	rl.cancel()
	rl.wg.Wait()
}

func (rl *reloader) watch(ctx context.Context) {
	defer rl.wg.Done()
	tick := time.NewTicker(rl.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rl.hup:
			rl.log.Info("SIGHUP: reloading what can be reloaded")
			rl.reloadAuth("SIGHUP")
			rl.reloadKeys()
		case <-tick.C:
			rl.authIfChanged()
		case <-rl.check:
			rl.authIfChanged()
		}
	}
}

func (rl *reloader) authIfChanged() {
	if rl.auth == nil {
		return
	}
	if stamp, err := fingerprint(rl.auth.path); err == nil && stamp == rl.authStamp {
		return
	}
	rl.reloadAuth("the file changed")
}

// reloadAuth re-reads -htpasswd and ends the sessions of removed users.
func (rl *reloader) reloadAuth(why string) {
	if rl.auth == nil {
		return
	}
	stamp, _ := fingerprint(rl.auth.path)
	if stamp != "" {
		rl.authStamp = stamp
	}
	removed, users, err := rl.auth.reload()
	if err != nil {
		rl.log.Error("-htpasswd not reloaded: keeping the last good users; fix the file and save it again, or send SIGHUP",
			"why", why, "users", users, "err", err)
		return
	}
	rl.log.Info("-htpasswd loaded", "file", rl.auth.path, "why", why, "users", users)
	if len(removed) > 0 && rl.removed != nil {
		rl.removed(removed)
	}
}

func (rl *reloader) reloadKeys() {
	if rl.keys == nil {
		return
	}
	if err := rl.keys.reload(); err != nil {
		rl.log.Error("TLS certificate not reloaded: keeping the last good one", "err", err)
		return
	}
	rl.log.Info("TLS certificate loaded", "cert", rl.keys.certFile, "key", rl.keys.keyFile)
}
