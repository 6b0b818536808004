package layers

import "time"

// Meter geometry: 100 ms buckets; a one-second window is ten of them; the peak is the highest
// one-second window ending in the last two seconds.
const (
	meterBucket  = 100 * time.Millisecond
	meterWindow  = 10 // buckets in one second
	meterPeakLen = 20 // one-second windows kept for the peak: two seconds of bucket ends
)

// Meter measures a bit rate: the average over the last second and the peak of one-second
// averages over the last two seconds (keyframes burst). Memory is constant. It is not safe for
// concurrent use; its owner guards it.
type Meter struct {
	start   time.Time
	idx     int64               // the bucket now filling, counted from start
	buckets [meterWindow]int64  // bytes per bucket, ring by idx
	windows [meterPeakLen]int64 // bytes of the one-second window ending with each past bucket
	filled  int                 // windows recorded, up to meterPeakLen
}

// Add counts n bytes at now.
func (m *Meter) Add(now time.Time, n int) {
	m.advance(now)
	m.buckets[m.idx%meterWindow] += int64(n)
}

// Rate returns the average over the last complete second and the peak of one-second averages
// over the last two seconds, in bits per second.
func (m *Meter) Rate(now time.Time) (avg, peak float64) {
	m.advance(now)
	if m.filled == 0 {
		return 0, 0
	}
	avg = float64(m.windows[(m.idx-1)%meterPeakLen]) * 8
	for i := range m.filled {
		peak = max(peak, float64(m.windows[i])*8)
	}
	return avg, peak
}

// advance closes the buckets that ended before now, recording each one-second window.
func (m *Meter) advance(now time.Time) {
	if m.start.IsZero() {
		m.start = now
		return
	}
	target := int64(now.Sub(m.start) / meterBucket)
	if target-m.idx > meterWindow+meterPeakLen {
		// Silent longer than everything kept: start over from empty buckets.
		*m = Meter{start: m.start, idx: target, filled: meterPeakLen} // every window 0
		return
	}
	for m.idx < target {
		var sum int64
		for _, b := range m.buckets {
			sum += b
		}
		m.windows[m.idx%meterPeakLen] = sum
		m.filled = min(m.filled+1, meterPeakLen)
		m.idx++
		m.buckets[m.idx%meterWindow] = 0
	}
}
