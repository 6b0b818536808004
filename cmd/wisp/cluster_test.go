package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
	"github.com/wisp-media/wisp/cluster"
)

// viewersPerNode is how many viewers each node gets in the cluster tests (Done-when 1-3 of issue
// 13: five on each of three nodes).
const viewersPerNode = 5

// clusterViewer is one viewer of the cluster tests and the node it watches on.
type clusterViewer struct {
	*client.Viewer
	on string
}

// viewAll opens n viewers (video, audio, data channel "data") on each node.
func viewAll(t *testing.T, ctx context.Context, stream string, n int, nodes ...*node) []clusterViewer {
	t.Helper()
	var out []clusterViewer
	for _, nd := range nodes {
		for i := 0; i < n; i++ {
			v, err := client.View(ctx, nd.whep(stream), client.ViewOptions{Video: true, Audio: true, DataChannel: "data"})
			if err != nil {
				t.Fatalf("view on %s: %v", nd.id, err)
			}
			t.Cleanup(func() { _ = v.Close() })
			out = append(out, clusterViewer{v, nd.id})
		}
	}
	return out
}

// waitPlaying waits until every viewer decodes video frames of the source and gets audio.
func waitPlaying(t *testing.T, vs []clusterViewer, m media) {
	t.Helper()
	for _, v := range vs {
		recvFrames(t, v.Viewer, m, 30, 30*time.Second)
		waitFor(t, 10*time.Second, "audio on "+v.on, func() bool { return v.Stats().Audio.Packets >= 20 })
	}
}

