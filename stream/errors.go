package stream

import "errors"

// Sentinel errors of the stream core. Callers match them with errors.Is.
var (
	// ErrInvalidName reports a stream name outside [A-Za-z0-9._~-]{1,128}.
	ErrInvalidName = errors.New("invalid stream name")
	// ErrNoCodec reports that a viewer negotiated no codec the Track can send.
	ErrNoCodec = errors.New("no common codec")
	// ErrFeedClosed reports a write to a Feed after its Close.
	ErrFeedClosed = errors.New("feed closed")
	// ErrKind reports a Feed of a media kind a Stream does not carry (neither audio nor video).
	ErrKind = errors.New("unsupported media kind")
	// ErrPublisherLive reports that a stream already has a live publisher that may not be replaced.
	ErrPublisherLive = errors.New("stream already has a publisher")
	// ErrClosed reports use of a Registry after Close.
	ErrClosed = errors.New("registry closed")
)
