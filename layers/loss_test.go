package layers

import (
	"math"
	"testing"
	"time"
)

// TestLossEstimator: no evidence before a report; under 2 % loss it grows ×1.05 per report while
// at least ¾ of it is sent, and never stays below what was just carried; over 10 % it shrinks to
// what arrived of what was sent; in between it holds; bounded by Min and Max; reports stopping
// for Stale bring back Initial.
func TestLossEstimator(t *testing.T) {
	p := LossParams{Initial: 500_000, Min: 100_000, Max: 5_000_000, Stale: 5 * time.Second}
	t0 := time.Unix(1_000_000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	pct := func(p float64) uint8 { return uint8(p * 256 / 100) }
	for _, tc := range []struct {
		name    string
		reports []report
		want    float64
	}{
		{"first report, no loss, sending the estimate: grows", reps(0, 500_000), 525_000},
		{"no loss while sending little: holds", reps(0, 100_000), 500_000},
		{"no loss while sending more: at least what was carried", reps(0, 2_000_000), 2_100_000},
		{"5 % loss: holds", []report{{pct(5), 500_000}}, 500_000},
		{"20 % loss: shrinks to what arrived of what was sent", []report{{pct(20), 400_000}}, 400_000 * (1 - float64(pct(20))/256)},
		{"heavy loss: never under Min", reps(255, 120_000, 255, 120_000), 100_000},
		{"two lossy reports do not compound: what arrived of what was sent", reps(float64(pct(30)), 1_600_000, float64(pct(30)), 1_600_000),
			1_600_000 * (1 - float64(pct(30))/256)},
		{"never over Max", reps(0, 9e6), 5_000_000},
	} {
		e := NewLossEstimator(p)
		if got := e.Estimate(t0); got != 0 {
			t.Fatalf("%s: estimate before any report = %v, want 0", tc.name, got)
		}
		for i, r := range tc.reports {
			e.Report(at(float64(i)), r.loss, r.sent)
		}
		if got := e.Estimate(at(float64(len(tc.reports)))); math.Abs(got-tc.want) > 1 {
			t.Errorf("%s: estimate %v, want %v", tc.name, got, tc.want)
		}
	}

	// Growth compounds per report; silence brings back Initial.
	e := NewLossEstimator(p)
	for i := range 10 {
		e.Report(at(float64(i)), 0, max(e.Estimate(at(float64(i))), p.Initial))
	}
	if got, want := e.Estimate(at(10)), 500_000*math.Pow(1.05, 10); math.Abs(got-want) > 100 {
		t.Fatalf("after 10 clean reports at the estimate: %v, want about %v", got, want)
	}
	if got := e.Estimate(at(16)); got != p.Initial {
		t.Fatalf("after 6 s without reports: %v, want Initial %v", got, p.Initial)
	}
}

// report is one receiver report: fraction lost (of 256) and the rate sent over its interval.
type report struct {
	loss uint8
	sent float64
}

// reps pairs its arguments into reports.
func reps(v ...float64) []report {
	var out []report
	for i := 0; i+1 < len(v); i += 2 {
		out = append(out, report{uint8(v[i]), v[i+1]})
	}
	return out
}
