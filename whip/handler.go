package whip

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Handler serves the WHIP endpoint and session URLs:
//
//	POST   /whip/{stream}        offer → 201 answer, Location, ETag (RFC 9725 §4.2)
//	DELETE /whip/{stream}/{id}   end the session → 200 (§4.2)
//	OPTIONS, GET, HEAD           2xx, no body (§4.1); other methods 405 + Allow
type Handler struct {
	cfg      Config
	ctx      context.Context // the server's: sessions outlive their POST
	sessions wish.Sessions[*Publisher]
}

// NewHandler returns a Handler whose sessions live until ctx ends or they are closed.
func NewHandler(ctx context.Context, cfg Config) *Handler {
	h := &Handler{cfg: cfg.withDefaults(), ctx: ctx}
	h.sessions.Observe(h.cfg.Observer)
	return h
}

// Register adds the WHIP routes to e.
func (h *Handler) Register(e *echo.Echo) {
	e.POST("/whip/:stream", h.post)
	e.PATCH("/whip/:stream/:id", h.patch)
	e.DELETE("/whip/:stream/:id", h.delete)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/whip/:stream", noContent)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/whip/:stream/:id", h.get)
	for path, allow := range map[string]string{
		"/whip/:stream":     wish.AllowEndpoint,
		"/whip/:stream/:id": wish.AllowSession,
	} {
		e.OPTIONS(path, h.options(allow))
		e.Match([]string{http.MethodPut, http.MethodConnect, http.MethodTrace}, path, notAllowed(allow))
	}
	e.PATCH("/whip/:stream", notAllowed(wish.AllowEndpoint))
	e.POST("/whip/:stream/:id", notAllowed(wish.AllowSession))
}

func (h *Handler) post(c echo.Context) error {
	r := c.Request()
	name := c.Param("stream")
	if err := h.cfg.AuthorizePost(r, name); err != nil {
		return respond(c, err)
	}
	offer, err := wish.ReadOffer(r, h.cfg.MaxBody, wish.Sends)
	if err != nil {
		return respond(c, err)
	}
	p, answer, err := h.publish(r.Context(), name, offer.SDP, r.RemoteAddr)
	if err != nil {
		return respond(c, err)
	}
	loc := wish.BaseURL(r, h.cfg.BaseURL) + "/whip/" + name + "/" + p.ID()
	wish.WriteCreated(c.Response(), loc, p.ETag(), answer, h.cfg.ICEFor(r))
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

// publish negotiates and records a publisher session holding the stream, and tells the
// Notifier of its start and end, in that order.
func (h *Handler) publish(reqCtx context.Context, name, offer, remote string) (*Publisher, string, error) {
	return h.sessions.Open(reqCtx, h.cfg.Registry, name, h.cfg.NegotiateTimeout,
		func(ctx context.Context, st *stream.Stream) (*Publisher, string, error) {
			started := make(chan struct{})
			defer close(started)
			p, answer, err := publish(ctx, h.ctx, h.cfg, st, offer, remote, func(p *Publisher) {
				h.sessions.Ended(h.cfg.Registry, st, p)
				<-started // the start was told (publish returned) before the end is
				h.notify(wish.EventStopped, p)
			})
			if err == nil {
				h.notify(wish.EventStarted, p)
			}
			return p, answer, err
		})
}

// notify tells the Notifier, if any, of a publisher's event.
func (h *Handler) notify(typ string, p *Publisher) {
	if h.cfg.Events != nil {
		h.cfg.Events.Notify(wish.Event{Type: typ, Stream: p.StreamName(), Session: p.ID(), Time: time.Now().UTC()})
	}
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

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

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
