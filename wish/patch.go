package wish

import (
	"context"
	"net/http"
	"strings"
)

// ICESession is what a WHIP or WHEP session gives a PATCH on its URL (RFC 9725 §4.3).
type ICESession interface {
	// ETag is the entity tag of the current ICE session, quoted.
	ETag() string
	// RemoteUfrag is the client's current ICE username fragment.
	RemoteUfrag() string
	// Trickle adds the fragment's candidates to the current ICE session, discarding those that
	// cannot be used (COMMON-21).
	Trickle(ctx context.Context, f Fragment) error
	// Restart starts a new ICE session with the fragment's credentials and candidates. It returns
	// the server's fragment (credentials, every candidate, a=end-of-candidates) and the new entity
	// tag. On error the old ICE session is kept (COMMON-26).
	Restart(ctx context.Context, f Fragment) (fragment, etag string, err error)
}

// PatchPolicy is what a server supports and how strict it is on PATCH.
type PatchPolicy struct {
	// LenientIfMatch accepts a PATCH without If-Match instead of answering 428 (COMMON-24:
	// Eyevinn's whip-web-client sends "ETag:" instead).
	LenientIfMatch bool
	// NoRestart refuses ICE restarts with 422 (COMMON-27).
	NoRestart bool
	// MaxBody caps the fragment (default DefaultMaxBody).
	MaxBody int64
}

// ServePatch answers a PATCH on a session URL: a trickle fragment → 204 with no body and no ETag
// (COMMON-21); an ICE restart (new ufrag/pwd) → 200 with the server's fragment and a new ETag
// (COMMON-25). A wrong content type is 415 + Accept-Patch (COMMON-20), a malformed fragment 400,
// a missing If-Match 428 unless lenient, a stale one 412 (COMMON-24), an unsupported kind 422
// (COMMON-27), a failed restart a 5xx that leaves the session as it was (COMMON-26).
func ServePatch(w http.ResponseWriter, r *http.Request, s ICESession, p PatchPolicy) {
	if err := patch(w, r, s, p); err != nil {
		WriteProblem(w, Problem(err))
	}
}

func patch(w http.ResponseWriter, r *http.Request, s ICESession, p PatchPolicy) error {
	if p.MaxBody <= 0 {
		p.MaxBody = DefaultMaxBody
	}
	body, err := ReadBody(r, ContentTypeTrickle, p.MaxBody)
	if err != nil {
		return err
	}
	f, err := ParseFragment(body)
	if err != nil {
		return Errorf(http.StatusBadRequest, "Bad Request", "%v", err)
	}
	restart := f.Ufrag != "" && f.Ufrag != s.RemoteUfrag()
	if restart && p.NoRestart {
		return Unprocessable("ICE restart is not supported")
	}
	if err := checkIfMatch(r, s.ETag(), p.LenientIfMatch); err != nil {
		return err
	}
	if !restart {
		if err := s.Trickle(r.Context(), f); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	frag, etag, err := s.Restart(r.Context(), f)
	if err != nil {
		e := Problem(err)
		e.Detail += "; the previous ICE session is kept"
		return e
	}
	w.Header().Set("Content-Type", ContentTypeTrickle)
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(frag))
	return nil
}

// checkIfMatch applies If-Match to a PATCH (RFC 9110 §13.1.1, strong comparison; RFC 6585 §3):
// "*" or the current tag pass, another tag is 412, none is 428 unless lenient.
func checkIfMatch(r *http.Request, current string, lenient bool) error {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		if lenient {
			return nil
		}
		return Errorf(http.StatusPreconditionRequired, "Precondition Required", "If-Match is required (use the ETag of the 201, or * for an ICE restart)")
	}
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || (tag == current && !strings.HasPrefix(tag, "W/")) {
				return nil
			}
		}
	}
	return Errorf(http.StatusPreconditionFailed, "Precondition Failed", "If-Match does not match the current ICE session")
}
