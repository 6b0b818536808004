package wish

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Content types of the protocols.
const (
	// ContentTypeSDP is an SDP offer or answer. Sent exactly so, with no parameters (COMMON-01).
	ContentTypeSDP = "application/sdp"
	// ContentTypeTrickle is a trickle-ICE / ICE-restart fragment (RFC 8840).
	ContentTypeTrickle = "application/trickle-ice-sdpfrag"
	// ContentTypeProblem is an RFC 9457 problem details body.
	ContentTypeProblem = "application/problem+json"
)

// DefaultMaxBody is the default cap on an SDP body; real offers are under 16 KiB.
const DefaultMaxBody = 64 << 10

// HasContentType reports whether r's Content-Type is want, ignoring case and media-type
// parameters such as charset (COMMON-02).
func HasContentType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && strings.EqualFold(mt, want)
}

// ReadBody checks r's content type and reads its body of at most max bytes. A wrong type is 415
// with Accept-Post or Accept-Patch naming want; a larger body is 413; an empty one is 400.
func ReadBody(r *http.Request, want string, max int64) (string, error) {
	if !HasContentType(r, want) {
		e := Errorf(http.StatusUnsupportedMediaType, "Unsupported Media Type", "Content-Type must be %s", want)
		if r.Method == http.MethodPatch {
			e.Header.Set("Accept-Patch", want)
		} else {
			e.Header.Set("Accept-Post", want)
		}
		return "", e
	}
	if r.ContentLength > max {
		return "", Errorf(http.StatusRequestEntityTooLarge, "Content Too Large", "body over %d bytes", max)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return "", Errorf(http.StatusBadRequest, "Bad Request", "reading body: %v", err)
	}
	if int64(len(body)) > max {
		return "", Errorf(http.StatusRequestEntityTooLarge, "Content Too Large", "body over %d bytes", max)
	}
	if len(body) == 0 {
		return "", Errorf(http.StatusBadRequest, "Bad Request", "empty body")
	}
	return string(body), nil
}

// Error is an HTTP error with the status, problem details and extra headers to send.
type Error struct {
	Status int
	Title  string
	Detail string
	Header http.Header
}

// Errorf makes an Error with a formatted detail.
func Errorf(status int, title, format string, args ...any) *Error {
	return &Error{Status: status, Title: title, Detail: fmt.Sprintf(format, args...), Header: http.Header{}}
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail) }

// AsError returns err as an *Error if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// MethodNotAllowed is the 405 for a method a resource does not take, with its Allow header
// (COMMON-10).
func MethodNotAllowed(method, allow string) *Error {
	e := Errorf(http.StatusMethodNotAllowed, "Method Not Allowed", "%s is not allowed here", method)
	e.Header.Set("Allow", allow)
	return e
}

// NotFound is the 404 for an unknown or ended session (COMMON-19).
func NotFound() *Error { return Errorf(http.StatusNotFound, "Not Found", "no such session") }

// Allow lists of the two kinds of resource (COMMON-10).
const (
	AllowEndpoint = "POST, OPTIONS, GET, HEAD"
	AllowSession  = "PATCH, DELETE, OPTIONS, GET, HEAD"
)

// OptionsHeaders sets the headers of a non-preflight OPTIONS answer: Allow, Accept-Post
// (COMMON-13), Accept-Patch on session URLs, and Access-Control-Allow-Methods (Eyevinn's
// whip-web-client enables trickle only if it lists PATCH; COMMON-14 INTEROP).
func OptionsHeaders(h http.Header, allow string) {
	h.Set("Allow", allow)
	h.Set("Accept-Post", ContentTypeSDP)
	h.Set("Accept-Patch", ContentTypeTrickle)
	h.Set("Access-Control-Allow-Methods", corsMethods)
}
