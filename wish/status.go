package wish

import (
	"errors"
	"net/http"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
)

// Problem maps an error from a WHIP or WHEP call to the HTTP error sent for it, once for both
// protocols. An *Error passes through; the stream core's sentinels map to their spec statuses;
// anything else is a 500.
func Problem(err error) *Error {
	if e, ok := AsError(err); ok {
		return e
	}
	switch {
	case errors.Is(err, stream.ErrInvalidName):
		return Errorf(http.StatusNotFound, "Not Found", "%v", err)
	case errors.Is(err, rtc.ErrBadOffer):
		return Errorf(http.StatusBadRequest, "Bad Request", "%v", err)
	case errors.Is(err, rtc.ErrUnsupportedOffer), errors.Is(err, stream.ErrNoCodec):
		return Errorf(http.StatusUnprocessableEntity, "Unprocessable Content", "%v", err)
	case errors.Is(err, stream.ErrPublisherLive):
		return Errorf(http.StatusConflict, "Conflict", "%v", err)
	case errors.Is(err, rtc.ErrBusy):
		e := Errorf(http.StatusConflict, "Conflict", "%v", err)
		e.Header.Set("Retry-After", "1")
		return e
	case errors.Is(err, stream.ErrClosed):
		e := Errorf(http.StatusServiceUnavailable, "Service Unavailable", "shutting down")
		e.Header.Set("Retry-After", "5")
		return e
	case errors.Is(err, rtc.ErrGatherTimeout):
		e := Errorf(http.StatusServiceUnavailable, "Service Unavailable", "%v", err)
		e.Header.Set("Retry-After", "1")
		return e
	}
	return Errorf(http.StatusInternalServerError, "Internal Server Error", "%v", err)
}

// Unprocessable is the 422 for an offer the server understands but will not take.
func Unprocessable(format string, args ...any) *Error {
	return Errorf(http.StatusUnprocessableEntity, "Unprocessable Content", format, args...)
}
