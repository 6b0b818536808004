package layers

// Choice is what a player asked for through the WHEP layer extension (WHEPX-06). The zero value
// is automatic selection.
type Choice struct {
	// Pin names the layer to receive whatever the budget: it overrides the automatic choice while
	// that layer is active. A pinned layer that stops falls back to the automatic choice, and is
	// received again when it returns. "" is no pin.
	Pin string
	// MaxWidth and MaxHeight cap the automatic choice: only layers no larger are chosen (0 is no
	// cap). When no active layer fits, the lowest one is received: a viewer always gets video.
	MaxWidth, MaxHeight int
}

// Auto reports whether c leaves the choice to the budget (no pin, no caps).
func (c Choice) Auto() bool { return c == Choice{} }

// fits reports whether l is within c's caps. A layer whose size is not measured yet fits.
func (c Choice) fits(l Layer) bool {
	return (c.MaxWidth <= 0 || l.Width <= c.MaxWidth) && (c.MaxHeight <= 0 || l.Height <= c.MaxHeight)
}

// candidates returns the active layers within c's caps, lowest first; when none fits the caps,
// the lowest active layer alone (the floor). ranked is lowest first.
func (c Choice) candidates(ranked []Layer) []Layer {
	var out, active []Layer
	for _, l := range ranked {
		if !l.Active {
			continue
		}
		active = append(active, l)
		if c.fits(l) {
			out = append(out, l)
		}
	}
	if len(out) == 0 && len(active) > 0 {
		out = active[:1]
	}
	return out
}

// Manual returns the layer a player's choice names without a bandwidth estimate: the pinned
// layer while it is active; else, with caps, the highest active layer within them (the lowest
// active one when none fits). ok is false when the choice is automatic, when it is a pin alone
// whose layer is inactive or unknown, or when no layer is active: the stream-wide choice applies
// then, and a pinned layer that returns is taken again on the next call.
func Manual(ls []Layer, c Choice) (id string, ok bool) {
	if c.Auto() {
		return "", false
	}
	if c.Pin != "" {
		if p, found := find(ls, c.Pin); found && p.Active {
			return p.ID, true
		}
		if c.MaxWidth <= 0 && c.MaxHeight <= 0 {
			return "", false
		}
	}
	cands := c.candidates(Rank(ls))
	if len(cands) == 0 {
		return "", false
	}
	return cands[len(cands)-1].ID, true
}
