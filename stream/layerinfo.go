package stream

import (
	"cmp"
	"slices"
	"time"
)

// LayerInfo is one layer of a stream's video (a Feed of its video Track: a simulcast encoding, or
// the only one) in the status API, with how many viewers are on it.
type LayerInfo struct {
	RID     string `json:"rid"`              // "" for a stream's only, unnamed layer
	Width   int    `json:"width,omitempty"`  // from the layer's newest keyframe (FeedInfo)
	Height  int    `json:"height,omitempty"` //
	Bitrate int64  `json:"bitrate"`          // bits per second over the last complete second
	Active  bool   `json:"active"`           // a packet within the last second
	// Viewers counts the video outputs sending this layer now (Output.Feed: the Feed an output
	// follows once it switched to it at a keyframe, whether by its viewer's own choice or the
	// stream-wide one).
	Viewers int `json:"viewers"`
}

// Layers returns the stream's video layers, highest first (by measured picture size, then
// bitrate; never by rid), each with the number of viewers' outputs that send it now. It is a
// snapshot: outputs switch at keyframes, so counts move between two calls.
func (s *Stream) Layers() []LayerInfo {
	feeds := s.video.Feeds()
	on := make(map[*Feed]int, len(feeds))
	for _, o := range s.video.Outputs() {
		if f := o.Feed(); f != nil {
			on[f]++
		}
	}
	now := time.Now()
	out := make([]LayerInfo, 0, len(feeds))
	for _, f := range feeds {
		i := f.Info(now)
		out = append(out, LayerInfo{RID: i.RID, Width: i.Width, Height: i.Height, Bitrate: i.Bitrate,
			Active: i.Active, Viewers: on[f]})
	}
	rankLayers(out)
	return out
}

// rankLayers orders layers highest first: by picture size (pixels), then bitrate; layers equal
// in both keep their order.
func rankLayers(ls []LayerInfo) {
	slices.SortStableFunc(ls, func(a, b LayerInfo) int {
		return cmp.Or(cmp.Compare(b.Width*b.Height, a.Width*a.Height), cmp.Compare(b.Bitrate, a.Bitrate))
	})
}
