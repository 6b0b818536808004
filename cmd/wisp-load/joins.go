package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/wisp-media/wisp/client"
)

// joinsFlags configures joins.
type joinsFlags struct {
	whep, token, data string
	tries             int
	gap, timeout      time.Duration
	coldAPI           string        // wait until this /api/streams shows the stream with 0 viewers before each try
	coldEdgeAPI       string        // … and until this one shows it without local layers (no pull, no cache)
	coldLimit         time.Duration // how long that wait may take
	anchor            bool          // keep one viewer on whep throughout (a pull stays up)
}

// joinTry is one viewer's join, in milliseconds from the start of its WHEP POST (and, for
// comparison with view's figures, from the start of View, which gathers first).
type joinTry struct {
	ColdWaitMS      float64 `json:"coldWaitMs,omitempty"` // waited for no pull before the try
	PostAnswerMS    float64 `json:"postAnswerMs"`
	PostConnectedMS float64 `json:"postConnectedMs"`
	PostFirstRTPMS  float64 `json:"postFirstRtpMs"`
	PostFirstKeyMS  float64 `json:"postFirstKeyframeMs"`
	StartFirstKeyMS float64 `json:"startFirstKeyframeMs"`
	// OwnerViewers is what -cold-api listed as the stream's viewers once this try had its
	// keyframe: 1 means the try's edge opened a pull of its own (there was none before).
	OwnerViewers int    `json:"ownerViewersAtKeyframe,omitempty"`
	Error        string `json:"error,omitempty"`
}

// joinsReport is what joins prints.
type joinsReport struct {
	Tries           int       `json:"tries"`
	Failed          int       `json:"failed"`
	Cold            bool      `json:"cold"`   // each try began with no viewer (no pull) at -cold-api
	Anchor          bool      `json:"anchor"` // one viewer stayed on -whep throughout
	PostAnswerMS    dist      `json:"postAnswerMs"`
	PostConnectedMS dist      `json:"postConnectedMs"`
	PostFirstRTPMS  dist      `json:"postFirstRtpMs"`
	PostFirstKeyMS  dist      `json:"postFirstKeyframeMs"`
	StartFirstKeyMS dist      `json:"startFirstKeyframeMs"`
	ColdWaitMS      dist      `json:"coldWaitMs"`
	NewPulls        int       `json:"newPulls"` // cold tries after which the owner had a viewer (the new pull)
	Each            []joinTry `json:"each"`
}

