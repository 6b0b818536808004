//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// layerSources are the three layers of the simulcast tests: rid, clip and a hash set of its frames.
type layerSources struct {
	names []string
	srcs  []*client.Source
	sets  []map[[32]byte]bool
}

// openLayers opens l (320x240, a keyframe every second), m (640x360, every second) and h
// (1280x720, every 2 s).
func openLayers(t *testing.T) layerSources {
	t.Helper()
	ls := layerSources{names: []string{"l", "m", "h"}}
	for _, file := range []string{"h264.h264", "h264-360p.h264", "h264-720p.h264"} {
		s, err := client.OpenH264("../../testdata/media/"+file, 30)
		if err != nil {
			t.Fatal(err)
		}
		set := map[[32]byte]bool{}
		for _, f := range s.Samples() {
			set[sha256.Sum256(f.Data)] = true
		}
		ls.srcs, ls.sets = append(ls.srcs, s), append(ls.sets, set)
	}
	return ls
}

// resumeOn reads v's frames until a keyframe of layer want, then requires n more frames of that
// layer and none of another; every frame must be a source's.
func resumeOn(t *testing.T, v *client.Viewer, ls layerSources, want, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for started, i := false, 0; i < n; {
		select {
		case f := <-v.Frames():
			l := ls.layer(f)
			switch {
			case l < 0:
				t.Fatalf("a frame (%d bytes) of no layer", len(f.Data))
			case !started:
				started = l == want && f.Keyframe
			case l != want:
				t.Fatalf("a frame of layer %q after %d frames of layer %q", ls.names[l], i, ls.names[want])
			default:
				i++
			}
		case <-deadline:
			t.Fatalf("layer %q: %d of %d frames in %v", ls.names[want], i, n, d)
		}
	}
}

// layer returns the index of the layer a frame belongs to, -1 for none.
func (ls layerSources) layer(f client.Frame) int {
	h := sha256.Sum256(f.Data)
	return slices.IndexFunc(ls.sets, func(s map[[32]byte]bool) bool { return s[h] })
}

// deafPublisher is a PLI-deaf simulcast publisher of the three layers at media pace, each
// started by start; it counts the PLIs it gets per layer (it never answers them).
type deafPublisher struct {
	*simulcastPub
	ls   layerSources
	stop atomic.Bool
	wg   sync.WaitGroup
	once sync.Once
	mu   sync.Mutex
	plis map[uint32]int // by media SSRC
}

// publishDeafLayers publishes stream (sending nothing until start) and closes it at the end of
// the test.
func publishDeafLayers(t *testing.T, whipURL, stream string, ls layerSources) *deafPublisher {
	t.Helper()
	p := &deafPublisher{simulcastPub: publishSimulcast(t, whipURL, ls.srcs[0].Codec(), stream, ls.names...), ls: ls, plis: map[uint32]int{}}
	t.Cleanup(p.close)
	for _, rid := range ls.names { // each layer's RTCP arrives on its own encoding
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				pkts, _, err := p.tr.Sender().ReadSimulcastRTCP(rid)
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					if pli, ok := pkt.(*rtcp.PictureLossIndication); ok {
						p.mu.Lock()
						p.plis[pli.MediaSSRC]++
						p.mu.Unlock()
					}
				}
			}
		}()
	}
	select {
	case <-p.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher not connected")
	}
	return p
}

// close ends the publisher (its PeerConnection; the server sees it go) and waits for its loops.
func (p *deafPublisher) close() {
	p.once.Do(func() {
		p.stop.Store(true)
		_ = p.pc.Close()
		p.wg.Wait()
	})
}

// start sends layer i (once) until the publisher is closed.
func (p *deafPublisher) start(i int) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pk := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
		next := time.Now()
		for !p.stop.Load() {
			for _, s := range p.ls.srcs[i].Samples() {
				if p.stop.Load() {
					return
				}
				p.write(p.tracks[i], pk, p.ls.names[i], s.Data)
				next = next.Add(s.Duration)
				time.Sleep(time.Until(next))
			}
		}
	}()
}

// plisFor returns how many PLIs the publisher got for layer rid.
func (p *deafPublisher) plisFor(rid string) int {
	for _, enc := range p.tr.Sender().GetParameters().Encodings {
		if enc.RID == rid {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.plis[uint32(enc.SSRC)]
		}
	}
	return 0
}

// onLayer reads v's frames until one of layer want arrives, which must be a keyframe, then
// requires n more frames of that layer and none of another; every frame must be a source's.
func onLayer(t *testing.T, v *client.Viewer, ls layerSources, want, n int, d time.Duration) {
	t.Helper()
	awaitSwitch(t, v.Frames(), ls.names, ls.sets, want, n, d)
}

