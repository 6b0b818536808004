package rtc

import (
	"strings"
)

// StereoOpus returns an SDP (an answer to a viewer) whose Opus payload types carry stereo=1 and
// sprop-stereo=1 (RFC 7587 §7.1): a player then decodes two channels. Without them Chrome plays a
// stereo publisher as mono (a complaint in mediamtx#2043, srs#3616, OvenMediaEngine#203): pion's
// answer repeats the player's own fmtp, which never says stereo. The parameters are set whatever
// the publisher sends, because a viewer's session outlives publishers (a viewer may join before
// one, or see it replaced): Opus is always coded as up to two channels, and a mono packet decodes
// to two equal channels. Other lines are kept as they are, CRLF line endings included.
func StereoOpus(sdp string) string {
	lines := strings.SplitAfter(sdp, "\n")
	opus := map[string]bool{} // payload types of opus/48000/2, per section (m-lines restart the set)
	var b strings.Builder
	b.Grow(len(sdp) + 64)
	pending := "" // an Opus payload type whose rtpmap had no fmtp yet in this section
	flush := func() {
		if pending != "" {
			b.WriteString("a=fmtp:" + pending + " stereo=1;sprop-stereo=1\r\n")
			pending = ""
		}
	}
	for _, raw := range lines {
		line := strings.TrimRight(raw, "\r\n")
		switch {
		case strings.HasPrefix(line, "m="):
			flush()
			opus = map[string]bool{}
		case strings.HasPrefix(line, "a=rtpmap:"):
			flush()
			pt, enc, _ := strings.Cut(strings.TrimPrefix(line, "a=rtpmap:"), " ")
			if strings.HasPrefix(strings.ToLower(enc), "opus/48000") {
				opus[pt] = true
				pending = pt
			}
		case strings.HasPrefix(line, "a=fmtp:"):
			pt, params, _ := strings.Cut(strings.TrimPrefix(line, "a=fmtp:"), " ")
			if opus[pt] {
				if pt == pending {
					pending = ""
				}
				b.WriteString("a=fmtp:" + pt + " " + withStereo(params) + lineEnd(raw))
				continue
			}
		case !strings.HasPrefix(line, "a=rtcp-fb:"):
			flush() // the fmtp of an rtpmap follows it or its rtcp-fb lines
		}
		b.WriteString(raw)
	}
	flush()
	return b.String()
}

// withStereo sets stereo=1 and sprop-stereo=1 in an fmtp parameter list, keeping the rest in order.
func withStereo(params string) string {
	var out []string
	for _, p := range strings.Split(params, ";") {
		k, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "stereo", "sprop-stereo", "":
			continue
		}
		out = append(out, strings.TrimSpace(p))
	}
	return strings.Join(append(out, "stereo=1", "sprop-stereo=1"), ";")
}

func lineEnd(raw string) string {
	switch {
	case strings.HasSuffix(raw, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(raw, "\n"):
		return "\n"
	}
	return ""
}
