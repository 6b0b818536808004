package whep

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wisp-media/wisp/layers"
)

// layersEvery is how often a "layers" event repeats with fresh bitrates when nothing else changed.
const layersEvery = 5 * time.Second

// layerEntry is one layer in a "layers" event (WHEPX-05): rid (or spatialLayerId for a stream's
// only, unnamed layer), bitrate (0 when inactive: the extension's sign of an inactive layer),
// measured width and height, and active, which players that know only the standard fields ignore.
type layerEntry struct {
	RID            *string `json:"rid,omitempty"`
	SpatialLayerID *int    `json:"spatialLayerId,omitempty"`
	Bitrate        int64   `json:"bitrate"`
	Width          int     `json:"width,omitempty"`
	Height         int     `json:"height,omitempty"`
	Active         bool    `json:"active"`
}

// layersEvent is the data of a "layers" event: the video m-line's index (as a string) → its
// layers, highest first as in the extension's examples.
func layersEvent(videoMLine int, ls []layers.Layer) map[string][]layerEntry {
	ranked := layers.Rank(ls)
	slices.Reverse(ranked)
	out := make([]layerEntry, 0, len(ranked))
	for _, l := range ranked {
		e := layerEntry{Width: l.Width, Height: l.Height, Active: l.Active}
		if l.Active {
			e.Bitrate = int64(l.Bitrate)
		}
		if l.ID != "" {
			e.RID = &l.ID
		} else {
			e.SpatialLayerID = new(int)
		}
		out = append(out, e)
	}
	return map[string][]layerEntry{fmt.Sprint(videoMLine): out}
}

// layerEvents decides when an event stream sends "layers": when a layer appears, goes, starts,
// stops or changes size, and every layersEvery otherwise (bitrates move all the time; they are
// not a change worth an event each).
type layerEvents struct {
	key  string
	sent time.Time
}

// due reports whether a "layers" event is due at now for ls, and records it as sent if so.
func (e *layerEvents) due(now time.Time, ls []layers.Layer) bool {
	var b strings.Builder
	for _, l := range layers.Rank(ls) {
		fmt.Fprintf(&b, "%q %dx%d %t;", l.ID, l.Width, l.Height, l.Active)
	}
	if k := b.String(); k != e.key || now.Sub(e.sent) >= layersEvery {
		e.key, e.sent = k, now
		return true
	}
	return false
}
