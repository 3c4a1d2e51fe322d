// Package metrics is wstelnet's Prometheus metrics (-metrics-listen): an
// observer of the session engine, plus the HTTP side's refusals.
package metrics

import (
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wstelnet/internal/session"
)

// Metrics are the gateway's Prometheus metrics (-metrics-listen), in a
// registry of their own. It is a session.Observer; Refuse and
// RecordingFailed do nothing on a nil *Metrics, for the HTTP side.
//
// Every session that reaches the WebSocket ends in exactly one of:
// started (and later ended, by reason), refused (by reason), a failed
// dial (by kind), or abandoned by its browser before it started. No label
// holds a value a client chooses: reasons and kinds are fixed lists.
type Metrics struct {
	reg *prometheus.Registry

	open         *prometheus.GaugeVec     // by protocol
	started      *prometheus.CounterVec   // by protocol
	ended        *prometheus.CounterVec   // by protocol, reason
	duration     *prometheus.HistogramVec // by protocol
	refused      *prometheus.CounterVec   // by reason
	dialFailures *prometheus.CounterVec   // by kind
	dialDuration *prometheus.HistogramVec // by result
	abandoned    prometheus.Counter
	up, down     prometheus.Counter // bytes, resolved once for the relay
	mccpIn       prometheus.Counter // MCCP2: compressed bytes read from targets
	mccpOut      prometheus.Counter // MCCP2: what they inflated to
	recordFails  prometheus.Counter

	// Session resume: sessions detached from a lost WebSocket,
	// and resumes on a new one.
	detached prometheus.Gauge
	resumes  prometheus.Counter
}

// The label values. Each list is complete: newMetrics creates every
// series at 0, so that graphs and rate() see them before the first event.
// The reasons come from the engine's table of ends (session.Kinds).
var (
	protocols      = []string{"v1", "v2", "websockify"}
	endReasons     = endLabels()
	refusalReasons = refusalLabels()
	dialKinds      = []string{"refused", "timeout", "unreachable", "dns", "other"}
)

// endLabels are the reasons a started session ends for.
func endLabels() []string {
	out := []string{"other"}
	for _, k := range session.Kinds() {
		if k.Started() && !slices.Contains(out, k.Label()) {
			out = append(out, k.Label())
		}
	}
	return out
}

// refusalLabels are the reasons for refusals: origin, host and
// authentication refuse HTTP requests (the page's too); the others refuse
// sessions, with FAIL:.
func refusalLabels() []string {
	out := []string{"origin", "host", "auth", "overload"}
	for _, k := range session.Kinds() {
		if l := k.Refusal(); l != "" && l != "dial" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// New makes the metrics, every series at 0.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wstelnet_sessions_open",
			Help: "Sessions open now (after SUCC, or the dial on /websockify), by protocol (v1: lines, v2: wstelnet.v2, websockify: /websockify).",
		}, []string{"protocol"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wstelnet_sessions_started_total",
			Help: "Sessions started (SUCC sent), by protocol.",
		}, []string{"protocol"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wstelnet_sessions_ended_total",
			Help: "Started sessions that ended, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wstelnet_session_duration_seconds",
			Help:    "How long started sessions lasted, from the WebSocket's upgrade to their end, by protocol.",
			Buckets: []float64{1, 10, 60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600},
		}, []string{"protocol"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wstelnet_refusals_total",
			Help: "Requests and sessions refused, by reason: origin, host, auth (wrong credentials), overload (a connection shed with 503: no descriptors left), limit, shutting_down, malformed (first message or options), no_target (none in time), target_rule, unknown_name (the target's name does not exist).",
		}, []string{"reason"}),
		dialFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wstelnet_dial_failures_total",
			Help: "Dials to targets that failed, by kind: refused, timeout, unreachable, dns (lookup failed, other than an unknown name), other.",
		}, []string{"kind"}),
		dialDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wstelnet_dial_duration_seconds",
			Help:    "How long dials to targets took, name lookup included, by result (ok or error).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"result"}),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wstelnet_sessions_abandoned_total",
			Help: "Sessions whose browser closed or lost the WebSocket before the session started.",
		}),
		recordFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wstelnet_recording_failures_total",
			Help: "Recordings (-record) that could not be created or failed to write; the sessions went on.",
		}),
		detached: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wstelnet_sessions_detached",
			Help: "Sessions detached from their WebSocket, waiting to be resumed (resume=1, -resume-window).",
		}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wstelnet_session_resumes_total",
			Help: "Sessions resumed on a new WebSocket (resume=1).",
		}),
	}
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wstelnet_relayed_bytes_total",
		Help: "Bytes relayed, by direction: to_target (from browsers) and to_client (from targets, before telnet decoding).",
	}, []string{"direction"})
	m.up = bytes.WithLabelValues("to_target")
	m.down = bytes.WithLabelValues("to_client")
	mccp := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wstelnet_mccp_bytes_total",
		Help: "Targets' output compressed with MCCP2, by stage: compressed (read from targets) and inflated (what it inflated to).",
	}, []string{"stage"})
	m.mccpIn = mccp.WithLabelValues("compressed")
	m.mccpOut = mccp.WithLabelValues("inflated")
	for _, p := range protocols {
		m.open.WithLabelValues(p)
		m.started.WithLabelValues(p)
		m.duration.WithLabelValues(p)
		for _, r := range endReasons {
			m.ended.WithLabelValues(p, r)
		}
	}
	for _, r := range refusalReasons {
		m.refused.WithLabelValues(r)
	}
	for _, k := range dialKinds {
		m.dialFailures.WithLabelValues(k)
	}
	m.dialDuration.WithLabelValues("ok")
	m.dialDuration.WithLabelValues("error")
	m.reg.MustRegister(m.open, m.started, m.ended, m.duration, m.refused, m.dialFailures, m.dialDuration,
		m.abandoned, bytes, mccp, m.recordFails, m.detached, m.resumes,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the exposition.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("wstelnet's Prometheus metrics are at /metrics\n"))
	})
	return mux
}

