//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"log/slog"

	"github.com/wisp-media/wisp/client"
)

// TestAutoLayersDoneWhen1 (issue 12 Done-when 1; WHEPX-06's automatic choice, -auto-layers): the autoPub
// stream and six pion viewers, each in its own network namespace behind a tc tbf cap on its veth
// (this kernel has tbf but no netem): 0.6 Mbit/s, 1.6 Mbit/s and none, three that send
// transport-cc feedback and three that send only receiver reports (and NACKs). With nothing but
// their own feedback:
//   - each settles on the layer that fits (l, m, h) within 40 s of media, the 1.6 Mbit/s ones
//     never showing h, and then every one holds its layer for 20 s of media with no freeze over
//     500 ms, its probes included;
//   - the 1.6 caps drop to 0.6: each of those two is on l within 2 s plus one keyframe interval
//     of l (90 frames of media);
//   - the caps are lifted: each is back on h within 30 s of media, with no freeze over 500 ms.
//
// Every frame is byte-identical to a frame of its layer's source (and on the links without a cap
// every switch starts at a keyframe); each viewer sees one SSRC, and on the links without a cap
// no sequence number is missing. Then every viewer's loop and padding end with its session
// (goroutines back to the baseline).
func TestAutoLayersDoneWhen1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root for network namespaces (CI runs as root)")
	}
	caps := []string{"600kbit", "1600kbit", ""}
	var views []*autoViewer
	for k, kind := range []string{"transport-cc", "receiver-reports"} {
		for c, rate := range caps {
			name := fmt.Sprintf("%s viewer capped %q", kind, rate)
			if rate == "" {
				name = kind + " viewer uncapped"
			}
			views = append(views, &autoViewer{name: name, want: c, link: newAutoLink(t, k*len(caps)+c, rate)})
		}
	}
	// wisp's media socket is on the first link's host address only (see TestAutoLayers).
	srv := startServer(t, func(c *config) { c.ICEHost = views[0].link.hostIP; c.AutoLayers = true; c.LogLevel = slog.LevelDebug })
	base := runtime.NumGoroutine()
	pub := startAutoPub(t, srv, "auto")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, a := range views {
		v, err := client.View(ctx, srv.whepURL("auto"), client.ViewOptions{Video: true, API: a.link.apiWith(t, i >= len(caps))})
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		defer v.Close()
		a.v, a.w = v, pub.watch(ctx, v, caps[a.want] == "")
	}
	report := func() string { return layerReport(views) }
	t.Cleanup(func() { t.Logf("layers at the end:%s", report()) })
	mid := func(a *autoViewer) bool { return caps[a.want] == "1600kbit" }
	neverHigh := func() {
		t.Helper()
		for _, a := range views {
			if mid(a) && a.seen(2) {
				t.Fatalf("%s got %q through its cap:%s", a.name, pub.names[2], report())
			}
		}
	}

	// Settle: each on the layer its cap fits.
	pub.waitMedia(t, 40*autoFPS, "every viewer on the layer that fits", func() bool {
		neverHigh()
		for _, a := range views {
			if a.layer(t) != a.want {
				return false
			}
		}
		return true
	})
	t.Logf("settled after %.1f s of media:%s", float64(pub.frames.Load())/autoFPS, report())

	// Hold for 20 s of media: no layer changes, no freeze over 500 ms.
	since := make([]time.Time, len(views))
	for i, a := range views {
		_, since[i], _ = a.w.state()
		a.w.markGap()
	}
	holdEnd := pub.frames.Load() + 20*autoFPS
	pub.waitMedia(t, 21*autoFPS, "the hold", func() bool {
		neverHigh()
		for i, a := range views {
			if l, s, _ := a.w.state(); a.layer(t) != a.want || !s.Equal(since[i]) {
				t.Fatalf("%s left %q during the hold (now %d):%s", a.name, pub.names[a.want], l, report())
			}
		}
		return pub.frames.Load() >= holdEnd
	})
	for _, a := range views {
		if g := a.w.markGap(); g > 500*time.Millisecond {
			t.Errorf("%s: a %v freeze during the hold", a.name, g)
		}
	}

	// The 1.6 Mbit/s caps drop to 0.6: those viewers are on l within 2 s plus one keyframe interval.
	dropAt := pub.frames.Load()
	t.Logf("caps 1600kbit -> 600kbit at %s", time.Now().Format("15:04:05.000"))
	onLow := map[*autoViewer]int64{}
	for _, a := range views {
		if mid(a) {
			a.link.shape(t, "change", "600kbit")
		}
	}
	pub.waitMedia(t, 2*autoFPS+autoKeyframe, "the viewers whose cap dropped on l", func() bool {
		for _, a := range views {
			if _, ok := onLow[a]; mid(a) && !ok && a.layer(t) == 0 {
				onLow[a] = pub.frames.Load() - dropAt
			}
		}
		return len(onLow) == 2
	})
	for a, f := range onLow {
		t.Logf("%s on l %.2f keyframe intervals after its cap dropped", a.name, float64(f)/autoKeyframe)
	}

	// The caps are lifted: back on h within 30 s of media, without a freeze over 500 ms.
	liftAt := pub.frames.Load()
	t.Logf("caps lifted at %s", time.Now().Format("15:04:05.000"))
	onHigh := map[*autoViewer]int64{}
	for _, a := range views {
		if mid(a) {
			a.link.shape(t, "del", "")
			a.w.markGap()
		}
	}
	pub.waitMedia(t, 30*autoFPS, "the viewers whose cap was lifted on h", func() bool {
		for _, a := range views {
			if _, ok := onHigh[a]; mid(a) && !ok && a.layer(t) == 2 {
				onHigh[a] = pub.frames.Load() - liftAt
			}
		}
		return len(onHigh) == 2
	})
	for a, f := range onHigh {
		t.Logf("%s on h %.1f s of media (%.1f keyframe intervals of h) after its cap was lifted", a.name,
			float64(f)/autoFPS, float64(f)/(2*autoKeyframe))
		if g := a.w.markGap(); g > 500*time.Millisecond {
			t.Errorf("%s: a %v freeze on its way back to h", a.name, g)
		}
	}
	for _, a := range views {
		a.checkSequence(t, caps[a.want] != "")
	}
	t.Logf("layers:%s", report())

	// Every viewer's loop and probe padding end with its session: goroutines back to the baseline.
	endAuto(t, srv, pub, base, cancel, views)
}
