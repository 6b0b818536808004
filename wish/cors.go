package wish

import (
	"net/http"
	"slices"
	"strings"
)

// CORS answers browser preflights and decorates responses for cross-origin pages (COMMON-11,
// COMMON-12). Unlike echo's CORS middleware it leaves a non-preflight OPTIONS (no
// Access-Control-Request-Method) to the handler, which adds Accept-Post and ice-server Links
// (COMMON-13, COMMON-14).
type CORS struct {
	// Origins allowed; empty or containing "*" allows any origin.
	Origins []string
}

// Header values of the CORS policy.
const (
	corsMethods = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, If-Match"
	corsExpose  = "Location, ETag, Link, Accept-Post, Accept-Patch, Retry-After, WWW-Authenticate"
	corsMaxAge  = "86400"
)

// Handle applies the policy to one request. It returns true when it answered the request itself
// (a preflight), false when the caller should go on to the handler.
func (c CORS) Handle(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && c.allows(origin)
	if allowed {
		if c.any() {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", corsExpose)
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	// A preflight: never authenticated, never reaches the handler.
	if allowed {
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	h.Set("Accept-Post", ContentTypeSDP)
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (c CORS) any() bool { return len(c.Origins) == 0 || slices.Contains(c.Origins, "*") }

func (c CORS) allows(origin string) bool {
	if c.any() {
		return true
	}
	return slices.ContainsFunc(c.Origins, func(o string) bool { return strings.EqualFold(o, origin) })
}
