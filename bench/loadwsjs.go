//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ensureWSJS finds websockify's Node.js port in dir, installing it there
// with npm the first time (dir is outside the repository: a cache). It
// returns the script and a description with the exact versions.
func ensureWSJS(ctx context.Context, dir string, logf func(string, ...any)) (script, version string, err error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", "", errors.New("node is not installed (apt-get install nodejs npm)")
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", "", fmt.Errorf("no cache directory for websockify-js (give -wsjs-dir): %w", err)
		}
		dir = filepath.Join(cache, "wstelnet-bench", "websockify-js")
	}
	script = filepath.Join(dir, "node_modules", "websockify", "websockify.js")
	if _, err := os.Stat(script); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return "", "", errors.New("npm is not installed (apt-get install npm), and websockify-js is not in " + dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", "", err
		}
		logf("installing %s into %s with npm", strings.Join(wsjsPackages, " "), dir)
		ictx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		args := append([]string{"install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel", "error"}, wsjsPackages...)
		out, err := exec.CommandContext(ictx, npm, args...).CombinedOutput()
		if err != nil {
			return "", "", fmt.Errorf("npm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	var vers []string
	for _, pkg := range []string{"websockify", "ws"} {
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
		var p struct{ Version string }
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		if err != nil {
			return "", "", fmt.Errorf("read the installed %s's version in %s: %w", pkg, dir, err)
		}
		vers = append(vers, p.Version)
	}
	nodeVer, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("node --version: %w", err)
	}
	return script, fmt.Sprintf("websockify-js %s (ws %s, Node %s)", vers[0], vers[1], strings.TrimSpace(string(nodeVer))), nil
}

// wsjsLoopback is preloaded into websockify.js: it listens on the port
// of its source address but ignores the host, so it would listen on every
// interface; this binds it to 127.0.0.1 instead.
const wsjsLoopback = `const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, ...rest) {
  if (typeof port === 'number' && port >= 0 && (rest.length === 0 || typeof rest[0] === 'function')) {
    return listen.call(this, port, '127.0.0.1', ...rest);
  }
  return listen.call(this, port, ...rest);
};
`

// startWSJS runs websockify.js on a port the kernel picks, relaying to
// target, and finds that port from /proc: websockify.js prints the port
// it was given (0), not the one it got.
func startWSJS(pin []string, script, target, logDir string) (*server, error) {
	logf, err := os.CreateTemp(logDir, "websockify-js-*.log")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	preload := filepath.Join(logDir, "wsjs-loopback.js")
	if err := os.WriteFile(preload, []byte(wsjsLoopback), 0o644); err != nil {
		return nil, err
	}
	args := append(slices.Clone(pin), "node", "--require", preload, script, "127.0.0.1:0", target)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start websockify-js: %w", err)
	}
	s := &server{name: "websockify-js", cmd: cmd, logPath: logf.Name()}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if port, ok := listeningPort(cmd.Process.Pid); ok {
			s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			return s, nil
		}
		// An exited child stays a zombie until stop waits for it.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); err != nil || strings.Contains(string(st), ") Z") {
			s.stop()
			return nil, fmt.Errorf("websockify-js exited before listening%s", s.logTail())
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("websockify-js was not listening within 20 s%s", s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listeningPort finds the TCP port pid listens on, from its descriptors'
// socket inodes and /proc/PID/net/tcp.
func listeningPort(pid int) (int, bool) {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil {
			if ino, ok := strings.CutPrefix(l, "socket:["); ok {
				inodes[strings.TrimSuffix(ino, "]")] = true
			}
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		// sl local_address rem_address st ... inode is field 9.
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
			continue
		}
		_, hexPort, _ := strings.Cut(f[1], ":")
		if port, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
			return int(port), true
		}
	}
	return 0, false
}
