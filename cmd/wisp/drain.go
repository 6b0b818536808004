package main

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Graceful drain. On the first SIGTERM (or SIGINT) with -drain-timeout > 0 the server turns
// not ready (/readyz 503) at once and refuses new sessions (a POST to an endpoint gets 503 +
// Retry-After, so a client or load balancer tries another node), while live sessions go on until
// they end or the timeout passes; then every session is closed with a DTLS close_notify. A
// second signal ends the drain at once.

// drainRetryAfter is the Retry-After of refusals while draining, in seconds: long enough for a
// load balancer to notice the node is not ready.
const drainRetryAfter = "5"

// drainPoll is how often a drain checks whether every session has ended.
const drainPoll = 100 * time.Millisecond

// startDrain turns the server not ready and makes it refuse new sessions.
func (s *server) startDrain() { s.draining.Store(true) }

// refuseWhileDraining is the middleware that answers a session-creating POST (/whip/{stream},
// /whep/{stream}) 503 + Retry-After once the server drains; everything else (DELETE, PATCH, pages,
// probes) still works, so live sessions go on normally.
func (s *server) refuseWhileDraining(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !s.draining.Load() || r.Method != http.MethodPost || !isEndpointPath(r.URL.Path) {
			return next(c)
		}
		c.Set(rejectReasonKey, "draining")
		return reject(c, http.StatusServiceUnavailable, "Service Unavailable", "the server is shutting down; retry on another node", 5*time.Second)
	}
}

// isEndpointPath reports whether path is a WHIP or WHEP endpoint (/whip/{stream}, /whep/{stream}),
// where a POST creates a session.
func isEndpointPath(path string) bool {
	return (strings.HasPrefix(path, "/whip/") || strings.HasPrefix(path, "/whep/")) &&
		strings.Count(strings.Trim(path, "/"), "/") == 1
}

// drain waits, once the server refuses new sessions, until every session has ended, timeout
// has passed, another signal arrives on sigs or serving fails (its error is returned).
func (s *server) drain(timeout time.Duration, sigs <-chan os.Signal, served <-chan error) error {
	s.startDrain()
	s.log.Info("draining: not ready, new sessions refused, live sessions go on",
		"timeout", timeout, "sessions", s.sessionCount())
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(drainPoll)
	defer poll.Stop()
	for {
		select {
		case <-deadline.C:
			s.log.Info("drain timeout: closing the remaining sessions", "sessions", s.sessionCount())
			return nil
		case sig := <-sigs:
			s.log.Info("second signal: closing every session now", "signal", sig.String())
			return nil
		case err := <-served:
			return err
		case <-poll.C:
			if s.sessionCount() == 0 {
				s.log.Info("drained: no session left")
				return nil
			}
		}
	}
}

// sessionCount is the number of live WHIP and WHEP sessions.
func (s *server) sessionCount() int { return s.whip.Len() + s.whep.Len() }
