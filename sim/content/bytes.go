package content

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Bytes is the content of a page, a buffer or a bio payload: a dense list of
// runs covering [0, Len()), zero runs included, in canonical form.
//
// Bytes is an immutable value: methods return new values and never change the
// receiver, so a Bytes can be shared freely (a page's contents handed to a bio,
// kept in a trace, compared later). The zero value is empty. Compare with
// [Bytes.Equal], not ==.
type Bytes struct {
	runs []Run // canonical: runs[0].Off == 0, each starts where the last ends
}

// Zeros returns n zero bytes. It panics if n < 0.
func Zeros(n int64) Bytes {
	checkLen("Zeros", n)
	if n == 0 {
		return Bytes{}
	}
	return Bytes{[]Run{{Len: n}}}
}

// Fill returns n bytes holding bytes [src, src+n) of write s. Fill(n, Zero, _)
// is Zeros(n). It panics if n < 0, src < 0 or src+n overflows.
func Fill(n int64, s Stamp, src int64) Bytes {
	checkLen("Fill", n)
	if src < 0 || src > math.MaxInt64-n {
		panic(fmt.Sprintf("content: Fill(%d, %v, %d): src out of range", n, s, src))
	}
	if n == 0 {
		return Bytes{}
	}
	if s == Zero {
		src = 0
	}
	return Bytes{[]Run{{Len: n, Stamp: s, Src: src}}}
}

// Len returns the number of bytes.
func (b Bytes) Len() int64 {
	if len(b.runs) == 0 {
		return 0
	}
	return b.runs[len(b.runs)-1].End()
}

// Slice returns bytes [off, off+n) of b. It panics unless
// 0 <= off <= off+n <= b.Len().
func (b Bytes) Slice(off, n int64) Bytes {
	l := b.Len()
	if off < 0 || n < 0 || off > l-n {
		panic(fmt.Sprintf("content: Slice(%d, %d) of %d bytes: out of range", off, n, l))
	}
	if off == 0 && n == l {
		return b
	}
	return Bytes{addRange(nil, b.runs, off, off+n, -off)}
}

// Overwrite returns b with bytes [off, off+x.Len()) replaced by x. The result
// is max(b.Len(), off+x.Len()) bytes long; a gap between b.Len() and off reads
// as zeros. It panics if off < 0 or off+x.Len() overflows.
func (b Bytes) Overwrite(off int64, x Bytes) Bytes {
	n := x.Len()
	if off < 0 || off > math.MaxInt64-n {
		panic(fmt.Sprintf("content: Overwrite(%d, %d bytes): out of range", off, n))
	}
	l, end := b.Len(), off+n
	if off == 0 && end >= l {
		// x replaces all of b (a whole page copied in): share x's runs
		// rather than hold a fresh, mostly empty slice per page.
		return x
	}
	out := make([]Run, 0, len(b.runs)+len(x.runs)+1)
	out = addRange(out, b.runs, 0, min(off, l), 0)
	if off > l {
		out = add(out, Run{Off: l, Len: off - l})
	}
	out = addRange(out, x.runs, 0, n, off)
	out = addRange(out, b.runs, end, l, 0)
	return Bytes{out}
}

// Append returns b followed by x: b.Overwrite(b.Len(), x).
func (b Bytes) Append(x Bytes) Bytes { return b.Overwrite(b.Len(), x) }

// Truncate returns b cut or zero-extended to n bytes. It panics if n < 0.
func (b Bytes) Truncate(n int64) Bytes {
	checkLen("Truncate", n)
	if l := b.Len(); n <= l {
		return b.Slice(0, n)
	}
	return b.Overwrite(n, Bytes{})
}

// Equal reports whether b and c have the same length and the same label at
// every byte.
func (b Bytes) Equal(c Bytes) bool { return slices.Equal(b.runs, c.runs) }

