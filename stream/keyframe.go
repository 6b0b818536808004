package stream

// isKeyframePacket reports whether an RTP payload of the given codec key carries (the start of)
// a keyframe: for H.264 an SPS or IDR NAL unit, alone, first in a STAP-A or starting an FU-A
// (RFC 6184 §5); for VP8 the first packet of a key frame (RFC 7741 §4.2–4.3). Other codecs are
// never detected, so their viewers start at the next keyframe the publisher sends.
func isKeyframePacket(codec string, p []byte) bool {
	switch codec {
	case "video/h264":
		return h264Key(p)
	case "video/vp8":
		return vp8Key(p)
	}
	return false
}

func h264Key(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	isKey := func(t byte) bool { return t == 5 || t == 7 }
	switch t := p[0] & 0x1f; t {
	case 24: // STAP-A: 1-byte header, then 2-byte size + NAL unit, repeated
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if isKey(p[i+2] & 0x1f) {
				return true
			}
			i += 2 + size
		}
		return false
	case 28: // FU-A: start bit set and a keyframe NAL type
		return p[1]&0x80 != 0 && isKey(p[1]&0x1f)
	default:
		return isKey(t)
	}
}

func vp8Key(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture id
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	start := p[0]&0x10 != 0 && p[0]&0x07 == 0 // S bit, partition 0
	return start && len(p) > i && p[i]&0x01 == 0
}

// KeyframeStart reports whether an RTP payload of the codec with this MIME type, in lower case,
// starts a keyframe (H.264 and VP8; false for every other codec). whip uses it to switch simulcast
// layers on a keyframe; lower-casing is the caller's, once per track, not per packet.
func KeyframeStart(mimeLower string, payload []byte) bool {
	return isKeyframePacket(mimeLower, payload)
}
