package wish

import (
	"context"
	"log/slog"
	"sync"

	"github.com/wisp-media/wisp/rtc"
)

// ICEState makes a session an ICESession: it holds the entity tag of the current ICE session and
// passes trickled candidates and restarts to the session's rtc.ICE. WHIP publishers and WHEP
// viewers embed it.
type ICEState struct {
	ice *rtc.ICE
	log *slog.Logger

	mu   sync.Mutex
	etag string
}

// NewICEState starts with a fresh entity tag (COMMON-23).
func NewICEState(ice *rtc.ICE, log *slog.Logger) *ICEState {
	return &ICEState{ice: ice, log: log, etag: NewETag()}
}

// ETag is the entity tag of the session's current ICE session (COMMON-23).
func (s *ICEState) ETag() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.etag
}

// RemoteUfrag is the client's current ICE username fragment.
func (s *ICEState) RemoteUfrag() string { return s.ice.RemoteUfrag() }

// Trickle adds trickled candidates; unusable ones are discarded silently (COMMON-21).
func (s *ICEState) Trickle(ctx context.Context, f Fragment) error {
	_, err := s.ice.AddCandidates(ctx, f.Mid, f.Candidates)
	return err
}

// Restart restarts ICE with the client's new credentials and returns the server's fragment and
// the new entity tag (COMMON-25). On error the old ICE session and tag are kept (COMMON-26).
func (s *ICEState) Restart(ctx context.Context, f Fragment) (string, string, error) {
	frag, err := s.ice.Restart(ctx, f.Ufrag, f.Pwd, f.Mid, f.Candidates)
	if err != nil {
		return "", "", err
	}
	etag := NewETag()
	s.mu.Lock()
	s.etag = etag
	s.mu.Unlock()
	s.log.Info("ice restart")
	return frag, etag, nil
}
