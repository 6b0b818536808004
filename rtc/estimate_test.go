package rtc

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/layers"
)

// TestEstimatorsTake: PeerConnections made at once by a viewer API with estimation each get an
// estimator of their own (a distinct one, starting at InitialEstimate), once; an API without
// estimation gives none.
func TestEstimatorsTake(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	defer mux.Close()
	ests := NewEstimators()
	api, err := NewAPI(APIConfig{UDPMux: mux, Viewers: true, Estimators: ests})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	pcs := make([]*webrtc.PeerConnection, n)
	var wg sync.WaitGroup
	for i := range pcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc, err := api.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				t.Error(err)
				return
			}
			pcs[i] = pc
		}()
	}
	wg.Wait()
	seen := map[*Estimate]bool{}
	for _, pc := range pcs {
		if pc == nil {
			t.FailNow()
		}
		defer pc.Close()
		est, ok := ests.Take(pc)
		if !ok {
			continue // an ambiguous id (same nanosecond): no estimator rather than another's
		}
		if seen[est] {
			t.Fatal("two PeerConnections share an estimator")
		}
		seen[est] = true
		if got := est.GetTargetBitrate(); got != InitialEstimate {
			t.Errorf("initial estimate %d, want %d", got, InitialEstimate)
		}
		if _, again := ests.Take(pc); again {
			t.Error("Take twice")
		}
	}
	if len(seen) == 0 {
		t.Fatal("no PeerConnection got an estimator")
	}
	plain, err := NewAPI(APIConfig{UDPMux: mux, Viewers: true})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := plain.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, ok := ests.Take(pc); ok {
		t.Error("an API without estimation gave an estimator")
	}
}

// TestAppendAcks: a transport-cc feedback packet unpacks into one ack per status, in order from
// the base sequence number (wrapping), with arrivals accumulated from the reference time and the
// deltas; a packet whose deltas run out ends there.
func TestAppendAcks(t *testing.T) {
	fb := &rtcp.TransportLayerCC{
		BaseSequenceNumber: 65534, PacketStatusCount: 5, ReferenceTime: 10,
		PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 2},
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{
				rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketReceivedLargeDelta, rtcp.TypeTCCPacketReceivedSmallDelta,
				rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketNotReceived}},
		},
		RecvDeltas: []*rtcp.RecvDelta{{Delta: 1000}, {Delta: 250}, {Delta: -500}, {Delta: 4000}},
	}
	ref := 640 * time.Millisecond
	want := []layers.Ack{
		{Seq: 65534, Arrived: true, Arrival: ref + time.Millisecond},
		{Seq: 65535, Arrived: true, Arrival: ref + 1250*time.Microsecond},
		{Seq: 0},
		{Seq: 1, Arrived: true, Arrival: ref + 750*time.Microsecond},
		{Seq: 2, Arrived: true, Arrival: ref + 4750*time.Microsecond},
	}
	if got := appendAcks(nil, fb); !slices.Equal(got, want) {
		t.Fatalf("acks\n got %+v\nwant %+v", got, want)
	}
	fb.PacketStatusCount, fb.RecvDeltas = 5, fb.RecvDeltas[:1]
	if got := appendAcks(nil, fb); len(got) != 1 {
		t.Fatalf("deltas for one packet: %d acks, want 1", len(got))
	}
}
