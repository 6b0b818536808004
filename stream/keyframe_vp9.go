package stream

// VP9 over RTP (RFC 9628 §4.2). The payload descriptor's first byte is I|P|L|F|B|E|V|Z: I a
// picture ID follows (7 or 15 bits), P the frame is inter-predicted, L layer indices follow, F
// flexible mode, B the first packet of a frame, E its last, V a scalability structure (SS)
// follows, Z not used for inter-layer prediction.

// vp9Descriptor parses the payload descriptor: the bytes it takes, the first byte, and the spatial
// layer id (0 without layer indices). ok is false for a descriptor cut short.
func vp9Descriptor(p []byte) (n int, b0 byte, sid int, ok bool) {
	if len(p) < 1 {
		return 0, 0, 0, false
	}
	b0 = p[0]
	i := 1
	if b0&0x80 != 0 { // I: picture ID, M bit for 15 bits
		if len(p) <= i {
			return 0, 0, 0, false
		}
		if p[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if b0&0x20 != 0 { // L: TID|U|SID|D, and TL0PICIDX in non-flexible mode
		if len(p) <= i {
			return 0, 0, 0, false
		}
		sid = int(p[i]>>1) & 0x07
		i++
		if b0&0x10 == 0 {
			i++
		}
	}
	if b0&0x50 == 0x50 { // F and P: up to 3 reference indices, N bit for another
		for k := 0; ; k++ {
			if len(p) <= i || k == 3 {
				return 0, 0, 0, false
			}
			more := p[i]&0x01 != 0
			i++
			if !more {
				break
			}
		}
	}
	if b0&0x02 != 0 { // V: scalability structure
		if len(p) <= i {
			return 0, 0, 0, false
		}
		ss := p[i]
		i++
		layers := int(ss>>5) + 1
		if ss&0x10 != 0 { // Y: width and height of each spatial layer
			i += 4 * layers
		}
		if ss&0x08 != 0 { // G: picture group description
			if len(p) <= i {
				return 0, 0, 0, false
			}
			groups := int(p[i])
			i++
			for g := 0; g < groups; g++ {
				if len(p) <= i {
					return 0, 0, 0, false
				}
				refs := int(p[i]>>2) & 0x03
				i += 1 + refs
			}
		}
	}
	if i > len(p) {
		return 0, 0, 0, false
	}
	return i, b0, sid, true
}

// vp9Key reports whether p is the first packet of a VP9 key frame: B set, P clear, the base
// spatial layer, and a frame header (VP9 bitstream §6.2) saying KEY_FRAME. The header check
// matters: some packetizers (pion's flexible mode) never set P.
func vp9Key(p []byte) bool {
	_, ok := vp9KeyHeader(p)
	return ok
}

// vp9KeyHeader returns the uncompressed frame header of the key frame p starts, if it does.
func vp9KeyHeader(p []byte) ([]byte, bool) {
	n, b0, sid, ok := vp9Descriptor(p)
	if !ok || b0&0x08 == 0 || b0&0x40 != 0 || sid != 0 {
		return nil, false
	}
	h := p[n:]
	r := bitReader{b: h}
	if r.u(2) != 2 { // frame_marker
		return nil, false
	}
	profile := r.u(1) | r.u(1)<<1
	if profile == 3 {
		r.skip(1) // reserved_zero
	}
	if r.u(1) == 1 { // show_existing_frame
		return nil, false
	}
	return h, r.u(1) == 0 && !r.bad // frame_type: 0 is KEY_FRAME
}

// vp9Size reads the frame size of the key frame p starts (VP9 bitstream §6.2: frame_sync_code,
// color_config, frame_size).
func vp9Size(p []byte) (w, h int, ok bool) {
	hdr, ok := vp9KeyHeader(p)
	if !ok {
		return 0, 0, false
	}
	r := bitReader{b: hdr}
	r.skip(2)
	profile := r.u(1) | r.u(1)<<1
	if profile == 3 {
		r.skip(1)
	}
	r.skip(1 + 1 + 1 + 1)    // show_existing_frame, frame_type, show_frame, error_resilient_mode
	if r.u(24) != 0x498342 { // frame_sync_code
		return 0, 0, false
	}
	if profile >= 2 {
		r.skip(1) // ten_or_twelve_bit
	}
	if r.u(3) != 7 { // color_space other than CS_RGB
		r.skip(1) // color_range
		if profile == 1 || profile == 3 {
			r.skip(3) // subsampling_x, subsampling_y, reserved_zero
		}
	} else if profile == 1 || profile == 3 {
		r.skip(1) // reserved_zero
	}
	w, h = int(r.u(16))+1, int(r.u(16))+1
	return w, h, !r.bad
}
