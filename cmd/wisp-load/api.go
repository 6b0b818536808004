package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// apiStream is what wisp-load reads of one stream in a wisp server's GET /api/streams.
type apiStream struct {
	Name    string `json:"name"`
	Viewers int    `json:"viewers"`
	Feeds   []struct {
		Kind    string `json:"kind"`
		RID     string `json:"rid"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
		Bitrate int64  `json:"bitrate"`
	} `json:"feeds"`
	Outputs []struct {
		Kind     string            `json:"kind"`
		RID      string            `json:"rid"`
		Switches uint64            `json:"switches"`
		Offered  uint64            `json:"offered"`
		Sent     uint64            `json:"sent"`
		Dropped  map[string]uint64 `json:"dropped"`
	} `json:"outputs"`
}

// fetchStream reads stream name from a wisp server's /api/streams URL; ok is false when it is
// not listed.
func fetchStream(ctx context.Context, api, name string) (s apiStream, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return s, false, fmt.Errorf("api: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, false, fmt.Errorf("api: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, false, fmt.Errorf("api: %s", resp.Status)
	}
	var body struct {
		Streams []apiStream `json:"streams"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return s, false, fmt.Errorf("api: %w", err)
	}
	for _, st := range body.Streams {
		if st.Name == name {
			return st, true, nil
		}
	}
	return s, false, nil
}

// videoFeeds counts a stream's video layers.
func (s apiStream) videoFeeds() int {
	n := 0
	for _, f := range s.Feeds {
		if f.Kind == "video" {
			n++
		}
	}
	return n
}

// waitFor polls api every 100 ms until cond holds for stream name, or until limit.
func waitFor(ctx context.Context, api, name string, limit time.Duration, what string, cond func(apiStream, bool) bool) error {
	deadline := time.Now().Add(limit)
	for {
		s, ok, err := fetchStream(ctx, api, name)
		if err == nil && cond(s, ok) {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("%s within %s: %w", what, limit, err)
			}
			return fmt.Errorf("no %s within %s", what, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// layerReport is how the server's video outputs of the stream were spread over its layers at
// the end of the window (from /api/streams).
type layerReport struct {
	Feeds    []layerFeed    `json:"feeds"`
	Outputs  map[string]int `json:"videoOutputsByRid"` // rid → video outputs following it
	Switches uint64         `json:"switches"`          // layer changes of every video output so far
	// Offered, Sent and Dropped (by reason) add up every video output's packet counters so far:
	// packets the server dropped for its viewers never reach their sockets.
	Offered uint64            `json:"videoOffered"`
	Sent    uint64            `json:"videoSent"`
	Dropped map[string]uint64 `json:"videoDropped"`
}

// layerFeed is one video layer as the server measured it.
type layerFeed struct {
	RID     string `json:"rid"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Bitrate int64  `json:"bitrate"`
}

func layersOf(s apiStream) *layerReport {
	r := &layerReport{Outputs: map[string]int{}, Dropped: map[string]uint64{}}
	for _, f := range s.Feeds {
		if f.Kind == "video" {
			r.Feeds = append(r.Feeds, layerFeed{RID: f.RID, Width: f.Width, Height: f.Height, Bitrate: f.Bitrate})
		}
	}
	for _, o := range s.Outputs {
		if o.Kind == "video" {
			r.Outputs[o.RID]++
			r.Switches += o.Switches
			r.Offered += o.Offered
			r.Sent += o.Sent
			for why, n := range o.Dropped {
				r.Dropped[why] += n
			}
		}
	}
	return r
}
