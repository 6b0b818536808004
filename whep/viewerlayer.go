package whep

import (
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/stream"
)

// layerTick is how often a viewer with a pinned or capped layer looks at the stream's layers
// again: a pinned layer that stops is left, and taken again when it returns, within a tick (plus
// the keyframe its Output switches at).
const layerTick = 250 * time.Millisecond

// Layers returns the stream's video layers as measured now (LayerSelector): one per Feed of the
// video Track, with its rid, the resolution of its latest keyframe, its bitrate and whether it
// is sending.
func (v *Viewer) Layers() []layers.Layer {
	return feedLayers(v.stream.Track(webrtc.RTPCodecTypeVideo).Feeds(), time.Now())
}

func feedLayers(feeds []*stream.Feed, now time.Time) []layers.Layer {
	out := make([]layers.Layer, 0, len(feeds))
	for _, f := range feeds {
		i := f.Info(now)
		out = append(out, layers.Layer{ID: i.RID, Width: i.Width, Height: i.Height,
			Bitrate: float64(i.Bitrate), Peak: float64(i.PeakBitrate), Active: i.Active})
	}
	return out
}

// SetLayerChoice records what the player asked through the layer URL (LayerSelector, WHEPX-06)
// and has the viewer's layer keeper apply it: a pinned layer is followed while it is active, caps
// follow the highest active layer within them, and automatic (the zero Choice) returns the viewer
// to the stream-wide choice. The switch happens at the chosen layer's next keyframe. The keeper
// starts with the first choice: a viewer that never asks runs nothing for it.
func (v *Viewer) SetLayerChoice(c layers.Choice) {
	v.mu.Lock()
	v.layerChoice = c
	start := !v.layerKeeper && !v.closing
	v.layerKeeper = v.layerKeeper || start
	v.mu.Unlock()
	if start {
		v.Go(v.keepLayer)
	}
	select {
	case v.layerWake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// keepLayer makes the viewer's video Output follow its player's choice until the session ends.
// It ticks only while the choice is not automatic.
func (v *Viewer) keepLayer() {
	var (
		tick      *time.Ticker
		tickC     <-chan time.Time
		following *stream.Feed // what the Output was last told; nil: the stream-wide choice
	)
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for {
		select {
		case <-v.Context().Done():
			return
		case <-v.layerWake:
		case <-tickC:
		}
		v.mu.Lock()
		c := v.layerChoice
		v.mu.Unlock()
		switch {
		case c.Auto() && tick != nil:
			tick.Stop()
			tick, tickC = nil, nil
		case !c.Auto() && tick == nil:
			tick = time.NewTicker(layerTick)
			tickC = tick.C
		}
		out := v.videoOutput()
		if out == nil {
			continue // not connected yet: the tick (or the next choice) comes back
		}
		var want *stream.Feed
		feeds := v.stream.Track(webrtc.RTPCodecTypeVideo).Feeds()
		if id, ok := layers.Manual(feedLayers(feeds, time.Now()), c); ok {
			for _, f := range feeds {
				if f.RID() == id {
					want = f
				}
			}
		}
		if want != following {
			out.Follow(want)
			following = want
			rid := "(stream's choice)"
			if want != nil {
				rid = want.RID()
			}
			v.log.Info("layer", "follow", rid, "pin", c.Pin, "maxWidth", c.MaxWidth, "maxHeight", c.MaxHeight)
		}
	}
}

// videoOutput returns the viewer's video Output once it has started, else nil.
func (v *Viewer) videoOutput() *stream.Output {
	for _, s := range v.starts {
		if s.track.Kind() == webrtc.RTPCodecTypeVideo {
			return s.track.Output(s.ssrc)
		}
	}
	return nil
}
