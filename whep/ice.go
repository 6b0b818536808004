package whep

import (
	"context"

	"github.com/wisp-media/wisp/wish"
)

// The Viewer is a wish.ICESession: PATCH on its URL trickles candidates or restarts ICE
// (RFC 9725 §4.3).
var _ wish.ICESession = (*Viewer)(nil)

// ETag is the entity tag of the session's current ICE session (COMMON-23).
func (v *Viewer) ETag() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.etag
}

// RemoteUfrag is the client's current ICE username fragment.
func (v *Viewer) RemoteUfrag() string { return v.ice.RemoteUfrag() }

// Trickle adds trickled candidates; unusable ones are discarded silently (COMMON-21).
func (v *Viewer) Trickle(ctx context.Context, f wish.Fragment) error {
	_, err := v.ice.AddCandidates(ctx, f.Mid, f.Candidates)
	return err
}

// Restart restarts ICE with the client's new credentials and returns the server's fragment and
// the new entity tag (COMMON-25). On error the old ICE session and tag are kept (COMMON-26).
func (v *Viewer) Restart(ctx context.Context, f wish.Fragment) (string, string, error) {
	frag, err := v.ice.Restart(ctx, f.Ufrag, f.Pwd, f.Mid, f.Candidates)
	if err != nil {
		return "", "", err
	}
	etag := wish.NewETag()
	v.mu.Lock()
	v.etag = etag
	v.mu.Unlock()
	v.log.Info("ice restart")
	return frag, etag, nil
}
