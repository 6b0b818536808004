package rtc

import "errors"

// ErrGatherTimeout reports that ICE gathering did not complete before the negotiation deadline
// (Answer, ICE.Restart). The HTTP layers map it to 503 with Retry-After.
var ErrGatherTimeout = errors.New("ice gathering timed out")
