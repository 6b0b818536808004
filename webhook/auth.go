package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wisp-media/wisp/wish"
)

// DefaultAuthTimeout bounds one auth webhook call, well under OBS's 8 s POST timeout.
const DefaultAuthTimeout = 2 * time.Second

// maxDrain is how much of a hook's response body is read (so the connection can be reused).
const maxDrain = 4 << 10

// Auth asks the auth webhook about each POST: a JSON wish.AdmitRequest is POSTed to URL. A 2xx
// answer admits; a 4xx refuses (wish.ErrDenied); no answer within Timeout, a connection error or a
// 5xx is an error that is not ErrDenied, so the POST gets 503 + Retry-After (fail closed).
type Auth struct {
	URL     string
	Timeout time.Duration // default DefaultAuthTimeout
	Client  *http.Client  // default: one that follows no redirect (the timeout comes from the context)
}

// Admit implements wish.Admitter.
func (a Auth) Admit(ctx context.Context, req wish.AdmitRequest) error {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultAuthTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("auth webhook: %w", err)
	}
	status, err := post(ctx, a.Client, a.URL, body)
	switch {
	case err != nil:
		return fmt.Errorf("auth webhook: %w", err)
	case status >= 200 && status < 300:
		return nil
	case status >= 500:
		return fmt.Errorf("auth webhook: status %d", status)
	}
	return fmt.Errorf("auth webhook: status %d: %w", status, wish.ErrDenied)
}

// noRedirects is the default client: a hook answers itself; a redirect (3xx) is its answer.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// post sends a JSON body and returns the status. Redirects are not followed: the hook answers.
func post(ctx context.Context, client *http.Client, url string, body []byte) (int, error) {
	if client == nil {
		client = noRedirects
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wisp")
	resp, err := client.Do(req)
	if err != nil {
		// url.Error quotes the URL only: the body (and its token) is never in the message.
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return resp.StatusCode, nil
}
