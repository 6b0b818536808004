package wish

import (
	"net/http"

	"github.com/wisp-media/wisp/rtc"
)

// Sides of an offer: what the client does with media. A WHIP publisher sends (it may not offer
// recvonly or inactive media, WHIP-01); a WHEP player receives (it may not offer sendonly or
// inactive media, WHEP-02).
const (
	Sends    = "sendonly"
	Receives = "recvonly"
)

// ReadOffer reads and checks the offer of a POST: application/sdp (415), within max bytes (413),
// valid SDP (400), at least one audio or video section, and no section in the direction opposite
// to side or inactive (422).
func ReadOffer(r *http.Request, max int64, side string) (rtc.Offer, error) {
	return ReadLayeredOffer(r, max, side, 1)
}

// ReadLayeredOffer is ReadOffer allowing up to maxVideo video sections (rtc.ParseLayeredOffer):
// for a pull by another wisp node only.
func ReadLayeredOffer(r *http.Request, max int64, side string, maxVideo int) (rtc.Offer, error) {
	body, err := ReadBody(r, ContentTypeSDP, max)
	if err != nil {
		return rtc.Offer{}, err
	}
	o, err := rtc.ParseLayeredOffer(body, maxVideo)
	if err != nil {
		return rtc.Offer{}, err
	}
	if !o.Audio && !o.Video {
		return rtc.Offer{}, Unprocessable("the offer has no audio or video")
	}
	opposite := Receives
	if side == Receives {
		opposite = Sends
	}
	for kind, dir := range o.Directions {
		if dir == opposite || dir == "inactive" {
			return rtc.Offer{}, Unprocessable("%s is %s; this endpoint takes %s media", kind, dir, side)
		}
	}
	return o, nil
}
