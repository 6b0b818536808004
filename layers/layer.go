package layers

import (
	"cmp"
	"slices"
)

// Layer is one encoding (simulcast layer) of a stream's video as measured at ingest.
type Layer struct {
	// ID names the layer: its rid (RFC 8851), "" for a stream's only layer.
	ID string
	// Width and Height are the resolution parsed from the layer's latest keyframe; 0 until one
	// has been seen.
	Width, Height int
	// Bitrate is the layer's rate in bits per second averaged over the last second.
	Bitrate float64
	// Peak is the highest one-second rate over the last two seconds (keyframes burst).
	Peak float64
	// Active says the layer is sending: publishers (Chrome under CPU or bandwidth pressure) stop
	// layers and start them again.
	Active bool
}

// pixels is the layer's measured area, 0 until a keyframe gave its size.
func (l Layer) pixels() int { return l.Width * l.Height }

// need is the rate a viewer's budget must carry before it moves up to l: the higher of its
// average and its peak, so a layer is not taken on between its keyframes.
func (l Layer) need() float64 { return max(l.Bitrate, l.Peak) }

// Rank returns the layers ordered from lowest to highest quality: by measured resolution, then
// by bitrate, then by ID (only so the order is stable). A layer whose resolution is not known
// yet ranks below measured ones. Rid names and the order the publisher listed them carry no
// meaning: OBS's rid "0" is its highest, browsers send l,m,h or q,h,f in any order
// (research/simulcast.md §1). ls is not modified.
func Rank(ls []Layer) []Layer {
	out := slices.Clone(ls)
	slices.SortStableFunc(out, compare)
	return out
}

// compare orders two layers by quality, lowest first.
func compare(a, b Layer) int {
	return cmp.Or(cmp.Compare(a.pixels(), b.pixels()), cmp.Compare(a.Bitrate, b.Bitrate), cmp.Compare(a.ID, b.ID))
}
