//go:build linux

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Contender keys.
const (
	keyRaw      = "raw"
	keyTCPRelay = "tcprelay"
	keyV1       = "v1"
	keyV2Off    = "v2off"
	keyV2Auto   = "v2auto"
	keyNaive    = "naive"
	keyWS       = "websockify"
)

// row is one line of the results table: a figure for each contender.
type row struct {
	label  string
	value  func(key string) (float64, bool)
	format func(float64) string
	note   func(key string) string // appended to the cell, e.g. failures
}

// rows lists the table's lines in order.
func (r *results) rows() []row {
	perRep := func(m map[string][]float64) func(string) (float64, bool) {
		return func(k string) (float64, bool) { return median(m[k]) }
	}
	var rows []row
	rows = append(rows,
		row{label: "downstream, MB/s", value: perRep(r.down), format: fmtRate},
		row{label: "upstream, MB/s", value: perRep(r.up), format: fmtRate},
		row{label: "round trip p50, µs", value: perRep(r.p50), format: fmtInt},
		row{label: "round trip p99, µs", value: perRep(r.p99), format: fmtInt},
		row{label: "CPU per MB downstream, relay, ms", value: r.cpuPerMB, format: fmt2},
		row{label: "CPU per MB downstream, target + client, ms", value: r.harnessCPUPerMB, format: fmt2},
	)
	for _, n := range r.meta.concurrency {
		rows = append(rows, row{
			label:  fmt.Sprintf("%d %s at once, MB/s in all", n, plural(n, "download")),
			value:  func(k string) (float64, bool) { return median(r.scale[k][n]) },
			format: fmtRate,
		})
	}
	for _, n := range r.meta.sessions {
		rows = append(rows, row{
			label: fmt.Sprintf("memory per idle session at %d, KiB", n),
			value: func(k string) (float64, bool) {
				m, ok := r.mem[k][n]
				return m.perSession, ok && m.failed < n
			},
			format: fmt1,
			note: func(k string) string {
				if m, ok := r.mem[k][n]; ok && m.failed > 0 {
					return fmt.Sprintf(" [%d failed]", m.failed)
				}
				return ""
			},
		})
	}
	return rows
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func fmtRate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
func fmtInt(v float64) string { return fmt.Sprintf("%.0f", v) }
func fmt1(v float64) string   { return fmt.Sprintf("%.1f", v) }
func fmt2(v float64) string   { return fmt.Sprintf("%.2f", v) }

// cell is a figure with its ratios to websockify and to raw TCP.
func (r *results) cell(rw row, key string) string {
	v, ok := rw.value(key)
	if !ok {
		if key == keyV2Off || key == keyV2Auto {
			if r.v2Pending {
				return "pending"
			}
		}
		return "—"
	}
	s := rw.format(v)
	var ratios []string
	for _, ref := range []struct{ key, name string }{{keyWS, "ws"}, {keyRaw, "raw"}} {
		if ref.key == key {
			continue
		}
		if rv, ok := rw.value(ref.key); ok && rv > 0 {
			ratios = append(ratios, fmt.Sprintf("%.2f×%s", v/rv, ref.name))
		}
	}
	if len(ratios) > 0 {
		s += " (" + strings.Join(ratios, ", ") + ")"
	}
	if rw.note != nil {
		s += rw.note(key)
	}
	return s
}

// table returns the header and cells of the results table.
func (r *results) table() ([]string, [][]string) {
	header := []string{"measure"}
	for _, c := range r.contenders {
		header = append(header, c.name)
	}
	var cells [][]string
	for _, rw := range r.rows() {
		line := []string{rw.label}
		for _, c := range r.contenders {
			line = append(line, r.cell(rw, c.key))
		}
		cells = append(cells, line)
	}
	return header, cells
}

// verdict is one of the targets, judged from the figures.
type verdict struct {
	target, figure, status string
}

const (
	statusMet     = "met"
	statusNotMet  = "NOT met"
	statusPending = "pending"
	statusNA      = "not measured here"
)

// verdicts judges the targets. In -quick mode nothing is judged on speed.
func (r *results) verdicts() []verdict {
	var out []verdict
	judge := func(target string, ok bool, haveData bool, figure string) {
		status := statusNotMet
		switch {
		case !haveData:
			status, figure = statusPending, "no figure"
		case ok:
			status = statusMet
		}
		out = append(out, verdict{target, figure, status})
	}
	med := func(m map[string][]float64, k string) (float64, bool) { return median(m[k]) }

	ws, haveWS := med(r.down, keyWS)
	raw, haveRaw := med(r.down, keyRaw)
	// The plain TCP relay is the floor under any relay: quoted alongside.
	floor := ""
	if f, ok := med(r.down, keyTCPRelay); ok && haveWS {
		floor = fmt.Sprintf(" (plain Go TCP relay: %s MB/s = %.2f× websockify)", fmtRate(f), f/ws)
	}
	for _, k := range []string{keyV2Off, keyV2Auto} {
		name := r.name(k)
		v, ok := med(r.down, k)
		judge(name+" downstream ≥ 2× websockify", v >= 2*ws, ok && haveWS,
			fmt.Sprintf("%s MB/s = %.2f× websockify's %s%s", fmtRate(v), v/ws, fmtRate(ws), floor))
		judge(name+" downstream ≥ 35% of raw TCP", v >= 0.35*raw, ok && haveRaw,
			fmt.Sprintf("%s MB/s = %.0f%% of raw TCP's %s", fmtRate(v), 100*v/raw, fmtRate(raw)))
	}
	v1, ok1 := med(r.down, keyV1)
	naive, okN := med(r.down, keyNaive)
	judge("v1 downstream ≥ naive ReadLine + Message.Send relay", v1 >= naive, ok1 && okN,
		fmt.Sprintf("%s MB/s = %.2f× the naive relay's %s", fmtRate(v1), v1/naive, fmtRate(naive)))
	out = append(out, verdict{"v1: ≤ 1 allocation per line on the hot path", "from go test -bench, see BENCHMARKS.md", statusNA})

	floor = ""
	if f, ok := med(r.p50, keyTCPRelay); ok {
		floor = fmt.Sprintf(" (plain Go TCP relay: %.0f µs)", f)
	}
	for _, k := range []string{keyV1, keyV2Off, keyV2Auto} {
		name := r.name(k)
		p50, ok50 := med(r.p50, k)
		p99, ok99 := med(r.p99, k)
		w50, okw50 := med(r.p50, keyWS)
		w99, okw99 := med(r.p99, keyWS)
		judge(name+" round trip p50 ≤ 0.6× websockify's", p50 <= 0.6*w50, ok50 && okw50,
			fmt.Sprintf("%.0f µs = %.2f× websockify's %.0f µs%s", p50, p50/w50, w50, floor))
		judge(name+" round trip p99 ≤ websockify's", p99 <= w99, ok99 && okw99,
			fmt.Sprintf("%.0f µs = %.2f× websockify's %.0f µs", p99, p99/w99, w99))
	}
	for _, k := range []string{keyV1, keyV2Auto} {
		if !slices.Contains(r.memKeys, k) {
			continue
		}
		name := r.name(k)
		m, ok := r.mem[k][2000]
		judge(name+" ≤ 20 KiB per idle session at 2,000", m.perSession <= 20 && m.failed == 0, ok,
			fmt.Sprintf("%.1f KiB", m.perSession))
		m, ok = r.mem[k][5000]
		judge(name+" 5,000 idle sessions without a failure", m.failed == 0, ok,
			fmt.Sprintf("%d of 5000 failed", m.failed))
	}
	st := medianDuration(r.startup)
	judge("start-up < 50 ms", st < 50*time.Millisecond, len(r.startup) > 0,
		fmt.Sprintf("%.1f ms (median of %d)", float64(st.Microseconds())/1e3, len(r.startup)))
	judge("binary < 15 MB", r.binSize < 15e6, r.binSize > 0,
		fmt.Sprintf("%.1f MB (%.1f MiB)", float64(r.binSize)/1e6, float64(r.binSize)/(1<<20)))
	if r.meta.quick {
		for i := range out {
			if out[i].status == statusMet || out[i].status == statusNotMet {
				out[i].status = "not judged (-quick)"
			}
		}
	}
	return out
}

func (r *results) name(key string) string {
	if c := r.contender(key); c != nil {
		return c.name
	}
	return map[string]string{keyV1: "wstelnet v1", keyV2Off: "wstelnet v2 telnet=off", keyV2Auto: "wstelnet v2 telnet=auto"}[key]
}

// writeText prints the report for a terminal.
func (r *results) writeText(w io.Writer) {
	header, cells := r.table()
	fmt.Fprintf(w, "\nmedians of %d repetitions; (a×ws, b×raw) are ratios to websockify and to raw TCP; lower is better for µs, ms and KiB\n\n", r.meta.reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, line := range cells {
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s\n\n", r.startupLine())
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tfigure\tstatus")
	for _, v := range r.verdicts() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.target, v.figure, v.status)
	}
	tw.Flush()
	if s := r.splitNote(); s != "" {
		fmt.Fprintf(w, "\n%s\n", s)
	}
	if s := r.lossNote(); s != "" {
		fmt.Fprintf(w, "\n%s\n", s)
	}
	if len(r.failures) > 0 {
		fmt.Fprintf(w, "\nFAILURES:\n")
		for _, f := range r.failures {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
}

// lossNote says how many of websockify's downloads lost their end.
func (r *results) lossNote() string {
	var parts []string
	for _, what := range slices.Sorted(maps.Keys(r.lost)) {
		if t := r.lost[what]; t.lost > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d sessions in the %s runs (up to %d bytes each)", t.lost, t.runs, what, t.bytes))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "websockify dropped the end of the download in " + strings.Join(parts, "; ") +
		": the target wrote its last bytes and closed, and websockify sent its close frame without them. Its figures count what arrived; wstelnet and raw TCP lost nothing (any loss there fails the run)."
}

// splitNote says how many lines arrived in two frames, if any did.
func (r *results) splitNote() string {
	var parts []string
	for _, c := range r.contenders {
		if n := r.splits[c.key]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.name, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Lines that arrived in two text frames, all runs together (v1 sends a partial line after 50 ms without data, as for a prompt; under load a target can pause mid-line that long): " + strings.Join(parts, ", ") + "."
}

func (r *results) startupLine() string {
	s := "gateway start-up: not measured"
	if len(r.startup) > 0 {
		s = fmt.Sprintf("gateway start-up (exec to URL line): median %.1f ms of %d, min %.1f ms",
			float64(medianDuration(r.startup).Microseconds())/1e3, len(r.startup),
			float64(slices.Min(r.startup).Microseconds())/1e3)
	}
	return s + fmt.Sprintf("; binary size with go build %d bytes (%.1f MB), with -ldflags='-s -w' %d bytes (%.1f MB)",
		r.binSize, float64(r.binSize)/1e6, r.binSizeStripped, float64(r.binSizeStripped)/1e6)
}

// writeMarkdown writes the report as Markdown.
func (r *results) writeMarkdown(w io.Writer) error {
	m := r.meta
	fmt.Fprintf(w, "## Results\n\n")
	fmt.Fprintf(w, "Run on %s with `%s`.\n\n", m.date, m.command)
	fmt.Fprintf(w, "- Machine: %s, %d cores, %s RAM, Linux %s; %s; websockify %s.\n", m.cpu, m.cores, m.memory, m.kernel, m.goVer, m.websockify)
	fmt.Fprintf(w, "- Downstream: the target writes %d bytes (%s rounded down to whole lines) of 80-byte lines (79 characters and LF) as fast as it can and closes; the client counts until the close (v1: a text frame per line, its LF counted back; the frame count is checked too).\n",
		m.size, sizeString(m.size))
	fmt.Fprintf(w, "- Upstream: the same lines; v1 and the naive relay get one text message per line (the relay adds CR LF), the others 32 KiB binary messages; timed until the target confirms it has them all.\n")
	fmt.Fprintf(w, "- Round trip: a 32-byte line to an echo target and back, %d times after 20 unmeasured; p50 and p99 of each run.\n", m.rtt)
	fmt.Fprintf(w, "- Downloads at once: N sessions opened first, then each target writes %s/N (whole lines) at the same time; MB/s is the total over the time until the last one ends.\n", sizeString(m.size))
	fmt.Fprintf(w, "- Medians of %d repetitions; within each, the contenders take turns (A, B, C, A, B, C...).\n", m.reps)
	fmt.Fprintf(w, "- MB is 10⁶ bytes. Ratios in brackets: to websockify (×ws) and to raw TCP (×raw). Lower is better for µs, ms and KiB.\n")
	fmt.Fprintf(w, "- CPU: the relay's threads (from /proc/PID/task/*/schedstat); websockify's process tree, including its exited per-connection processes (from /proc/PID/stat, in 10 ms ticks); the harness's own (getrusage) is the target's and the client's.\n")
	fmt.Fprintf(w, "- Memory: growth of the relay's RSS (VmRSS) from before the sessions to when it is steady again, per session; websockify's is the PSS summed over its process tree (it forks a process per connection, whose shared pages RSS would count once per process).\n")
	if m.wsSessions > 0 && len(m.sessions) > 0 && slices.Max(m.sessions) > m.wsSessions {
		fmt.Fprintf(w, "- websockify ran the memory test up to %d sessions only (-websockify-sessions): at over 2 MB per session, 5,000 would need over 10 GB.\n", m.wsSessions)
	}
	if m.v2Note != "" {
		fmt.Fprintf(w, "- %s\n", m.v2Note)
	}
	fmt.Fprintln(w)
	header, cells := r.table()
	mdRow(w, header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	mdRow(w, seps)
	for _, line := range cells {
		mdRow(w, line)
	}
	fmt.Fprintf(w, "\n%s.\n\n", r.startupLine())

	fmt.Fprintf(w, "### Targets\n\n")
	mdRow(w, []string{"target", "measured", "status"})
	mdRow(w, []string{"---", "---", "---"})
	for _, v := range r.verdicts() {
		status := v.status
		if status == statusMet || status == statusNotMet {
			status = "**" + status + "**"
		}
		mdRow(w, []string{v.target, v.figure, status})
	}
	fmt.Fprintln(w)
	if s := r.splitNote(); s != "" {
		fmt.Fprintf(w, "%s\n\n", s)
	}
	if s := r.lossNote(); s != "" {
		fmt.Fprintf(w, "%s\n\n", s)
	}
	if len(r.failures) > 0 {
		fmt.Fprintf(w, "### Failures\n\n")
		for _, f := range r.failures {
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(f, "\n", " "))
		}
		fmt.Fprintln(w)
	}
	r.writeSamples(w)
	return nil
}

// writeSamples lists every repetition, so that the spread behind each
// median can be seen.
func (r *results) writeSamples(w io.Writer) {
	fmt.Fprintf(w, "<details><summary>Every repetition and memory reading</summary>\n\n")
	for _, s := range []struct {
		name string
		m    map[string][]float64
		f    func(float64) string
	}{{"downstream MB/s", r.down, fmtRate}, {"upstream MB/s", r.up, fmtRate}, {"round trip p50 µs", r.p50, fmtInt}, {"round trip p99 µs", r.p99, fmtInt}} {
		fmt.Fprintf(w, "- %s:", s.name)
		for _, c := range r.contenders {
			if v := s.m[c.key]; len(v) > 0 {
				fmt.Fprintf(w, " %s %s;", c.name, joinFloats(v, s.f))
			}
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.meta.concurrency {
		fmt.Fprintf(w, "- %d %s at once, MB/s:", n, plural(n, "download"))
		for _, c := range r.contenders {
			if v := r.scale[c.key][n]; len(v) > 0 {
				fmt.Fprintf(w, " %s %s;", c.name, joinFloats(v, fmtRate))
			}
		}
		fmt.Fprintln(w)
	}
	for _, k := range r.memKeys {
		for _, n := range r.meta.sessions {
			if m, ok := r.mem[k][n]; ok {
				fmt.Fprintf(w, "- memory, %s, %d sessions: %d KiB before, %d KiB after, opened in %s, %d failed\n",
					r.name(k), n, m.base, m.after, m.open.Round(time.Millisecond), m.failed)
			}
		}
	}
	fmt.Fprintf(w, "\n</details>\n")
}

func joinFloats(v []float64, f func(float64) string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = f(x)
	}
	return strings.Join(s, " ")
}

func mdRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}
