package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPostErrors: every way a server can answer a POST wrongly gives a typed error, and the
// half-built session leaves no goroutine behind.
func TestPostErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
	}{
		{"403", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "nope", http.StatusForbidden)
		}, func(err error) bool {
			var se *StatusError
			return errors.Is(err, ErrStatus) && errors.As(err, &se) && se.Code == 403 && se.Body == "nope\n" && se.Method == "POST"
		}},
		{"200 instead of 201", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentTypeSDP)
			w.Header().Set("Location", "/s/1")
			_, _ = io.WriteString(w, "v=0\r\n")
		}, func(err error) bool {
			var se *StatusError
			return errors.As(err, &se) && se.Code == 200
		}},
		{"no Location", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentTypeSDP)
			w.WriteHeader(http.StatusCreated)
		}, func(err error) bool { return errors.Is(err, ErrNoLocation) }},
		{"wrong content type", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Location", "/s/1")
			w.WriteHeader(http.StatusCreated)
		}, func(err error) bool { return errors.Is(err, ErrContentType) }},
		{"bad answer", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/sdp; charset=utf-8") // parameters are fine
			w.Header().Set("Location", "/s/1")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "hello")
		}, func(err error) bool { return err != nil && !errors.Is(err, ErrStatus) }},
		{"hangs past the deadline", func(_ http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
			<-r.Context().Done()
		}, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			hc := newHTTPClient(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			p, err := Publish(ctx, srv.URL+"/whip/x", PublishOptions{Audio: openOpus(t), HTTPClient: hc})
			if p != nil || !tc.check(err) {
				t.Fatalf("Publish: %v", err)
			}
			ctx, cancel = context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			v, err := View(ctx, srv.URL+"/whep/x", ViewOptions{Video: true, HTTPClient: hc})
			if v != nil || !tc.check(err) {
				t.Fatalf("View: %v", err)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Publish(ctx, "http://127.0.0.1:1/", PublishOptions{}); !errors.Is(err, ErrNoMedia) {
		t.Errorf("empty PublishOptions: %v", err)
	}
	if _, err := View(ctx, "http://127.0.0.1:1/", ViewOptions{}); !errors.Is(err, ErrNoMedia) {
		t.Errorf("empty ViewOptions: %v", err)
	}
	if _, err := Publish(ctx, "http://127.0.0.1:1/", PublishOptions{Video: openOpus(t)}); !errors.Is(err, ErrMedia) {
		t.Errorf("audio as video: %v", err)
	}
	var p Publisher
	if err := p.Send([]byte("x")); !errors.Is(err, ErrNoDataChannel) {
		t.Errorf("Send without data channel: %v", err)
	}
}

// TestLocation: the Location is resolved against the URL that answered (after a 307), and Close
// sends DELETE there.
func TestLocation(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint string
		location       func(base, id string) string
		want           string // path of the resolved Location
	}{
		{"absolute path", "/whip/live", func(_, id string) string { return "/session/" + id }, "/session/s1"},
		{"relative", "/whip/live", func(_, id string) string { return "sessions/" + id }, "/whip/sessions/s1"},
		{"absolute URL", "/whip/live", func(base, id string) string { return base + "/x/" + id }, "/x/s1"},
		{"after 307", "/moved/live", func(_, id string) string { return "sessions/" + id }, "/whip/sessions/s1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			l := newLoopback(t)
			l.location = func(id string) string { return tc.location(l.srv.URL, id) }
			p, err := Publish(context.Background(), l.url(tc.endpoint), PublishOptions{
				Audio: openOpus(t), Token: "t", HTTPClient: newHTTPClient(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			if p.Location() != l.url(tc.want) {
				t.Errorf("Location() = %q, want %q", p.Location(), l.url(tc.want))
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, l.deleted, "DELETE"); got != tc.want {
				t.Errorf("DELETE %s, want %s", got, tc.want)
			}
			if got := l.authHeaders(); len(got) != 1 || got[0] != "Bearer t" {
				t.Errorf("Authorization %q (the token must survive a same-host redirect)", got)
			}
		})
	}
}

// TestDeleteError: a failed DELETE is returned by Close, which still tears everything down.
func TestDeleteError(t *testing.T) {
	noLeaks(t)
	l := newLoopback(t)
	l.location = func(id string) string { return "/gone/" + id + "x" } // DELETE finds no session: 404
	p, err := Publish(context.Background(), l.url("/whip/live"), PublishOptions{Audio: openOpus(t), HTTPClient: newHTTPClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Close()
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusNotFound || se.Method != http.MethodDelete {
		t.Fatalf("Close = %v, want a 404 StatusError", err)
	}
	wait(t, p.Ended(), "ended")
	if err2 := p.Close(); err2 != err {
		t.Fatalf("second Close = %v, want the first result", err2)
	}
}
