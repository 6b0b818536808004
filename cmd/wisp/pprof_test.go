package main

import (
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestProfilerServesHeap: -pprof serves the runtime profiles on its own listener, and stop
// releases it.
func TestProfilerServesHeap(t *testing.T) {
	base := runtime.NumGoroutine()
	p, err := startProfiler("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + p.addr() + "/debug/pprof/heap?debug=1"
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("GET heap: %d %.80q", resp.StatusCode, body)
	}
	p.stop()
	if _, err := hc.Get(url); err == nil {
		t.Fatal("profiles still served after stop")
	}
	checkGoroutines(t, base)
}
