package main

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/metrics"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/whep"
	"github.com/wisp-media/wisp/whip"
)

// The glue between the server and the metrics package: what the metrics read of the server
// (metricsSource), of each session (publisherSession, viewerSession), and the middleware that
// counts created and refused POSTs.

// rejectReasonKey is the echo context key a refusing middleware sets its reason under.
const rejectReasonKey = "wisp.rejectReason"

// metricsSource is the server as the metrics read it at a scrape.
type metricsSource struct{ s *server }

// Streams lists every stream with its viewers and data relay counts.
func (m metricsSource) Streams() []metrics.StreamState {
	infos := m.s.registry.List()
	out := make([]metrics.StreamState, 0, len(infos))
	for _, in := range infos {
		st := metrics.StreamState{Name: in.Name, Live: in.Live, Viewers: in.Viewers}
		if s, ok := m.s.registry.Get(in.Name); ok {
			rs := s.Relay().Stats()
			st.RelayDelivered = rs.Delivered
			for _, n := range rs.Dropped {
				st.RelayDropped += n
			}
		}
		out = append(out, st)
	}
	return out
}

// DirectoryUp reports whether the cluster directory answers (ok false on a single node).
func (m metricsSource) DirectoryUp() (up, ok bool) { return m.s.cluster.directoryUp() }

// Sessions is the number of live sessions of a kind.
func (m metricsSource) Sessions(kind string) int {
	if kind == metrics.KindWHIP {
		return m.s.whip.Len()
	}
	return m.s.whep.Len()
}

// sessionObserver hands the session tables' start and end events to the metrics.
type sessionObserver struct{ m *metrics.Metrics }

func (o sessionObserver) SessionStarted(s any) {
	if kind, ms := metricsSession(s); ms != nil {
		o.m.Started(kind, ms)
	}
}

func (o sessionObserver) SessionEnded(s any) {
	if kind, ms := metricsSession(s); ms != nil {
		o.m.Ended(kind, ms)
	}
}

func metricsSession(s any) (string, metrics.Session) {
	switch s := s.(type) {
	case *whip.Publisher:
		return metrics.KindWHIP, publisherSession{s}
	case *whep.Viewer:
		return metrics.KindWHEP, viewerSession{s}
	}
	return "", nil
}

// publisherSession is a WHIP session as the metrics read it.
type publisherSession struct{ *whip.Publisher }

func (p publisherSession) Sample() metrics.Sample {
	sent, received := p.Traffic()
	return metrics.Sample{BytesIn: received, BytesOut: sent}
}

// viewerSession is a WHEP session as the metrics read it: its transport's bytes, and its outputs'
// counters (kept by the forwarding core per viewer; read here, at scrape time).
type viewerSession struct{ *whep.Viewer }

func (v viewerSession) Sample() metrics.Sample {
	sent, received := v.Traffic()
	s := metrics.Sample{BytesIn: received, BytesOut: sent, Dropped: make(map[string]uint64, len(metrics.DropReasons))}
	s.NACKs, s.KeyframeRequests = v.RTCPCounts()
	var first *stream.Output
	for _, o := range v.Outputs() {
		in := o.Info()
		if in.Kind == "video" {
			s.VideoPackets += in.Sent
			if first == nil {
				first = o
			}
		} else {
			s.AudioPackets += in.Sent
		}
		s.Retransmitted += in.Resent
		for r, n := range in.Dropped {
			s.Dropped[r] += n
		}
	}
	if first == nil {
		if outs := v.Outputs(); len(outs) > 0 {
			first = outs[0]
		}
	}
	if first != nil {
		if t := first.FirstSent(); !t.IsZero() {
			s.Joined = t.Sub(v.Started())
		}
	}
	return s
}

// countPOSTs is the middleware that counts each session-creating POST: created (201) or refused,
// with the reason a refusing middleware set, else one told by the status.
func (s *server) countPOSTs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if s.metrics == nil || r.Method != http.MethodPost || !isEndpointPath(r.URL.Path) {
			return next(c)
		}
		err := next(c)
		kind := metrics.KindWHIP
		if strings.HasPrefix(r.URL.Path, "/whep/") {
			kind = metrics.KindWHEP
		}
		status := c.Response().Status
		if he, ok := err.(*echo.HTTPError); ok {
			status = he.Code
		}
		if status == http.StatusCreated && err == nil {
			s.metrics.Created(kind)
			return nil
		}
		reason, _ := c.Get(rejectReasonKey).(string)
		if reason == "" {
			reason = reasonForStatus(kind, status)
		}
		s.metrics.Rejected(kind, reason)
		return err
	}
}

// reasonForStatus names a refusal by its status (metrics.Reasons).
func reasonForStatus(kind string, status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "auth"
	case http.StatusTooManyRequests:
		return "rate_limit"
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return "bad_offer"
	case http.StatusConflict:
		if kind == metrics.KindWHIP {
			return "publisher_live"
		}
		return "not_live"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}