// sendAndCheckMessages sends n text messages on the publisher's data channel and checks that
// every viewer receives all of them, in order.
func sendAndCheckMessages(t *testing.T, pub *client.Publisher, vs []clusterViewer, prefix string, n int) {
	t.Helper()
	for _, v := range vs { // what arrived before (from an earlier round) is not this round's
		for len(v.Messages()) > 0 {
			<-v.Messages()
		}
	}
	for i := 0; i < n; i++ {
		if err := pub.SendText(fmt.Sprintf("%s-%d", prefix, i)); err != nil {
			t.Fatalf("send: %v", err)
		}
		time.Sleep(5 * time.Millisecond) // a chat's pace; the relay's queues are not the subject
	}
	for vi, v := range vs {
		for i := 0; i < n; i++ {
			select {
			case msg := <-v.Messages():
				if want := fmt.Sprintf("%s-%d", prefix, i); string(msg.Data) != want || !msg.Text {
					t.Fatalf("viewer %d on %s: message %d = %q (text %v), want %q", vi, v.on, i, msg.Data, msg.Text, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("viewer %d on %s: got %d of %d messages", vi, v.on, i, n)
			}
		}
	}
}

// publishData publishes the test media with the "data" channel, PLI-deaf (keyframes every
// second, as the clip has them), and waits until the channel is open.
func publishData(t *testing.T, ctx context.Context, url string, m media) *client.Publisher {
	t.Helper()
	pub, err := client.Publish(ctx, url, client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true, DataChannel: "data"})
	if err != nil {
		t.Fatalf("publish %s: %v", url, err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	select {
	case <-pub.DataOpen():
	case <-ctx.Done():
		t.Fatal("publisher data channel never opened")
	}
	return pub
}

// resumedAfter returns when each viewer got its first video and audio packet after since (zero
// if none yet).
func resumedAfter(v clusterViewer, since time.Time) (video, audio time.Time) {
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		for _, r := range v.Packets(k) {
			if r.At.After(since) {
				if k == webrtc.RTPCodecTypeVideo {
					video = r.At
				} else {
					audio = r.At
				}
				break
			}
		}
	}
	return video, audio
}

// waitOwner waits until nd's /api/streams names owner for stream, and returns its epoch.
func waitOwner(t *testing.T, nd *node, stream, owner string, d time.Duration) int64 {
	t.Helper()
	var epoch int64
	waitFor(t, d, stream+" owned by "+owner+" (as "+nd.id+" sees it)", func() bool {
		s, _ := nd.streams(t)
		epoch = s[stream].Epoch
		return s[stream].Owner == owner
	})
	return epoch
}

// Done-when 1 and 2 of issue 13. Three nodes: a PLI-deaf publisher (H.264 + Opus + data
// channel) on A, viewers on A, B and C: all decode video and audio and receive every data
// message in order, and A's /api/streams counts its local viewers plus one pull per edge. Then
// the publisher is killed (-9) and returns on C: every viewer resumes video and audio on its
// own session (no reconnect), continuous in SSRC, sequence numbers and timestamps, before the
// new publisher's second keyframe (the clip has one a second); the lease is C's with a higher
// epoch. (WHEP-04 viewers wait through the gap; WHIP-06 replace-on-reconnect.)
func TestClusterThreeNodes(t *testing.T) {
	r := startTestRedis(t)
	a := startNode(t, r, "a", "127.0.0.2")
	b := startNode(t, r, "b", "127.0.0.3")
	c := startNode(t, r, "c", "127.0.0.4")
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	pub := publishData(t, ctx, a.whip("live"), m)
	epoch1 := waitOwner(t, b, "live", "a", 10*time.Second)
	vs := viewAll(t, ctx, "live", viewersPerNode, a, b, c)
	waitPlaying(t, vs, m)
	for _, v := range vs {
		select {
		case <-v.DataOpen():
		case <-ctx.Done():
			t.Fatal("viewer data channel never opened")
		}
	}
	waitFor(t, 10*time.Second, "A's count of viewers", func() bool {
		s, _ := a.streams(t)
		return s["live"].Viewers == viewersPerNode+2 // its own and one pull per edge
	})
	sendAndCheckMessages(t, pub, vs, "first", 50)

	// The publisher dies without a word and comes back on C.
	pub.Kill()
	pub2 := publishData(t, ctx, c.whip("live"), m)
	var started time.Time
	select {
	case <-pub2.Connected():
		started = time.Now()
	case <-ctx.Done():
		t.Fatal("publisher 2 never connected")
	}
	epoch2 := waitOwner(t, a, "live", "c", 10*time.Second)
	if epoch2 <= epoch1 {
		t.Fatalf("lease epoch %d after the move, %d before: want higher", epoch2, epoch1)
	}
	// Every viewer plays publisher 2's media on its first session.
	waitFor(t, 30*time.Second, "every viewer resumed", func() bool {
		for _, v := range vs {
			if vt, at := resumedAfter(v, started); vt.IsZero() || at.IsZero() {
				return false
			}
		}
		return true
	})
	const gop = time.Second // h264.h264: an IDR every 30 frames at 30 fps
	var worst time.Duration
	for i, v := range vs {
		vt, at := resumedAfter(v, started)
		late := max(vt.Sub(started), at.Sub(started))
		worst = max(worst, late)
		if late >= gop {
			t.Errorf("viewer %d on %s resumed %v after publisher 2 connected: not before its second keyframe (%v)", i, v.on, late, gop)
		}
		if v.State() != webrtc.PeerConnectionStateConnected {
			t.Errorf("viewer %d on %s: state %v, want its session kept", i, v.on, v.State())
		}
	}
	t.Logf("all %d viewers resumed within %v of publisher 2 connecting on C (epoch %d → %d)", len(vs), worst, epoch1, epoch2)
	for _, v := range vs {
		recvFrames(t, v.Viewer, m, 90, 30*time.Second)
	}
	for _, v := range vs {
		checkContinuity(t, "video on "+v.on, v.Packets(webrtc.RTPCodecTypeVideo), 90000)
		checkContinuity(t, "audio on "+v.on, v.Packets(webrtc.RTPCodecTypeAudio), 48000)
	}
	waitFor(t, 10*time.Second, "C's count of viewers", func() bool {
		s, _ := c.streams(t)
		return s["live"].Viewers == viewersPerNode+2
	})
	sendAndCheckMessages(t, pub2, vs, "second", 50)
}

// viewerOffer is a recvonly audio+video offer with every candidate, for raw POSTs.
func viewerOffer(t *testing.T) string {
	t.Helper()
	p := newRawPeer(t)
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := p.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	return p.gather(t, false)
}

// Pulls are authenticated (issue 13): a WHEP POST whose bearer token has the form of a pull token
// but is wrongly signed, expired or for another stream gets 401 with WWW-Authenticate, and no
// session is made (COMMON-16); a valid one is a session like a viewer's.
func TestClusterPullToken(t *testing.T) {
	r := startTestRedis(t)
	a := startNode(t, r, "a", "127.0.0.2")
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	publishData(t, ctx, a.whip("live"), m)
	right := cluster.NewSigner(clusterSecret)
	wrong := cluster.NewSigner("another-secret-0123456789")
	offer := viewerOffer(t)
	for name, tok := range map[string]string{
		"wrong secret":   wrong.Sign("live", "b", time.Minute),
		"expired":        right.Sign("live", "b", -time.Minute),
		"another stream": right.Sign("other", "b", time.Minute),
		"garbled":        "wispnode.bm90aGluZw.c2lnbmF0dXJl",
	} {
		resp, body := postSDP(t, a.whep("live"), offer, map[string]string{"Authorization": "Bearer " + tok})
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q (WWW-Authenticate %q), want 401 with a challenge", name, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if s, _ := a.streams(t); s["live"].Viewers != 0 {
		t.Fatalf("viewers after refused pulls: %d, want 0", s["live"].Viewers)
	}
	v, err := client.View(ctx, a.whep("live"), client.ViewOptions{Video: true, Token: right.Sign("live", "b", time.Minute)})
	if err != nil {
		t.Fatalf("view with a valid pull token: %v", err)
	}
	defer v.Close()
	recvFrames(t, v, m, 30, 20*time.Second)
}

// Done-when 3 of issue 13: the owner A is killed (-9) while B and C pull from it; the publisher
// reconnects to B (taking the stream over with a newer epoch), C re-pulls from B, and the
// viewers on B and C resume on their own sessions, continuous.
func TestClusterOwnerDies(t *testing.T) {
	r := startTestRedis(t)
	a := startNode(t, r, "a", "127.0.0.2")
	b := startNode(t, r, "b", "127.0.0.3")
	c := startNode(t, r, "c", "127.0.0.4")
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	pub := publishData(t, ctx, a.whip("live"), m)
	epoch1 := waitOwner(t, b, "live", "a", 10*time.Second)
	vs := viewAll(t, ctx, "live", viewersPerNode, b, c)
	waitPlaying(t, vs, m)

	a.kill(t, syscall.SIGKILL)
	if _, err := a.waitExit(t, 10*time.Second); err == nil {
		t.Fatal("A exited cleanly after SIGKILL?")
	}
	pub.Kill()
	pub2 := publishData(t, ctx, b.whip("live"), m)
	var started time.Time
	select {
	case <-pub2.Connected():
		started = time.Now()
	case <-ctx.Done():
		t.Fatal("publisher 2 never connected")
	}
	if epoch2 := waitOwner(t, c, "live", "b", 10*time.Second); epoch2 <= epoch1 {
		t.Fatalf("epoch %d after the takeover, %d before", epoch2, epoch1)
	}
	waitFor(t, 30*time.Second, "viewers on B and C resumed", func() bool {
		for _, v := range vs {
			if vt, at := resumedAfter(v, started); vt.IsZero() || at.IsZero() {
				return false
			}
		}
		return true
	})
	var worst time.Duration
	for _, v := range vs {
		vt, at := resumedAfter(v, started)
		worst = max(worst, vt.Sub(started), at.Sub(started))
		if v.State() != webrtc.PeerConnectionStateConnected {
			t.Errorf("viewer on %s: state %v, want its session kept", v.on, v.State())
		}
	}
	t.Logf("owner killed: viewers on B and C resumed within %v of the publisher connecting to B", worst)
	for _, v := range vs {
		recvFrames(t, v.Viewer, m, 90, 30*time.Second)
		checkContinuity(t, "video on "+v.on, v.Packets(webrtc.RTPCodecTypeVideo), 90000)
		checkContinuity(t, "audio on "+v.on, v.Packets(webrtc.RTPCodecTypeAudio), 48000)
	}
	sendAndCheckMessages(t, pub2, vs, "after", 30)
}

// goroutines reads a node's goroutine count from its -pprof listener.
func goroutines(t *testing.T, pprofAddr string) int {
	t.Helper()
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(resp.Body, head)
	mm := regexp.MustCompile(`total (\d+)`).FindSubmatch(head[:n])
	if mm == nil {
		t.Fatalf("goroutine profile: %q", head[:n])
	}
	g, _ := strconv.Atoi(string(mm[1]))
	return g
}

// waitGoroutines waits until a node's goroutines are back to base (a small allowance for HTTP
// keep-alive and runtime goroutines).
func waitGoroutines(t *testing.T, who, addr string, base int) {
	t.Helper()
	const slack = 8
	var n int
	deadline := time.Now().Add(20 * time.Second)
	for n = goroutines(t, addr); n > base+slack; n = goroutines(t, addr) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines, %d at the baseline", who, n, base)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s: %d goroutines, %d at the baseline", who, n, base)
}

// maxArrivalGap is the longest time between two packets of one kind received within [from, to].
func maxArrivalGap(recs []client.PacketRecord, from, to time.Time) time.Duration {
	var gap time.Duration
	var prev time.Time
	for _, r := range recs {
		if r.At.Before(from) || r.At.After(to) {
			continue
		}
		if !prev.IsZero() {
			gap = max(gap, r.At.Sub(prev))
		}
		prev = r.At
	}
	if prev.IsZero() {
		return to.Sub(from)
	}
	return max(gap, to.Sub(prev))
}

// Done-when 4 of issue 13: redis-server stops for longer than the lease TTL. No viewer is
// interrupted (the owner keeps its lease while nobody can take it); a new viewer of a remote
// stream, and a publisher of a new stream, get 503 + Retry-After; once Redis is back (empty, as
// after a crash) the owner re-asserts its lease and the new viewer plays; the nodes' goroutines
// return to where they were.
func TestClusterRedisOutage(t *testing.T) {
	r := startTestRedis(t)
	pa, pb := fmt.Sprintf("127.0.0.2:%d", freeTCPPortOn(t, "127.0.0.2")), fmt.Sprintf("127.0.0.3:%d", freeTCPPortOn(t, "127.0.0.3"))
	a := startNode(t, r, "a", "127.0.0.2", "-pprof", pa)
	b := startNode(t, r, "b", "127.0.0.3", "-pprof", pb)
	c := startNode(t, r, "c", "127.0.0.4", "-cluster-pull-idle", "1s")
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	pub := publishData(t, ctx, a.whip("live"), m)
	epoch := waitOwner(t, b, "live", "a", 10*time.Second)
	vs := viewAll(t, ctx, "live", 1, a, b)
	waitPlaying(t, vs, m)
	baseA, baseB := goroutines(t, pa), goroutines(t, pb)

	r.stop()
	down := time.Now()
	offer := viewerOffer(t)
	resp, body := postSDP(t, c.whep("live"), offer, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("remote viewer while Redis is down: %d %q (Retry-After %q), want 503 + Retry-After", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	_, err := client.Publish(ctx, b.whip("new"), client.PublishOptions{Video: m.video})
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable {
		t.Fatalf("new publisher while Redis is down: %v, want 503", err)
	}
	// Past the lease TTL (twice over), media still flows to every viewer.
	waitFor(t, 3*clusterLeaseTTL, "the outage to outlast the lease", func() bool { return time.Since(down) > 2*clusterLeaseTTL })
	up := time.Now()
	for _, v := range vs {
		for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if gap := maxArrivalGap(v.Packets(k), down, up); gap > 500*time.Millisecond {
				t.Errorf("viewer on %s: %v without %s during the outage", v.on, gap, k)
			}
		}
	}
	sendAndCheckMessages(t, pub, vs, "outage", 20)

	r.start() // empty, as after a crash
	if e := waitOwner(t, c, "live", "a", 10*time.Second); e != epoch {
		t.Fatalf("epoch after Redis came back %d, want the re-asserted %d", e, epoch)
	}
	v, err := client.View(ctx, c.whep("live"), client.ViewOptions{Video: true, Audio: true})
	if err != nil {
		t.Fatalf("remote viewer after Redis is back: %v", err)
	}
	recvFrames(t, v, m, 30, 20*time.Second)
	_ = v.Close() // C's pull from A ends a second later (-cluster-pull-idle)
	waitFor(t, 10*time.Second, "C's pull to end", func() bool {
		s, _ := a.streams(t)
		return s["live"].Viewers == 2
	})
	waitGoroutines(t, "A", pa, baseA)
	waitGoroutines(t, "B", pb, baseB)
}

// audioLog records, for one viewer, which publisher each audio packet came from (1, 2, or 0 for
// a packet both sources share).
type audioLog struct {
	one, two map[[32]byte]bool
	mu       sync.Mutex
	from     []int
	at       []time.Time
	msgs     []string // data messages, in arrival order
}

func (l *audioLog) read(wg *sync.WaitGroup, v *client.Viewer, stop <-chan struct{}) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		case p := <-v.AudioPackets():
			h := sha256.Sum256(p.Data)
			who := 0
			switch {
			case l.one[h] && !l.two[h]:
				who = 1
			case l.two[h] && !l.one[h]:
				who = 2
			}
			l.mu.Lock()
			l.from, l.at = append(l.from, who), append(l.at, p.At)
			l.mu.Unlock()
		case m := <-v.Messages():
			l.mu.Lock()
			l.msgs = append(l.msgs, string(m.Data))
			l.mu.Unlock()
		}
	}
}

