package rtc

import (
	"net"
	"sync"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
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
	seen := map[Estimate]bool{}
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
