package wish

import (
	"net/http"
	"strings"
)

// BaseURL returns the scheme and host a client used to reach the server, for absolute Location
// URLs (COMMON-07, COMMON-28: PATCH and DELETE go there directly). A configured public base URL
// wins; otherwise it is taken from the request, honouring X-Forwarded-Proto from a TLS-ending proxy.
func BaseURL(r *http.Request, configured string) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
