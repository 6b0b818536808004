package rtc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// Answer completes the answerer's side of an offer/answer exchange whose remote offer is already
// set: it creates and sets the local answer, waits until ICE gathering is complete (RFC 9725
// §4.3.2: the server cannot trickle, so the answer carries every candidate) or ctx ends, and
// returns the SDP the HTTP layer sends, with CRLF line endings, a=end-of-candidates and
// a=rtcp-mux-only on every media section (RFC 8858 §3; pion does not write it).
//
// The answer never forces a DTLS role: pion answers "active" to actpass and passive offers
// (ffmpeg) and "passive" to active ones.
func Answer(ctx context.Context, pc *webrtc.PeerConnection) (string, error) {
	answer, err := pc.CreateAnswer(nil)
	if errors.Is(err, webrtc.ErrIncorrectSDPSemantics) {
		// A Plan B offer (several SSRCs in one m-line without msid) is the client's: 422, not 500.
		return "", fmt.Errorf("%w: %w", ErrUnsupportedOffer, err)
	}
	if err != nil {
		return "", fmt.Errorf("create answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %w", ErrGatherTimeout, ctx.Err())
	}
	local := pc.LocalDescription()
	if local == nil {
		return "", fmt.Errorf("answer: no local description")
	}
	return finishAnswer(local.SDP), nil
}

// finishAnswer normalises line endings to CRLF, adds a=rtcp-mux-only after each a=rtcp-mux and
// a=end-of-candidates to each media section that lacks it.
func finishAnswer(sdp string) string {
	lines := strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n")
	var b strings.Builder
	b.Grow(len(sdp) + 256)
	inMedia, hasEnd, hasMuxOnly := false, false, false
	closeSection := func() {
		if inMedia && !hasEnd {
			b.WriteString("a=end-of-candidates\r\n")
		}
	}
	for _, line := range lines {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "m=") {
			closeSection()
			inMedia, hasEnd, hasMuxOnly = true, false, false
		}
		switch line {
		case "a=end-of-candidates":
			hasEnd = true
		case "a=rtcp-mux-only":
			if hasMuxOnly {
				continue
			}
			hasMuxOnly = true
		}
		b.WriteString(line)
		b.WriteString("\r\n")
		if line == "a=rtcp-mux" && !hasMuxOnly {
			b.WriteString("a=rtcp-mux-only\r\n")
			hasMuxOnly = true
		}
	}
	closeSection()
	return b.String()
}
