package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wisp-media/wisp/wish"
)

// The auth webhook admits on 2xx, refuses (ErrDenied) on 4xx, and is unavailable (an error that
// is not ErrDenied: 503 + Retry-After upstream) on a 5xx, a hook slower than the timeout and a
// hook that is down.
func TestAuthAdmit(t *testing.T) {
	got := make(chan wish.AdmitRequest, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wish.AdmitRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- req
		switch req.Stream {
		case "ok":
			w.WriteHeader(http.StatusNoContent)
		case "broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "slow":
			<-r.Context().Done() // answers only once wisp gave up
		case "redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect) // not followed: a refusal
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer hook.Close()
	a := Auth{URL: hook.URL, Timeout: 200 * time.Millisecond}
	req := wish.AdmitRequest{Action: wish.ActionPublish, Token: "t0k", RemoteAddr: "192.0.2.1:5000", UserAgent: "obs"}
	ask := func(stream string) error {
		r := req
		r.Stream = stream
		return a.Admit(context.Background(), r)
	}
	if err := ask("ok"); err != nil {
		t.Fatalf("allowed stream: %v", err)
	}
	if r := <-got; r.Action != "publish" || r.Stream != "ok" || r.Token != "t0k" || r.RemoteAddr != "192.0.2.1:5000" || r.UserAgent != "obs" {
		t.Fatalf("hook got %+v", r)
	}
	if err := ask("no"); !errors.Is(err, wish.ErrDenied) {
		t.Fatalf("denied stream: %v, want ErrDenied", err)
	}
	if err := ask("redirect"); !errors.Is(err, wish.ErrDenied) || len(got) != 2 {
		t.Fatalf("redirecting hook: %v (%d requests queued), want ErrDenied without following", err, len(got))
	}
	<-got
	<-got
	for _, s := range []string{"broken", "slow"} {
		if err := ask(s); err == nil || errors.Is(err, wish.ErrDenied) {
			t.Fatalf("%s hook: %v, want an unavailable error", s, err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	if err := (Auth{URL: down}).Admit(context.Background(), req); err == nil || errors.Is(err, wish.ErrDenied) {
		t.Fatalf("hook down: %v, want an unavailable error", err)
	}
}
