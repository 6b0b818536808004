package stream

// H.265 over RTP (RFC 7798 §4.4). Every payload starts with a 2-byte NAL unit header
// F|Type(6)|LayerId(6)|TID(3). Type 48 is an aggregation packet (AP: 2-byte size + NAL unit,
// repeated), 49 a fragmentation unit (FU: a third byte S|E|FuType(6)), 50 PACI; anything else is
// a single NAL unit. DONL/DOND fields exist only with sprop-max-don-diff > 0, which WebRTC
// publishers do not signal, so they are not expected here.

const (
	h265AP  = 48
	h265FU  = 49
	h265SPS = 33
)

// h265KeyType reports whether a NAL unit type starts a keyframe: an IRAP picture (BLA_W_LP 16 …
// CRA_NUT 21, with the reserved IRAP types 22–23) or a parameter set (VPS 32, SPS 33, PPS 34),
// which encoders send right before one.
func h265KeyType(t byte) bool {
	return (t >= 16 && t <= 23) || (t >= 32 && t <= 34)
}

// h265NALs calls fn with each whole NAL unit of a single-NAL or AP payload until it returns false.
func h265NALs(p []byte, fn func(nal []byte) bool) {
	if len(p) < 3 {
		return
	}
	if (p[0]>>1)&0x3f != h265AP {
		fn(p)
		return
	}
	for i := 2; i+2 < len(p); {
		size := int(p[i])<<8 | int(p[i+1])
		i += 2
		if size < 2 || size > len(p)-i {
			return
		}
		if !fn(p[i : i+size]) {
			return
		}
		i += size
	}
}

// h265Key reports whether p carries (the start of) a keyframe NAL unit: alone, in an AP, or at
// the start of an FU.
func h265Key(p []byte) bool {
	if len(p) < 3 {
		return false
	}
	if (p[0]>>1)&0x3f == h265FU {
		return p[2]&0x80 != 0 && h265KeyType(p[2]&0x3f)
	}
	key := false
	h265NALs(p, func(nal []byte) bool {
		key = h265KeyType((nal[0] >> 1) & 0x3f)
		return !key
	})
	return key
}

// h265Size reads the picture size from an SPS in p (H.265 §7.3.2.2: pic_width_in_luma_samples,
// pic_height_in_luma_samples less the conformance window).
func h265Size(p []byte) (w, h int, ok bool) {
	h265NALs(p, func(nal []byte) bool {
		if (nal[0]>>1)&0x3f != h265SPS {
			return true
		}
		w, h, ok = h265SPSSize(unescapeRBSP(nal[2:], 256))
		return false
	})
	return w, h, ok
}

func h265SPSSize(b []byte) (w, h int, ok bool) {
	r := bitReader{b: b}
	r.skip(4) // sps_video_parameter_set_id
	subLayers := int(r.u(3))
	r.skip(1) // sps_temporal_id_nesting_flag
	// profile_tier_level(1, sps_max_sub_layers_minus1), §7.3.3
	r.skip(2 + 1 + 5 + 32 + 4 + 43 + 1 + 8)
	profilePresent, levelPresent := make([]bool, subLayers), make([]bool, subLayers)
	for i := 0; i < subLayers; i++ {
		profilePresent[i], levelPresent[i] = r.u(1) == 1, r.u(1) == 1
	}
	if subLayers > 0 {
		r.skip(2 * (8 - subLayers)) // reserved_zero_2bits
	}
	for i := 0; i < subLayers; i++ {
		if profilePresent[i] {
			r.skip(88)
		}
		if levelPresent[i] {
			r.skip(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	chroma := r.ue()
	if chroma == 3 {
		r.skip(1) // separate_colour_plane_flag
	}
	w, h = int(r.ue()), int(r.ue())
	if r.u(1) == 1 { // conformance_window_flag: offsets in chroma samples
		subW, subH := 1, 1
		if chroma == 1 || chroma == 2 {
			subW = 2
		}
		if chroma == 1 {
			subH = 2
		}
		left, right, top, bottom := int(r.ue()), int(r.ue()), int(r.ue()), int(r.ue())
		w -= subW * (left + right)
		h -= subH * (top + bottom)
	}
	return w, h, !r.bad && w > 0 && h > 0
}
