package layers

import (
	"math"
	"testing"
)

// TestRank: layers rank by measured resolution, then bitrate, never by rid name or listing
// order; unmeasured layers rank below measured ones and among themselves by bitrate.
func TestRank(t *testing.T) {
	ids := func(ls []Layer) (s string) {
		for _, l := range ls {
			s += l.ID + ","
		}
		return s
	}
	for _, tc := range []struct {
		name string
		in   []Layer
		want string
	}{
		{"OBS lists its highest first (rid 0)", obs, "2,1,0,"},
		{"rid, resolution and bitrate orders all disagree", disagreeing, "b,c,a,"},
		{"same resolution: bitrate decides", []Layer{
			{ID: "h", Width: 640, Height: 360, Bitrate: 1e6}, {ID: "l", Width: 640, Height: 360, Bitrate: 3e5},
		}, "l,h,"},
		{"unmeasured below measured, by bitrate among themselves", []Layer{
			{ID: "x", Bitrate: 3e6}, {ID: "y", Width: 320, Height: 180, Bitrate: 1e5}, {ID: "z", Bitrate: 1e6},
		}, "z,x,y,"},
	} {
		in := append([]Layer(nil), tc.in...)
		if got := ids(Rank(tc.in)); got != tc.want {
			t.Errorf("%s: Rank = %s, want %s", tc.name, got, tc.want)
		}
		if ids(in) != ids(tc.in) {
			t.Errorf("%s: Rank modified its input", tc.name)
		}
	}
}

// TestBudget: the smallest evidence wins, the send-side estimate is capped at SentCap times what
// was sent (pion's GCC grows without probing), audio comes off, Headroom applies; no evidence is
// not a budget.
func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Signals
		want float64
		ok   bool
	}{
		{"no evidence", Signals{Sent: 1e6, Audio: 64e3}, 0, false},
		{"estimate alone", Signals{Estimate: 2e6}, 2e6 * Headroom, true},
		{"estimate capped by what was sent", Signals{Estimate: 10e6, Sent: 1e6}, 1.5e6 * Headroom, true},
		{"estimate under the cap", Signals{Estimate: 1.2e6, Sent: 1e6}, 1.2e6 * Headroom, true},
		{"REMB lower than the estimate", Signals{Estimate: 3e6, REMB: 1e6}, 1e6 * Headroom, true},
		{"loss lowest", Signals{Estimate: 3e6, REMB: 2e6, Loss: 5e5}, 5e5 * Headroom, true},
		{"audio off", Signals{REMB: 1e6, Audio: 1e5}, 9e5 * Headroom, true},
		{"audio above the budget: 0", Signals{REMB: 5e4, Audio: 1e5}, 0, true},
	} {
		got, ok := tc.s.Budget()
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: Budget = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestManual: without an estimate, a pin names its layer while active, caps name the highest
// active layer within them (the lowest when none fits), and otherwise the stream-wide choice
// applies (ok false), so a pinned layer that stops is left and taken again when it returns.
func TestManual(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ls     []Layer
		c      Choice
		want   string
		wantOK bool
	}{
		{"automatic", obs, Choice{}, "", false},
		{"pin", obs, Choice{Pin: "2"}, "2", true},
		{"pinned layer inactive: the stream's choice", off(obs, "0"), Choice{Pin: "0"}, "", false},
		{"pinned layer unknown: the stream's choice", obs, Choice{Pin: "x"}, "", false},
		{"pinned layer inactive, caps: within the caps", off(obs, "0"), Choice{Pin: "0", MaxHeight: 720}, "1", true},
		{"caps", obs, Choice{MaxWidth: 700, MaxHeight: 400}, "1", true},
		{"caps by resolution, not rid", disagreeing, Choice{MaxWidth: 700}, "c", true},
		{"caps nothing fits: the lowest", obs, Choice{MaxHeight: 100}, "2", true},
		{"caps skip inactive layers", off(obs, "1"), Choice{MaxHeight: 400}, "2", true},
		{"nothing active", off(off(off(obs, "0"), "1"), "2"), Choice{MaxHeight: 400}, "", false},
	} {
		if id, ok := Manual(tc.ls, tc.c); id != tc.want || ok != tc.wantOK {
			t.Errorf("%s: Manual = %q, %v; want %q, %v", tc.name, id, ok, tc.want, tc.wantOK)
		}
	}
}