// has reports whether a packet of publisher who arrived after since.
func (l *audioLog) has(who int, since time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, w := range l.from {
		if w == who && l.at[i].After(since) {
			return true
		}
	}
	return false
}

// messages returns the data messages received so far.
func (l *audioLog) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// interleaved returns the arrival of the first packet of publisher 1 after one of publisher 2.
func (l *audioLog) interleaved() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen2 := false
	for i, w := range l.from {
		seen2 = seen2 || w == 2
		if w == 1 && seen2 {
			return l.at[i], true
		}
	}
	return time.Time{}, false
}

// audioSet maps each Opus packet of a source to its hash, to tell two publishers apart.
func audioSet(src *client.Source) map[[32]byte]bool {
	out := map[[32]byte]bool{}
	for _, s := range src.Samples() {
		out[sha256.Sum256(s.Data)] = true
	}
	return out
}

// Done-when 5 of issue 13, split brain: the owner A is frozen (SIGSTOP) past its lease while its
// publisher, still sending to A, is joined by a second publisher on C that takes the stream
// over; then A resumes (SIGCONT). A finds its lease gone: it forwards nothing of publisher 1
// (it stops before it even asks Redis) and ends it. No viewer, on any node, ever receives audio
// or a data message of publisher 1 after one of publisher 2.
func TestClusterSplitBrain(t *testing.T) {
	r := startTestRedis(t)
	a := startNode(t, r, "a", "127.0.0.2")
	b := startNode(t, r, "b", "127.0.0.3")
	c := startNode(t, r, "c", "127.0.0.4")
	m := openMedia(t)
	stereo, err := client.OpenOpus("../../testdata/media/opus-stereo.ogg")
	if err != nil {
		t.Fatal(err)
	}
	one, two := audioSet(m.audio), audioSet(stereo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	defer func() { close(stop); wg.Wait() }()

	pub1 := publishData(t, ctx, a.whip("live"), m)
	waitOwner(t, b, "live", "a", 10*time.Second)
	vs := viewAll(t, ctx, "live", 1, a, b, c)
	waitPlaying(t, vs, m)
	logs := make([]*audioLog, len(vs))
	for i, v := range vs {
		logs[i] = &audioLog{one: one, two: two}
		wg.Add(1)
		go logs[i].read(&wg, v.Viewer, stop)
	}

	send := func(p *client.Publisher, prefix string) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			_ = p.SendText(fmt.Sprintf("%s-%d", prefix, i))
		}
	}
	wg.Add(1)
	go send(pub1, "p1") // each publisher sends numbered messages all along

	a.kill(t, syscall.SIGSTOP)
	stopped := true
	t.Cleanup(func() {
		if stopped {
			a.kill(t, syscall.SIGCONT)
		}
	})
	frozen := time.Now()
	waitFor(t, 3*clusterLeaseTTL, "A frozen past its lease", func() bool { return time.Since(frozen) > clusterLeaseTTL+clusterLeaseTTL/2 })
	pub2, err := client.Publish(ctx, c.whip("live"), client.PublishOptions{Video: m.video, Audio: stereo, Loop: true, DataChannel: "data"})
	if err != nil {
		t.Fatalf("publish 2: %v", err)
	}
	defer pub2.Close()
	<-pub2.DataOpen()
	wg.Add(1)
	go send(pub2, "p2")
	waitOwner(t, b, "live", "c", 10*time.Second)
	a.kill(t, syscall.SIGCONT)
	stopped = false
	resumed := time.Now()
	waitFor(t, 15*time.Second, "A to end publisher 1", func() bool {
		return strings.Contains(a.logs.String(), "stream lease lost to a newer epoch")
	})
	// Every viewer, A's too (it now pulls from C), plays publisher 2.
	waitFor(t, 30*time.Second, "publisher 2's audio on every viewer", func() bool {
		for i := range vs {
			if !logs[i].has(2, resumed) {
				return false
			}
		}
		return true
	})
	for i, v := range vs {
		if at, ok := logs[i].interleaved(); ok {
			t.Fatalf("viewer on %s: audio of publisher 1 at %v, after publisher 2's", v.on, at)
		}
		waitFor(t, 10*time.Second, "a message of publisher 2 on "+v.on, func() bool {
			return slices.ContainsFunc(logs[i].messages(), func(m string) bool { return strings.HasPrefix(m, "p2-") })
		})
		seen2 := false
		for _, m := range logs[i].messages() {
			switch {
			case strings.HasPrefix(m, "p2-"):
				seen2 = true
			case seen2:
				t.Fatalf("viewer on %s: message %q of publisher 1 after publisher 2's", v.on, m)
			}
		}
	}
}

