// Package wish holds the HTTP side shared by WHIP (RFC 9725) and WHEP. It is plain net/http: it
// imports neither echo nor pion. The name is that of the IETF working group (WebRTC Ingest
// Signaling over HTTPS) that writes both protocols.
//
//   - media.go: content types, ReadBody (415, 413, 400), Error, 405 + Allow, OPTIONS headers.
//   - problem.go, status.go: RFC 9457 problem details; Problem maps errors to statuses once.
//   - auth.go: bearer tokens, Keys: static keys and signed tokens (401 + WWW-Authenticate, 403).
//   - admit.go: Admitter (the auth webhook's seam) and Endpoint.AuthorizePost (503 when it is silent).
//   - event.go: Event and Notifier (the event webhook's seam).
//   - cors.go: CORS, which answers preflights and leaves other OPTIONS to the handlers.
//   - fragment.go: ParseFragment, the lenient trickle-ice-sdpfrag parser.
//   - patch.go: ServePatch, trickle (204) and ICE restart (200) with If-Match (428, 412).
//   - iceservers.go: ice-server Link headers, TURN credentials from a shared secret, the built-in
//     TURN server's URLs for the host a client reached wisp by (Endpoint.ICEFor).
//   - id.go, location.go, sessions.go: session ids and ETags, absolute Locations, the session table.
package wish
