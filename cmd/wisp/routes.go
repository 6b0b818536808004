package main

import (
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/wisp-media/wisp/web"
)

// routes builds the echo router: WHIP, WHEP, the status API and the embedded pages.
func (s *server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(s.headers)
	e.Use(s.countPOSTs)          // sees every refusal below it
	e.Use(s.refuseWhileDraining) // before the limits: a refused POST takes no token
	e.Use(s.limits.middleware)   // after CORS: preflights are never limited

	s.registerHealth(e)

	s.whip.Register(e)
	s.whep.Register(e)
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/api/streams", s.listStreams)

	pages := web.FS()
	e.Match(get, "/", page(pages, web.IndexPage))
	e.Match(get, "/publish/:stream", page(pages, web.PublishPage))
	e.Match(get, "/watch/:stream", page(pages, web.WatchPage))
	e.Match(get, "/embed/:stream", s.embedPage(pages))
	e.Match(get, "/player.js", func(c echo.Context) error {
		return c.Redirect(http.StatusFound, web.StaticPrefix+web.PlayerScript)
	})
	e.Match(get, web.StaticPrefix+"*", echo.WrapHandler(http.StripPrefix(web.StaticPrefix, http.FileServerFS(pages))))
	return e
}

// headers applies the CORS policy (answering preflights itself) and sensible security headers.
func (s *server) headers(next echo.HandlerFunc) echo.HandlerFunc {
	cors := s.corsPolicy()
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if cors.Handle(c.Response(), c.Request()) {
			return nil
		}
		return next(c)
	}
}

// pageCSP is the Content-Security-Policy of the pages, before frame-ancestors.
const pageCSP = "default-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self'; "

// page serves one embedded HTML page, never inside another site's frame.
func page(pages fs.FS, name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("X-Frame-Options", "DENY")
		return servePage(c, pages, name, "frame-ancestors 'none'")
	}
}

// embedPage serves /embed/{stream}, the player alone, which the sites of -cors-origins (any site
// by default) may frame.
func (s *server) embedPage(pages fs.FS) echo.HandlerFunc {
	ancestors := "frame-ancestors *"
	if o := s.cfg.CORSOrigins; len(o) > 0 && !slices.Contains(o, "*") {
		ancestors = "frame-ancestors " + strings.Join(o, " ")
	}
	return func(c echo.Context) error { return servePage(c, pages, web.EmbedPage, ancestors) }
}

func servePage(c echo.Context, pages fs.FS, name, ancestors string) error {
	body, err := fs.ReadFile(pages, name)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", pageCSP+ancestors)
	return c.HTMLBlob(http.StatusOK, body)
}

// listStreams is GET /api/streams: every stream with its viewer count.
func (s *server) listStreams(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if s.cluster != nil {
		list, degraded := s.cluster.streams(c.Request().Context(), s.registry.List())
		dir := "ok"
		if degraded {
			dir = "unavailable"
		}
		return c.JSON(http.StatusOK, map[string]any{"streams": list, "node": s.cluster.cfg.NodeID, "directory": dir})
	}
	return c.JSON(http.StatusOK, map[string]any{"streams": s.registry.List()})
}
