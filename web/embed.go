package web

import (
	"embed"
	"io/fs"
)

// Page file names inside [FS], for the server's routes.
const (
	IndexPage   = "index.html"   // served at GET /
	PublishPage = "publish.html" // served at GET /publish/:stream
	WatchPage   = "watch.html"   // served at GET /watch/:stream
	EmbedPage   = "embed.html"   // served at GET /embed/:stream, for an <iframe> on any site
	// PlayerScript is the <wisp-player> module; GET /player.js redirects to it under
	// StaticPrefix, so that its relative imports resolve there.
	PlayerScript = "player.js"
)

// StaticPrefix is the URL path under which the pages expect every file of
// [FS] to be served (GET /static/*). The pages reference their scripts and
// stylesheet by absolute path under it, because they are themselves served at
// /publish/:stream and /watch/:stream where relative paths would not resolve.
const StaticPrefix = "/static/"

//go:embed static
var static embed.FS

// FS returns the page files, rooted at the static directory: "index.html",
// "publish.js", "style.css" and so on. It is read-only and safe for
// concurrent use; serve it with http.FS or echo's StaticFS.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// Unreachable: fs.Sub fails only for an invalid path, and "static"
		// is a constant valid one that go:embed has already checked.
		panic("web: " + err.Error())
	}
	return sub
}
