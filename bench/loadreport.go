//go:build linux

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// loadReport is the load tool's output: the chat table, the storm, and
// how the run was made.
type loadReport struct {
	cfg      loadConfig
	meta     meta
	pinning  string
	loadAvg  [2]string // the machine's load averages at the start and the end
	workers  int
	cols     []*loadColumn
	failures []string
}

// ok lists the runs of col in which sessions opened.
func (col *loadColumn) ok() []*loadResult {
	var out []*loadResult
	for _, r := range col.runs {
		if r.opened > 0 {
			out = append(out, r)
		}
	}
	return out
}

// runsMedian is the median of f over runs, with the smallest and largest.
func runsMedian(runs []*loadResult, f func(*loadResult) float64) (med, lo, hi float64) {
	var v []float64
	for _, r := range runs {
		v = append(v, f(r))
	}
	slices.Sort(v)
	med = v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + med) / 2
	}
	return med, v[0], v[len(v)-1]
}

// table is the chat table: a header row, then one row per figure. A cell
// is the median over the runs, their range when there are several, and
// the ratio to websockify-js's median when it ran.
func (r *loadReport) table() [][]string {
	var ref *loadColumn // websockify-js, for ratios
	for _, col := range r.cols {
		if col.key == "wsjs" && len(col.ok()) > 0 {
			ref = col
		}
	}
	head := []string{fmt.Sprintf("%d chatty sessions", r.cfg.n)}
	for _, col := range r.cols {
		head = append(head, col.name)
	}
	rows := [][]string{head}
	// row adds a figure; format writes one value; withRatio adds the
	// ratio to websockify-js.
	row := func(label string, f func(*loadResult) float64, format func(float64) string, withRatio bool) {
		out := []string{label}
		for _, col := range r.cols {
			runs := col.ok()
			switch {
			case col.skipped != "" && len(rows) == 1: // why, said once
				out = append(out, col.skipped)
				continue
			case col.skipped != "":
				out = append(out, "—")
				continue
			case len(runs) == 0:
				out = append(out, "failed")
				continue
			}
			med, lo, hi := runsMedian(runs, f)
			cell := format(med)
			if len(runs) > 1 && format(lo) != format(hi) {
				cell += fmt.Sprintf(" (%s–%s)", format(lo), format(hi))
			}
			if withRatio && ref != nil && col != ref {
				if refMed, _, _ := runsMedian(ref.ok(), f); refMed != 0 {
					cell += fmt.Sprintf(", %.2g×", med/refMed)
				}
			}
			out = append(out, cell)
		}
		rows = append(rows, out)
	}
	num := func(format string) func(float64) string {
		return func(v float64) string { return fmt.Sprintf(format, v) }
	}
	row("sessions open", func(x *loadResult) float64 { return float64(x.opened) }, func(v float64) string {
		return fmt.Sprintf("%.0f of %d", v, r.cfg.n)
	}, false)
	row("relay CPU, cores (steady phase)", func(x *loadResult) float64 { return x.cores }, num("%.2f"), true)
	row("relay CPU per line there and back", func(x *loadResult) float64 { return x.cores * 1e6 / float64(x.opened) }, num("%.0f µs"), true)
	row("resident memory per session", func(x *loadResult) float64 { return x.perSession }, num("%.1f KiB"), true)
	row("sessions opened a second", func(x *loadResult) float64 { return x.openRate }, num("%.0f"), true)
	row("relay CPU per session opened", func(x *loadResult) float64 { return float64(x.openCPU) / 1e3 }, num("%.0f µs"), true)
	if r.cfg.tls {
		tlsRow := func(label string, f func(*loadResult) float64, format func(float64) string) {
			row(label, func(x *loadResult) float64 {
				if x.tlsOpened == 0 {
					return 0
				}
				return f(x)
			}, func(v float64) string {
				if v == 0 {
					return "—"
				}
				return format(v)
			}, false)
		}
		tlsRow("sessions opened a second, TLS", func(x *loadResult) float64 { return x.tlsRate }, num("%.0f"))
		tlsRow("relay CPU per session opened, TLS", func(x *loadResult) float64 { return float64(x.tlsCPU) / 1e3 }, num("%.0f µs"))
	}
	row("delivery p50 (client-bound)", func(x *loadResult) float64 { return float64(x.p50) }, msf, true)
	row("delivery p99 (client-bound)", func(x *loadResult) float64 { return float64(x.p99) }, msf, true)
	out := []string{"lines sent, lost"}
	for _, col := range r.cols {
		sent, lost, disorder := 0, 0, 0
		for _, x := range col.ok() {
			sent, lost, disorder = sent+x.lines, lost+x.lost, disorder+x.disorder
		}
		cell := fmt.Sprintf("%d, %d lost", sent, lost)
		if disorder > 0 {
			cell += fmt.Sprintf(", %d out of order", disorder)
		}
		if col.skipped != "" {
			cell = "—"
		}
		out = append(out, cell)
	}
	rows = append(rows, out)
	row("clients and echo target CPU, cores", func(x *loadResult) float64 { return x.clientCores }, num("%.2f"), false)
	if r.pinning != "" && strings.HasPrefix(r.pinning, "relay pinned") {
		row("other work on the relay's CPU, cores", func(x *loadResult) float64 { return x.otherCores }, num("%.2f"), false)
	}
	return rows
}

