package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Rejection reasons, the values of wisp_sessions_rejected_total's reason label. Each starts at 0.
var Reasons = []string{
	"auth",            // 401 or 403: no, a wrong or an expired key or token
	"rate_limit",      // 429: the client's request rate
	"session_cap",     // 503: -max-sessions reached
	"negotiating_cap", // 503: -max-negotiating reached
	"draining",        // 503: the server drains (SIGTERM)
	"bad_offer",       // 400, 413, 415, 422: the offer or its request
	"publisher_live",  // 409 on WHIP: the stream has a publisher and replacing is off
	"not_live",        // 409 on WHEP: -whep-require-publisher and no publisher
	"not_found",       // 404
	"unavailable",     // another 503 (an auth webhook down)
	"error",           // any other failure
}

// DropReasons are the values of wisp_dropped_packets_total's reason label. Each starts at 0.
var DropReasons = []string{"queue_full", "overwritten", "write_error"}

// Config configures Metrics.
type Config struct {
	Source Source
	// MaxStreams is how many live streams get their own {stream} series; the rest add up under
	// stream="_other". 0 means 100.
	MaxStreams int
}

// Metrics is wisp's metrics: event counters the HTTP layer increments (created, rejected), the
// join-time histogram, and a collector that reads the server at each scrape.
type Metrics struct {
	cfg      Config
	reg      *prometheus.Registry
	created  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	join     prometheus.Histogram

	scrape sync.Mutex // one scrape at a time; taken before mu, never held across I/O with mu

	// guarded by mu
	mu           sync.Mutex
	live         map[Session]*liveSession
	ended        []endedSession
	streams      map[string]*streamAcc
	own          int    // streams labelled labelOwn
	global       totals // streams gone
	otherRetired totals // streams gone that were counted under _other
}

// New builds the metrics and registers them with the Go and process collectors.
func New(cfg Config) *Metrics {
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 100
	}
	m := &Metrics{
		cfg: cfg,
		reg: prometheus.NewRegistry(),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_sessions_created_total", Help: "WHIP and WHEP sessions created (POST answered 201).",
		}, []string{"kind"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_sessions_rejected_total", Help: "WHIP and WHEP POSTs refused, by reason.",
		}, []string{"kind", "reason"}),
		join: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wisp_join_seconds",
			Help:    "Time from a WHEP POST to the first keyframe written to that viewer.",
			Buckets: []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10},
		}),
		live:    make(map[Session]*liveSession),
		streams: make(map[string]*streamAcc),
	}
	for _, k := range []string{KindWHIP, KindWHEP} {
		m.created.WithLabelValues(k)
		for _, r := range Reasons {
			m.rejected.WithLabelValues(k, r)
		}
	}
	// The join histogram is collected by collector{m}, after the joins its scrape found are
	// observed: registered on its own, the registry would collect it concurrently, and a scrape
	// could miss the joins it observed itself (they showed one scrape late).
	m.reg.MustRegister(m.created, m.rejected, collector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Created counts a session created.
func (m *Metrics) Created(kind string) { m.created.WithLabelValues(kind).Inc() }

// Rejected counts a refused POST.
func (m *Metrics) Rejected(kind, reason string) { m.rejected.WithLabelValues(kind, reason).Inc() }

// Started follows a new session until it ends.
func (m *Metrics) Started(kind string, s Session) {
	select {
	case <-s.Done():
		return // ended already (Ended has its final sample)
	default:
	}
	m.mu.Lock()
	m.live[s] = &liveSession{kind: kind, stream: s.StreamName()}
	m.mu.Unlock()
}

// Ended takes a session's final sample; the next scrape moves it into its stream's account.
func (m *Metrics) Ended(kind string, s Session) {
	sample := s.Sample() // final values: before the lock, one lock at a time
	m.mu.Lock()
	defer m.mu.Unlock()
	e := endedSession{kind: kind, stream: s.StreamName(), sample: sample}
	if l, ok := m.live[s]; ok {
		e.joined = l.joined
		delete(m.live, s)
	}
	m.ended = append(m.ended, e)
}
