//go:build !linux

package netns

import "errors"

func canUnshare(string) error { return errors.New("network namespaces are Linux's") }

func loopbackUp() error { return errors.New("network namespaces are Linux's") }

func interfaces() ([]string, error) { return nil, errors.New("network namespaces are Linux's") }
