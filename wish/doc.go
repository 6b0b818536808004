// Package wish holds the HTTP side shared by WHIP (RFC 9725) and WHEP: content types, problem
// details (RFC 9457), session ids and entity tags, bearer tokens and CORS. It is plain net/http:
// it imports neither echo nor pion. The name is that of the IETF working group (WebRTC Ingest
// Signaling over HTTPS) that writes both protocols.
package wish
