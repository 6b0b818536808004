package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// A viewer that cannot decode the publisher's codec gets 422 with a problem body naming it
// (WHEP-05: no common codec → 4xx, never 406), not a 201 and a black player: Chrome's, Firefox's
// and Safari's captured recvonly offers (no H.265) for an H.265 stream, Safari's (H.264 and VP8
// only) for a VP9 and an AV1 stream. A viewer offering the codec (pion's, which has H.265, VP9
// and AV1) gets 201 and the publisher's packets.
func TestViewerWithoutPublisherCodec(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := func(name string) string {
		b, err := os.ReadFile("../../testdata/offers/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		file, codec string
		open        func(string) (*client.Source, error)
		refused     []string // captured offers without the codec
	}{
		{"h265.h265", "H265", func(p string) (*client.Source, error) { return client.OpenH265(p, 30) },
			[]string{"chrome-recvonly.sdp", "firefox-recvonly.sdp", "safari-recvonly.sdp"}},
		{"vp9.ivf", "VP9", client.OpenIVF, []string{"safari-recvonly.sdp"}},
		{"av1.ivf", "AV1", client.OpenIVF, []string{"safari-recvonly.sdp", "firefox-recvonly.sdp"}},
	} {
		t.Run(c.codec, func(t *testing.T) {
			src, err := c.open("../../testdata/media/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			name := "codec-" + strings.ToLower(c.codec)
			pub, err := client.Publish(ctx, srv.whipURL(name), client.PublishOptions{Video: src, Loop: true})
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			defer pub.Close()
			st, ok := srv.registry.Get(name)
			if !ok {
				t.Fatal("stream not in registry")
			}
			want := "video/" + strings.ToLower(c.codec)
			waitFor(t, 10*time.Second, "the publisher's first packet", func() bool { return st.Info().Video == want })
			for _, file := range c.refused {
				resp, err := http.Post(srv.whepURL(name), "application/sdp", strings.NewReader(offer(file)))
				if err != nil {
					t.Fatal(err)
				}
				var problem struct {
					Status int    `json:"status"`
					Detail string `json:"detail"`
				}
				err = json.NewDecoder(resp.Body).Decode(&problem)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/problem+json" ||
					err != nil || problem.Status != 422 || !strings.Contains(problem.Detail, c.codec+" video") {
					t.Errorf("%s: %d %s %+v (%v); want 422 application/problem+json naming %s",
						file, resp.StatusCode, resp.Header.Get("Content-Type"), problem, err, c.codec)
				}
				t.Logf("%s: %d %s", file, resp.StatusCode, problem.Detail)
			}
			if n := srv.whep.Len(); n != 0 {
				t.Fatalf("%d viewer sessions after the refusals, want 0", n)
			}
			v, err := client.View(ctx, srv.whepURL(name), client.ViewOptions{Video: true})
			if err != nil {
				t.Fatalf("a viewer with %s: %v", c.codec, err)
			}
			defer v.Close()
			waitFor(t, 10*time.Second, "video packets at the viewer", func() bool { return v.Stats().Video.Packets > 30 })
			if got := v.Stats().Video.Codec; !strings.EqualFold(got, want) {
				t.Errorf("viewer receives %s, want %s", got, want)
			}
		})
	}
	srv.closeAll(t, base)
}
