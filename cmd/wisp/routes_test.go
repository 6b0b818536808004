package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The pages, their assets and the status API are served by the real server, GET and HEAD.
func TestPagesAndStatusAPI(t *testing.T) {
	srv := startServer(t, nil)
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", "<html"},
		{"/publish/cam", "text/html", "publish.js"},
		{"/watch/cam", "text/html", "watch.js"},
		{"/static/wisp.js", "text/javascript", "export"},
		{"/api/streams", "application/json", `"streams"`},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, srv.base+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
				t.Errorf("%s %s: %d %q", method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: no nosniff header", method, tc.path)
			}
			if method == http.MethodGet && !strings.Contains(string(body), tc.contains) {
				t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
			}
			if method == http.MethodHead && len(body) != 0 {
				t.Errorf("HEAD %s: %d body bytes", tc.path, len(body))
			}
		}
	}
	resp, err := http.Get(srv.base + "/static/../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("a path outside the embedded files was served")
	}
	var list struct {
		Streams []map[string]any `json:"streams"`
	}
	resp, err = http.Get(srv.base + "/api/streams")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || list.Streams == nil || len(list.Streams) != 0 {
		t.Fatalf("empty server: %+v %v", list, err)
	}
}
