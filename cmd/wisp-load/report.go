package main

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// report is what view prints.
type report struct {
	Viewers       int     `json:"viewers"`
	Connected     int     `json:"connected"`
	Failed        int     `json:"failed"`
	Count         bool    `json:"countAtSocket"`
	TWCC          bool    `json:"twcc"`
	RampPerSecond float64 `json:"rampPerSecond"`
	WindowSeconds float64 `json:"windowSeconds"`
	perViewer     bool

	// join times in milliseconds from the start of View (gathering + POST) to each step
	JoinAnswerMS    dist `json:"joinAnswerMs"`        // POST → 201 applied
	JoinConnectedMS dist `json:"joinConnectedMs"`     // → PeerConnection connected
	JoinFirstRTPMS  dist `json:"joinFirstRtpMs"`      // → first RTP packet at the socket
	JoinFirstKeyMS  dist `json:"joinFirstKeyframeMs"` // → first complete video keyframe
	// the same from the start of the WHEP POST (the client's ICE gathering left out)
	PostAnswerMS   dist `json:"postAnswerMs"`
	PostFirstKeyMS dist `json:"postFirstKeyframeMs"`

	MbpsPerViewer dist    `json:"mbpsPerViewer"` // SRTP bytes at the socket over the window
	AggregateMbps float64 `json:"aggregateMbps"`
	Packets       int64   `json:"packets"`
	Lost          int64   `json:"lost"` // sequence-number gaps over the window, all viewers
	LossPercent   float64 `json:"lossPercent"`
	// LongestGapMS is, per viewer, the longest time one of its SSRCs went without a packet in the
	// window; Frozen counts the viewers whose longest gap exceeded freezeGap (a frozen picture).
	LongestGapMS dist `json:"longestGapMs"`
	Frozen       int  `json:"frozen"`
	// TWCCNegotiated is how many viewers' answers accepted transport-cc; TWCCFeedbackPerSecond
	// is the transport-cc feedback datagrams they sent per viewer per second over the window.
	TWCCNegotiated        int      `json:"twccNegotiated"`
	TWCCFeedbackPerSecond float64  `json:"twccFeedbackPerViewerPerSecond"`
	DataMessages          int      `json:"dataMessages"`
	DataDelayMS           dist     `json:"dataDelayMs"`
	Errors                []string `json:"errors,omitempty"`

	Server *serverReport `json:"server,omitempty"`
	// Layers is the server's view of the stream's layers at the end of the window (-api).
	Layers *layerReport `json:"layers,omitempty"`
	// PerViewer is filled with -per-viewer: one line per viewer.
	PerViewer []viewerLine `json:"perViewer,omitempty"`
}

// viewerLine is one viewer's result.
type viewerLine struct {
	FirstKeyframeMS float64 `json:"firstKeyframeMs"`
	Mbps            float64 `json:"mbps"`
	Packets, Lost   int64
	Error           string `json:"error,omitempty"`
}

// dist summarizes a sample.
type dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

func summarize(xs []float64) dist {
	if len(xs) == 0 {
		return dist{}
	}
	slices.Sort(xs)
	at := func(p float64) float64 { return round(xs[int(math.Ceil(p*float64(len(xs))))-1]) }
	return dist{N: len(xs), P50: at(0.5), P95: at(0.95), Max: round(xs[len(xs)-1])}
}

// freezeGap is the silence that counts as a freeze: issue 16's "no freeze over 500 ms".
const freezeGap = 500 * time.Millisecond

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// totals is a snapshot of every viewer's socket counters.
type totals struct {
	bytes, packets, lost int64
	feedback             int64           // transport-cc feedback datagrams sent
	perViewer            []int64         // bytes
	gaps                 []time.Duration // longest silence per viewer since the window began
}

func snapshot(vs []*viewer) totals {
	var t totals
	now := time.Now()
	for _, w := range vs {
		var (
			b   int64
			gap time.Duration
		)
		if w != nil && w.net != nil {
			gap = w.net.c.longestGap(now)
			_, p, by, l := w.net.c.snapshot()
			t.packets += p
			t.lost += l
			t.feedback += w.net.feedback.Load()
			b = by
		}
		t.bytes += b
		t.perViewer = append(t.perViewer, b)
		t.gaps = append(t.gaps, gap)
	}
	return t
}

func (r *report) fill(vs []*viewer, before, after totals, window time.Duration) {
	r.WindowSeconds = round(window.Seconds())
	ms := func(from, to time.Time) float64 { return float64(to.Sub(from)) / float64(time.Millisecond) }
	var answer, conn, rtp, key, postAnswer, postKey, rates, delays, gaps []float64
	errs := map[string]int{}
	for i, w := range vs {
		if w.err != nil || w.connected.IsZero() {
			r.Failed++
			if w.err != nil {
				errs[w.err.Error()]++
			}
			continue
		}
		r.Connected++
		if w.twcc {
			r.TWCCNegotiated++
		}
		answer = append(answer, ms(w.start, w.answered))
		conn = append(conn, ms(w.start, w.connected))
		if first, _, _, _ := w.net.c.snapshot(); !first.IsZero() {
			rtp = append(rtp, ms(w.start, first))
		}
		if !w.firstKey.IsZero() {
			key = append(key, ms(w.start, w.firstKey))
		}
		if post := w.post.time(); !post.IsZero() {
			postAnswer = append(postAnswer, ms(post, w.answered))
			if !w.firstKey.IsZero() {
				postKey = append(postKey, ms(post, w.firstKey))
			}
		}
		rate := float64(after.perViewer[i]-before.perViewer[i]) * 8 / window.Seconds() / 1e6
		rates = append(rates, rate)
		gaps = append(gaps, float64(after.gaps[i])/float64(time.Millisecond))
		if after.gaps[i] > freezeGap {
			r.Frozen++
		}
		if r.perViewer {
			_, p, _, l := w.net.c.snapshot()
			r.PerViewer = append(r.PerViewer, viewerLine{FirstKeyframeMS: round(ms(w.start, w.firstKey)), Mbps: round(rate), Packets: p, Lost: l})
		}
		for _, d := range w.delays {
			delays = append(delays, float64(d)/float64(time.Millisecond))
		}
	}
	for e, n := range errs {
		r.Errors = append(r.Errors, e+" ×"+strconv.Itoa(n))
	}
	r.JoinAnswerMS, r.JoinConnectedMS, r.JoinFirstRTPMS, r.JoinFirstKeyMS = summarize(answer), summarize(conn), summarize(rtp), summarize(key)
	r.PostAnswerMS, r.PostFirstKeyMS = summarize(postAnswer), summarize(postKey)
	r.MbpsPerViewer = summarize(rates)
	r.LongestGapMS = summarize(gaps)
	r.AggregateMbps = round(float64(after.bytes-before.bytes) * 8 / window.Seconds() / 1e6)
	r.Packets, r.Lost = after.packets-before.packets, after.lost-before.lost
	if r.Packets+r.Lost > 0 {
		r.LossPercent = round(100 * float64(r.Lost) / float64(r.Packets+r.Lost))
	}
	if r.Connected > 0 {
		r.TWCCFeedbackPerSecond = round(float64(after.feedback-before.feedback) / float64(r.Connected) / window.Seconds())
	}
	r.DataMessages = len(delays)
	r.DataDelayMS = summarize(delays)
}
