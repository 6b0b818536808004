package whep

import "github.com/wisp-media/wisp/wish"

// The Viewer is a wish.ICESession through its embedded wish.ICEState: PATCH on its URL trickles
// candidates or restarts ICE (RFC 9725 §4.3).
var _ wish.ICESession = (*Viewer)(nil)
