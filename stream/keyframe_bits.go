package stream

// bitReader reads big-endian bit fields (the u(n), ue(v), leb128 and uvlc of the H.26x and AV1
// specifications) from a byte slice. Reading past the end sets bad and returns zeros, so a parser
// reads on and checks bad once at the end: a truncated or corrupt header never panics.
type bitReader struct {
	b   []byte
	pos int // in bits
	bad bool
}

// u reads an n-bit unsigned field, n ≤ 32.
func (r *bitReader) u(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		if r.pos >= 8*len(r.b) {
			r.bad = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos>>3]>>(7-r.pos&7))&1
		r.pos++
	}
	return v
}

// skip skips n bits.
func (r *bitReader) skip(n int) {
	r.pos += n
	if r.pos > 8*len(r.b) {
		r.bad = true
	}
}

// ue reads an Exp-Golomb code (H.264/H.265 ue(v)); codes longer than 31 bits are errors.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.u(1) == 0 {
		if r.bad || zeros == 31 {
			r.bad = true
			return 0
		}
		zeros++
	}
	return (1<<zeros - 1) + r.u(zeros)
}

// uvlc reads AV1's uvlc(): like ue but with up to 32 leading zeros (a longer run means 2^32-1).
func (r *bitReader) uvlc() uint32 {
	zeros := 0
	for r.u(1) == 0 {
		if r.bad {
			return 0
		}
		zeros++
	}
	if zeros >= 32 {
		return 1<<32 - 1
	}
	return (1<<zeros - 1) + r.u(zeros)
}

// leb128 reads AV1's leb128() from the start of b (at most 8 bytes): the value and the number of
// bytes it took; n is 0 when b ends inside the number.
func leb128(b []byte) (v uint64, n int) {
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// unescapeRBSP returns a NAL unit's payload without its emulation prevention bytes (the 0x03 of
// every 00 00 03 sequence; H.264 §7.4.1, H.265 §7.4.2), at most max bytes of it: the parameter set
// fields read here are all near the start.
func unescapeRBSP(nal []byte, max int) []byte {
	out := make([]byte, 0, min(len(nal), max))
	zeros := 0
	for _, c := range nal {
		if len(out) == max {
			break
		}
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}
