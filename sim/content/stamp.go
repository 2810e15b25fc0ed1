package content

import (
	"fmt"
	"strconv"
)

// Stamp labels the bytes of one logical write. The model hands out a fresh
// stamp for every write (who wrote, in which order is kept by the model, keyed
// by the stamp). [Zero] labels zero bytes. Stamps with the high bit set are
// corrupt labels, made by [Corrupt].
type Stamp uint64

// Zero is the label of zero bytes: holes, zeroed page tails, sectors never
// written. Zero bytes carry no position: every zero byte equals every other.
const Zero Stamp = 0

// corruptBit marks corrupt stamps.
const corruptBit Stamp = 1 << 63

// Corrupt returns the label of garbage bytes number id, for example bytes that
// a fault flipped on the way from the disk. A corrupt stamp never equals a
// write's stamp or [Zero], so a check that compares contents sees the damage.
// Corrupt panics if id has the high bit set.
func Corrupt(id uint64) Stamp {
	if Stamp(id)&corruptBit != 0 {
		panic(fmt.Sprintf("content: Corrupt(%d): id out of range", id))
	}
	return corruptBit | Stamp(id)
}

// IsCorrupt reports whether s was made by [Corrupt].
func (s Stamp) IsCorrupt() bool { return s&corruptBit != 0 }

// String returns "0" for [Zero], "cN" for Corrupt(N) and "wN" otherwise.
func (s Stamp) String() string {
	switch {
	case s == Zero:
		return "0"
	case s.IsCorrupt():
		return "c" + strconv.FormatUint(uint64(s&^corruptBit), 10)
	default:
		return "w" + strconv.FormatUint(uint64(s), 10)
	}
}

// Run says that bytes [Off, Off+Len) hold bytes [Src, Src+Len) of the stream
// written under Stamp. Offsets are relative to the start of the [Bytes] value
// or absolute in the [Store] that holds the run. Zero runs have Src 0.
type Run struct {
	Off, Len int64
	Stamp    Stamp
	Src      int64
}

// End returns Off+Len, the offset just past the run.
func (r Run) End() int64 { return r.Off + r.Len }

// String returns the run's text form, "[off,end)=wN@src" or "[off,end)=0".
func (r Run) String() string {
	b := make([]byte, 0, 40)
	b = append(b, '[')
	b = strconv.AppendInt(b, r.Off, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.End(), 10)
	b = append(b, ")="...)
	b = append(b, r.Stamp.String()...)
	if r.Stamp != Zero {
		b = append(b, '@')
		b = strconv.AppendInt(b, r.Src, 10)
	}
	return string(b)
}

// continues reports whether r starts where p ends and carries on its content,
// so that p and r are one run in canonical form.
func continues(p, r Run) bool {
	return p.End() == r.Off && p.Stamp == r.Stamp && (r.Stamp == Zero || p.Src+p.Len == r.Src)
}

// add appends r to the canonical run list dst: empty runs are dropped, zero
// runs get Src 0, and a run that continues the last one is merged into it.
func add(dst []Run, r Run) []Run {
	if r.Len == 0 {
		return dst
	}
	if r.Stamp == Zero {
		r.Src = 0
	}
	if n := len(dst); n > 0 && continues(dst[n-1], r) {
		dst[n-1].Len += r.Len
		return dst
	}
	return append(dst, r)
}

// addRange appends to dst, through add, the bytes [lo, hi) of the sorted,
// non-overlapping runs src, moved by delta.
func addRange(dst, src []Run, lo, hi, delta int64) []Run {
	// First run that ends after lo.
	i, j := 0, len(src)
	for i < j {
		h := int(uint(i+j) >> 1)
		if src[h].End() <= lo {
			i = h + 1
		} else {
			j = h
		}
	}
	for ; i < len(src) && src[i].Off < hi; i++ {
		dst = add(dst, clip(src[i], lo, hi, delta))
	}
	return dst
}

// clip returns the part of r inside [lo, hi), moved by delta. The caller
// ensures that the part is not empty.
func clip(r Run, lo, hi, delta int64) Run {
	a, e := max(r.Off, lo), min(r.End(), hi)
	return Run{Off: a + delta, Len: e - a, Stamp: r.Stamp, Src: r.Src + (a - r.Off)}
}
