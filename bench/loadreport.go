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

// loadReport is the load tool's output: the chat table, the storm, and
// how the run was made.
type loadReport struct {
	cfg      loadConfig
	meta     meta
	pinning  string
	workers  int
	results  []*loadResult
	failures []string
}

// table is the chat table: a header row, then one row per figure.
func (r *loadReport) table() [][]string {
	ran := func(res *loadResult) bool { return res.skipped == "" && res.opened > 0 }
	var ref *loadResult // websockify-js, for ratios
	for _, res := range r.results {
		if res.key == "wsjs" && ran(res) {
			ref = res
		}
	}
	ratio := func(res *loadResult, v, refV float64) string {
		if ref == nil || res == ref || refV == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.2f×)", v/refV)
	}
	head := []string{fmt.Sprintf("%d chatty sessions", r.cfg.n)}
	for _, res := range r.results {
		head = append(head, res.name)
	}
	rows := [][]string{head}
	row := func(label string, cell func(*loadResult) string) {
		out := []string{label}
		for _, res := range r.results {
			switch {
			case res.skipped != "" && len(rows) == 1: // why, said once
				out = append(out, res.skipped)
			case res.skipped != "":
				out = append(out, "—")
			case res.opened == 0:
				out = append(out, "failed")
			default:
				out = append(out, cell(res))
			}
		}
		rows = append(rows, out)
	}
	row("sessions open", func(res *loadResult) string {
		return fmt.Sprintf("%d of %d", res.opened, r.cfg.n)
	})
	row("relay CPU, cores (steady phase)", func(res *loadResult) string {
		return fmt.Sprintf("%.2f", res.cores) + ratio(res, res.cores, refOr(ref, func(x *loadResult) float64 { return x.cores }))
	})
	row("relay CPU per line there and back", func(res *loadResult) string {
		return fmt.Sprintf("%.0f µs", res.cores*1e6/float64(res.opened))
	})
	row("resident memory per session", func(res *loadResult) string {
		return fmt.Sprintf("%.1f KiB", res.perSession) + ratio(res, res.perSession, refOr(ref, func(x *loadResult) float64 { return x.perSession }))
	})
	row("sessions opened a second", func(res *loadResult) string {
		return fmt.Sprintf("%.0f", res.openRate) + ratio(res, res.openRate, refOr(ref, func(x *loadResult) float64 { return x.openRate }))
	})
	row("relay CPU per session opened", func(res *loadResult) string {
		return fmt.Sprintf("%.0f µs", float64(res.openCPU)/1e3)
	})
	if r.cfg.tls {
		row("sessions opened a second, TLS", func(res *loadResult) string {
			if res.tlsOpened == 0 {
				return "—"
			}
			return fmt.Sprintf("%.0f (%.2f× plain)", res.tlsRate, res.tlsRate/res.openRate)
		})
		row("relay CPU per session opened, TLS", func(res *loadResult) string {
			if res.tlsOpened == 0 {
				return "—"
			}
			return fmt.Sprintf("%.0f µs", float64(res.tlsCPU)/1e3)
		})
	}
	row("delivery p50 (client-bound)", func(res *loadResult) string { return ms(res.p50) })
	row("delivery p99 (client-bound)", func(res *loadResult) string {
		return ms(res.p99) + ratio(res, float64(res.p99), refOr(ref, func(x *loadResult) float64 { return float64(x.p99) }))
	})
	row("lines sent, lost", func(res *loadResult) string {
		s := fmt.Sprintf("%d, %d lost", res.lines, res.lost)
		if res.disorder > 0 {
			s += fmt.Sprintf(", %d out of order", res.disorder)
		}
		return s
	})
	row("clients and echo target CPU, cores", func(res *loadResult) string { return fmt.Sprintf("%.2f", res.clientCores) })
	return rows
}

// refOr reads a figure of ref, or 0 without one.
func refOr(ref *loadResult, f func(*loadResult) float64) float64 {
	if ref == nil {
		return 0
	}
	return f(ref)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

// stormLines describe the reconnect storm, one sentence each.
func (r *loadReport) stormLines() []string {
	var out []string
	for _, res := range r.results {
		st := res.storm
		if st == nil {
			continue
		}
		out = append(out,
			fmt.Sprintf("%s, -max-sessions %d: %d connections cut at once (TCP reset, no close frame), then all resumed with at most %d in flight", res.name, r.cfg.n+1, st.cut, r.cfg.inFlight),
			fmt.Sprintf("back: %d of %d, the last %.2f s after the cut; %d failed for good", st.back, st.cut, st.within.Seconds(), st.failed),
			fmt.Sprintf("byte-exact both ways: %s (lines after the resume: %d lost, %d out of order, twice or garbled)", yesNo(st.lost == 0 && st.disorder == 0 && st.back == st.cut), st.lost, st.disorder),
		)
		if len(st.refusals) == 0 {
			out = append(out, "refusals: none")
		} else {
			var kinds []string
			for _, k := range slices.Sorted(maps.Keys(st.refusals)) {
				kinds = append(kinds, fmt.Sprintf("%d × %s", st.refusals[k], k))
			}
			out = append(out, fmt.Sprintf("refusals and failed attempts: %s; %d retried", strings.Join(kinds, "; "), st.retries))
		}
	}
	return out
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
		r.pinning,
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
	if st := r.stormLines(); len(st) > 0 {
		fmt.Fprintln(w, "\nReconnect storm:")
		for _, l := range st {
			fmt.Fprintln(w, "  "+l)
		}
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
	for i, row := range r.table() {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		if i == 0 {
			fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(row)))
		}
	}
	if st := r.stormLines(); len(st) > 0 {
		fmt.Fprintln(w, "\nReconnect storm:")
		fmt.Fprintln(w)
		for _, l := range st {
			fmt.Fprintf(w, "- %s\n", l)
		}
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
