// Package webhook talks to the site's own backend over HTTP: the auth webhook asked before every
// WHIP or WHEP POST (fail closed), and the event webhook told when publishers start and stop
// (queued, bounded, retried, never blocking media). It implements wish.Admitter and wish.Notifier.
//
//   - auth.go: Auth, one bounded JSON POST per request; 2xx admits, 4xx refuses.
//   - events.go: Events, a bounded queue and one sender goroutine with retries.
package webhook
