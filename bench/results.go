//go:build linux

package main

import (
	"slices"
	"time"
)

// results are the raw figures of one harness run, per contender key.
type results struct {
	contenders []*contender // throughput and latency, in table order
	memKeys    []string     // contenders of the memory test

	down, up    map[string][]float64     // MB/s, one per repetition
	p50, p99    map[string][]float64     // µs, one per repetition
	cpu         map[string]time.Duration // the relay process's
	relayed     map[string]int64         // bytes relayed while cpu was counted
	selfCPU     map[string]time.Duration // the harness's: target and client
	selfRelayed map[string]int64
	scale       map[string]map[int][]float64 // aggregate MB/s by concurrent sessions
	mem         map[string]map[int]memResult // by idle sessions

	startup         []time.Duration
	binSize         int64 // go build, as README says
	binSizeStripped int64 // go build -ldflags='-s -w'

	v2Pending bool                  // the gateway's v2 is still the stub
	failures  []string              // runs that broke: lost bytes, failed sessions, errors
	lost      map[string]*lossTally // websockify's downloads, by what they were part of
	splits    map[string]int64      // lines that arrived in two frames (v1's prompt flush)
	meta      meta
}

// lossTally counts websockify's downloads and those whose end it dropped.
type lossTally struct {
	runs, lost int
	bytes      int64 // the most lost in one download
}

// memResult is one memory measurement.
type memResult struct {
	base, after int64   // KiB
	perSession  float64 // KiB per session that opened
	failed      int
	open        time.Duration // time to open them all
	firstErr    string
}

// meta describes the run and the machine, for the report.
type meta struct {
	date, command              string
	cpu, kernel, memory, goVer string
	websockify                 string // version, or why it is missing
	cores                      int
	size                       int64
	reps, rtt                  int
	sessions, concurrency      []int
	quick                      bool
	fileLimit                  uint64
	wsSessions                 int
	v2Note                     string // why the v2 columns are empty, if they are
}

func newResults() *results {
	return &results{
		down: map[string][]float64{}, up: map[string][]float64{},
		p50: map[string][]float64{}, p99: map[string][]float64{},
		cpu: map[string]time.Duration{}, relayed: map[string]int64{},
		selfCPU: map[string]time.Duration{}, selfRelayed: map[string]int64{},
		scale: map[string]map[int][]float64{}, mem: map[string]map[int]memResult{},
		splits: map[string]int64{}, lost: map[string]*lossTally{},
	}
}

func (r *results) add(m map[string][]float64, key string, v float64) {
	m[key] = append(m[key], v)
}

func (r *results) addScale(key string, n int, v float64) {
	if r.scale[key] == nil {
		r.scale[key] = map[int][]float64{}
	}
	r.scale[key][n] = append(r.scale[key][n], v)
}

func (r *results) addMem(key string, n int, m memResult) {
	if r.mem[key] == nil {
		r.mem[key] = map[int]memResult{}
	}
	r.mem[key][n] = m
}

// median of the repetitions; false if there were none.
func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

func medianDuration(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// cpuPerMB is the relay's CPU time per MB relayed downstream, in ms.
func (r *results) cpuPerMB(key string) (float64, bool) {
	if r.relayed[key] == 0 {
		return 0, false
	}
	return float64(r.cpu[key].Microseconds()) / 1e3 / (float64(r.relayed[key]) / 1e6), true
}

// harnessCPUPerMB is the harness's CPU time (target and client) per MB
// downloaded, in ms: with the relay's, it shows whether the machine was
// saturated.
func (r *results) harnessCPUPerMB(key string) (float64, bool) {
	if r.selfRelayed[key] == 0 {
		return 0, false
	}
	return float64(r.selfCPU[key].Microseconds()) / 1e3 / (float64(r.selfRelayed[key]) / 1e6), true
}

func (r *results) contender(key string) *contender {
	for _, c := range r.contenders {
		if c.key == key {
			return c
		}
	}
	return nil
}
