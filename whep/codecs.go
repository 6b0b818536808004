package whep

import (
	"slices"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// checkCodecs refuses, with a 422 naming the codec (WHEP-05: no common codec is a 4xx, never
// 406), a viewer whose offer lacks the codec the stream's publisher sends for a kind the viewer
// asks for: a Chromium without H.265 for an H.265 stream, a Safari-like H.264-only player for VP8.
// Without it the viewer would get a 201 and a player that never shows a picture. A stream whose
// codec is not known yet (no publisher, or no packet yet) is not checked: the viewer's answer then
// lists every codec both sides support.
func checkCodecs(info stream.Info, offer rtc.Offer) error {
	for _, c := range []struct {
		kind, sending string
		asked         bool
	}{{"video", info.Video, offer.Video}, {"audio", info.Audio, offer.Audio}} {
		if !c.asked || c.sending == "" {
			continue
		}
		offered := offeredCodecs(offer.SDP, c.kind)
		if slices.ContainsFunc(offered, func(m string) bool { return strings.EqualFold(m, c.sending) }) {
			continue
		}
		name := codecName(c.sending)
		return wish.Unprocessable("stream %s sends %s %s, which this player did not offer (it offered %s): "+
			"it cannot play this stream", info.Name, name, c.kind, offeredList(offered))
	}
	return nil
}

// offeredCodecs returns the MIME types ("video/H265") of the offer's section of that kind, in
// offer order, without RTX, RED and FEC. A malformed offer yields none (ParseOffer already
// accepted it, so that does not happen).
func offeredCodecs(text, kind string) []string {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(text); err != nil {
		return nil
	}
	var out []string
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media != kind {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			_, enc, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(enc, "/")
			switch strings.ToLower(name) {
			case "rtx", "red", "ulpfec", "flexfec-03":
				continue
			}
			mime := kind + "/" + name
			if !slices.ContainsFunc(out, func(m string) bool { return strings.EqualFold(m, mime) }) {
				out = append(out, mime)
			}
		}
	}
	return out
}

// codecName is the codec part of a MIME type, upper-cased as SDP writes it ("video/h265" → "H265").
func codecName(mime string) string {
	_, name, _ := strings.Cut(mime, "/")
	if strings.EqualFold(name, "opus") {
		return "Opus"
	}
	return strings.ToUpper(name)
}

func offeredList(mimes []string) string {
	if len(mimes) == 0 {
		return "none"
	}
	names := make([]string, len(mimes))
	for i, m := range mimes {
		names[i] = codecName(m)
	}
	return strings.Join(names, ", ")
}
