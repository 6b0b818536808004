package stream

import "encoding/binary"

// frameSize reads a picture's width and height from a packet that carries a keyframe, where the
// codec puts them there: the H.264 SPS (alone or in a STAP-A, RFC 6184) and the VP8 key frame
// header (RFC 6386 §9.1, after the RFC 7741 payload descriptor). ok is false when the packet does
// not carry them (an FU-A fragment, an IDR without its SPS) and for other codecs: VP9, AV1 and
// H.265 read theirs here when their keyframes are detected.
func frameSize(codec string, p []byte) (width, height int, ok bool) {
	switch codec {
	case "video/h264":
		return h264Size(p)
	case "video/vp8":
		return vp8Size(p)
	}
	return 0, 0, false
}

func h264Size(p []byte) (int, int, bool) {
	if len(p) < 2 {
		return 0, 0, false
	}
	switch p[0] & 0x1f {
	case 7:
		return spsSize(p)
	case 24: // STAP-A: 2-byte size + NAL unit, repeated
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if i+2+size > len(p) {
				break
			}
			if nal := p[i+2 : i+2+size]; len(nal) > 0 && nal[0]&0x1f == 7 {
				return spsSize(nal)
			}
			i += 2 + size
		}
	}
	return 0, 0, false
}

// spsSize parses an H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1) as far as the
// picture size and its cropping.
func spsSize(nal []byte) (w, h int, ok bool) {
	defer func() {
		if recover() != nil { // a truncated SPS reads past its end
			w, h, ok = 0, 0, false
		}
	}()
	// Remove emulation-prevention bytes (00 00 03) into a bounded buffer.
	var buf [64]byte
	rbsp := buf[:0]
	zeros := 0
	for _, c := range nal[1:] {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		if len(rbsp) == len(buf) {
			break
		}
		rbsp = append(rbsp, c)
	}
	b := bitReader{p: rbsp}
	profile := b.bits(8)
	b.bits(16) // constraint flags, level
	b.ue()     // seq_parameter_set_id
	chroma := uint(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = b.ue()
		if chroma == 3 {
			b.bits(1) // separate_colour_plane_flag
		}
		b.ue()     // bit_depth_luma_minus8
		b.ue()     // bit_depth_chroma_minus8
		b.bits(1)  // qpprime_y_zero_transform_bypass_flag
		if b.bits(1) == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := 0; i < lists; i++ {
				if b.bits(1) == 1 {
					size := 16
					if i >= 6 {
						size = 64
					}
					last, next := 8, 8
					for j := 0; j < size && next != 0; j++ {
						next = (last + b.se() + 256) % 256
						if next != 0 {
							last = next
						}
					}
				}
			}
		}
	}
	b.ue() // log2_max_frame_num_minus4
	switch b.ue() { // pic_order_cnt_type
	case 0:
		b.ue()
	case 1:
		b.bits(1)
		b.se()
		b.se()
		for n := b.ue(); n > 0; n-- {
			b.se()
		}
	}
	b.ue()     // max_num_ref_frames
	b.bits(1)  // gaps_in_frame_num_value_allowed_flag
	wmb := int(b.ue()) + 1
	hmu := int(b.ue()) + 1
	frameMbsOnly := b.bits(1)
	if frameMbsOnly == 0 {
		b.bits(1) // mb_adaptive_frame_field_flag
	}
	b.bits(1) // direct_8x8_inference_flag
	w, h = wmb*16, hmu*16*(2-int(frameMbsOnly))
	if b.bits(1) == 1 { // frame_cropping_flag
		l, r, t, bo := int(b.ue()), int(b.ue()), int(b.ue()), int(b.ue())
		cx, cy := 1, 2-int(frameMbsOnly)
		if chroma == 1 || chroma == 2 {
			cx = 2
		}
		if chroma == 1 {
			cy *= 2
		}
		w -= (l + r) * cx
		h -= (t + bo) * cy
	}
	return w, h, w > 0 && h > 0
}

// bitReader reads big-endian bits and Exp-Golomb codes; it panics past its end (spsSize recovers).
type bitReader struct {
	p   []byte
	pos int
}

func (b *bitReader) bits(n int) uint {
	var v uint
	for range n {
		v = v<<1 | uint(b.p[b.pos>>3]>>(7-b.pos&7)&1)
		b.pos++
	}
	return v
}

func (b *bitReader) ue() uint {
	zeros := 0
	for b.bits(1) == 0 {
		if zeros++; zeros > 31 {
			panic("exp-golomb code too long")
		}
	}
	return 1<<zeros - 1 + b.bits(zeros)
}

func (b *bitReader) se() int {
	v := b.ue()
	if v&1 == 1 {
		return int(v+1) / 2
	}
	return -int(v / 2)
}

// vp8Size reads the size from the first packet of a VP8 key frame: the payload descriptor, a
// 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height (little-endian, with
// two scaling bits above each).
func vp8Size(p []byte) (int, int, bool) {
	i := vp8HeaderLen(p)
	if i < 0 || len(p) < i+10 || p[i]&1 != 0 || p[i+3] != 0x9d || p[i+4] != 0x01 || p[i+5] != 0x2a {
		return 0, 0, false
	}
	w := int(binary.LittleEndian.Uint16(p[i+6:]) & 0x3fff)
	h := int(binary.LittleEndian.Uint16(p[i+8:]) & 0x3fff)
	return w, h, w > 0 && h > 0
}

// vp8HeaderLen returns the length of a VP8 payload descriptor (RFC 7741 §4.2), -1 if truncated.
func vp8HeaderLen(p []byte) int {
	if len(p) < 1 {
		return -1
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) < 2 {
			return -1
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return -1
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	return i
}
