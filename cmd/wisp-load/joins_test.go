package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPostClock notes when the first POST left, not a GET before it nor a later POST.
func TestPostClock(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var c postClock
	hc := &http.Client{Transport: &c}
	get := func(method string) {
		req, _ := http.NewRequest(method, srv.URL, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get(http.MethodGet)
	if !c.time().IsZero() {
		t.Fatal("a GET set the POST time")
	}
	before := time.Now()
	get(http.MethodPost)
	first := c.time()
	if first.Before(before) || first.After(time.Now()) {
		t.Fatalf("POST time %v not within the POST", first)
	}
	get(http.MethodPost)
	if c.time() != first {
		t.Fatal("a second POST moved the time")
	}
}

// TestPinLayer sends the WHEP layer extension's pin (WHEPX-06) to {session}/layer and reports
// a refusal.
func TestPinLayer(t *testing.T) {
	var got, ctype string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, ctype = r.Method+" "+r.URL.Path+" "+string(b), r.Header.Get("Content-Type")
		w.WriteHeader(status)
	}))
	defer srv.Close()
	if err := pinLayer(context.Background(), srv.URL+"/whep/bench/abc", "h"); err != nil {
		t.Fatal(err)
	}
	if want := `POST /whep/bench/abc/layer {"mediaId":"0","rid":"h"}`; got != want || ctype != "application/json" {
		t.Fatalf("sent %q (%s), want %q (application/json)", got, ctype, want)
	}
	status = http.StatusBadRequest
	if err := pinLayer(context.Background(), srv.URL+"/whep/bench/abc", "x"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a 400 gave %v", err)
	}
}