// msf writes a duration in ns as milliseconds.
func msf(ns float64) string {
	if ns == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f ms", ns/1e6)
}

// stormTable is the reconnect storm, one row per run, after a sentence
// that says what was done.
func (r *loadReport) stormTable() (string, [][]string) {
	rows := [][]string{{"run", "cut at once", "back", "the last back after", "failed for good", "sent again what the gateway had not taken", "refusals and failed attempts", "relay RSS at most (steady phase)", "byte-exact both ways"}}
	var name string
	for _, col := range r.cols {
		for i, res := range col.runs {
			st := res.storm
			if st == nil {
				continue
			}
			name = res.name
			refusals := "none"
			if len(st.refusals) > 0 {
				var kinds []string
				for _, k := range slices.Sorted(maps.Keys(st.refusals)) {
					kinds = append(kinds, fmt.Sprintf("%d × %s", st.refusals[k], k))
				}
				refusals = fmt.Sprintf("%s; %d retried", strings.Join(kinds, "; "), st.retries)
			}
			exact := yesNo(st.lost == 0 && st.disorder == 0 && st.back == st.cut)
			if st.lost > 0 || st.disorder > 0 {
				exact += fmt.Sprintf(" (%d lines lost, %d out of order, twice or garbled)", st.lost, st.disorder)
			}
			rows = append(rows, []string{
				fmt.Sprint(i + 1), fmt.Sprint(st.cut), fmt.Sprintf("%d of %d", st.back, st.cut),
				fmt.Sprintf("%.2f s", st.within.Seconds()), fmt.Sprint(st.failed), fmt.Sprintf("%d %s", st.resent, plural(st.resent, "session")), refusals,
				fmt.Sprintf("%.0f MiB (%.0f MiB)", float64(st.peakRSS)/1024, float64(res.rssSteady)/1024), exact,
			})
		}
	}
	if len(rows) == 1 {
		return "", nil
	}
	return fmt.Sprintf("Reconnect storm, %s at -max-sessions %d: every connection cut at once (TCP reset, no close frame), then every session resumed, at most %d in flight, and one more line sent each way:", name, r.cfg.n+1, r.cfg.inFlight), rows
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// setup describes the run.
func (r *loadReport) setup() []string {
	m := r.meta
	return []string{
		fmt.Sprintf("%s, %s", m.date, m.command),
		fmt.Sprintf("%s, %d cores, %s, Linux %s, %s, open files %d a process", m.cpu, m.cores, m.memory, m.kernel, m.goVer, m.fileLimit),
		fmt.Sprintf("%d sessions per contender in %d client processes (each from its own loopback address), a %d-byte line a second each, spread over the second; %v warm-up, %v measured; at most %d opens in flight", r.cfg.n, r.workers, len(fmt.Sprintf("L %d %d%s\n", 1000, int64(1e10), loadPad)), r.cfg.warmup, r.cfg.steady, r.cfg.inFlight),
		r.pinning + fmt.Sprintf("; the machine's load average %s at the start, %s at the end", r.loadAvg[0], r.loadAvg[1]),
		fmt.Sprintf("each figure is the median of %d %s, with the range when there are several, and its ratio to websockify-js's median where that ran", r.cfg.reps, plural(r.cfg.reps, "run")),
	}
}

func (r *loadReport) writeText(w io.Writer) {
	fmt.Fprintln(w)
	for _, l := range r.setup() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range r.table() {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	if what, rows := r.stormTable(); rows != nil {
		fmt.Fprintf(w, "\n%s\n\n", what)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	if len(r.failures) > 0 {
		fmt.Fprintln(w, "\nFAILURES:")
		for _, f := range r.failures {
			fmt.Fprintln(w, "  "+f)
		}
	}
}

func (r *loadReport) writeMarkdown(w io.Writer) error {
	for _, l := range r.setup() {
		fmt.Fprintf(w, "%s  \n", l)
	}
	fmt.Fprintln(w)
	writeMDTable(w, r.table())
	if what, rows := r.stormTable(); rows != nil {
		fmt.Fprintf(w, "\n%s\n\n", what)
		writeMDTable(w, rows)
	}
	if len(r.failures) > 0 {
		fmt.Fprintln(w, "\nFailures:")
		fmt.Fprintln(w)
		for _, f := range r.failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// writeMDTable writes rows as a Markdown table, the first as its header.
func writeMDTable(w io.Writer, rows [][]string) {
	for i, row := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		if i == 0 {
			fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(row)))
		}
	}
}
