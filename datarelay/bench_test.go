package datarelay

import (
	"fmt"
	"testing"
)

// discard is a Sender that accepts everything at once.
type discard struct{}

func (discard) Send([]byte) error     { return nil }
func (discard) SendText(string) error { return nil }

// BenchmarkPublish measures the publisher's side only: the copy and the
// non-blocking offers. Subscribers drain concurrently; drops/op shows how
// often a queue was full because Publish outran them.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			r := New(Config{})
			defer r.Close()
			for range n {
				r.Subscribe("chat", discard{})
			}
			m := Message{Label: "chat", Data: make([]byte, 256)}
			b.ReportAllocs()
			ops := 0
			for b.Loop() {
				if err := r.Publish(m); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			b.StopTimer()
			st := r.Stats()
			b.ReportMetric(float64(st.Dropped[DropQueueFull])/float64(ops), "drops/op")
		})
	}
}
