package whep

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/wish"
)

// RelEvents is the Link relation of the WHEP server-sent events extension (WHEP core extensions
// §4; WHEPX-01).
const RelEvents = "urn:ietf:params:whep:ext:core:server-sent-events"

// eventTypes are the events wisp sends, as advertised in the Link's events parameter.
var eventTypes = []string{"active", "inactive", "layers", "viewercount"}

// eventPoll is how often an event stream looks at the stream's state.
const eventPoll = 500 * time.Millisecond

// eventStream is one subscription made by POST to a session's events URL. Its URL is a
// capability under the session's unguessable URL: browsers' EventSource cannot send
// Authorization (WHEPX-07).
type eventStream struct {
	id      string
	types   []string
	deleted chan struct{} // closed by DELETE or when the session ends
}

func (e *eventStream) wants(t string) bool { return slices.Contains(e.types, t) }

// eventsLink is the Link value announcing the extension on the 201 (WHEPX-01).
func eventsLink(sessionURL string) string {
	return "<" + sessionURL + `/events>; rel="` + RelEvents + `"; events="` + strings.Join(eventTypes, ",") + `"`
}

// subscribe is POST {session}/events: a JSON array of event types (absent or empty: all
// advertised) → 201 + Location of the event stream; an unknown type → 400 (WHEPX-02).
func (h *Handler) subscribe(c echo.Context) error {
	v, ok := h.sessions.Get(c.Param("stream"), c.Param("id"))
	if !ok {
		return respond(c, wish.NotFound())
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 4<<10))
	if err != nil {
		return respond(c, wish.Errorf(http.StatusBadRequest, "Bad Request", "reading body: %v", err))
	}
	types := eventTypes
	if len(strings.TrimSpace(string(body))) > 0 {
		var asked []string
		if err := json.Unmarshal(body, &asked); err != nil {
			return respond(c, wish.Errorf(http.StatusBadRequest, "Bad Request", "want a JSON array of event types: %v", err))
		}
		for _, t := range asked {
			if !slices.Contains(eventTypes, t) {
				return respond(c, wish.Errorf(http.StatusBadRequest, "Bad Request", "event type %q is not supported", t))
			}
		}
		if len(asked) > 0 {
			types = asked
		}
	}
	es := &eventStream{id: wish.NewID(), types: types, deleted: make(chan struct{})}
	if !v.addEvents(es) {
		return respond(c, wish.NotFound())
	}
	loc := wish.BaseURL(c.Request(), h.cfg.BaseURL) + "/whep/" + v.StreamName() + "/" + v.ID() + "/events/" + es.id
	c.Response().Header().Set("Location", loc)
	return c.NoContent(http.StatusCreated)
}

// unsubscribe is DELETE on an event stream: 200, and later requests get 404 (WHEPX-04).
func (h *Handler) unsubscribe(c echo.Context) error {
	v, ok := h.sessions.Get(c.Param("stream"), c.Param("id"))
	if !ok || !v.removeEvents(c.Param("eid")) {
		return respond(c, wish.NotFound())
	}
	return c.NoContent(http.StatusOK)
}

// events is GET on an event stream: text/event-stream with the subscribed types only, each as
// "event: <type>" and one "data:" line of JSON (WHEPX-03, WHEPX-05). It ends when the stream is
// deleted, the session ends, the client goes or the server shuts down.
func (h *Handler) events(c echo.Context) error {
	v, ok := h.sessions.Get(c.Param("stream"), c.Param("id"))
	if !ok {
		return respond(c, wish.NotFound())
	}
	es, ok := v.eventStream(c.Param("eid"))
	if !ok {
		return respond(c, wish.NotFound())
	}
	w := c.Response()
	// The server's WriteTimeout bounds ordinary responses; an event stream lives as long as the session.
	_ = http.NewResponseController(w.Writer).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Flush()

	tick := time.NewTicker(eventPoll)
	defer tick.Stop()
	live, viewers := false, -1 // no initial "inactive" when nothing is live (WHEPX-05)
	mline := v.videoMLine()
	sel, selects := any(v).(LayerSelector) // a viewer that follows a layer of its own (layer.go)
	var lev layerEvents
	for {
		info := v.Stream().Info()
		if info.Live != live {
			live = info.Live
			if live {
				send(w, es, "active", struct{}{})
				if mline >= 0 && !selects {
					// wisp forwards one layer of the publisher's video.
					send(w, es, "layers", map[string][]map[string]int{fmt.Sprint(mline): {{"spatialLayerId": 0, "temporalLayerId": 0}}})
				}
			} else {
				send(w, es, "inactive", struct{}{})
			}
		}
		if live && selects && mline >= 0 {
			// Every layer with its measured size and bitrate, on change and every layersEvery.
			if ls := sel.Layers(); len(ls) > 0 && lev.due(time.Now(), ls) {
				send(w, es, "layers", layersEvent(mline, ls))
			}
		}
		if info.Viewers != viewers {
			viewers = info.Viewers
			send(w, es, "viewercount", map[string]int{"viewercount": viewers})
		}
		select {
		case <-tick.C:
		case <-es.deleted:
			return nil
		case <-v.Done():
			return nil
		case <-h.stopEvents:
			return nil
		case <-c.Request().Context().Done():
			return nil
		}
	}
}

// send writes one event if the stream subscribed to its type.
func send(w *echo.Response, es *eventStream, typ string, data any) {
	if !es.wants(typ) {
		return
	}
	b, _ := json.Marshal(data) // plain maps and structs: never fails
	_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
	w.Flush()
}
