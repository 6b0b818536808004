package whep

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/wish"
)

// fakeSelector is the seam a Viewer fills (LayerSelector): fixed layers, the choice recorded.
type fakeSelector struct {
	ls     []layers.Layer
	choice layers.Choice
	calls  int
}

func (f *fakeSelector) Layers() []layers.Layer { return f.ls }
func (f *fakeSelector) SetLayerChoice(c layers.Choice) {
	f.choice = c
	f.calls++
}

// OBS-shaped layers: rid "0" is its highest.
var obsLayers = []layers.Layer{
	{ID: "0", Width: 1280, Height: 720, Bitrate: 2.5e6, Active: true},
	{ID: "1", Width: 640, Height: 360, Bitrate: 8e5, Active: true},
	{ID: "2", Width: 320, Height: 180, Bitrate: 2e5, Active: false},
}

// The session's video is m-line 1 (audio first, as Broadcast Box and browsers offer).
const testVideoMLine = 1

func serveLayer(t *testing.T, sel *fakeSelector, method, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/whep/s/id/layer", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	ServeLayer(w, r, sel, testVideoMLine)
	return w
}

// TestServeLayer: WHEPX-06. rid pins, encodingId is rid (Broadcast Box), maxWidth/maxHeight cap,
// {mediaId} alone, {} and DELETE (Medooze unselectLayer) revert to automatic.
func TestServeLayer(t *testing.T) {
	pinned := layers.Choice{Pin: "1"}
	for _, tc := range []struct {
		name, method, body string
		want               layers.Choice
	}{
		{"rid pins", http.MethodPost, `{"mediaId":"1","rid":"0"}`, layers.Choice{Pin: "0"}},
		{"an inactive layer may be pinned (received when it returns)", http.MethodPost, `{"mediaId":"1","rid":"2"}`, layers.Choice{Pin: "2"}},
		{"encodingId is rid (Broadcast Box)", http.MethodPost, `{"mediaId":"1","encodingId":"0"}`, layers.Choice{Pin: "0"}},
		{"rid and encodingId agreeing", http.MethodPost, `{"mediaId":"1","rid":"0","encodingId":"0"}`, layers.Choice{Pin: "0"}},
		{"caps", http.MethodPost, `{"mediaId":"1","maxWidth":640,"maxHeight":360}`, layers.Choice{MaxWidth: 640, MaxHeight: 360}},
		{"one cap", http.MethodPost, `{"mediaId":"1","maxHeight":200}`, layers.Choice{MaxHeight: 200}},
		{"mediaId as a number", http.MethodPost, `{"mediaId":1,"rid":"0"}`, layers.Choice{Pin: "0"}},
		{"mediaId absent: the first video m-line", http.MethodPost, `{"rid":"0"}`, layers.Choice{Pin: "0"}},
		{"unknown fields are ignored", http.MethodPost, `{"mediaId":"1","rid":"0","targetBitrate":5}`, layers.Choice{Pin: "0"}},
		{"mediaId alone reverts", http.MethodPost, `{"mediaId":"1"}`, layers.Choice{}},
		{"an empty object reverts", http.MethodPost, `{}`, layers.Choice{}},
		{"DELETE reverts (Medooze)", http.MethodDelete, ``, layers.Choice{}},
	} {
		sel := &fakeSelector{ls: obsLayers, choice: pinned}
		ct := contentTypeJSON
		if tc.method == http.MethodDelete {
			ct = ""
		}
		w := serveLayer(t, sel, tc.method, ct, tc.body)
		if w.Code != http.StatusOK || sel.calls != 1 || sel.choice != tc.want {
			t.Errorf("%s: %d %q, choice %+v after %d calls; want 200 and %+v", tc.name, w.Code, w.Body, sel.choice, sel.calls, tc.want)
		}
	}
}

