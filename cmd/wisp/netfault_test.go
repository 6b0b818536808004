package main

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// Network fault conditions of TestLossyNetworkNACK, on the publisher's and the viewer's paths
// alike, both directions.
const (
	faultLoss  = 0.05
	faultDelay = 50 * time.Millisecond
)

// frameReport is what analyseFrames found in a viewer's packet log.
type frameReport struct {
	frames, complete int     // frames seen (by RTP timestamp) and those with every packet
	packets, missing int     // sequence numbers in the window, and those never received
	ratio            float64 // complete / frames
}

// analyseFrames works out, from the packets a viewer received (retransmissions included, in any
// order), how many video frames a jitter buffer could have decoded: frame k spans the sequence
// numbers after frame k-1's marker up to its own marker, and is complete when every one of them
// arrived. Packets that arrived after cutoff are ignored, and the window ends at the last marker
// before cutoff-grace, so retransmissions still in flight do not count as losses.
func analyseFrames(recs []client.PacketRecord, cutoff time.Time, grace time.Duration) frameReport {
	type pkt struct {
		ts     uint32
		marker bool
		at     time.Time
	}
	got := map[int64]pkt{}
	var last int64
	for i, r := range recs { // unwrap 16-bit sequence numbers against the previous packet
		s := int64(r.SequenceNumber)
		if i > 0 {
			s = last + int64(int16(r.SequenceNumber-uint16(last)))
		}
		last = s
		if r.At.After(cutoff) {
			continue
		}
		if _, dup := got[s]; !dup {
			got[s] = pkt{r.Timestamp, r.Marker, r.At}
		}
	}
	seqs := make([]int64, 0, len(got))
	for s := range got {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	// Frame ends: every marker up to the newest one that arrived before cutoff-grace (a marker
	// of lower number may have arrived later, as a retransmission).
	var markers []int64
	end := int64(-1 << 62)
	for _, s := range seqs {
		if p := got[s]; p.marker && p.at.Before(cutoff.Add(-grace)) {
			end = s
		}
	}
	for _, s := range seqs {
		if got[s].marker && s <= end {
			markers = append(markers, s)
		}
	}
	var rep frameReport
	if len(markers) < 2 {
		return rep
	}
	// The window: after the first marker (the first frame may have begun before the viewer
	// joined) to the last one before the grace period.
	seen := map[uint32]bool{}
	start := markers[0] + 1
	for _, end := range markers[1:] {
		complete := true
		var ts uint32
		for s := start; s <= end; s++ {
			rep.packets++
			p, ok := got[s]
			if !ok {
				rep.missing++
				complete = false
				continue
			}
			if s == end {
				ts = p.ts
			}
			seen[p.ts] = true
		}
		for s := start; s < end && complete; s++ {
			complete = got[s].ts == ts
		}
		if complete {
			rep.complete++
		}
		start = end + 1
	}
	rep.frames = len(seen)
	if rep.frames > 0 {
		rep.ratio = float64(rep.complete) / float64(rep.frames)
	}
	return rep
}

// With 5 % random loss and 50 ms delay each way on the publisher's path and on the viewer's path,
// NACK retransmission (pion's default interceptors on both hops: wisp asks the publisher, the
// viewer asks wisp) keeps at least 99 % of video frames complete at the viewer.
func TestLossyNetworkNACK(t *testing.T) {
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pubNet := newFaultNet(t, 1, faultLoss, faultDelay)
	viewNet := newFaultNet(t, 2, faultLoss, faultDelay)

	pub, err := client.Publish(ctx, srv.whipURL("lossy"), client.PublishOptions{Video: m.video, Loop: true, HonorPLI: true, API: pubNet.api(t)})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	v, err := client.View(ctx, srv.whepURL("lossy"), client.ViewOptions{Video: true, API: viewNet.api(t)})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer v.Close()
	const want = 300 // 10 s of 30 fps video
	waitFor(t, 60*time.Second, "300 frames at the viewer", func() bool { return v.Stats().Video.Frames+v.Stats().Video.Incomplete >= want })
	cutoff := time.Now()
	const grace = time.Second // retransmissions take a few RTTs (≈100 ms each)
	waitFor(t, 5*time.Second, "the grace period", func() bool { return time.Since(cutoff) > grace })
	rep := analyseFrames(v.Packets(webrtc.RTPCodecTypeVideo), cutoff, grace)
	st := v.Stats().Video
	t.Logf("frames %d, complete %d (%.2f %%); window %d packets, %d never received; in-order assembler: %d frames, %d incomplete; lost datagrams: publisher path %d/%d, viewer path %d/%d; publisher got %d NACKs",
		rep.frames, rep.complete, 100*rep.ratio, rep.packets, rep.missing, st.Frames, st.Incomplete,
		pubNet.lost.Load(), pubNet.lost.Load()+pubNet.passed.Load(), viewNet.lost.Load(), viewNet.lost.Load()+viewNet.passed.Load(), pub.Stats().NACK)
	if rep.frames < want-30 {
		t.Fatalf("only %d frames in the window", rep.frames)
	}
	// The fault must really be applied: about 5 % of each path's datagrams dropped (at least 3 %,
	// and enough of them to matter). The count varies with how many datagrams a path carried.
	for _, path := range []struct {
		name string
		n    *faultNet
	}{{"publisher", pubNet}, {"viewer", viewNet}} {
		lost, total := path.n.lost.Load(), path.n.lost.Load()+path.n.passed.Load()
		if lost < 20 || float64(lost) < 0.03*float64(total) {
			t.Fatalf("%s path: only %d of %d datagrams lost: the fault is not applied", path.name, lost, total)
		}
	}
	if rep.ratio < 0.99 {
		t.Fatalf("%.2f %% of frames complete, want ≥ 99 %%", 100*rep.ratio)
	}
	// The viewer's losses were repaired by wisp from its shared packet ring (not by the publisher).
	st2, ok := srv.registry.Get("lossy")
	if !ok || st2.Info().Resent == 0 {
		t.Fatal("wisp resent no packet to the lossy viewer")
	}
	// ... within the resend bound every video output has (whep.resendCeiling): each packet the
	// viewer NACKed answered at most three times, however often pion's NACK generator asked again.
	outs := st2.Track(webrtc.RTPCodecTypeVideo).Outputs()
	if len(outs) != 1 {
		t.Fatalf("%d video outputs, want 1", len(outs))
	}
	_, nacked := outs[0].Losses()
	resent, denied := outs[0].Resent(), outs[0].ResendDenied()
	t.Logf("viewer output: %d distinct packets NACKed, %d resent, %d NACKed again and not resent", nacked, resent, denied)
	if nacked == 0 || resent > 3*nacked {
		t.Fatalf("viewer output resent %d packets for %d distinct NACKed ones: no bound of three answers a packet", resent, nacked)
	}
}

// A viewer whose network dies (every datagram dropped both ways, no DTLS close, no DELETE) is
// reaped by consent freshness (RFC 7675; COMMON-36): its session and stream binding go, while the
// publisher and another viewer carry on.
func TestDeadViewerReaped(t *testing.T) {
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	healthy, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer healthy.Close()
	dyingNet := newFaultNet(t, 3, 0, 0)
	dying, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, API: dyingNet.api(t)})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer dying.Close()
	recvFrames(t, dying, m, 10, 10*time.Second)
	waitFor(t, 5*time.Second, "two viewers", func() bool { return srv.whep.Len() == 2 })

	dyingNet.dead.Store(true)
	died := time.Now()
	waitFor(t, 40*time.Second, "the dead viewer reaped", func() bool { return srv.whep.Len() == 1 })
	t.Logf("dead viewer reaped after %v", time.Since(died).Round(100*time.Millisecond))
	if info := srv.registry.List(); len(info) != 1 || info[0].Viewers != 1 || !info[0].Live {
		t.Fatalf("registry after the reap: %+v", info)
	}
	before := healthy.Stats().Video.Frames
	waitFor(t, 10*time.Second, "the other viewer still playing", func() bool { return healthy.Stats().Video.Frames >= before+30 })
}
