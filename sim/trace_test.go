package sim

import "testing"

// TestMixStringIsBytewise: mixString reads whole words and a tail of up to
// three loads; the trace hash (and every recorded hash) depends on it
// folding exactly the little-endian words of the string, zero-padded.
func TestMixStringIsBytewise(t *testing.T) {
	s := "afs_write_begin afs-write-2.6.3x.c:123"
	for n := range len(s) + 1 {
		h := mix(fnvOffset, uint64(n))
		b := []byte(s[:n])
		for len(b) > 0 {
			var v uint64
			for i := 0; i < 8 && i < len(b); i++ {
				v |= uint64(b[i]) << (8 * i)
			}
			h = mix(h, v)
			b = b[min(8, len(b)):]
		}
		if n%8 == 0 {
			h = mix(h, 0) // the empty tail
		}
		if got := mixString(fnvOffset, s[:n]); got != h {
			t.Errorf("mixString of %d bytes = %x, want %x", n, got, h)
		}
	}
}