// FirstDiff returns the offset of the first byte whose label differs between b
// and c, min(b.Len(), c.Len()) if one is a proper prefix of the other, and -1
// if they are equal. Checks use it to say where contents went wrong.
func (b Bytes) FirstDiff(c Bytes) int64 {
	i, j := 0, 0
	var pos int64
	for i < len(b.runs) && j < len(c.runs) {
		x, y := b.runs[i], c.runs[j]
		if x.Stamp != y.Stamp || x.Stamp != Zero && x.Src+(pos-x.Off) != y.Src+(pos-y.Off) {
			return pos
		}
		pos = min(x.End(), y.End())
		if pos == x.End() {
			i++
		}
		if pos == y.End() {
			j++
		}
	}
	if b.Len() == c.Len() {
		return -1
	}
	return pos
}

// Runs yields the runs of b in offset order; together they cover [0, b.Len()).
func (b Bytes) Runs() iter.Seq[Run] { return slices.Values(b.runs) }

// String returns the text form, for example "[0,512)=w3@0 [512,4096)=0", or
// "empty".
func (b Bytes) String() string {
	if len(b.runs) == 0 {
		return "empty"
	}
	var sb strings.Builder
	for i, r := range b.runs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(r.String())
	}
	return sb.String()
}

// Parse reads the text form written by [Bytes.String]: runs separated by
// white space, the first starting at 0 and each starting where the previous
// one ends, or "empty" (or nothing) for no bytes. Runs that continue each
// other are merged. Parse returns an error for malformed input and never
// panics.
func Parse(s string) (Bytes, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) == 1 && fields[0] == "empty" {
		return Bytes{}, nil
	}
	var runs []Run
	var pos int64
	for _, f := range fields {
		r, err := parseRun(f)
		if err != nil {
			return Bytes{}, fmt.Errorf("content: parse %q: %w", f, err)
		}
		if r.Off != pos {
			return Bytes{}, fmt.Errorf("content: parse %q: run starts at %d, want %d", f, r.Off, pos)
		}
		runs = add(runs, r)
		pos = r.End()
	}
	return Bytes{runs}, nil
}

// parseRun reads "[off,end)=0", "[off,end)=wN@src" or "[off,end)=cN@src".
func parseRun(f string) (Run, error) {
	rest, ok := strings.CutPrefix(f, "[")
	rng, label, ok2 := strings.Cut(rest, ")=")
	offs, ends, ok3 := strings.Cut(rng, ",")
	if !ok || !ok2 || !ok3 {
		return Run{}, errors.New("want [off,end)=label")
	}
	off, err := parseNum(offs)
	if err != nil {
		return Run{}, err
	}
	end, err := parseNum(ends)
	if err != nil {
		return Run{}, err
	}
	if end <= off {
		return Run{}, errors.New("empty or reversed range")
	}
	r := Run{Off: off, Len: end - off}
	if label == "0" {
		return r, nil
	}
	stamp, srcs, ok := strings.Cut(label, "@")
	if !ok || len(stamp) < 2 {
		return Run{}, errors.New("want label 0, wN@src or cN@src")
	}
	id, err := parseNum(stamp[1:])
	if err != nil {
		return Run{}, err
	}
	switch stamp[0] {
	case 'w':
		if id == 0 {
			return Run{}, errors.New("w0 is not a write stamp; zeros are written 0")
		}
		r.Stamp = Stamp(id)
	case 'c':
		r.Stamp = Corrupt(uint64(id))
	default:
		return Run{}, errors.New("want label 0, wN@src or cN@src")
	}
	if r.Src, err = parseNum(srcs); err != nil {
		return Run{}, err
	}
	if r.Src > math.MaxInt64-r.Len {
		return Run{}, errors.New("src out of range")
	}
	return r, nil
}

// parseNum reads a non-negative decimal int64 with no sign.
func parseNum(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

func checkLen(op string, n int64) {
	if n < 0 {
		panic(fmt.Sprintf("content: %s(%d): negative length", op, n))
	}
}