// Ready exports the gateway's readiness, which /readyz also reports.
func (m *Metrics) Ready(draining func() bool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wstelnet_ready",
		Help: "1 while the gateway takes new sessions, 0 once it drains or shuts down (as /readyz).",
	}, func() float64 {
		if draining() {
			return 0
		}
		return 1
	}))
}

// Capacity exports what the gateway holds against its limits: the
// resume budget's use and size, the sockets waiting for a first message,
// and the descriptors the sessions hold.
func (m *Metrics) Capacity(budgetUsed func() int64, budgetLimit int64, waiting, descriptors func() int) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wstelnet_resume_memory_bytes",
			Help: "Memory resumable sessions hold for output not yet acknowledged, beyond the first 4 KiB each, against -resume-memory.",
		}, func() float64 { return float64(budgetUsed()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wstelnet_resume_memory_limit_bytes",
			Help: "-resume-memory: past it, sessions whose buffers are full wait, their targets unread (0: no limit).",
		}, func() float64 { return float64(budgetLimit) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wstelnet_sockets_waiting",
			Help: "WebSockets that have not sent their first message yet (a target, or a resume).",
		}, func() float64 { return float64(waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wstelnet_session_descriptors",
			Help: "File descriptors the sessions hold (browser connections, targets, recordings); compare with the process's open-file limit (process_max_fds).",
		}, func() float64 { return float64(descriptors()) }),
	)
}

// Gatherer is the registry, for tests that read the values back.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Refuse counts a refusal of an HTTP request; reason is one of the
// refusal reasons (origin, host, auth).
func (m *Metrics) Refuse(reason string) {
	if m != nil {
		m.refused.WithLabelValues(reason).Inc()
	}
}

// RecordingFailed counts a recording that could not be made or written.
func (m *Metrics) RecordingFailed() {
	if m != nil {
		m.recordFails.Inc()
	}
}

// Dialed observes a dial that was made.
func (m *Metrics) Dialed(took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.dialDuration.WithLabelValues(result).Observe(took.Seconds())
}

// NotStarted counts a session that ended before it started: as a
// refusal, a failed dial, or abandoned, by its end's kind.
func (m *Metrics) NotStarted(e session.End) {
	switch label := e.Kind.Refusal(); label {
	case "":
		m.abandoned.Inc()
	case "dial":
		m.dialFailures.WithLabelValues(e.DialKind).Inc()
	default:
		m.refused.WithLabelValues(label).Inc()
	}
}

// Started counts a session that sent SUCC and watches the rest of it.
func (m *Metrics) Started(info session.Info) session.Watcher {
	m.started.WithLabelValues(info.Protocol).Inc()
	m.open.WithLabelValues(info.Protocol).Inc()
	return &watch{m: m, protocol: info.Protocol}
}

// watch is one session's part of the metrics.
type watch struct {
	m        *Metrics
	protocol string
	// detached: the session is counted in the detached gauge. Detached,
	// Resumed and Ended come from different goroutines (a resume runs on
	// the new connection's), hence the atomic swap.
	detached atomic.Bool
}

func (w *watch) Input(_ []byte, _ string, wire int) {
	if wire > 0 {
		w.m.up.Add(float64(wire))
	}
}

func (w *watch) Output(_ []byte, wire int) {
	if wire > 0 {
		w.m.down.Add(float64(wire))
	}
}

func (w *watch) Resize(int, int) {}

// Compressed counts a target's compressed output (session.CompressionWatcher).
func (w *watch) Compressed(compressed, inflated int) {
	w.m.mccpIn.Add(float64(compressed))
	w.m.mccpOut.Add(float64(inflated))
}

func (w *watch) Detached() {
	if !w.detached.Swap(true) {
		w.m.detached.Inc()
	}
}

func (w *watch) Resumed() {
	if w.detached.Swap(false) {
		w.m.detached.Dec()
	}
	w.m.resumes.Inc()
}

func (w *watch) Ended(e session.End, d time.Duration) []any {
	if w.detached.Swap(false) {
		w.m.detached.Dec()
	}
	w.m.open.WithLabelValues(w.protocol).Dec()
	w.m.ended.WithLabelValues(w.protocol, e.Kind.Label()).Inc()
	w.m.duration.WithLabelValues(w.protocol).Observe(d.Seconds())
	return nil
}
