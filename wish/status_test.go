package wish

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
)

// Errors map to their spec statuses once, with Retry-After where a retry makes sense.
func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		retryAfter bool
	}{
		{fmt.Errorf("x: %w", rtc.ErrBadOffer), http.StatusBadRequest, false},
		{fmt.Errorf("x: %w", rtc.ErrUnsupportedOffer), http.StatusUnprocessableEntity, false},
		{fmt.Errorf("x: %w", stream.ErrNoCodec), http.StatusUnprocessableEntity, false},
		{fmt.Errorf("x: %w", stream.ErrInvalidName), http.StatusNotFound, false},
		{fmt.Errorf("x: %w", stream.ErrPublisherLive), http.StatusConflict, false},
		{fmt.Errorf("x: %w", rtc.ErrBusy), http.StatusConflict, true},
		{fmt.Errorf("x: %w", stream.ErrClosed), http.StatusServiceUnavailable, true},
		{fmt.Errorf("x: %w", rtc.ErrGatherTimeout), http.StatusServiceUnavailable, true},
		{Errorf(http.StatusPreconditionFailed, "Precondition Failed", "x"), http.StatusPreconditionFailed, false},
		{errors.New("other"), http.StatusInternalServerError, false},
	} {
		e := Problem(tc.err)
		if e.Status != tc.status || (e.Header.Get("Retry-After") != "") != tc.retryAfter {
			t.Errorf("%v → %d Retry-After %q, want %d %v", tc.err, e.Status, e.Header.Get("Retry-After"), tc.status, tc.retryAfter)
		}
	}
}
