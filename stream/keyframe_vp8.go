package stream

// VP8 over RTP (RFC 7741 §4.2): a payload descriptor X|R|N|S|R|PID(3), optional extension bytes,
// then the VP8 payload, whose first packet of a frame starts with the frame tag (RFC 6386 §9.1).

// vp8Descriptor returns the length of the payload descriptor, ok false if p is cut short in it.
func vp8Descriptor(p []byte) (int, bool) {
	if len(p) < 1 {
		return 0, false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) < 2 {
			return 0, false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture id
			if len(p) <= i {
				return 0, false
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
	return i, i <= len(p)
}

// vp8Key reports whether p is the first packet of a VP8 key frame: S set, partition 0, and the
// frame tag's P bit clear.
func vp8Key(p []byte) bool {
	i, ok := vp8Descriptor(p)
	start := ok && p[0]&0x10 != 0 && p[0]&0x07 == 0 // S bit, partition 0
	return start && len(p) > i && p[i]&0x01 == 0
}

// vp8Size reads the key frame header after the frame tag (RFC 6386 §9.1: start code 9d 01 2a,
// then 14-bit width and height, little-endian, each with a 2-bit scale above).
func vp8Size(p []byte) (w, h int, ok bool) {
	if !vp8Key(p) {
		return 0, 0, false
	}
	i, _ := vp8Descriptor(p)
	k := p[i:]
	if len(k) < 10 || k[3] != 0x9d || k[4] != 0x01 || k[5] != 0x2a {
		return 0, 0, false
	}
	w, h = int(k[6])|int(k[7]&0x3f)<<8, int(k[8])|int(k[9]&0x3f)<<8
	return w, h, w > 0 && h > 0
}
