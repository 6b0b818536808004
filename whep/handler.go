package whep

import (
	"context"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Handler serves the WHEP endpoint and session URLs:
//
//	POST   /whep/{stream}        offer → 201 sendonly answer, Location, ETag
//	DELETE /whep/{stream}/{id}   end the session → 200
//	OPTIONS, GET, HEAD           2xx, no body; other methods 405 + Allow
type Handler struct {
	cfg      Config
	ctx      context.Context // the server's: sessions outlive their POST
	sessions wish.Sessions[*Viewer]
	// stopEvents is closed by StopEvents: event streams end so a graceful shutdown need not wait.
	stopEvents chan struct{}
	stopOnce   sync.Once
}

// NewHandler returns a Handler whose sessions live until ctx ends or they are closed.
func NewHandler(ctx context.Context, cfg Config) *Handler {
	h := &Handler{cfg: cfg.withDefaults(), ctx: ctx, stopEvents: make(chan struct{})}
	h.sessions.Observe(h.cfg.Observer)
	return h
}

// StopEvents ends every server-sent event stream; main calls it when HTTP shutdown begins.
func (h *Handler) StopEvents() { h.stopOnce.Do(func() { close(h.stopEvents) }) }

// Register adds the WHEP routes to e.
func (h *Handler) Register(e *echo.Echo) {
	e.POST("/whep/:stream", h.post)
	e.PATCH("/whep/:stream/:id", h.patch)
	e.DELETE("/whep/:stream/:id", h.delete)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/whep/:stream", discover)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/whep/:stream/:id", h.get)
	for path, allow := range map[string]string{
		"/whep/:stream":     wish.AllowEndpoint,
		"/whep/:stream/:id": wish.AllowSession,
	} {
		e.OPTIONS(path, h.options(allow))
		e.Match([]string{http.MethodPut, http.MethodConnect, http.MethodTrace}, path, notAllowed(allow))
	}
	e.PATCH("/whep/:stream", notAllowed(wish.AllowEndpoint))
	e.POST("/whep/:stream/:id/events", h.subscribe)
	e.GET("/whep/:stream/:id/events/:eid", h.events)
	e.DELETE("/whep/:stream/:id/events/:eid", h.unsubscribe)
	e.Match([]string{http.MethodPost, http.MethodDelete}, "/whep/:stream/:id/layer", h.layer)
	e.POST("/whep/:stream/:id", notAllowed(wish.AllowSession))
}

func (h *Handler) post(c echo.Context) error {
	r := c.Request()
	name := c.Param("stream")
	pull, err := h.authorize(r, name)
	if err != nil {
		return respond(c, err)
	}
	if !pull && h.place(c.Response(), r, name) {
		return nil // 307 to a less loaded node (cluster.go)
	}
	sections := 1
	if pull {
		sections = MaxPullSections // one a simulcast layer (pull.go)
	}
	offer, err := wish.ReadLayeredOffer(r, h.cfg.MaxBody, wish.Receives, sections)
	if err != nil {
		return respond(c, err)
	}
	v, answer, err := h.watch(r.Context(), name, offer, r.RemoteAddr, pull)
	if err != nil {
		return respond(c, err)
	}
	answer = rtc.StereoOpus(answer) // stereo publishers play in stereo (rtc/stereo.go)
	loc := wish.BaseURL(r, h.cfg.BaseURL) + "/whep/" + name + "/" + v.ID()
	links := []string{eventsLink(loc)} // WHEPX-01
	if _, ok := any(v).(LayerSelector); ok {
		links = append(links, layerLink(loc)) // WHEPX-06, only where a viewer can follow a layer
	}
	wish.WriteCreated(c.Response(), loc, v.ETag(), answer, h.cfg.ICEFor(r), links...)
	return nil
}

// patch trickles candidates or restarts ICE (RFC 9725 §4.3).
func (h *Handler) patch(c echo.Context) error {
	h.sessions.ServePatch(c.Response(), c.Request(), c.Param("stream"), c.Param("id"), h.cfg.Patch)
	return nil
}

// get tells whether the session lives: 204, else 404 (COMMON-08, COMMON-19).
func (h *Handler) get(c echo.Context) error {
	h.sessions.ServeGet(c.Response(), c.Param("stream"), c.Param("id"))
	return nil
}

// delete ends the session (COMMON-17, COMMON-18, COMMON-19).
func (h *Handler) delete(c echo.Context) error {
	h.sessions.ServeDelete(c.Response(), c.Param("stream"), c.Param("id"))
	return nil
}

// watch negotiates and records a viewer session holding the stream.
func (h *Handler) watch(reqCtx context.Context, name string, offer rtc.Offer, remote string, pull bool) (*Viewer, string, error) {
	return h.sessions.Open(reqCtx, h.cfg.Registry, name, h.cfg.NegotiateTimeout,
		func(ctx context.Context, st *stream.Stream) (*Viewer, string, error) {
			if h.cfg.RequirePublisher && !st.Info().Live {
				e := wish.Errorf(http.StatusConflict, "Conflict", "stream %s is not live", name)
				e.Header.Set("Retry-After", "5")
				return nil, "", e
			}
			// Joined first: on a node that pulls the stream, the first viewers wait for the
			// pull's video, so the codec check (and the layers) know the publisher's.
			release, err := h.join(st, pull)
			if err != nil {
				return nil, "", err
			}
			if err := checkCodecs(st.Info(), offer); err != nil {
				release()
				return nil, "", err
			}
			v, answer, err := watch(ctx, h.ctx, h.cfg, st, offer, remote, pull, func(v *Viewer) {
				release()
				h.sessions.Ended(h.cfg.Registry, st, v)
			})
			if err != nil {
				release()
			}
			return v, answer, err
		})
}

// layer serves the session's layer URL (WHEPX-06; layer.go): 404 where the session cannot
// follow a layer of its own.
func (h *Handler) layer(c echo.Context) error {
	v, ok := h.sessions.Get(c.Param("stream"), c.Param("id"))
	sel, selects := any(v).(LayerSelector)
	if !ok || !selects {
		return respond(c, wish.NotFound())
	}
	ServeLayer(c.Response(), c.Request(), sel, v.videoMLine())
	return nil
}

// Len returns the number of live sessions.
func (h *Handler) Len() int { return h.sessions.Len() }

// Close ends every session and waits for them.
func (h *Handler) Close() { h.sessions.CloseAll() }

// respond writes err as problem details with its spec status.
func respond(c echo.Context, err error) error {
	wish.WriteProblem(c.Response(), wish.Problem(err))
	return nil
}

// discover answers GET and HEAD on the endpoint: 200, application/sdp, no body (WHEP-07).
func discover(c echo.Context) error {
	c.Response().Header().Set("Content-Type", wish.ContentTypeSDP)
	return c.NoContent(http.StatusOK)
}

// options answers a non-preflight OPTIONS (wish.Endpoint.ServeOptions).
func (h *Handler) options(allow string) echo.HandlerFunc {
	return func(c echo.Context) error {
		h.cfg.ServeOptions(c.Response(), c.Request(), c.Param("stream"), allow)
		return nil
	}
}

func notAllowed(allow string) echo.HandlerFunc {
	return func(c echo.Context) error { return respond(c, wish.MethodNotAllowed(c.Request().Method, allow)) }
}
