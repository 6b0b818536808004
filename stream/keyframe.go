package stream

// isKeyframePacket reports whether an RTP payload of the given codec key (a lower-case MIME type)
// carries the start of a keyframe, so that a joining viewer or a simulcast layer switch can begin
// there:
//   - H.264: an SPS or IDR NAL unit, alone, in a STAP-A or starting an FU-A (RFC 6184 §5);
//   - VP8: the first packet of a key frame (RFC 7741 §4.2–4.3);
//   - VP9: the first packet of a key frame of the base spatial layer (RFC 9628 §4.2);
//   - AV1: a packet with a sequence header OBU or the N bit, and no non-key frame header (the AV1
//     RTP specification §4.4–4.5; encoders send a sequence header before every key frame);
//   - H.265: an IRAP picture (NAL types 16–23) or a parameter set (VPS, SPS, PPS), alone, in an
//     aggregation packet or starting a fragmentation unit (RFC 7798 §4.4).
//
// Every other codec is never detected: its viewers start at the next keyframe the publisher sends.
func isKeyframePacket(codec string, p []byte) bool {
	switch codec {
	case "video/h264":
		return h264Key(p)
	case "video/vp8":
		return vp8Key(p)
	case "video/vp9":
		return vp9Key(p)
	case "video/av1":
		return av1Key(p)
	case "video/h265":
		return h265Key(p)
	}
	return false
}

// keyframeSize reads the picture size a keyframe packet announces: from the H.264 or H.265 SPS
// in it, the VP8 or VP9 key frame header it starts, or the AV1 sequence header in it (its maximum
// frame size). ok is false for any other packet, including a keyframe's later packets.
func keyframeSize(codec string, p []byte) (w, h int, ok bool) {
	switch codec {
	case "video/h264":
		return h264Size(p)
	case "video/vp8":
		return vp8Size(p)
	case "video/vp9":
		return vp9Size(p)
	case "video/av1":
		return av1Size(p)
	case "video/h265":
		return h265Size(p)
	}
	return 0, 0, false
}

// KeyframeStart reports whether an RTP payload of the codec with this MIME type, in lower case,
// starts a keyframe (H.264, VP8, VP9, AV1 and H.265; false for every other codec). whip uses it
// to switch simulcast layers on a keyframe; lower-casing is the caller's, once per track, not per
// packet.
func KeyframeStart(mimeLower string, payload []byte) bool {
	return isKeyframePacket(mimeLower, payload)
}
