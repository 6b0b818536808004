package whep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/wish"
)

// RelLayer is the Link relation of the WHEP layer extension (WHEP core extensions §5; WHEPX-06).
const RelLayer = "urn:ietf:params:whep:ext:core:layer"

// contentTypeJSON is the media type of a layer request.
const contentTypeJSON = "application/json"

// maxLayerBody caps a layer request: a few short fields.
const maxLayerBody = 4 << 10

// LayerSelector is what a session gives the layer extension: the stream's video layers as
// measured now, and a place to put what the player asked. A Viewer that follows a layer of its
// own (issue 12) implements it; until then the layer URL is neither routed nor advertised.
type LayerSelector interface {
	// Layers returns the stream's video layers (simulcast encodings) as measured now.
	Layers() []layers.Layer
	// SetLayerChoice records the player's choice; the viewer's chooser applies it on its next
	// decision, and the output switches at the chosen layer's next keyframe.
	SetLayerChoice(layers.Choice)
}

// layerLink is the Link value announcing the extension on the 201 (WHEPX-06); it needs the
// events extension with "layers" advertised (eventsLink).
func layerLink(sessionURL string) string {
	return "<" + sessionURL + `/layer>; rel="` + RelLayer + `"`
}

// layerRequest is the body of POST to the layer URL (WHEPX-06). Fields are pointers so that
// "absent" differs from zero. mediaId is the m-line index as a string; a number is accepted too.
type layerRequest struct {
	MediaID    json.RawMessage `json:"mediaId"`
	RID        *string         `json:"rid"`
	EncodingID *string         `json:"encodingId"` // Broadcast Box's name for rid
	MaxWidth   *int            `json:"maxWidth"`
	MaxHeight  *int            `json:"maxHeight"`
	// Spatial and temporal layer ids (SVC) are not offered: wisp's layers are simulcast rids.
	SpatialLayerID     *int `json:"spatialLayerId"`
	TemporalLayerID    *int `json:"temporalLayerId"`
	MaxSpatialLayerID  *int `json:"maxSpatialLayerId"`
	MaxTemporalLayerID *int `json:"maxTemporalLayerId"`
}

// ServeLayer answers a request to a session's layer URL (WHEPX-06) for sel, whose video is the
// m-line with index videoMLine of the offer:
//
//	POST {"mediaId":"1","rid":"h"}                      pin layer h → 200
//	POST {"mediaId":"1","encodingId":"h"}               the same (Broadcast Box)
//	POST {"mediaId":"1","maxWidth":640,"maxHeight":360} cap the automatic choice → 200
//	POST {"mediaId":"1"}, DELETE                        automatic again → 200 (DELETE: Medooze)
//
// A malformed body, an unknown rid or mediaId, SVC ids → 400 with problem details, and the
// session's choice is left as it was; a wrong Content-Type → 415; a large body → 413.
func ServeLayer(w http.ResponseWriter, r *http.Request, sel LayerSelector, videoMLine int) {
	switch r.Method {
	case http.MethodDelete:
		sel.SetLayerChoice(layers.Choice{})
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		wish.WriteProblem(w, wish.MethodNotAllowed(r.Method, "POST, DELETE, OPTIONS"))
		return
	}
	body, err := wish.ReadBody(r, contentTypeJSON, maxLayerBody)
	if err == nil {
		var ch layers.Choice
		if ch, err = parseLayerChoice([]byte(body), videoMLine, sel.Layers()); err == nil {
			sel.SetLayerChoice(ch)
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	wish.WriteProblem(w, wish.Problem(err))
}

// parseLayerChoice reads a layer request against the session's video m-line index and its
// layers. Errors are 400 problems that say what is wrong.
func parseLayerChoice(body []byte, videoMLine int, ls []layers.Layer) (layers.Choice, error) {
	bad := func(format string, args ...any) (layers.Choice, error) {
		return layers.Choice{}, wish.Errorf(http.StatusBadRequest, "Bad Request", format, args...)
	}
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
		return bad("want a JSON object such as {\"mediaId\":\"%d\",\"rid\":\"…\"}", videoMLine)
	}
	var req layerRequest
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&req); err != nil {
		return bad("want a JSON object such as {\"mediaId\":\"%d\",\"rid\":\"…\"}: %v", videoMLine, err)
	}
	if d.More() {
		return bad("want one JSON object, got more after it")
	}
	if videoMLine < 0 {
		return bad("the session receives no video: there are no layers to choose")
	}
	if err := checkMediaID(req.MediaID, videoMLine); err != nil {
		return layers.Choice{}, err
	}
	if req.SpatialLayerID != nil || req.TemporalLayerID != nil || req.MaxSpatialLayerID != nil || req.MaxTemporalLayerID != nil {
		return bad("spatial and temporal layer ids are not offered: choose a simulcast layer by rid, or cap maxWidth/maxHeight")
	}
	var ch layers.Choice
	switch {
	case req.RID != nil && req.EncodingID != nil && *req.RID != *req.EncodingID:
		return bad("rid %q and encodingId %q disagree", *req.RID, *req.EncodingID)
	case req.RID != nil:
		ch.Pin = *req.RID
	case req.EncodingID != nil:
		ch.Pin = *req.EncodingID
	}
	if (req.RID != nil || req.EncodingID != nil) && ch.Pin == "" {
		return bad("rid must not be empty")
	}
	if (req.RID != nil || req.EncodingID != nil) && !slices.ContainsFunc(ls, func(l layers.Layer) bool { return l.ID == ch.Pin }) {
		return bad("no layer with rid %q; the layers are %s", ch.Pin, ridList(ls))
	}
	for _, m := range []struct {
		name string
		v    *int
		to   *int
	}{{"maxWidth", req.MaxWidth, &ch.MaxWidth}, {"maxHeight", req.MaxHeight, &ch.MaxHeight}} {
		if m.v == nil {
			continue
		}
		if *m.v <= 0 {
			return bad("%s must be a positive number of pixels, got %d", m.name, *m.v)
		}
		*m.to = *m.v
	}
	return ch, nil
}

// checkMediaID accepts an absent mediaId (the first video m-line, by the extension's default),
// or the video m-line's index as a string ("1") or a number (1).
func checkMediaID(raw json.RawMessage, videoMLine int) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return wish.Errorf(http.StatusBadRequest, "Bad Request", "mediaId must be the m-line index as a string, got %s", raw)
		}
		s = n.String()
	}
	if i, err := strconv.Atoi(s); err != nil || i != videoMLine {
		return wish.Errorf(http.StatusBadRequest, "Bad Request", "mediaId %q is not this session's video m-line (%d)", s, videoMLine)
	}
	return nil
}

// ridList names the layers for an error message.
func ridList(ls []layers.Layer) string {
	if len(ls) == 0 {
		return "none yet"
	}
	ids := make([]string, len(ls))
	for i, l := range ls {
		ids[i] = fmt.Sprintf("%q", l.ID)
	}
	return strings.Join(ids, ", ")
}
