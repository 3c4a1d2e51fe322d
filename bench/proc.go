//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100
// on every Linux this runs on).
const clockTick = 10 * time.Millisecond

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit. Setting it
// explicitly (rather than relying on the Go runtime, which raises it for
// itself only) makes the children inherit it too.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", lim.Max, err)
	}
	return lim.Cur, nil
}

// procField reads a "Name:   value kB" field of a /proc file, in KiB.
func procField(path, name string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s has no %s", path, name)
}

// rssKiB is a process's resident set size.
func rssKiB(pid int) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
}

// pssKiB is a process's proportional set size: its resident pages, with
// each page shared with other processes counted as a fraction. Summed over
// websockify's forked children it gives what they cost together, where the
// sum of their RSS would count the pages they share once per child.
func pssKiB(pid int) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss")
}

// treeMemKiB sums a memory figure over pid and all its descendants.
func treeMemKiB(pid int, mem func(int) (int64, error)) (int64, int, error) {
	pids := processTree(pid)
	var sum int64
	for i, p := range pids {
		kib, err := mem(p)
		if err != nil {
			if i == 0 {
				return 0, 0, err
			}
			continue // a child that just exited
		}
		sum += kib
	}
	return sum, len(pids), nil
}

// cpuTime is the CPU a process has used, in user and kernel mode, plus
// that of its children that have exited and been waited for (which is
// where a websockify connection's CPU ends up).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is field 3 (state); utime, stime, cutime, cstime are 14-17.
	var ticks int64
	for _, f := range fields[11:15] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// threadsCPU is the CPU time of pid's live threads, in nanoseconds from
// /proc/PID/task/*/schedstat: much finer than stat's 10 ms ticks, which
// matters for runs of a tenth of a second. Threads that exited are not
// counted; the Go runtime keeps its threads.
func threadsCPU(pid int) (time.Duration, error) {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(files) == 0 {
		return 0, fmt.Errorf("no threads under /proc/%d/task", pid)
	}
	var sum time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that just exited
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", f, err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// selfCPU is the CPU this process has used (the targets and the clients),
// from getrusage: finer than /proc's ticks, and without the children.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// treeCPU is cpuTime summed over pid and its live descendants.
func treeCPU(pid int) (time.Duration, error) {
	var sum time.Duration
	for i, p := range processTree(pid) {
		t, err := cpuTime(p)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue
		}
		sum += t
	}
	return sum, nil
}

// children lists the direct children of pid.
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// processTree lists pid and all its descendants, pid first.
func processTree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children(out[i])...)
	}
	return out
}

// steadyMem polls mem until it has moved by less than 0.5% (or 64 KiB)
// over one second, or until timeout, and returns the last reading.
func steadyMem(timeout time.Duration, mem func() (int64, error)) (int64, error) {
	const interval, window = 100 * time.Millisecond, 10
	deadline := time.Now().Add(timeout)
	var hist []int64
	for {
		kib, err := mem()
		if err != nil {
			return 0, err
		}
		hist = append(hist, kib)
		if len(hist) > window {
			old := hist[len(hist)-1-window]
			d := kib - old
			if d < 0 {
				d = -d
			}
			if d*200 <= old || d <= 64 {
				return kib, nil
			}
		}
		if time.Now().After(deadline) {
			return kib, nil
		}
		time.Sleep(interval)
	}
}
