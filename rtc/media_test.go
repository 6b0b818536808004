package rtc

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// With no host, OpenMedia serves every interface address on one port: 127.0.0.1 is announced
// exactly once, every address has the one port, and ICE-TCP listens on the same number. Close
// ends every goroutine it started (the shared socket's reader and one pion mux per address).
func TestOpenMediaEveryInterface(t *testing.T) {
	base := runtime.NumGoroutine()
	m, err := OpenMedia(MediaConfig{TCP: true})
	if err != nil {
		t.Fatal(err)
	}
	port := m.Port()
	if port == 0 || m.TCP == nil {
		t.Fatalf("port %d, tcp %v", port, m.TCP)
	}
	loopback := 0
	for _, a := range m.UDP.GetListenAddresses() {
		u := a.(*net.UDPAddr)
		if u.Port != port {
			t.Fatalf("%v: want every address on port %d", u, port)
		}
		if u.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			loopback++
		}
	}
	if loopback != 1 {
		t.Fatalf("127.0.0.1 announced %d times, want once", loopback)
	}
	m.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
