package main

import (
	"context"
	"encoding/json"
	"io"
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

// Stereo Opus end to end: a publisher of stereo Opus (testdata/media/opus-stereo.ogg, 440 Hz
// left, 1000 Hz right). Chrome's captured recvonly offer (Opus fmtp without stereo) gets an
// answer whose Opus line says stereo=1;sprop-stereo=1, so Chrome decodes two channels; a viewer
// receives the publisher's Opus packets byte for byte, stereo (TOC s bit, RFC 6716 §3.1). The
// decoded channels are compared in real players by interop/cases/stereo-*.mjs.
func TestStereoOpus(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	audio, err := client.OpenOpus("../../testdata/media/opus-stereo.ogg")
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	for _, s := range audio.Samples() {
		if s.Data[0]&0x04 == 0 {
			t.Fatalf("the stereo clip has a mono packet: TOC %#x", s.Data[0])
		}
		sent[string(s.Data)] = true
	}
	pub, err := client.Publish(ctx, srv.whipURL("stereo"), client.PublishOptions{Audio: audio, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	offer, err := os.ReadFile("../../testdata/offers/chrome-recvonly.sdp")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.whepURL("stereo"), "application/sdp", strings.NewReader(string(offer)))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("chrome recvonly: %d %s", resp.StatusCode, answer)
	}
	if !strings.Contains(string(answer), "a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1\r\n") {
		t.Errorf("the answer's Opus line lacks stereo=1;sprop-stereo=1:\n%s", answer)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.base+resp.Header.Get("Location"), nil)
	if u := resp.Header.Get("Location"); strings.HasPrefix(u, "http") {
		req, _ = http.NewRequest(http.MethodDelete, u, nil)
	}
	if dr, err := http.DefaultClient.Do(req); err != nil || dr.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", dr, err)
	} else {
		dr.Body.Close()
	}

	v, err := client.View(ctx, srv.whepURL("stereo"), client.ViewOptions{Audio: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	for i := 0; i < 50; i++ {
		select {
		case p := <-v.AudioPackets():
			if !sent[string(p.Data)] {
				t.Fatalf("audio packet %d is not one the publisher sent (TOC %#x, %d bytes)", i, p.Data[0], len(p.Data))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d audio packets", i)
		}
	}
	srv.closeAll(t, base, v, pub)
}
