//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLoadQuick runs the load tool's smoke test against the real gateway
// binary, as CI does with go run ./bench load -quick, so that it cannot
// rot: 200 sessions through every contender, the chat, and the storm. It
// judges no speed; it fails if a session did not open, a line was lost,
// or the storm did not bring every session back byte for byte.
func TestLoadQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway and a few hundred sessions per contender")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./bench: %v\n%s", err, out)
	}
	md := filepath.Join(dir, "load.md")
	cmd := exec.Command(bin, "load", "-quick", "-root", "..", "-md", md)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench load -quick: %v\n%s", err, out)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	report := string(b)
	for _, want := range []string{
		// Every session opened, through the three wstelnet contenders at least.
		`\| sessions open \| 200 of 200 \| 200 of 200 \| 200 of 200 \|`,
		// The storm: all 200 back, with every line in sequence both ways.
		`(?m)^\| 1 \| 200 \| 200 of 200 \| .* \| yes \|$`,
	} {
		if !regexp.MustCompile(want).MatchString(report) {
			t.Errorf("the report does not match %s:\n%s\n\nits output:\n%s", want, report, out)
		}
	}
	if strings.Contains(report, "Failures:") {
		t.Errorf("the report lists failures:\n%s", report)
	}
	t.Logf("%s", report)
}
