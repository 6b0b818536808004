package whep

import (
	"net/http"

	"github.com/wisp-media/wisp/stream"
)

// PullLabel is the data channel a node pulling a stream from its owner opens: the owner sends the
// messages of every label on it, framed (datarelay.AllLabels), in the publisher's order.
const PullLabel = "wisp-pull"

// Cluster is what the WHEP side needs of a cluster of nodes (nil on a single node).
type Cluster interface {
	// VerifyPull tells whether r is a pull by another node (its bearer token is a node-to-node
	// pull token) and, if so, whether the token is valid for stream: an error is a 401 and the
	// request changes nothing. A pull bypasses the watch keys and the auth webhook.
	VerifyPull(r *http.Request, stream string) (pull bool, err error)
	// Watch is told that a viewer (not a pull) of st is joining: where st's publisher is on
	// another node, the node pulls the stream once for all its viewers. It returns what undoes
	// it, called when the viewer ends; an error (the directory is away and a new pull is
	// needed: 503 + Retry-After) refuses the viewer.
	Watch(st *stream.Stream) (release func(), err error)
	// Place returns where a viewer's POST should go instead (a 307 to a less loaded node), or
	// false to serve it here. Pulls are never placed. It is asked only of a POST already
	// authorized, and the location carries a grant of that (Placed), never the key itself.
	Place(r *http.Request, stream string) (location string, elsewhere bool)
	// Placed reports whether r carries a valid placement grant for stream: a viewer another node
	// authorized and redirected here, admitted without the watch keys and the auth webhook (its
	// key or token stayed behind: browsers and Go's client drop Authorization on a redirect to
	// another host). An invalid or expired grant is not an error: the POST is authorized as any.
	Placed(r *http.Request, stream string) bool
}

// place answers a viewer's POST with 307 to another node when the Cluster says so.
func (h *Handler) place(w http.ResponseWriter, r *http.Request, name string) bool {
	if h.cfg.Cluster == nil {
		return false
	}
	loc, elsewhere := h.cfg.Cluster.Place(r, name)
	if !elsewhere {
		return false
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// authorize decides a POST: a pull by another node, or a viewer with the watch keys.
func (h *Handler) authorize(r *http.Request, name string) (pull bool, err error) {
	if h.cfg.Cluster != nil {
		pull, err := h.cfg.Cluster.VerifyPull(r, name)
		if pull || err != nil {
			return pull, err
		}
		if h.cfg.Cluster.Placed(r, name) {
			return false, nil
		}
	}
	return false, h.cfg.AuthorizePost(r, name)
}

// join tells the Cluster of a viewer joining st; pulls are not told (a node never pulls on
// behalf of another: the cascade is one hop deep).
func (h *Handler) join(st *stream.Stream, pull bool) (func(), error) {
	if h.cfg.Cluster == nil || pull {
		return func() {}, nil
	}
	return h.cfg.Cluster.Watch(st)
}
