package whep

import (
	"fmt"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
)

// The owner's side of a layered pull. A node pulling a stream from its owner offers up to
// MaxPullSections recvonly video sections. When the stream is simulcast (two or more video
// layers, each with its own rid), the owner answers one layer per section, highest first: each
// section binds the stream's video Track under the track id PullLayerPrefix+rid (its a=msid
// names the layer), and its Output follows that layer's Feed and nothing else
// (stream.Output.FollowOnly). The puller writes each section into a Feed of its own, so its
// viewers choose among the layers as the owner's do. Otherwise the pull is served as any
// viewer: one section, the stream-wide layer. A keeper re-follows a layer whose Feed is replaced
// (the publisher reconnected with the same rids) and ends the pull when the set of layers no
// longer matches the answer (a layer appeared, the stream became or stopped being simulcast):
// the puller pulls again at once and its viewers keep their sessions.

// MaxPullSections is how many video sections a pull may offer: one per simulcast layer it can take.
const MaxPullSections = 4

// PullLayerPrefix begins the msid track id of a layered pull's section: "layer-h" carries rid h.
const PullLayerPrefix = "layer-"

// reasonLayers is why a layered pull ends when the stream's layers change.
const reasonLayers = "layers changed"

// layerTrack is the stream's video Track announced under another track id: every section of a
// layered pull binds the same Track (one Output each) and names its layer in a=msid.
type layerTrack struct {
	*stream.Track
	id string
}

// ID is the announced track id, PullLayerPrefix + rid.
func (t *layerTrack) ID() string { return t.id }

// trackOf returns the stream Track a sender sends, nil for another kind of track.
func trackOf(tl webrtc.TrackLocal) *stream.Track {
	switch t := tl.(type) {
	case *stream.Track:
		return t
	case *layerTrack:
		return t.Track
	}
	return nil
}

// pullLayer is one section of a layered pull: the rid it carries, the SSRC of its Output and the
// Feed that Output follows (the keeper's after the session connects).
type pullLayer struct {
	rid  string
	ssrc uint32
	feed *stream.Feed
}

// simulcastFeeds returns the video Feeds a layered pull carries, highest first (layers.Rank: by
// measured resolution, then bitrate), at most sections of them; nil unless there are two or more
// live layers with distinct, non-empty rids and room for more than one.
func simulcastFeeds(feeds []*stream.Feed, sections int) []*stream.Feed {
	if sections < 2 {
		return nil
	}
	byRID := make(map[string]*stream.Feed, len(feeds))
	for _, f := range feeds {
		if f.Closed() {
			continue
		}
		if _, dup := byRID[f.RID()]; dup || f.RID() == "" {
			return nil
		}
		byRID[f.RID()] = f
	}
	if len(byRID) < 2 {
		return nil
	}
	ranked := layers.Rank(feedLayers(feeds, time.Now()))
	out := make([]*stream.Feed, 0, min(len(ranked), sections))
	for i := len(ranked) - 1; i >= 0 && len(out) < sections; i-- {
		if f := byRID[ranked[i].ID]; f != nil {
			out = append(out, f)
		}
	}
	return out
}

// addPullLayers binds one video section per layer of a simulcast stream for a pull whose offer
// has several video sections. It reports false (nothing added) when the pull is to be served
// as a viewer.
func (v *Viewer) addPullLayers(sections int) (bool, error) {
	v.pullSections = sections
	track := v.stream.Track(webrtc.RTPCodecTypeVideo)
	feeds := simulcastFeeds(track.Feeds(), sections)
	if feeds == nil {
		return false, nil
	}
	for _, f := range feeds {
		sender, err := v.pc.AddTrack(&layerTrack{Track: track, id: PullLayerPrefix + f.RID()})
		if err != nil {
			return false, fmt.Errorf("add video layer %s: %w", f.RID(), err)
		}
		if len(sender.GetParameters().Codecs) == 0 {
			return false, fmt.Errorf("%w: no supported video codec offered", rtc.ErrUnsupportedOffer)
		}
		if enc := sender.GetParameters().Encodings; len(enc) > 0 {
			ssrc := uint32(enc[0].SSRC)
			v.starts = append(v.starts, start{track: track, ssrc: ssrc, only: f})
			v.pullLayers = append(v.pullLayers, pullLayer{rid: f.RID(), ssrc: ssrc, feed: f})
		}
		v.Go(func() { v.readRTCP(sender) })
	}
	rids := make([]string, len(v.pullLayers))
	for i, l := range v.pullLayers {
		rids[i] = l.rid
	}
	v.log.Info("layered pull", "layers", strings.Join(rids, ","))
	return true, nil
}

// startPullKeeper starts the keeper of a pull that offered several video sections, once the
// session is connected (its Outputs exist).
func (v *Viewer) startPullKeeper() {
	if v.pull && v.pullSections > 1 {
		v.Go(v.keepPullLayers)
	}
}

// keepPullLayers checks the stream's layers against the pull's answer every layerTick until the
// session ends; when they no longer match it ends the session (on a goroutine of its own: Close
// waits for this one).
func (v *Viewer) keepPullLayers() {
	tick := time.NewTicker(layerTick)
	defer tick.Stop()
	for {
		select {
		case <-v.Context().Done():
			return
		case <-tick.C:
		}
		if why := v.pullChanged(); why != "" {
			v.log.Info("layered pull ends: the puller pulls again", "why", why)
			go func() { _ = v.CloseBecause(reasonLayers) }()
			return
		}
	}
}

// pullChanged re-follows each section's layer by rid where its Feed was replaced, and says why
// the pull must end ("" while the answer still fits the stream).
func (v *Viewer) pullChanged() string {
	track := v.stream.Track(webrtc.RTPCodecTypeVideo)
	feeds := track.Feeds()
	if len(v.pullLayers) == 0 {
		if simulcastFeeds(feeds, v.pullSections) != nil {
			return "the stream is simulcast now"
		}
		return ""
	}
	mapped := make(map[string]bool, len(v.pullLayers))
	for i := range v.pullLayers {
		l := &v.pullLayers[i]
		mapped[l.rid] = true
		if !l.feed.Closed() {
			continue
		}
		for _, f := range feeds {
			if f.RID() == l.rid && !f.Closed() {
				if out := track.Output(l.ssrc); out != nil {
					out.FollowOnly(f) // from its next keyframe, asked for now
					v.stream.RequestKeyframeOf(f)
					l.feed = f
					v.log.Info("layered pull follows a new feed", "rid", l.rid)
				}
			}
		}
	}
	for _, f := range feeds {
		if f.Closed() || mapped[f.RID()] {
			continue
		}
		if f.RID() == "" {
			return "the stream has a single layer now"
		}
		if len(v.pullLayers) < v.pullSections {
			return "a new layer " + f.RID()
		}
	}
	return ""
}
