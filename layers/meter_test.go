package layers

import (
	"testing"
	"time"
)

// TestMeter: the average is the last complete second, the peak the highest one-second window of
// the last two seconds (a keyframe burst), and silence empties both; memory stays constant.
func TestMeter(t *testing.T) {
	var m Meter
	t0 := time.Unix(1_000_000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	if avg, peak := m.Rate(t0); avg != 0 || peak != 0 {
		t.Fatalf("empty meter: %v %v", avg, peak)
	}
	// 100 kB/s steady: 1 kB every 10 ms, for 3 s.
	for i := range 300 {
		m.Add(ms(i*10), 1000)
	}
	if avg, peak := m.Rate(ms(3000)); avg != 800_000 || peak != 800_000 {
		t.Fatalf("steady 100 kB/s: avg %v peak %v, want 800000 both", avg, peak)
	}
	// A 50 kB burst (a keyframe) at 3.0 s, then steady again.
	m.Add(ms(3000), 51_000) // with the steady kB of that 10 ms
	for i := 301; i < 400; i++ {
		m.Add(ms(i*10), 1000)
	}
	avg, peak := m.Rate(ms(4000))
	if avg != 1_200_000 || peak != 1_200_000 {
		t.Fatalf("second with a burst: avg %v peak %v, want 1200000 both", avg, peak)
	}
	for i := 400; i < 500; i++ {
		m.Add(ms(i*10), 1000)
	}
	if avg, peak := m.Rate(ms(5000)); avg != 800_000 || peak != 1_200_000 {
		t.Fatalf("a second after the burst: avg %v peak %v, want 800000 and the burst's 1200000", avg, peak)
	}
	if avg, peak := m.Rate(ms(8100)); avg != 0 || peak != 0 {
		t.Fatalf("after 3 s of silence: avg %v peak %v, want 0", avg, peak)
	}
	// A long silence, then traffic again.
	m.Add(ms(60_000), 1000)
	if avg, _ := m.Rate(ms(61_000)); avg != 8000 {
		t.Fatalf("after a minute of silence, one packet: avg %v, want 8000", avg)
	}
}
