package wish

import (
	"net/http"

	"github.com/wisp-media/wisp/rtc"
)

// WriteCreated writes the 201 of a WHIP or WHEP POST (COMMON-01): the absolute session URL in
// Location, the entity tag (COMMON-23), Accept-Patch (LEGACY-02), one Link line per ICE server
// (COMMON-15), any extra Links (extensions, COMMON-32) and the answer, exactly application/sdp.
func WriteCreated(w http.ResponseWriter, location, etag, answer string, ice ICEServers, links ...string) {
	h := w.Header()
	h.Set("Location", location)
	for _, l := range links {
		h.Add("Link", l)
	}
	h.Set("ETag", etag)
	h.Set("Accept-Patch", ContentTypeTrickle)
	ice.AddLinks(h)
	h.Set("Content-Type", ContentTypeSDP)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(answer))
}

// ServePatch answers a PATCH on a session URL: 404 for an unknown session, else trickle or ICE
// restart (RFC 9725 §4.3). Holding the unguessable session URL authorises it (COMMON-17).
func (t *Sessions[S]) ServePatch(w http.ResponseWriter, r *http.Request, stream, id string, p PatchPolicy) {
	s, ok := t.Get(stream, id)
	ice, isICE := any(s).(ICESession)
	if !ok || !isICE {
		WriteProblem(w, NotFound())
		return
	}
	ServePatch(w, r, ice, p)
}

// ServeGet answers a GET or HEAD on a session URL: 204 with no content while the session lives
// (COMMON-08, COMMON-09), 404 once it has ended or was never there (COMMON-19). Clients can ask
// it whether the server still holds their session, as wisp's pages do when their media stalls:
// a restarted server answers 404 at once, long before ICE consent fails.
func (t *Sessions[S]) ServeGet(w http.ResponseWriter, stream, id string) {
	if _, ok := t.Get(stream, id); !ok {
		WriteProblem(w, NotFound())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ServeDelete answers a DELETE on a session URL: it ends the session and answers 200, ignoring
// any If-Match (COMMON-18); 200 once more for a session that ended on its own just before (see
// Sessions); else 404 (COMMON-19). Holding the session URL authorises it (COMMON-17).
func (t *Sessions[S]) ServeDelete(w http.ResponseWriter, stream, id string) {
	s, ok := t.Get(stream, id)
	if !ok {
		if t.Forget(stream, id) {
			w.WriteHeader(http.StatusOK)
			return
		}
		WriteProblem(w, NotFound())
		return
	}
	t.Take(s)
	_ = CloseBecause(s, rtc.ReasonDeleted)
	w.WriteHeader(http.StatusOK)
}
