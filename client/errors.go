package client

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrStatus is matched by every *StatusError: the server answered with an unexpected HTTP status.
	ErrStatus = errors.New("unexpected http status")
	// ErrNoLocation means a 201 carried no Location header (RFC 9725 §4.2 requires one).
	ErrNoLocation = errors.New("201 without location")
	// ErrContentType means a 201 answer was not application/sdp (RFC 9725 §4.2).
	ErrContentType = errors.New("answer content type is not application/sdp")
	// ErrNoMedia means PublishOptions or ViewOptions asked for nothing to send or receive.
	ErrNoMedia = errors.New("no media and no data channel")
	// ErrNoDataChannel means Send was called on a session created without a data channel.
	ErrNoDataChannel = errors.New("no data channel")
	// ErrNotOpen means the data channel is not open (yet, or any more).
	ErrNotOpen = errors.New("data channel not open")
	// ErrMedia means a media file could not be parsed.
	ErrMedia = errors.New("bad media file")
)

// StatusError is returned when a WHIP/WHEP request gets a status other than the one the
// protocol prescribes (201 for POST, 2xx for DELETE). errors.Is(err, ErrStatus) is true for it.
type StatusError struct {
	Method string // "POST" or "DELETE"
	Code   int    // the HTTP status code received
	Body   string // the start of the response body (at most 512 bytes)
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: http status %d: %q", e.Method, e.Code, e.Body)
}

// Unwrap makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Unwrap() error { return ErrStatus }
