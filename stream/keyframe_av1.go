package stream

// AV1 over RTP (the AV1 RTP specification, §4.4–4.5). The payload starts with the aggregation
// header Z|Y|W|W|N|-|-|-: Z the first OBU element continues an OBU from the previous packet, Y
// the last one continues in the next, W the number of OBU elements (0: every element carries a
// LEB128 length; otherwise all but the last do), N the first packet of a coded video sequence.
// Each element is an OBU (header, optional extension byte, optional size field, payload) or a
// fragment of one.

const (
	av1OBUSequenceHeader = 1
	av1OBUFrameHeader    = 3
	av1OBUFrame          = 6
)

// av1Elements calls fn with each OBU element of the packet that starts an OBU (a first element
// continuing an earlier OBU is skipped), until fn returns false. It reports false for a packet it
// cannot walk.
func av1Elements(p []byte, fn func(obu []byte) bool) bool {
	if len(p) < 2 {
		return false
	}
	agg := p[0]
	w := int(agg>>4) & 0x03
	i := 1
	for k := 0; i < len(p); k++ {
		size := len(p) - i
		if w == 0 || k < w-1 {
			v, n := leb128(p[i:])
			if n == 0 || v > uint64(len(p)-i-n) {
				return false
			}
			i += n
			size = int(v)
		}
		el := p[i : i+size]
		i += size
		if k == 0 && agg&0x80 != 0 { // Z: a fragment's continuation
			continue
		}
		if len(el) > 0 && !fn(el) {
			return true
		}
		if w != 0 && k == w-1 {
			break
		}
	}
	return true
}

// av1OBU splits an OBU into its type and payload (after the header, extension byte and size
// field). ok is false for a malformed header.
func av1OBU(obu []byte) (typ int, payload []byte, ok bool) {
	if len(obu) < 1 || obu[0]&0x80 != 0 { // obu_forbidden_bit
		return 0, nil, false
	}
	typ = int(obu[0]>>3) & 0x0f
	i := 1
	if obu[0]&0x04 != 0 { // obu_extension_flag
		i++
	}
	if i > len(obu) {
		return 0, nil, false
	}
	payload = obu[i:]
	if obu[0]&0x02 != 0 { // obu_has_size_field
		v, n := leb128(payload)
		if n == 0 {
			return 0, nil, false
		}
		payload = payload[n:]
		if v < uint64(len(payload)) {
			payload = payload[:v]
		}
	}
	return typ, payload, true
}

// av1Key reports whether p starts a key frame: it carries a sequence header OBU (sent before
// every key frame; the RTP specification asks for it first in the packet) or has N set, and no
// frame header in it says otherwise (show_existing_frame, or a frame_type other than KEY_FRAME).
func av1Key(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	seq, contradicted := p[0]&0x08 != 0, false
	av1Elements(p, func(obu []byte) bool {
		typ, payload, ok := av1OBU(obu)
		switch {
		case !ok:
			return true
		case typ == av1OBUSequenceHeader:
			seq = true
		case typ == av1OBUFrameHeader || typ == av1OBUFrame:
			// uncompressed_header (AV1 §5.9.2), with reduced_still_picture_header 0 (a still
			// picture is a key frame anyway): show_existing_frame f(1), frame_type f(2).
			if len(payload) > 0 && (payload[0]&0x80 != 0 || payload[0]&0x60 != 0) && !av1Reduced(p) {
				contradicted = true
			}
			return false
		}
		return true
	})
	return seq && !contradicted
}

// av1Reduced reports whether the packet's sequence header sets reduced_still_picture_header.
func av1Reduced(p []byte) bool {
	reduced := false
	av1Elements(p, func(obu []byte) bool {
		if typ, payload, ok := av1OBU(obu); ok && typ == av1OBUSequenceHeader && len(payload) > 0 {
			reduced = payload[0]&0x08 != 0
			return false
		}
		return true
	})
	return reduced
}

// av1Size reads max_frame_width_minus_1 and max_frame_height_minus_1 from the sequence header OBU
// of p (AV1 §5.5.1), the size encoders give every frame unless they override it per frame.
func av1Size(p []byte) (w, h int, ok bool) {
	av1Elements(p, func(obu []byte) bool {
		typ, payload, good := av1OBU(obu)
		if !good || typ != av1OBUSequenceHeader {
			return true
		}
		w, h, ok = av1SequenceSize(payload)
		return false
	})
	return w, h, ok
}

func av1SequenceSize(b []byte) (w, h int, ok bool) {
	r := bitReader{b: b}
	r.skip(3 + 1)    // seq_profile, still_picture
	if r.u(1) == 1 { // reduced_still_picture_header
		r.skip(5) // seq_level_idx[0]
	} else {
		decoderModel := false
		bufferDelayLen := 0
		if r.u(1) == 1 { // timing_info_present_flag
			r.skip(32 + 32)  // num_units_in_display_tick, time_scale
			if r.u(1) == 1 { // equal_picture_interval
				r.uvlc() // num_ticks_per_picture_minus_1
			}
			if r.u(1) == 1 { // decoder_model_info_present_flag
				decoderModel = true
				bufferDelayLen = int(r.u(5)) + 1
				r.skip(32 + 5 + 5) // num_units_in_decoding_tick, buffer_removal_time_length_minus_1, frame_presentation_time_length_minus_1
			}
		}
		initialDisplayDelay := r.u(1) == 1
		points := int(r.u(5)) + 1
		for i := 0; i < points && !r.bad; i++ {
			r.skip(12)      // operating_point_idc
			if r.u(5) > 7 { // seq_level_idx
				r.skip(1) // seq_tier
			}
			if decoderModel && r.u(1) == 1 { // decoder_model_present_for_this_op
				r.skip(2*bufferDelayLen + 1)
			}
			if initialDisplayDelay && r.u(1) == 1 {
				r.skip(4)
			}
		}
	}
	wBits, hBits := int(r.u(4))+1, int(r.u(4))+1
	w, h = int(r.u(wBits))+1, int(r.u(hBits))+1
	return w, h, !r.bad
}
