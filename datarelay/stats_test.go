package datarelay

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// captureHandler keeps every log record as its message and attributes.
type captureHandler struct {
	mu      sync.Mutex
	records []map[string]any
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := map[string]any{"msg": r.Message, "level": r.Level}
	r.Attrs(func(a slog.Attr) bool {
		rec[a.Key] = a.Value.Any()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, rec)
	return nil
}

func (h *captureHandler) take() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.records
	h.records = nil
	return out
}

// Drops are summarized once per interval, never per message. The bubble's
// clock is fake: time.Sleep advances it exactly once every goroutine blocks.
func TestDropSummaryPerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const every = 10 * time.Second
		h := &captureHandler{}
		r := New(Config{QueueMessages: 1, MaxMessage: 8, SummaryEvery: every, Logger: slog.New(h)})
		stuck := newStuckFake(8)
		r.Subscribe("chat", stuck)

		publish := func(from, to int) {
			for i := from; i < to; i++ {
				if err := r.Publish(seq("chat", i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		publish(0, 1)
		synctest.Wait() // message 0 is stuck in Send
		publish(1, 12)  // 1 queued, 10 dropped
		_ = r.Publish(Message{Label: "chat", Data: make([]byte, 9)})

		time.Sleep(every - time.Nanosecond)
		synctest.Wait()
		if got := h.take(); len(got) != 0 {
			t.Fatalf("logged before the interval: %v", got)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		got := h.take()
		if len(got) != 2 || got[0][DropTooLarge] != uint64(1) ||
			got[1]["label"] != "chat" || got[1][DropQueueFull] != uint64(10) || got[1][DropSendError] != uint64(0) {
			t.Fatalf("first summary: %v", got)
		}

		publish(12, 17) // 5 more dropped
		time.Sleep(every)
		synctest.Wait()
		if got := h.take(); len(got) != 1 || got[0][DropQueueFull] != uint64(5) {
			t.Fatalf("second summary: %v", got)
		}
		time.Sleep(3 * every) // nothing new dropped: nothing logged
		synctest.Wait()
		if got := h.take(); len(got) != 0 {
			t.Fatalf("logged without drops: %v", got)
		}

		stuck.release()
		synctest.Wait() // both queued messages sent
		r.Close()
		got = h.take()
		if len(got) != 1 || got[0]["level"] != slog.LevelInfo || got[0][DropQueueFull] != uint64(15) ||
			got[0]["delivered"] != uint64(2) {
			t.Fatalf("close summary: %v", got)
		}
	})
}
