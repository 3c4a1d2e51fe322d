package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus metrics (-metrics-listen), in a
// registry of their own. Every method does nothing on a nil *metrics, so
// that the gateway needs no other check when metrics are off.
//
// Every session that reaches the WebSocket ends in exactly one of:
// started (and later ended, by reason), refused (by reason), a failed
// dial (by kind), or abandoned by its browser before it started. No label
// holds a value a client chooses: reasons and kinds are fixed lists.
type metrics struct {
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
	recordFails  prometheus.Counter

	// Session resume (resume.go): sessions detached from a lost WebSocket,
	// and resumes on a new one.
	detached prometheus.Gauge
	resumes  prometheus.Counter
}

// The label values. Each list is complete: newMetrics creates every
// series at 0, so that graphs and rate() see them before the first event.
var (
	protocols  = []string{"v1", "v2", "websockify"}
	endReasons = []string{"target_closed", "target_lost", "client_closed", "client_lost", "idle", "too_big", "protocol_error", "shutdown", "resume_expired", "user_removed", "other"}
	// Refusals: origin, host and authentication refuse HTTP requests (the
	// page's too); the others refuse sessions, with FAIL:.
	refusalReasons = []string{"origin", "host", "auth", "limit", "shutting_down", "malformed", "no_target", "target_rule", "unknown_name", "resume"}
	dialKinds      = []string{"refused", "timeout", "unreachable", "dns", "other"}
)

func newMetrics() *metrics {
	m := &metrics{
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
			Help: "Requests and sessions refused, by reason: origin, host, auth (wrong credentials), limit, shutting_down, malformed (first message or options), no_target (none in time), target_rule, unknown_name (the target's name does not exist).",
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
			Help: "Sessions resumed on a new WebSocket (0 until session resume exists).",
		}),
	}
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wstelnet_relayed_bytes_total",
		Help: "Bytes relayed, by direction: to_target (from browsers) and to_client (from targets, before telnet decoding).",
	}, []string{"direction"})
	m.up = bytes.WithLabelValues("to_target")
	m.down = bytes.WithLabelValues("to_client")
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
		m.abandoned, bytes, m.recordFails, m.detached, m.resumes,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the exposition.
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("wstelnet's Prometheus metrics are at /metrics\n"))
	})
	return mux
}

// watch exports the gateway's readiness, which /readyz also reports.
func (m *metrics) watch(g *Gateway) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wstelnet_ready",
		Help: "1 while the gateway takes new sessions, 0 once it drains or shuts down (as /readyz).",
	}, func() float64 {
		if g.Draining() {
			return 0
		}
		return 1
	}))
}

func protocolOf(s *session) string {
	switch {
	case s.wsk != nil:
		return "websockify"
	case s.v2 != nil:
		return "v2"
	}
	return "v1"
}

// detach counts a session that lost its socket (+1), or got one back or
// ended while detached (-1).
func (m *metrics) detach(delta float64) {
	if m != nil {
		m.detached.Add(delta)
	}
}

// resumed counts a resume.
func (m *metrics) resumed() {
	if m != nil {
		m.resumes.Inc()
	}
}

// refuse counts a refusal; reason is one of refusalReasons.
func (m *metrics) refuse(reason string) {
	if m != nil {
		m.refused.WithLabelValues(reason).Inc()
	}
}

// addUp and addDown count bytes relayed to the target and to the browser.
func (m *metrics) addUp(n int) {
	if m != nil && n > 0 {
		m.up.Add(float64(n))
	}
}

func (m *metrics) addDown(n int) {
	if m != nil && n > 0 {
		m.down.Add(float64(n))
	}
}

// dialed observes a dial that was made (not one the target rules refused
// before any dial, nor one cut short by a shutdown).
func (m *metrics) dialed(took time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.dialDuration.WithLabelValues(result).Observe(took.Seconds())
}

// sessionStarted counts a session that sent SUCC.
func (m *metrics) sessionStarted(s *session) {
	if m == nil {
		return
	}
	p := protocolOf(s)
	m.started.WithLabelValues(p).Inc()
	m.open.WithLabelValues(p).Inc()
}

// sessionFinished counts how a session ended: a started one by its end's
// reason, any other as a refusal, a failed dial or abandoned.
func (m *metrics) sessionFinished(s *session, e end, started bool) {
	if m == nil {
		return
	}
	if started {
		p := protocolOf(s)
		m.open.WithLabelValues(p).Dec()
		m.ended.WithLabelValues(p, endReason(e.why)).Inc()
		m.duration.WithLabelValues(p).Observe(time.Since(s.start).Seconds())
		return
	}
	switch kind, counter := notStarted(e); counter {
	case "refused":
		m.refused.WithLabelValues(kind).Inc()
	case "dial":
		m.dialFailures.WithLabelValues(kind).Inc()
	default:
		m.abandoned.Inc()
	}
}

func (m *metrics) recordingFailed() {
	if m != nil {
		m.recordFails.Inc()
	}
}

// endReason is the reason label of a started session's end, from the
// end's why (ends.go). TestEndReasons keeps it complete.
func endReason(why string) string {
	switch why {
	case "target closed":
		return "target_closed"
	case "target write failed", "target connection lost":
		return "target_lost"
	case "client closed":
		return "client_closed"
	case "client connection lost", "client write failed":
		return "client_lost"
	case "idle":
		return "idle"
	case "message too big":
		return "too_big"
	case "protocol error":
		return "protocol_error"
	case "shutdown":
		return "shutdown"
	case "resume window expired":
		return "resume_expired"
	case "user removed":
		return "user_removed"
	}
	return "other"
}

// notStarted classifies the end of a session that never started: which
// counter ("refused", "dial" or "abandoned") and the label.
func notStarted(e end) (label, counter string) {
	switch strings.TrimSuffix(e.why, beforeTarget) {
	case "busy":
		return "limit", "refused"
	case "shutdown":
		return "shutting_down", "refused"
	case "no target":
		return "no_target", "refused"
	case "bad target", "bad options", "message too big", "protocol error":
		return "malformed", "refused"
	case "target denied":
		return "target_rule", "refused"
	case "unknown name":
		return "unknown_name", "refused"
	case "resume refused":
		return "resume", "refused"
	case "dial error":
		if kind := dialKind(e.err); kind != "unknown_name" {
			return kind, "dial"
		}
		return "unknown_name", "refused"
	}
	return "", "abandoned" // the browser closed, went away, or did not take SUCC
}

// dialKind classifies a failed dial as dialError words it (target.go): a
// name that does not exist is the user's mistake ("unknown_name", a
// refusal); the rest are kinds of wstelnet_dial_failures_total.
func dialKind(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "unknown_name"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	}
	return "other"
}
