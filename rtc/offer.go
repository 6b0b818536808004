package rtc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// Errors from ParseOffer. ErrBadOffer maps to HTTP 400, ErrUnsupportedOffer to 422.
var (
	ErrBadOffer         = errors.New("malformed SDP offer")
	ErrUnsupportedOffer = errors.New("unsupported SDP offer")
)

// Offer is what the HTTP layer needs to know of an SDP offer before negotiating.
type Offer struct {
	// SDP is the offer text as received.
	SDP string
	// Audio, Video and Data report which kinds the offer has (at most one of each media kind,
	// but see ParseLayeredOffer).
	Audio, Video, Data bool
	// VideoSections is how many live video sections the offer has: 1 at most from ParseOffer.
	VideoSections int
	// Directions maps "audio"/"video" to the offered direction (sendonly, recvonly, sendrecv, inactive).
	Directions map[string]string
}

// ParseOffer parses and checks an offer: it must be valid SDP (RFC 8866) with at least one m-line,
// and carry at most one audio and one video section (one MediaStream, RFC 9725 §4.4.2); an
// application (data channel) section is allowed. Directions are left to the caller (WHIP and WHEP
// differ). Offers without msid, candidates, rtcp-mux-only or bundle-only are accepted (COMMON-33,
// COMMON-34, COMMON-37).
func ParseOffer(text string) (Offer, error) { return parseOffer(text, 1) }

// ParseLayeredOffer is ParseOffer allowing up to maxVideo video sections: a wisp node pulling a
// simulcast stream from the node that owns it offers one section per layer (whep's pulls only).
// Directions["video"] is then the first direction that is not recvonly, if any.
func ParseLayeredOffer(text string, maxVideo int) (Offer, error) { return parseOffer(text, maxVideo) }

func parseOffer(text string, maxVideo int) (Offer, error) {
	if !strings.HasPrefix(strings.TrimLeft(text, "\r\n\t "), "v=") {
		return Offer{}, fmt.Errorf("%w: does not start with v=", ErrBadOffer)
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(text); err != nil {
		return Offer{}, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if len(desc.MediaDescriptions) == 0 {
		return Offer{}, fmt.Errorf("%w: no media sections", ErrBadOffer)
	}
	o := Offer{SDP: text, Directions: make(map[string]string, 2)}
	sections := 0 // video sections, live or not
	for _, m := range desc.MediaDescriptions {
		kind := m.MediaName.Media
		switch kind {
		case "audio", "video":
			prev, dup := o.Directions[kind]
			if dup && (kind == "audio" || sections >= maxVideo) {
				return Offer{}, fmt.Errorf("%w: more than one %s section", ErrUnsupportedOffer, kind)
			}
			if kind == "video" {
				sections++
			}
			dir := direction(m)
			if m.MediaName.Port.Value == 0 && !bundleOnly(m) {
				dir = "inactive" // rejected section
			}
			if !dup || prev == "recvonly" {
				o.Directions[kind] = dir
			}
			if dir == "inactive" {
				continue
			}
			if kind == "audio" {
				o.Audio = true
			} else {
				o.Video = true
				o.VideoSections++
			}
		case "application":
			o.Data = true
		default:
			return Offer{}, fmt.Errorf("%w: media %q", ErrUnsupportedOffer, kind)
		}
	}
	return o, nil
}

// bundleOnly reports a=bundle-only: such a section has port 0 yet is live on the BUNDLE transport
// (RFC 8843 §6), as in GStreamer webrtcbin's max-bundle offers (simple-whip-client).
func bundleOnly(m *sdp.MediaDescription) bool {
	_, ok := m.Attribute("bundle-only")
	return ok
}

func direction(m *sdp.MediaDescription) string {
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendonly", "recvonly", "sendrecv", "inactive":
			return a.Key
		}
	}
	return "sendrecv" // RFC 8866 §6.7: the default
}
