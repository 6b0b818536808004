package client

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

const (
	contentTypeSDP = "application/sdp"
	maxAnswerSize  = 1 << 20         // an answer larger than this is refused
	maxErrorBody   = 512             // bytes of an error body kept in StatusError
	deleteTimeout  = 5 * time.Second // bound on the DELETE sent by Close
	drainLimit     = 64 << 10        // bytes read from a DELETE response so the connection is reused
)

// resource is what a successful POST yields (RFC 9725 §4.2).
type resource struct {
	answer   string
	location string // absolute URL of the session
	etag     string // as sent, quotes included; empty if none
}

// post sends an SDP offer to a WHIP or WHEP endpoint and requires 201 Created with an
// application/sdp answer and a Location, which it resolves against the URL that answered
// (after any 307/308 redirect, RFC 9725 §4.5).
func post(ctx context.Context, hc *http.Client, endpoint, token, offer string) (resource, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer))
	if err != nil {
		return resource{}, fmt.Errorf("post: %w", err)
	}
	req.Header.Set("Content-Type", contentTypeSDP)
	req.Header.Set("Accept", contentTypeSDP)
	authorize(req, token)
	resp, err := hc.Do(req)
	if err != nil {
		return resource{}, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return resource{}, statusError(resp)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != contentTypeSDP {
		return resource{}, fmt.Errorf("post: %q: %w", resp.Header.Get("Content-Type"), ErrContentType)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return resource{}, fmt.Errorf("post: %w", ErrNoLocation)
	}
	abs, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return resource{}, fmt.Errorf("post: location %q: %w", loc, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerSize))
	if err != nil {
		return resource{}, fmt.Errorf("post: read answer: %w", err)
	}
	return resource{answer: string(body), location: abs.String(), etag: resp.Header.Get("ETag")}, nil
}

// remove sends DELETE to a session URL (RFC 9725 §4.2) and accepts any 2xx.
func remove(hc *http.Client, location, token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	authorize(req, token)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return statusError(resp)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	return nil
}

// authorize adds the bearer token (RFC 9725 §4.7.1) when there is one.
func authorize(req *http.Request, token string) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
}

func statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &StatusError{Method: resp.Request.Method, Code: resp.StatusCode, Body: string(body)}
}