// runJoins measures join times one viewer at a time: each try opens a viewer, waits for its
// first complete keyframe and closes it (DELETE) before the next.
func runJoins(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("joins", flag.ExitOnError)
	var f joinsFlags
	fs.StringVar(&f.whep, "whep", "", "WHEP endpoint URL")
	fs.StringVar(&f.token, "token", "", "bearer token for WHEP")
	fs.StringVar(&f.data, "data", "", "data channel label the viewers open")
	fs.IntVar(&f.tries, "tries", 20, "viewers, one after another")
	fs.DurationVar(&f.gap, "gap", 500*time.Millisecond, "pause after a viewer is closed")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Second, "a try that has no keyframe by then fails")
	fs.StringVar(&f.coldAPI, "cold-api", "", "a wisp /api/streams URL (the stream's owner): before each try wait until it lists the stream with 0 viewers, i.e. no edge pulls it")
	fs.StringVar(&f.coldEdgeAPI, "cold-edge-api", "", "the edge's /api/streams URL: with -cold-api, also wait until it lists the stream without layers of its own (the last pull's stream and keyframe cache are gone)")
	fs.DurationVar(&f.coldLimit, "cold-limit", 90*time.Second, "the longest wait for -cold-api")
	fs.BoolVar(&f.anchor, "anchor", false, "keep one viewer on -whep from before the first try to after the last (on an edge: the pull is already up for every try)")
	_ = fs.Parse(args)
	if f.whep == "" || f.tries < 1 {
		return nil, fmt.Errorf("joins needs -whep and -tries ≥ 1")
	}
	r := &joinsReport{Tries: f.tries, Cold: f.coldAPI != "", Anchor: f.anchor}
	if f.anchor {
		a, err := f.join(ctx, true)
		if err != nil {
			return nil, fmt.Errorf("anchor viewer: %w", err)
		}
		defer a.Close()
	}
	name := whipStreamName(f.whep)
	var answer, conn, rtp, key, start, cold []float64
	for i := 0; i < f.tries; i++ {
		var t joinTry
		if f.coldAPI != "" {
			w0 := time.Now()
			if err := waitFor(ctx, f.coldAPI, name, f.coldLimit, "stream without viewers", func(s apiStream, ok bool) bool {
				return ok && s.Viewers == 0
			}); err != nil {
				return nil, fmt.Errorf("try %d: %w", i, err)
			}
			if f.coldEdgeAPI != "" {
				if err := waitFor(ctx, f.coldEdgeAPI, name, f.coldLimit, "edge stream without layers", func(s apiStream, ok bool) bool {
					return !ok || len(s.Feeds) == 0
				}); err != nil {
					return nil, fmt.Errorf("try %d: %w", i, err)
				}
			}
			t.ColdWaitMS = msSince(w0, time.Now())
			cold = append(cold, t.ColdWaitMS)
		}
		w := &viewer{done: make(chan struct{})}
		w.run(ctx, viewFlags{whep: f.whep, token: f.token, data: f.data, audio: true, untilKey: true})
		if w.err != nil || w.firstKey.IsZero() {
			r.Failed++
			t.Error = fmt.Sprint(w.err)
		} else {
			post := w.post.time()
			t.PostAnswerMS, t.PostConnectedMS = msSince(post, w.answered), msSince(post, w.connected)
			t.PostFirstKeyMS, t.StartFirstKeyMS = msSince(post, w.firstKey), msSince(w.start, w.firstKey)
			if first, _, _, _ := w.net.c.snapshot(); !first.IsZero() {
				t.PostFirstRTPMS = msSince(post, first)
				rtp = append(rtp, t.PostFirstRTPMS)
			}
			if f.coldAPI != "" {
				if s, ok, err := fetchStream(ctx, f.coldAPI, name); err == nil && ok {
					t.OwnerViewers = s.Viewers
					if s.Viewers > 0 {
						r.NewPulls++
					}
				}
			}
			answer, conn = append(answer, t.PostAnswerMS), append(conn, t.PostConnectedMS)
			key, start = append(key, t.PostFirstKeyMS), append(start, t.StartFirstKeyMS)
		}
		w.close()
		r.Each = append(r.Each, t)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(f.gap):
		}
	}
	r.PostAnswerMS, r.PostConnectedMS, r.PostFirstRTPMS = summarize(answer), summarize(conn), summarize(rtp)
	r.PostFirstKeyMS, r.StartFirstKeyMS, r.ColdWaitMS = summarize(key), summarize(start), summarize(cold)
	return r, nil
}

// join opens one counting viewer on f.whep and waits for its first keyframe; it then stays
// connected (its packets counted at the socket, not decrypted) until Close.
func (f *joinsFlags) join(ctx context.Context, count bool) (*client.Viewer, error) {
	n, err := newCountNet()
	if err != nil {
		return nil, err
	}
	api, err := loadAPI(n, count, false)
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	v, err := client.View(nctx, f.whep, client.ViewOptions{Video: true, Audio: true, DataChannel: f.data, Token: f.token, API: api, HTTPClient: http.DefaultClient})
	if err != nil {
		return nil, err
	}
	for {
		select {
		case fr := <-v.Frames():
			if fr.Keyframe {
				n.swallow.Store(count)
				return v, nil
			}
		case <-v.AudioPackets():
		case <-v.Messages():
		case <-nctx.Done():
			_ = v.Close()
			return nil, fmt.Errorf("no keyframe: %w", nctx.Err())
		}
	}
}

func msSince(from, to time.Time) float64 {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return round(float64(to.Sub(from)) / float64(time.Millisecond))
}
