package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// dialError turns a failed dial into words for the FAIL: answer. A policy
// refusal (*policy.DeniedError) never gets here: session.open answers it
// first, in its own words, and logs it as a denial, not a dial error.
func dialError(addr string, timeout time.Duration, err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("cannot find host %s (check the spelling)", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot look up host %s: %s", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection (is the service running on that port?)", addr)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from %s within %s", addr, timeout)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s cannot be reached from the gateway (no route)", addr)
	case errors.Is(err, context.Canceled):
		return "the gateway is shutting down"
	default:
		return fmt.Sprintf("cannot connect to %s: %v", addr, err)
	}
}
