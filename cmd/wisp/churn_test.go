package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// Churn mix of TestChurnNoLeaks: 1,000 cycles in all.
const (
	churnConnected = 40   // publisher + viewer connect, a frame arrives, both DELETE
	churnAbandoned = 60   // POST, then nothing: reaped by the connect timeout (COMMON-19)
	churnCycles    = 1000 // the rest: POST then DELETE before ICE connects
	// heapSlack is the heap growth tolerated after the churn, measured as HeapAlloc after
	// runtime.GC against the same measure before it (see docs/reliability.md).
	heapSlack = 4 << 20
)

// offerSDP makes a real pion offer (gathered, loopback host candidate) that a raw POST can carry;
// nobody ever answers the server's ICE checks, so the session never connects.
func offerSDP(t testing.TB, dir webrtc.RTPTransceiverDirection) string {
	t.Helper()
	api, err := client.NewLoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: dir}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		t.Fatal("gathering")
	}
	return pc.LocalDescription().SDP
}

// rawSession POSTs offer and returns the session URL (201 required).
func rawSession(t testing.TB, endpoint, offer string) string {
	t.Helper()
	resp, err := http.Post(endpoint, "application/sdp", strings.NewReader(offer))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post %s: %d", endpoint, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func deleteSession(t testing.TB, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delete %s: %d", url, resp.StatusCode)
	}
}

// heapNow is HeapAlloc after two collections (the second frees what finalizers released).
func heapNow() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// 1,000 publish/watch/DELETE cycles (churnConnected fully connected with a frame received,
// churnAbandoned POSTed and never ended, the rest POSTed and DELETEd before connecting, WHIP and
// WHEP alternating) leave no session, no stream, goroutines back to baseline (+3) and the heap
// within heapSlack of its baseline.
func TestChurnNoLeaks(t *testing.T) {
	m := openMedia(t)
	whipOffer := offerSDP(t, webrtc.RTPTransceiverDirectionSendonly)
	whepOffer := offerSDP(t, webrtc.RTPTransceiverDirectionRecvonly)
	srv := startServer(t, func(c *config) { c.ConnectTimeout = 2 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	connectedCycle := func(i int) {
		name := fmt.Sprintf("full%d", i%4)
		pub, err := client.Publish(ctx, srv.whipURL(name), client.PublishOptions{Video: m.video, Loop: true})
		if err != nil {
			t.Fatalf("cycle %d publish: %v", i, err)
		}
		v, err := client.View(ctx, srv.whepURL(name), client.ViewOptions{Video: true, Audio: true})
		if err != nil {
			t.Fatalf("cycle %d view: %v", i, err)
		}
		recvFrames(t, v, m, 1, 10*time.Second)
		if err := v.Close(); err != nil {
			t.Fatalf("cycle %d close viewer: %v", i, err)
		}
		if err := pub.Close(); err != nil {
			t.Fatalf("cycle %d close publisher: %v", i, err)
		}
	}
	idle := func() bool {
		return srv.whip.Len()+srv.whep.Len() == 0 && len(srv.registry.List()) == 0
	}
	// Warm up pools, caches and the HTTP keep-alive connection, then take the baseline.
	connectedCycle(0)
	deleteSession(t, rawSession(t, srv.whipURL("warm"), whipOffer))
	waitFor(t, 10*time.Second, "idle after warm-up", idle)
	baseG := runtime.NumGoroutine()
	baseHeap := heapNow()

	var connected, abandoned, lightweight int
	for i := 0; i < churnCycles; i++ {
		switch {
		case i%(churnCycles/churnConnected) == 0:
			connected++
			connectedCycle(i)
		case abandoned < churnAbandoned && i%16 == 1:
			abandoned++
			rawSession(t, srv.whepURL(fmt.Sprintf("gone%d", i%7)), whepOffer)
		case i%2 == 0:
			lightweight++
			deleteSession(t, rawSession(t, srv.whipURL(fmt.Sprintf("s%d", i%13)), whipOffer))
		default:
			lightweight++
			deleteSession(t, rawSession(t, srv.whepURL(fmt.Sprintf("s%d", i%13)), whepOffer))
		}
	}
	if connected != churnConnected || abandoned != churnAbandoned {
		t.Fatalf("mix: %d connected, %d abandoned", connected, abandoned)
	}
	waitFor(t, 30*time.Second, "every session ended (abandoned ones reaped)", idle)
	checkGoroutines(t, baseG)
	var heap uint64
	waitFor(t, 10*time.Second, "heap back near its baseline", func() bool {
		heap = heapNow()
		return heap <= baseHeap+heapSlack
	})
	t.Logf("churn: %d connected, %d abandoned, %d POST+DELETE; goroutines %d → %d; heap %.1f → %.1f MiB",
		connected, abandoned, lightweight, baseG, runtime.NumGoroutine(), float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
}

// BenchmarkChurnSoak is the opt-in long soak: each iteration is one fully connected cycle
// (publisher and viewer connect, a frame arrives, both DELETE) and nine POST+DELETE cycles. It
// reports the goroutine and heap growth per 1,000 cycles after everything ended, e.g.
//
//	go test -run '^$' -bench ChurnSoak -benchtime 500x ./cmd/wisp
func BenchmarkChurnSoak(b *testing.B) {
	m := openMedia(b)
	whipOffer := offerSDP(b, webrtc.RTPTransceiverDirectionSendonly)
	srv := startServer(b, nil)
	ctx := context.Background()
	idle := func() bool { return srv.whip.Len()+srv.whep.Len() == 0 && len(srv.registry.List()) == 0 }
	baseG, baseHeap := runtime.NumGoroutine(), heapNow()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pub, err := client.Publish(ctx, srv.whipURL("soak"), client.PublishOptions{Video: m.video, Loop: true})
		if err != nil {
			b.Fatal(err)
		}
		v, err := client.View(ctx, srv.whepURL("soak"), client.ViewOptions{Video: true})
		if err != nil {
			b.Fatal(err)
		}
		select {
		case <-v.Frames():
		case <-time.After(10 * time.Second):
			b.Fatal("no frame")
		}
		_ = v.Close()
		_ = pub.Close()
		for j := 0; j < 9; j++ {
			deleteSession(b, rawSession(b, srv.whipURL(fmt.Sprintf("s%d", j)), whipOffer))
		}
	}
	b.StopTimer()
	waitFor(b, 30*time.Second, "idle", idle)
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseG+3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cycles := float64(b.N * 10)
	b.ReportMetric(float64(runtime.NumGoroutine()-baseG), "goroutines-left")
	b.ReportMetric((float64(heapNow())-float64(baseHeap))/cycles*1000/(1<<10), "heap-KiB/1k-cycles")
}
