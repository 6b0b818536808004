package stream

import (
	"sync/atomic"
	"time"
)

// Bitrate meter tuning: bytes are summed in meterBucket slices of time; the average is the sum of
// the last second's complete buckets, the peak the highest such one-second sum ending in the last
// two seconds.
const (
	meterBucket  = 250 * time.Millisecond
	meterSecond  = int64(time.Second / meterBucket) // buckets per second
	meterBuckets = 16                               // a power of two above 3 s of buckets
)

// meter measures a Feed's bitrate. add is called by the Feed's producer only; rates may be
// called from anywhere (all fields are atomic, so a read racing a bucket change is off by at most
// one bucket, never torn).
type meter struct {
	current atomic.Int64 // index of the bucket being filled (time / meterBucket)
	buckets [meterBuckets]atomic.Int64
}

// add counts n bytes arriving at now (Unix ns).
func (m *meter) add(n int, now int64) {
	idx := now / int64(meterBucket)
	if cur := m.current.Load(); idx != cur {
		for i := max(cur+1, idx-meterBuckets+1); i <= idx; i++ {
			m.buckets[i&(meterBuckets-1)].Store(0)
		}
		m.current.Store(idx)
	}
	m.buckets[idx&(meterBuckets-1)].Add(int64(n))
}

// rates returns the bitrate in bits per second averaged over the last complete second, and the
// peak of that average over the last two seconds.
func (m *meter) rates(now time.Time) (avg, peak int64) {
	idx := now.UnixNano() / int64(meterBucket)
	cur := m.current.Load()
	bucket := func(i int64) int64 {
		if i > cur || i <= cur-meterBuckets {
			return 0 // not filled yet, or too old to be held
		}
		return m.buckets[i&(meterBuckets-1)].Load()
	}
	// windows ending at idx-1 (the last complete bucket) back to idx-1-2s
	for end := idx - 1; end > idx-1-2*meterSecond; end-- {
		var sum int64
		for i := end - meterSecond + 1; i <= end; i++ {
			sum += bucket(i)
		}
		if end == idx-1 {
			avg = sum * 8
		}
		peak = max(peak, sum*8)
	}
	return avg, peak
}
