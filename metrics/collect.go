package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The families read at scrape time.
var (
	descStreams  = prometheus.NewDesc("wisp_streams", "Live streams (a publisher is connected).", nil, nil)
	descSessions = prometheus.NewDesc("wisp_sessions", "Live WHIP and WHEP sessions.", []string{"kind"}, nil)
	descViewers  = prometheus.NewDesc("wisp_stream_viewers", "Viewers of a live stream.", []string{"stream"}, nil)
	descIngress  = prometheus.NewDesc("wisp_ingress_bytes_total",
		"Bytes received from a live stream's publishers on their ICE transports.", []string{"stream"}, nil)
	descEgress = prometheus.NewDesc("wisp_egress_bytes_total",
		"Bytes sent to a live stream's viewers on their ICE transports (SRTP, SRTCP, DTLS, SCTP).", []string{"stream"}, nil)
	descPackets = prometheus.NewDesc("wisp_egress_packets_total",
		"RTP packets sent to viewers, every viewer counted.", []string{"kind"}, nil)
	descDropped = prometheus.NewDesc("wisp_dropped_packets_total",
		"Packets not delivered to a viewer, by reason.", []string{"reason"}, nil)
	descNACKs     = prometheus.NewDesc("wisp_nacks_received_total", "RTCP NACK packets received from viewers.", nil, nil)
	descResent    = prometheus.NewDesc("wisp_retransmitted_packets_total", "Packets resent in answer to viewers' NACKs.", nil, nil)
	descKeyframes = prometheus.NewDesc("wisp_keyframe_requests_total",
		"Keyframe requests (PLI, FIR) received from viewers.", nil, nil)
	descDirectory = prometheus.NewDesc("wisp_cluster_directory_up",
		"1 while the cluster directory (Redis) answers this node, 0 while it is unreachable (the node still serves; degraded). Cluster nodes only.", nil, nil)
	descRelay = prometheus.NewDesc("wisp_datarelay_messages_total",
		"Publisher data-channel messages relayed to viewers: delivered or dropped.", []string{"result"}, nil)
)

// collector reads the server at each scrape.
type collector struct{ m *Metrics }

// Describe sends the families' descriptions.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStreams, descSessions, descViewers, descIngress, descEgress,
		descPackets, descDropped, descNACKs, descResent, descKeyframes, descRelay, descDirectory} {
		ch <- d
	}
	c.m.join.Describe(ch)
}

// sampled is a live session with the sample of this scrape.
type sampled struct {
	s      Session
	rec    liveSession
	sample Sample
	done   bool
}

// Collect reads the server and sends every family.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.scrape.Lock()
	defer m.scrape.Unlock()

	states := m.cfg.Source.Streams()
	m.mu.Lock()
	lives := make([]sampled, 0, len(m.live))
	for s, rec := range m.live {
		lives = append(lives, sampled{s: s, rec: *rec})
	}
	ended := m.ended
	m.ended = nil
	m.mu.Unlock()
	for i := range lives { // outside the lock: Sample may take the session's own locks
		select {
		case <-lives[i].s.Done():
			lives[i].done = true // its Ended carried the final sample
		default:
			lives[i].sample = lives[i].s.Sample()
		}
	}

	m.mu.Lock()
	current, joins := m.account(states, lives, ended)
	m.mu.Unlock()
	for _, j := range joins {
		m.join.Observe(j)
	}
	m.join.Collect(ch)
	m.emit(ch, states, current)
}

// account folds ended sessions into their streams, retires streams that are gone, labels the
// new live ones, and returns each tracked stream's current total and the join times to observe.
// Under mu.
func (m *Metrics) account(states []StreamState, lives []sampled, ended []endedSession) (map[string]Sample, []float64) {
	var joins []float64
	acc := func(name string) *streamAcc {
		a, ok := m.streams[name]
		if !ok {
			a = &streamAcc{}
			m.streams[name] = a
		}
		return a
	}
	for _, e := range ended {
		acc(e.stream).retired.add(e.sample)
		if !e.joined && e.sample.Joined > 0 {
			joins = append(joins, e.sample.Joined.Seconds())
		}
	}
	current := make(map[string]Sample, len(m.streams))
	hasLive := make(map[string]bool)
	for _, l := range lives {
		if l.done {
			delete(m.live, l.s)
			continue
		}
		acc(l.rec.stream)
		cur := current[l.rec.stream]
		cur.add(l.sample)
		current[l.rec.stream] = cur
		hasLive[l.rec.stream] = true
		if rec, ok := m.live[l.s]; ok && !rec.joined && l.sample.Joined > 0 {
			rec.joined = true
			joins = append(joins, l.sample.Joined.Seconds())
		}
	}
	held := make(map[string]StreamState, len(states))
	for _, st := range states {
		held[st.Name] = st
		a := acc(st.Name)
		a.relayDelivered = max(a.relayDelivered, st.RelayDelivered)
		a.relayDropped = max(a.relayDropped, st.RelayDropped)
		if st.Live && a.label == labelNone {
			if m.own < m.cfg.MaxStreams {
				a.label = labelOwn
				m.own++
			} else {
				a.label = labelOther
			}
		}
	}
	for name, a := range m.streams {
		cur := current[name]
		cur.add(a.retired)
		current[name] = cur
		if _, ok := held[name]; ok || hasLive[name] {
			continue
		}
		// Gone: its last total moves into the retired totals.
		m.global.addAcc(a, cur)
		switch a.label {
		case labelOther:
			m.otherRetired.addAcc(a, cur)
		case labelOwn:
			m.own--
		}
		delete(m.streams, name)
		delete(current, name)
	}
	return current, joins
}

// emit sends the families. current holds each tracked stream's total (retired + live).
func (m *Metrics) emit(ch chan<- prometheus.Metric, states []StreamState, current map[string]Sample) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	live := 0
	otherViewers := 0
	m.mu.Lock()
	other := m.otherRetired
	all := m.global
	labels := make(map[string]int, len(m.streams))
	for name, a := range m.streams {
		labels[name] = a.label
		all.addAcc(a, current[name])
		if a.label == labelOther {
			other.addAcc(a, current[name])
		}
	}
	m.mu.Unlock()

	for _, st := range states {
		if !st.Live {
			continue
		}
		live++
		switch labels[st.Name] {
		case labelOwn:
			gauge(descViewers, float64(st.Viewers), st.Name)
			counter(descIngress, current[st.Name].BytesIn, st.Name)
			counter(descEgress, current[st.Name].BytesOut, st.Name)
		case labelOther:
			otherViewers += st.Viewers
		}
	}
	gauge(descViewers, float64(otherViewers), otherStream)
	counter(descIngress, other.BytesIn, otherStream)
	counter(descEgress, other.BytesOut, otherStream)
	gauge(descStreams, float64(live))
	for _, k := range []string{KindWHIP, KindWHEP} {
		gauge(descSessions, float64(m.cfg.Source.Sessions(k)), k)
	}
	counter(descPackets, all.VideoPackets, "video")
	counter(descPackets, all.AudioPackets, "audio")
	for _, r := range DropReasons {
		counter(descDropped, all.Dropped[r], r)
	}
	counter(descNACKs, all.NACKs)
	counter(descResent, all.Retransmitted)
	counter(descKeyframes, all.KeyframeRequests)
	counter(descRelay, all.relayDelivered, "delivered")
	counter(descRelay, all.relayDropped, "dropped")
	if d, ok := m.cfg.Source.(DirectorySource); ok {
		if up, clustered := d.DirectoryUp(); clustered {
			v := 0.0
			if up {
				v = 1
			}
			gauge(descDirectory, v)
		}
	}
}