// Done-when 7 of issue 13: with -cluster-redirect, a viewer's POST to a busy node gets 307 to the
// node with the fewest sessions; the client follows it (the body goes again), plays, and its
// session URL is absolute on the node that holds it, so its PATCH and DELETE reach that node.
// A stream with a watch key (COMMON-16): a POST without the key is refused before any redirect
// (401); with it, the 307 carries a placement grant (neither the key nor the cluster secret), so
// the client, which drops Authorization on a redirect to another host, plays on B; B refuses a
// forged or expired grant and one for another stream (401).
func TestClusterRedirect(t *testing.T) {
	const watchKey = "watch-key-0123456789"
	r := startTestRedis(t)
	keys := "keyed=" + watchKey + ",other=" + watchKey + "-other"
	a := startNode(t, r, "a", "127.0.0.2", "-cluster-redirect=true", "-watch-key", keys)
	b := startNode(t, r, "b", "127.0.0.3", "-cluster-redirect=true", "-watch-key", keys)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	publishData(t, ctx, a.whip("live"), m)
	// A registers its session (every 3⅓ s); wait until the directory shows A busier than B.
	rdb, err := cluster.Open(r.url())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	dir := cluster.NewDirectory(rdb, cluster.DirectoryConfig{})
	busier := func() {
		t.Helper()
		waitFor(t, 15*time.Second, "A registered busier than B", func() bool {
			nodes, err := dir.Nodes(ctx)
			if err != nil {
				return false
			}
			load := map[string]int{}
			for _, n := range nodes {
				load[n.ID] = n.Viewers + 1
			}
			return load["a"] > load["b"] && load["b"] > 0
		})
	}
	busier()
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := noFollow.Post(a.whep("live"), "application/sdp", strings.NewReader(viewerOffer(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(resp.Header.Get("Location"), b.url+"/whep/live") {
		t.Fatalf("POST to the busy node: %d Location %q, want 307 to %s", resp.StatusCode, resp.Header.Get("Location"), b.url)
	}
	v, err := client.View(ctx, a.whep("live"), client.ViewOptions{Video: true, Audio: true})
	if err != nil {
		t.Fatalf("view through the redirect: %v", err)
	}
	if !strings.HasPrefix(v.Location(), b.url+"/whep/live/") {
		t.Fatalf("session URL %q, want it absolute on B (%s)", v.Location(), b.url)
	}
	recvFrames(t, v, m, 30, 20*time.Second)
	// PATCH (an end-of-candidates trickle) reaches B's session: 204, not 404.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, v.Location(), strings.NewReader("a=end-of-candidates\r\n"))
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	req.Header.Set("If-Match", v.ETag())
	pr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if pr.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH on the redirected session: %d, want 204", pr.StatusCode)
	}
	if s, _ := b.streams(t); s["live"].Viewers != 1 {
		t.Fatalf("B's viewers %d, want the redirected one", s["live"].Viewers)
	}
	if err := v.Close(); err != nil { // DELETE on B: 200
		t.Fatalf("DELETE on the redirected session: %v", err)
	}
	waitFor(t, 10*time.Second, "B's viewer gone", func() bool {
		s, _ := b.streams(t)
		return s["live"].Viewers == 0
	})

	// A stream with a watch key, published on A.
	publishData(t, ctx, a.whip("keyed"), m)
	busier()
	if resp, body := postSDP(t, a.whep("keyed"), viewerOffer(t), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST without the watch key: %d %q, want 401 before any redirect", resp.StatusCode, body)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, a.whep("keyed"), strings.NewReader(viewerOffer(t)))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+watchKey)
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, b.url+"/whep/keyed?") || !strings.Contains(loc, "grant=wispgrant.") {
		t.Fatalf("POST with the key to the busy node: %d Location %q, want 307 to B with a grant", resp.StatusCode, loc)
	}
	if strings.Contains(loc, watchKey) || strings.Contains(loc, clusterSecret) {
		t.Fatalf("the redirect leaks the key or the cluster secret: %q", loc)
	}
	// Go's client follows the 307 without the Authorization header (another host): the grant
	// admits it on B.
	kv, err := client.View(ctx, a.whep("keyed"), client.ViewOptions{Video: true, Token: watchKey})
	if err != nil {
		t.Fatalf("view a keyed stream through the redirect: %v", err)
	}
	defer kv.Close()
	if !strings.HasPrefix(kv.Location(), b.url+"/whep/keyed/") {
		t.Fatalf("session URL %q, want it on B", kv.Location())
	}
	recvFrames(t, kv, m, 30, 20*time.Second)
	// B admits no forged, expired or other stream's grant: without the key, 401.
	signer := cluster.NewSigner(clusterSecret)
	for name, u := range map[string]string{
		"forged":         b.whep("keyed") + "?placed=1&grant=" + cluster.NewSigner("another-secret-0123456789").Grant("keyed", time.Minute),
		"expired":        b.whep("keyed") + "?placed=1&grant=" + signer.Grant("keyed", -time.Minute),
		"another stream": b.whep("other") + "?placed=1&grant=" + signer.Grant("keyed", time.Minute),
	} {
		if resp, body := postSDP(t, u, viewerOffer(t), nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s grant: %d %q, want 401", name, resp.StatusCode, body)
		}
	}
}
