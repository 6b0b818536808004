package wish

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// COMMON-07, COMMON-28, COMMON-31: Locations are absolute, with https when the client came over
// TLS, directly or through a TLS-ending proxy, or when a public URL is configured.
func TestBaseURL(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://live.test/whip/x", nil)
	if got := BaseURL(r, ""); got != "http://live.test" {
		t.Errorf("plain: %q", got)
	}
	r.Header.Set("X-Forwarded-Proto", "https")
	if got := BaseURL(r, ""); got != "https://live.test" {
		t.Errorf("behind a TLS proxy: %q", got)
	}
	r = httptest.NewRequest(http.MethodPost, "https://live.test/whip/x", nil)
	r.TLS = &tls.ConnectionState{}
	if got := BaseURL(r, ""); got != "https://live.test" {
		t.Errorf("TLS: %q", got)
	}
	if got := BaseURL(r, "https://cdn.example/"); got != "https://cdn.example" {
		t.Errorf("configured: %q", got)
	}
}
