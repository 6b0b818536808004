package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Health endpoints on the main listener, unauthenticated and cheap (no lock, no I/O): a load
// balancer or Kubernetes probes them.
//
//	GET /healthz  200 while the process serves HTTP (liveness)
//	GET /readyz   200 while it accepts new sessions; 503 + Retry-After with the reason while draining
const (
	healthPath = "/healthz"
	readyPath  = "/readyz"
)

// registerHealth adds the health routes to e.
func (s *server) registerHealth(e *echo.Echo) {
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, healthPath, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.String(http.StatusOK, "ok\n")
	})
	e.Match(get, readyPath, func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		if s.draining.Load() {
			h.Set("Retry-After", drainRetryAfter)
			return c.String(http.StatusServiceUnavailable, "draining: new sessions are refused\n")
		}
		if up, clustered := s.cluster.directoryUp(); clustered && !up {
			// Still serving its own sessions: ready, but say so (and wisp_cluster_directory_up 0).
			return c.String(http.StatusOK, "ready, degraded: the cluster directory (Redis) is unreachable\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
}
