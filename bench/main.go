//go:build linux

// Command bench measures what the wstelnet gateway costs, next to
// websockify (the usual WebSocket-to-TCP bridge) and a plain TCP
// connection on the same machine (the physical limit): throughput both
// ways, round-trip latency, CPU per MB, how throughput holds up with more
// sessions, memory per idle session, start-up time and binary size.
//
//	go run ./bench                 # the full run, several minutes
//	go run ./bench -quick          # a smoke test for CI, well under a minute
//	go run ./bench load            # many chatty sessions and a reconnect storm
//	go run ./bench load -quick     # its smoke test for CI
//
// It builds the gateway from the repository root, starts it, websockify
// and a naive x/net/websocket relay as child processes on loopback ports
// chosen by the kernel, runs every measurement with the contenders
// interleaved, and prints a table; -md and -svg write it as Markdown and
// as a plot. BENCHMARKS.md at the root holds the latest results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	switch {
	case len(os.Args) > 1 && os.Args[1] == naiveRelayCommand:
		naiveMain()
		return
	case len(os.Args) > 2 && os.Args[1] == tcpRelayCommand:
		tcpRelayMain(os.Args[2])
		return
	case len(os.Args) > 2 && os.Args[1] == floorRelayCommand:
		floorRelayMain(os.Args[2])
		return
	case len(os.Args) > 1 && os.Args[1] == loadWorkerCommand:
		if err := loadWorkerMain(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if len(os.Args) > 1 && os.Args[1] == "load" {
		err = runLoad(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	root        string
	reps        int
	size        int64 // bytes per download and upload, whole lines
	rtt         int
	sessions    []int
	concurrency []int
	startups    int
	md, svg     string
	quick       bool
	websockify  string
	wsSessions  int      // most idle sessions websockify is given
	only        []string // contender keys to run; all if empty
	benchmarks  []string // measurements to run; all if empty
}

// benchmarkNames are the measurements -benchmarks may pick.
var benchmarkNames = []string{"downstream", "upstream", "rtt", "concurrency", "memory", "startup"}

// wants reports whether the measurement called name is to run.
func (c config) wants(name string) bool {
	return len(c.benchmarks) == 0 || slices.Contains(c.benchmarks, name)
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var size, sessions, concurrency, only, benchmarks string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.root, "root", "", "the wstelnet repository `dir` to build (default: the module root found by 'go env GOMOD')")
	fs.IntVar(&cfg.reps, "reps", 5, "repetitions of each throughput and latency run; the median is reported")
	fs.StringVar(&size, "size", "32MiB", "`bytes` each download and upload moves (suffixes KiB, MiB), rounded down to whole 80-byte lines")
	fs.IntVar(&cfg.rtt, "rtt", 2000, "round trips per latency run")
	fs.StringVar(&sessions, "sessions", "100,1000,2000,5000", "comma-separated `counts` of idle sessions for the memory test (each on a fresh relay)")
	fs.StringVar(&concurrency, "concurrency", "1,10,100", "comma-separated `counts` of concurrent downloads, sharing -size between them")
	fs.IntVar(&cfg.startups, "startups", 20, "gateway starts timed for the start-up figure")
	fs.StringVar(&cfg.md, "md", "", "also write the results as Markdown to `file`")
	fs.StringVar(&cfg.svg, "svg", "", "also write the plot to `file` (SVG)")
	fs.BoolVar(&cfg.quick, "quick", false, "a smoke test: 1 MiB, 200 round trips, 50 sessions, 1 repetition; judges no speed, fails only if something broke")
	fs.StringVar(&cfg.websockify, "websockify", "websockify", "the websockify `program`")
	fs.IntVar(&cfg.wsSessions, "websockify-sessions", 1000, "skip memory levels above this many idle `sessions` for websockify, which forks a Python process per session (2 to 4 MB each): 5,000 would need over 10 GB")
	fs.StringVar(&only, "contenders", "", "comma-separated `keys` to run, of raw, tcprelay, v1, v2off, v2auto, naive, websockify (default all)")
	fs.StringVar(&benchmarks, "benchmarks", "", "comma-separated `names` of the measurements to run, of "+strings.Join(benchmarkNames, ", ")+" (default all)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		// Small enough for CI; explicit flags still win. fs.Set writes
		// through to the variables the flags are bound to.
		quick := map[string]string{"size": "1MiB", "rtt": "200", "sessions": "50", "concurrency": "1,10", "reps": "1", "startups": "3"}
		for name, v := range quick {
			if !set[name] {
				fs.Set(name, v)
			}
		}
	}
	var err error
	if cfg.size, err = parseSize(size); err != nil {
		return cfg, err
	}
	cfg.size = cfg.size / lineLen * lineLen
	if cfg.sessions, err = parseInts("-sessions", sessions); err != nil {
		return cfg, err
	}
	if cfg.concurrency, err = parseInts("-concurrency", concurrency); err != nil {
		return cfg, err
	}
	if only != "" {
		cfg.only = strings.Split(only, ",")
	}
	if benchmarks != "" {
		cfg.benchmarks = strings.Split(benchmarks, ",")
		for _, b := range cfg.benchmarks {
			if !slices.Contains(benchmarkNames, b) {
				return cfg, fmt.Errorf("-benchmarks: unknown %q; the names are %s", b, strings.Join(benchmarkNames, ", "))
			}
		}
	}
	switch {
	case cfg.size < lineLen:
		return cfg, fmt.Errorf("-size %s: at least one line, %d bytes", size, lineLen)
	case cfg.reps < 1 || cfg.rtt < 1 || cfg.startups < 0:
		return cfg, errors.New("-reps and -rtt must be at least 1, -startups at least 0")
	}
	return cfg, nil
}

// parseSize reads a byte count such as 1048576, 512KiB or 32MiB.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	num := s
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			num, mult = n, m
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("-size %q: want a byte count such as 32MiB", s)
	}
	return n * mult, nil
}

func parseInts(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s %q: want comma-separated positive numbers", flagName, s)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
