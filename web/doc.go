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
//	wisp.js     shared module: whipWhepPost (with the answer's Links), deleteSession, backoff, connection monitor
//	layers.js   the WHEP layer extension from a player's side: "layers" events, pin by rid, Auto
//	player.js   <wisp-player>: the session loop any page embeds (with the layers attribute: layers.js)
//	index.js    stream list (with each simulcast stream's layers and their viewers) and the "go to stream" form
//	publish.js  capture, WHIP session (simulcast: three encodings l, m, h), auto-restart, data-channel sender
//	watch.js    the player, stats panel, data-channel log, layer section (Auto and a button per layer)
//	style.css   the one stylesheet
//
// The element ids and the window.wisp object that browser tests rely on are
// listed in web/README.md; keep them stable.
package web