// TestServeLayerBad: a malformed body, an unknown rid or mediaId, SVC ids → 400 with problem
// details saying what is wrong (COMMON-04), and the session's choice untouched; a wrong type is
// 415, a large body 413, another method 405 (WHEPX-06).
func TestServeLayerBad(t *testing.T) {
	for _, tc := range []struct {
		name, method, ct, body string
		status                 int
		detail                 string // a part of the problem's detail
	}{
		{"not JSON", http.MethodPost, contentTypeJSON, `rid=0`, 400, "JSON object"},
		{"truncated JSON", http.MethodPost, contentTypeJSON, `{"rid":"0"`, 400, "JSON object"},
		{"an array", http.MethodPost, contentTypeJSON, `["0"]`, 400, "JSON object"},
		{"null", http.MethodPost, contentTypeJSON, `null`, 400, "JSON object"},
		{"two objects", http.MethodPost, contentTypeJSON, `{"rid":"0"}{"rid":"1"}`, 400, "one JSON object"},
		{"unknown rid", http.MethodPost, contentTypeJSON, `{"mediaId":"1","rid":"h"}`, 400, `no layer with rid "h"; the layers are "0", "1", "2"`},
		{"unknown encodingId", http.MethodPost, contentTypeJSON, `{"mediaId":"1","encodingId":"WebHigh"}`, 400, `no layer with rid "WebHigh"`},
		{"empty rid", http.MethodPost, contentTypeJSON, `{"mediaId":"1","rid":""}`, 400, "rid must not be empty"},
		{"rid and encodingId disagree", http.MethodPost, contentTypeJSON, `{"rid":"0","encodingId":"1"}`, 400, "disagree"},
		{"rid not a string", http.MethodPost, contentTypeJSON, `{"rid":0}`, 400, "JSON object"},
		{"mediaId of the audio m-line", http.MethodPost, contentTypeJSON, `{"mediaId":"0","rid":"0"}`, 400, `mediaId "0" is not this session's video m-line (1)`},
		{"mediaId not an index", http.MethodPost, contentTypeJSON, `{"mediaId":"video","rid":"0"}`, 400, "not this session's video m-line"},
		{"mediaId an object", http.MethodPost, contentTypeJSON, `{"mediaId":{},"rid":"0"}`, 400, "m-line index"},
		{"maxWidth zero", http.MethodPost, contentTypeJSON, `{"maxWidth":0}`, 400, "maxWidth must be a positive"},
		{"maxHeight negative", http.MethodPost, contentTypeJSON, `{"maxHeight":-360}`, 400, "maxHeight must be a positive"},
		{"maxWidth a string", http.MethodPost, contentTypeJSON, `{"maxWidth":"640"}`, 400, "JSON object"},
		{"spatial layer", http.MethodPost, contentTypeJSON, `{"mediaId":"1","spatialLayerId":1}`, 400, "not offered"},
		{"temporal cap", http.MethodPost, contentTypeJSON, `{"maxTemporalLayerId":0}`, 400, "not offered"},
		{"empty body", http.MethodPost, contentTypeJSON, ``, 400, "empty body"},
		{"wrong content type", http.MethodPost, "text/plain", `{"rid":"0"}`, 415, "application/json"},
		{"no content type", http.MethodPost, "", `{"rid":"0"}`, 415, "application/json"},
		{"too large", http.MethodPost, contentTypeJSON, `{"rid":"` + strings.Repeat("x", 5000) + `"}`, 413, "body over"},
		{"PUT", http.MethodPut, contentTypeJSON, `{"rid":"0"}`, 405, "PUT"},
	} {
		sel := &fakeSelector{ls: obsLayers, choice: layers.Choice{Pin: "1"}}
		w := serveLayer(t, sel, tc.method, tc.ct, tc.body)
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		err := json.Unmarshal(w.Body.Bytes(), &p)
		switch {
		case w.Code != tc.status || err != nil || p.Status != tc.status:
			t.Errorf("%s: %d %q, want %d with problem details", tc.name, w.Code, w.Body, tc.status)
		case w.Header().Get("Content-Type") != wish.ContentTypeProblem:
			t.Errorf("%s: Content-Type %q, want %s", tc.name, w.Header().Get("Content-Type"), wish.ContentTypeProblem)
		case !strings.Contains(p.Detail, tc.detail):
			t.Errorf("%s: detail %q, want it to say %q", tc.name, p.Detail, tc.detail)
		case sel.calls != 0 || sel.choice != (layers.Choice{Pin: "1"}):
			t.Errorf("%s: the session's choice changed: %+v after %d calls", tc.name, sel.choice, sel.calls)
		}
	}

	// A session without video has no layers to choose.
	r := httptest.NewRequest(http.MethodPost, "/whep/s/id/layer", strings.NewReader(`{"rid":"0"}`))
	r.Header.Set("Content-Type", contentTypeJSON)
	w := httptest.NewRecorder()
	sel := &fakeSelector{ls: obsLayers}
	ServeLayer(w, r, sel, -1)
	if w.Code != http.StatusBadRequest || sel.calls != 0 {
		t.Fatalf("no video m-line: %d %q after %d calls, want 400 and no change", w.Code, w.Body, sel.calls)
	}
}

