package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// BenchmarkRelayMessage is what one relayed data-channel message costs per viewer, end to end
// through real pion peers on loopback: the publisher sends a 64-byte message, wisp's relay writes
// it to every viewer's data channel (one SCTP packet and one DTLS record each), and every viewer
// has it before the next is sent. One op is one message to one viewer. cpu-µs/op is the whole
// test process's CPU (rusage): wisp's side and the pion clients' (their DTLS decryption, SCTP and
// SACKs), so it bounds wisp's share from above; ns/op is wall time.
//
//	go test -run '^$' -bench RelayMessage -benchtime 2000x ./cmd/wisp
//
// batch=true is wisp's default (-batch-egress): a viewer's DTLS record written while a media pass
// is in progress leaves in that pass's sendmmsg batch (here none is, once the clip has played: the
// records leave at once either way); batch=false sends each with its own sendmsg.
func BenchmarkRelayMessage(b *testing.B) {
	for _, n := range []int{10, 50} {
		for _, batch := range []bool{true, false} {
			b.Run(fmt.Sprintf("viewers=%d/batch=%v", n, batch), func(b *testing.B) { benchRelay(b, n, batch) })
		}
	}
}

func benchRelay(b *testing.B, n int, batch bool) {
	// wisp's goroutines (the server, its media socket and every session it starts) carry the
	// profile label side=wisp, so a CPU profile of the benchmark separates wisp's share from the
	// pion clients': go tool pprof -tagfocus side=wisp.
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", "wisp")))
	srv := startServer(b, func(c *config) { c.BatchEgress = batch })
	pprof.SetGoroutineLabels(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m := openMedia(b) // WHIP needs a media track; its clip plays once (a few seconds), then only data flows
	pub, err := client.Publish(ctx, srv.whipURL("r"), client.PublishOptions{Audio: m.audio, DataChannel: "data"})
	if err != nil {
		b.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	var viewers []*client.Viewer
	for i := 0; i < n; i++ {
		v, err := client.View(ctx, srv.whepURL("r"), client.ViewOptions{Audio: true, DataChannel: "data"})
		if err != nil {
			b.Fatalf("view %d: %v", i, err)
		}
		defer v.Close()
		viewers = append(viewers, v)
	}
	st, ok := srv.registry.Get("r")
	if !ok {
		b.Fatal("stream r not in registry")
	}
	waitFor(b, 30*time.Second, "relay subscribers", func() bool { return st.Relay().Stats().Subscribers == n })
	<-pub.DataOpen()
	msg := make([]byte, 64)
	stopProfile := func() {}
	if path := os.Getenv("WISP_RELAY_CPUPROFILE"); path != "" {
		stopProfile = profileLoop(b, fmt.Sprintf("%s.n%d.batch%v", path, n, batch))
		defer stopProfile()
	}
	var before, after syscall.Rusage
	sends := srv.media.EgressStats()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	msgs := 0
	for b.Loop() { // b.N counts messages; ops are reported per viewer below
		msgs++
		if err := pub.Send(msg); err != nil {
			b.Fatal(err)
		}
		for i, v := range viewers {
			select {
			case <-v.Messages():
			case <-time.After(10 * time.Second):
				b.Fatalf("viewer %d: message %d did not arrive", i, msgs)
			}
		}
	}
	elapsed := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	stopProfile() // the loop alone, not the set-up
	sent := srv.media.EgressStats()

	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	per := float64(msgs * n)
	b.ReportMetric(float64(elapsed.Nanoseconds())/per, "wall-ns/msg-viewer")
	b.ReportMetric(float64(cpu.Microseconds())/per, "cpu-µs/msg-viewer")
	// How the records left the media socket: one syscall each, or in sendmmsg batches.
	b.ReportMetric(float64(sent.Direct-sends.Direct)/per, "direct/msg-viewer")
	b.ReportMetric(float64(sent.Batched-sends.Batched)/per, "batched/msg-viewer")
	b.ReportMetric(float64(sent.BatchCalls-sends.BatchCalls)/float64(msgs), "sendmmsg/msg")
	b.ReportMetric(float64(sent.RelayGuardClosed-sends.RelayGuardClosed)/float64(msgs), "guard/msg")
}

// profileLoop starts a CPU profile written to path (WISP_RELAY_CPUPROFILE=prefix: one file per
// sub-benchmark) so the profile holds the measured loop only, without the set-up (50 handshakes,
// the media clip). The returned func stops it and closes the file (a second call does nothing).
// go tool pprof -tags path gives wisp's share (side=wisp) of the loop's CPU.
func profileLoop(b *testing.B, path string) func() {
	f, err := os.Create(path)
	if err != nil {
		b.Fatalf("cpu profile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatalf("cpu profile (not with -test.cpuprofile): %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		})
	}
}
