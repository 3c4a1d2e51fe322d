//go:build !unix

package main

import (
	"context"
	"testing"
)

func browserTestTerminalTinyMUX(t *testing.T, _ context.Context) {
	t.Skip("TinyMUX is started as a Unix process group")
}

func browserTestLineTinyMUX(t *testing.T, _ context.Context) {
	t.Skip("TinyMUX is started as a Unix process group")
}