// TestLayerRoute: the layer URL of a session that does not exist (or whose viewer cannot follow
// a layer) is 404, for POST and DELETE alike.
func TestLayerRoute(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := NewHandler(ctx, Config{})
	e := echo.New()
	h.Register(e)
	for _, m := range []string{http.MethodPost, http.MethodDelete} {
		r := httptest.NewRequest(m, "/whep/s/nosuch/layer", strings.NewReader(`{"rid":"0"}`))
		r.Header.Set("Content-Type", contentTypeJSON)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s on an unknown session's layer URL: %d, want 404", m, w.Code)
		}
	}
}

// TestLayersEvent: WHEPX-05's "layers" data: keyed by the video m-line index, every layer highest
// first (ranked by measured resolution, not rid), rid, width, height, bitrate, active; an inactive
// layer's bitrate is 0 (the extension's sign); a stream's unnamed only layer is spatialLayerId 0.
func TestLayersEvent(t *testing.T) {
	got, _ := json.Marshal(layersEvent(testVideoMLine, []layers.Layer{obsLayers[2], obsLayers[0], obsLayers[1]}))
	want := `{"1":[` +
		`{"rid":"0","bitrate":2500000,"width":1280,"height":720,"active":true},` +
		`{"rid":"1","bitrate":800000,"width":640,"height":360,"active":true},` +
		`{"rid":"2","bitrate":0,"width":320,"height":180,"active":false}]}`
	if string(got) != want {
		t.Fatalf("layers event\n got %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(layersEvent(0, []layers.Layer{{Bitrate: 1e6, Active: true}}))
	if want := `{"0":[{"spatialLayerId":0,"bitrate":1000000,"active":true}]}`; string(got) != want {
		t.Fatalf("single-layer event\n got %s\nwant %s", got, want)
	}
}

// TestLayerEventsDue: "layers" is sent at once, again when a layer starts, stops, appears or
// changes size, and otherwise every layersEvery (bitrates alone do not trigger one).
func TestLayerEventsDue(t *testing.T) {
	var e layerEvents
	t0 := time.Unix(1_000_000, 0)
	ls := append([]layers.Layer(nil), obsLayers...)
	steps := []struct {
		at     time.Duration
		change func()
		want   bool
	}{
		{0, nil, true},
		{500 * time.Millisecond, nil, false},
		{time.Second, func() { ls[0].Bitrate = 2.4e6 }, false},
		{1500 * time.Millisecond, func() { ls[2].Active = true }, true},
		{2 * time.Second, func() { ls[1].Width, ls[1].Height = 480, 270 }, true},
		{3 * time.Second, func() { ls = ls[:2] }, true},
		{7 * time.Second, nil, false},
		{8 * time.Second, nil, true}, // layersEvery after the last
	}
	for i, s := range steps {
		if s.change != nil {
			s.change()
		}
		if got := e.due(t0.Add(s.at), ls); got != s.want {
			t.Fatalf("step %d at %v: due %v, want %v", i, s.at, got, s.want)
		}
	}
}
