package whip

import (
	"context"

	"github.com/wisp-media/wisp/wish"
)

// The Publisher is a wish.ICESession: PATCH on its URL trickles candidates or restarts ICE
// (RFC 9725 §4.3).
var _ wish.ICESession = (*Publisher)(nil)

// ETag is the entity tag of the session's current ICE session (COMMON-23).
func (p *Publisher) ETag() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.etag
}

// RemoteUfrag is the client's current ICE username fragment.
func (p *Publisher) RemoteUfrag() string { return p.ice.RemoteUfrag() }

// Trickle adds trickled candidates; unusable ones are discarded silently (COMMON-21).
func (p *Publisher) Trickle(ctx context.Context, f wish.Fragment) error {
	_, err := p.ice.AddCandidates(ctx, f.Mid, f.Candidates)
	return err
}

// Restart restarts ICE with the client's new credentials and returns the server's fragment and
// the new entity tag (COMMON-25). On error the old ICE session and tag are kept (COMMON-26).
func (p *Publisher) Restart(ctx context.Context, f wish.Fragment) (string, string, error) {
	frag, err := p.ice.Restart(ctx, f.Ufrag, f.Pwd, f.Mid, f.Candidates)
	if err != nil {
		return "", "", err
	}
	etag := wish.NewETag()
	p.mu.Lock()
	p.etag = etag
	p.mu.Unlock()
	p.log.Info("ice restart")
	return frag, etag, nil
}