// Done-when 6 of issue 13, and an edge that dies (its Failures). Node A has a PLI-deaf publisher
// of three H.264 layers (l 320x240, m 640x360, h 1280x720); node B (-auto-layers) pulls every
// layer, each into a Feed of its own that measures it.
//
//   - layers arrive: a publisher sends l alone at first; a viewer on B plays it through a pull
//     of one section; when m and h start, A ends that pull and B pulls every layer, the viewer
//     keeping its session (one SSRC) and playing on.
//   - pins (WHEPX-06): a viewer on B is pinned to h through its layer URL and plays it, then to
//     l, m, h and m in turn, and gets, for each, that layer's frames byte for byte from a
//     keyframe on; B's Feeds carry A's rids and the resolutions B measured; A counts B's pull as
//     one viewer. A PLI from the viewer pinned to m reaches the publisher as a PLI for m's SSRC.
//   - auto (-auto-layers): a viewer in its own network namespace behind a 600 kbit/s tc tbf cap
//     gets l, the layer that fits, within 2 s plus a keyframe interval (plus 2 s for its first
//     feedback) of its first frame, and holds it for 10 s (TestAutoLayers, on one node).
//   - publisher returns: a new publisher of the same layers replaces the first on A; A's pull
//     session follows the new layers (from their keyframes) without ending, and the viewer
//     pinned to m plays m again on its session.
//   - edge dies: B is killed (-9): A's session for B's pull ends within 4 s of silence plus a
//     second (A's /api/streams count drops to 0), a viewer reconnecting to A plays, and A's
//     goroutines return to where they were before B pulled.
func TestClusterLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root for network namespaces (CI runs as root)")
	}
	link := newAutoLink(t, 7, "600kbit")
	r := startTestRedis(t)
	pa := fmt.Sprintf("127.0.0.2:%d", freeTCPPortOn(t, "127.0.0.2"))
	a := startNode(t, r, "a", "127.0.0.2", "-pprof", pa)
	// B's media socket is on the host end of the namespace's veth: the capped viewer reaches it
	// there, the others over loopback.
	b := startNode(t, r, "b", "127.0.0.3", "-ice-host", link.hostIP, "-udp-port", strconv.Itoa(freeUDPPortOn(t, link.hostIP)),
		"-auto-layers=true", "-cluster-pull-idle", "1s")
	ls := openLayers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("layers arrive", func(t *testing.T) {
		grow := publishDeafLayers(t, a.whip("grow"), "grow", ls)
		grow.start(0)
		waitOwner(t, b, "grow", "a", 10*time.Second)
		v, err := client.View(ctx, b.whep("grow"), client.ViewOptions{Video: true})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		onLayer(t, v, ls, 0, 30, 10*time.Second)
		if s, _ := b.streams(t); len(videoFeeds(s["grow"])) != 1 {
			t.Fatalf("B's video feeds %+v, want the one of a pull of one section", videoFeeds(s["grow"]))
		}
		grow.start(1)
		grow.start(2)
		// B's Feeds are A's layers, measured on B: rids and resolutions.
		waitFor(t, 15*time.Second, "B measuring three layers", func() bool {
			s, _ := b.streams(t)
			fs := videoFeeds(s["grow"])
			return len(fs) == 3 && fs["l"].Width == 320 && fs["m"].Width == 640 && fs["h"].Width == 1280
		})
		if !strings.Contains(a.logs.String(), "layered pull ends") {
			t.Fatal("A's log does not show the pull of one section ending")
		}
		onLayer(t, v, ls, 2, 30, 10*time.Second) // B's default: the highest layer
		recs := v.Packets(webrtc.RTPCodecTypeVideo)
		for _, r := range recs {
			if r.SSRC != recs[0].SSRC || v.State() != webrtc.PeerConnectionStateConnected {
				t.Fatalf("the viewer's session changed: SSRC %x and %x, state %v", recs[0].SSRC, r.SSRC, v.State())
			}
		}
		_ = v.Close()
		grow.close()
		waitFor(t, 10*time.Second, "the stream gone from A (B's pull ended 1 s after its viewer)", func() bool {
			s, _ := a.streams(t)
			_, ok := s["grow"]
			return !ok
		})
	})

	pub := publishDeafLayers(t, a.whip("sim"), "sim", ls)
	for i := range ls.names {
		pub.start(i)
	}
	waitOwner(t, b, "sim", "a", 10*time.Second)
	waitFor(t, 10*time.Second, "A measuring three layers", func() bool {
		s, _ := a.streams(t)
		return len(videoFeeds(s["sim"])) == 3
	})
	baseA := goroutines(t, pa)
	// This viewer stays on B until B dies, and so does B's pull.
	v, err := client.View(ctx, b.whep("sim"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	t.Run("pins", func(t *testing.T) {
		if s, _ := a.streams(t); s["sim"].Viewers != 1 {
			t.Fatalf("A's viewers %d, want 1 (B's one pull)", s["sim"].Viewers)
		}
		pin := func(rid string) {
			t.Helper()
			resp := do(t, http.MethodPost, v.Location()+"/layer", `{"rid":"`+rid+`"}`, map[string]string{"Content-Type": "application/json"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("pin %s: %d %s", rid, resp.StatusCode, resp.bodyText)
			}
		}
		// The viewer's own layer (B has -auto-layers) gives way to its pins. It joined on a layer
		// of its own: first it is pinned to h and plays it from a keyframe; then each switch
		// waits for the layer's next keyframe (h has one every 2 s; the publisher ignores PLIs):
		// the bound is a few of its keyframe intervals.
		pin("h")
		resumeOn(t, v, ls, 2, 30, 10*time.Second)
		for _, want := range []int{0, 1, 2, 1} {
			pin(ls.names[want])
			onLayer(t, v, ls, want, 30, 10*time.Second)
		}
		// Pinned to m: a PLI from the viewer reaches the publisher as one for m's SSRC
		// (coalesced and rate-limited at B and at A, 0.5 s each).
		before := pub.plisFor("m")
		recs := v.Packets(webrtc.RTPCodecTypeVideo)
		ssrc := recs[len(recs)-1].SSRC
		waitFor(t, 5*time.Second, "a PLI for m at the publisher", func() bool {
			_ = v.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
			time.Sleep(200 * time.Millisecond)
			return pub.plisFor("m") > before
		})
	})

	t.Run("auto", func(t *testing.T) {
		v, err := client.View(ctx, b.whep("sim"), client.ViewOptions{Video: true, API: link.api(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		w := watchLayers(ctx, v, ls.sets, ls.names, false)
		waitFor(t, 15*time.Second, "the capped viewer's first frame", func() bool {
			l, _, err := w.state()
			if err != nil {
				t.Fatal(err)
			}
			return l >= 0
		})
		w.mu.Lock()
		joined := w.since
		w.mu.Unlock()
		waitFor(t, 2*time.Second+time.Second+2*time.Second, "the capped viewer on l", func() bool {
			l, _, err := w.state()
			if err != nil {
				t.Fatal(err)
			}
			return l == 0
		})
		_, since, _ := w.state()
		t.Logf("the capped viewer on l %v after its first frame (layers %v)", since.Sub(joined).Round(time.Millisecond), w.trail())
		held := time.Now()
		waitFor(t, 15*time.Second, "the hold", func() bool {
			l, at, err := w.state()
			if err != nil || l != 0 || at.After(held) {
				t.Fatalf("the capped viewer left l during the hold: layer %d, %v (layers %v)", l, err, w.trail())
			}
			return time.Since(held) >= 10*time.Second
		})
	})

	outer := t
	t.Run("publisher returns", func(t *testing.T) {
		ends, pulls := strings.Count(a.logs.String(), "layered pull ends"), strings.Count(b.logs.String(), "pulling")
		pub2 := publishDeafLayers(outer, a.whip("sim"), "sim", ls) // replaces pub on A, for the rest of the test
		for i := range ls.names {
			pub2.start(i)
		}
		pub.close()
		waitFor(t, 10*time.Second, "A's pull session following the new layers", func() bool {
			return strings.Count(a.logs.String(), "layered pull follows a new feed") >= len(ls.names)
		})
		// Still pinned to m, the viewer plays m again from a keyframe, on its session, through
		// the same pull (A did not end it; B did not pull again).
		resumeOn(t, v, ls, 1, 30, 10*time.Second)
		if v.State() != webrtc.PeerConnectionStateConnected {
			t.Fatalf("the viewer's state %v, want its session kept", v.State())
		}
		if strings.Count(a.logs.String(), "layered pull ends") != ends || strings.Count(b.logs.String(), "pulling") != pulls {
			t.Fatal("the publisher's return ended B's pull")
		}
	})

	t.Run("edge dies", func(t *testing.T) {
		if s, _ := a.streams(t); s["sim"].Viewers != 1 {
			t.Fatalf("A's viewers %d before B dies, want 1 (B's pull)", s["sim"].Viewers)
		}
		b.kill(t, syscall.SIGKILL)
		if _, err := b.waitExit(t, 10*time.Second); err == nil {
			t.Fatal("B exited cleanly after SIGKILL?")
		}
		killed := time.Now()
		// A's pull API ends a session after 2 s disconnected + 2 s failed of silence.
		waitFor(t, 10*time.Second, "A's session for B's pull to end", func() bool {
			s, _ := a.streams(t)
			return s["sim"].Viewers == 0
		})
		t.Logf("A ended B's pull %v after B was killed", time.Since(killed).Round(100*time.Millisecond))
		v, err := client.View(ctx, a.whep("sim"), client.ViewOptions{Video: true})
		if err != nil {
			t.Fatalf("viewer reconnecting to A: %v", err)
		}
		for i := 0; i < 30; i++ {
			select {
			case f := <-v.Frames():
				if ls.layer(f) < 0 {
					t.Fatalf("a frame (%d bytes) of no layer", len(f.Data))
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("the reconnected viewer got %d of 30 frames", i)
			}
		}
		_ = v.Close()
		waitGoroutines(t, "A", pa, baseA)
	})
}

// trail returns the layers a viewer was on, with when it entered each.
func (w *layerWatch) trail() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.switches)
}

// videoFeeds returns a stream's video feeds by rid, as /api/streams shows them.
func videoFeeds(s apiStream) map[string]apiFeed {
	out := map[string]apiFeed{}
	for _, f := range s.Feeds {
		if f.Kind == "video" {
			out[f.RID] = f
		}
	}
	return out
}
