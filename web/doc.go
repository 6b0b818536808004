// Package web holds wisp's browser pages, embedded in the binary.
//
// The pages are plain JavaScript modules with no build step and no external
// assets; they speak WHIP (RFC 9725) and WHEP to the same origin that served
// them. The package exports only [FS]; the routes are the server's job:
//
//	GET /                 → index.html   (live streams, from GET /api/streams)
//	GET /publish/:stream  → publish.html (camera or screen → POST /whip/{stream})
//	GET /watch/:stream    → watch.html   (POST /whep/{stream} → player, stats, data messages)
//	GET /static/*         → every file of FS (js, css)
//
// Map of static/:
//
//	wisp.js     shared module: whipWhepPost, deleteSession, backoff, connection monitor
//	index.js    stream list and the "go to stream" form
//	publish.js  capture, WHIP session, auto-restart, data-channel sender
//	watch.js    WHEP session, auto-reconnect, stats panel, data-channel log
//	style.css   the one stylesheet
//
// The element ids and the window.wisp object that browser tests rely on are
// listed in web/README.md; keep them stable.
package web
