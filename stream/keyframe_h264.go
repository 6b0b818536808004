package stream

// H.264 over RTP (RFC 6184 §5): a single NAL unit, a STAP-A (type 24: 1-byte header, then 2-byte
// size + NAL unit, repeated) or an FU-A (type 28: FU indicator, FU header S|E|R|Type).

const (
	h264SPS   = 7
	h264STAPA = 24
	h264FUA   = 28
)

func h264KeyType(t byte) bool { return t == 5 || t == h264SPS }

// h264NALs calls fn with each whole NAL unit of a single-NAL or STAP-A payload until it returns false.
func h264NALs(p []byte, fn func(nal []byte) bool) {
	if len(p) < 2 {
		return
	}
	if p[0]&0x1f != h264STAPA {
		fn(p)
		return
	}
	for i := 1; i+2 < len(p); {
		size := int(p[i])<<8 | int(p[i+1])
		i += 2
		if size < 1 || size > len(p)-i {
			return
		}
		if !fn(p[i : i+size]) {
			return
		}
		i += size
	}
}

// h264Key reports whether p carries an SPS or IDR NAL unit, alone, in a STAP-A or starting an FU-A.
func h264Key(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	if p[0]&0x1f == h264FUA {
		return p[1]&0x80 != 0 && h264KeyType(p[1]&0x1f)
	}
	key := false
	h264NALs(p, func(nal []byte) bool {
		key = h264KeyType(nal[0] & 0x1f)
		return !key
	})
	return key
}

// h264Size reads the picture size from an SPS in p (H.264 §7.3.2.1.1, less the frame cropping).
func h264Size(p []byte) (w, h int, ok bool) {
	h264NALs(p, func(nal []byte) bool {
		if nal[0]&0x1f != h264SPS {
			return true
		}
		w, h, ok = h264SPSSize(unescapeRBSP(nal[1:], 512))
		return false
	})
	return w, h, ok
}

func h264SPSSize(b []byte) (w, h int, ok bool) {
	r := bitReader{b: b}
	profile := r.u(8)
	r.skip(8 + 8) // constraint flags, level_idc
	r.ue()        // seq_parameter_set_id
	chroma := uint32(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = r.ue()
		if chroma == 3 {
			r.skip(1) // separate_colour_plane_flag
		}
		r.ue()           // bit_depth_luma_minus8
		r.ue()           // bit_depth_chroma_minus8
		r.skip(1)        // qpprime_y_zero_transform_bypass_flag
		if r.u(1) == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := 0; i < lists && !r.bad; i++ {
				if r.u(1) == 0 {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				last, next := 8, 8
				for j := 0; j < size && !r.bad; j++ {
					if next != 0 {
						next = (last + se(&r) + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.skip(1) // delta_pic_order_always_zero_flag
		se(&r)    // offset_for_non_ref_pic
		se(&r)    // offset_for_top_to_bottom_field
		n := r.ue()
		for i := uint32(0); i < n && !r.bad; i++ {
			se(&r)
		}
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	w, h = (int(r.ue())+1)*16, (int(r.ue())+1)*16
	frameMbsOnly := int(r.u(1))
	h *= 2 - frameMbsOnly
	if frameMbsOnly == 0 {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1)        // direct_8x8_inference_flag
	if r.u(1) == 1 { // frame_cropping_flag
		cropX, cropY := 1, 2-frameMbsOnly
		if chroma == 1 || chroma == 2 {
			cropX = 2
		}
		if chroma == 1 {
			cropY *= 2
		}
		left, right, top, bottom := int(r.ue()), int(r.ue()), int(r.ue()), int(r.ue())
		w -= cropX * (left + right)
		h -= cropY * (top + bottom)
	}
	return w, h, !r.bad && w > 0 && h > 0
}

// se reads a signed Exp-Golomb code (se(v)).
func se(r *bitReader) int {
	k := int(r.ue())
	if k%2 == 0 {
		return -k / 2
	}
	return (k + 1) / 2
}
