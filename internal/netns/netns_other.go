//go:build !linux

package netns

import "errors"

var errNoNamespaces = errors.New("network namespaces are Linux's")

func canUnshare() error { return errNoNamespaces }

func loopbackUp() error { return errNoNamespaces }
