package stream

import "errors"

// Sentinel errors of the stream core. Callers match them with errors.Is.
var (
	// ErrInvalidName reports a stream name outside [A-Za-z0-9._~-]{1,128}.
	ErrInvalidName = errors.New("invalid stream name")
	// ErrNoCodec reports that a viewer negotiated no codec the Track can send.
	ErrNoCodec = errors.New("no common codec")
	// ErrReplaced reports a write from a Source that is no longer the Track's current one.
	ErrReplaced = errors.New("source replaced")
	// ErrPublisherLive reports that a stream already has a live publisher that may not be replaced.
	ErrPublisherLive = errors.New("stream already has a publisher")
	// ErrClosed reports use of a Registry after Close.
	ErrClosed = errors.New("registry closed")
)
