package datarelay

import "errors"

var (
	// ErrClosed is returned by [Relay.Publish] after [Relay.Close].
	ErrClosed = errors.New("datarelay: relay closed")

	// ErrTooLarge is returned by [Relay.Publish] for a message larger than
	// [Config.MaxMessage]; the message is dropped and counted as [DropTooLarge].
	ErrTooLarge = errors.New("datarelay: message too large")
)
