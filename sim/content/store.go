package content

import (
	"fmt"
	"iter"
	"math"

	"github.com/google/btree"
)

// Store is the content of a disk or a server file: a sparse map from byte
// offset to content, with a size. Bytes never written, or written with zeros,
// read as zeros and cost no memory; the Store keeps only non-zero runs, in
// canonical form, in a copy-on-write B-tree (github.com/google/btree).
//
// Costs, for a Store of n runs: a Write of a value of m runs over k existing
// runs costs O((m+k+1) log n); a Read of r runs costs O(log n + r); a run
// costs about 50 bytes; [Store.Clone] costs O(1).
//
// The zero value is an empty Store ready to use. A Store must not be copied by
// value once used (use Clone); methods panic if they find it was. A Store is
// not safe for concurrent use, but a Store and its clones share nothing
// mutable and may be used by different goroutines.
type Store struct {
	self     *Store // for detecting copies by value
	t        *btree.BTreeG[Run]
	degree   int
	size     int64
	old, new []Run // scratch for Write
}

// defaultDegree gives nodes of 31 to 63 runs: 2 KiB of runs a node.
const defaultDegree = 32

func byOff(a, b Run) bool { return a.Off < b.Off }

// newStoreDegree returns a Store whose B-tree has the given minimum degree
// (>= 2); tests use small degrees to exercise deep trees.
func newStoreDegree(d int) *Store { return &Store{degree: d} }

// floor is the run with the greatest Off <= off.
func (s *Store) floor(off int64) (r Run, ok bool) {
	s.t.DescendLessOrEqual(Run{Off: off}, func(x Run) bool { r, ok = x, true; return false })
	return r, ok
}

// appendRange appends the runs with lo < Off <= hi, in order.
func (s *Store) appendRange(dst []Run, lo, hi int64) []Run {
	if lo == math.MaxInt64 {
		return dst
	}
	s.t.AscendGreaterOrEqual(Run{Off: lo + 1}, func(x Run) bool {
		if x.Off > hi {
			return false
		}
		dst = append(dst, x)
		return true
	})
	return dst
}

// check panics if s is a copy of a used Store.
func (s *Store) check() {
	if s.self != s && s.self != nil {
		panic("content: Store copied by value; use Clone")
	}
}

// mut prepares s for a change.
func (s *Store) mut() {
	s.check()
	if s.self == nil {
		s.self = s
		if s.degree == 0 {
			s.degree = defaultDegree
		}
		s.t = btree.NewG(s.degree, byOff)
	}
}

// Size returns the size: one past the last byte ever written, or as set by
// [Store.Truncate].
func (s *Store) Size() int64 { s.check(); return s.size }

// Len returns the number of stored runs (zero runs are not stored).
func (s *Store) Len() int {
	s.check()
	if s.t == nil {
		return 0
	}
	return s.t.Len()
}

// Write stores x at [off, off+x.Len()), replacing what was there, and grows the
// size to at least off+x.Len(). Zero runs in x clear the bytes they cover. It
// panics if off < 0 or off+x.Len() overflows.
func (s *Store) Write(off int64, x Bytes) {
	s.mut()
	n := x.Len()
	if off < 0 || off > math.MaxInt64-n {
		panic(fmt.Sprintf("content: Store.Write(%d, %d bytes): out of range", off, n))
	}
	end := off + n
	s.size = max(s.size, end)

	// The runs that overlap or touch [off, end): touching runs may merge with
	// the new ones. The last run starting before off may overlap or touch
	// it; after that come the runs starting in [off, end].
	old := s.old[:0]
	if r, ok := s.floor(off - 1); ok && r.End() >= off {
		old = append(old, r)
	}
	old = s.appendRange(old, off-1, end)

	// What [first old run's Off, last old run's End) ∪ [off, end) holds after
	// the write. Only the first old run can start before off and only the
	// last can end after end.
	nw := s.new[:0]
	if len(old) > 0 && old[0].Off < off {
		nw = add(nw, clip(old[0], old[0].Off, off, 0))
	}
	for _, r := range x.runs {
		if r.Stamp != Zero {
			r.Off += off
			nw = add(nw, r)
		}
	}
	if len(old) > 0 {
		if last := old[len(old)-1]; last.End() > end {
			nw = add(nw, clip(last, end, last.End(), 0))
		}
	}

	// Turn old into nw, touching only runs that change. Both are sorted by
	// Off, and the tree holds no other run with an Off in their span.
	i, j := 0, 0
	for i < len(old) || j < len(nw) {
		switch {
		case j == len(nw) || i < len(old) && old[i].Off < nw[j].Off:
			s.t.Delete(old[i])
			i++
		case i == len(old) || nw[j].Off < old[i].Off:
			s.t.ReplaceOrInsert(nw[j])
			j++
		default:
			if old[i] != nw[j] {
				s.t.ReplaceOrInsert(nw[j])
			}
			i++
			j++
		}
	}
	s.old, s.new = old[:0], nw[:0]
}

// Read returns bytes [off, off+n). Bytes not written, including any at or
// past Size, read as zeros. It panics if off < 0, n < 0 or off+n overflows.
func (s *Store) Read(off, n int64) Bytes {
	s.check()
	if off < 0 || n < 0 || off > math.MaxInt64-n {
		panic(fmt.Sprintf("content: Store.Read(%d, %d): out of range", off, n))
	}
	if n == 0 {
		return Bytes{}
	}
	end := off + n
	if s.t == nil {
		return Zeros(n)
	}
	// Two walks over the runs, the first to count the result's runs (add
	// merges some), so that a Read allocates once, at the exact size.
	var buf [2]Run
	last, count := buf[:0], 0
	s.readRuns(off, end, func(r Run) {
		last = add(last, r)
		if len(last) == 2 { // last[0] is final
			count++
			last[0] = last[1]
			last = last[:1]
		}
	})
	out := make([]Run, 0, count+len(last))
	s.readRuns(off, end, func(r Run) { out = add(out, r) })
	return Bytes{out}
}

// readRuns calls f with the runs of [off, end) in order, moved to start at
// 0, with the zeros between stored runs as runs of their own; add merges
// them into canonical form.
func (s *Store) readRuns(off, end int64, f func(Run)) {
	pos := off
	visit := func(r Run) {
		if r.Off > pos {
			f(Run{Off: pos - off, Len: r.Off - pos})
		}
		f(clip(r, off, end, -off))
		pos = min(r.End(), end)
	}
	if r, ok := s.floor(off); ok && r.End() > off {
		visit(r)
	}
	s.t.AscendGreaterOrEqual(Run{Off: off + 1}, func(x Run) bool {
		if x.Off >= end {
			return false
		}
		visit(x)
		return true
	})
	f(Run{Off: pos - off, Len: end - pos})
}

// Truncate sets the size to n: runs past n are dropped, and growing the size
// adds zeros. It panics if n < 0.
func (s *Store) Truncate(n int64) {
	s.mut()
	checkLen("Store.Truncate", n)
	if n == 0 {
		s.t.Clear(false)
	}
	for {
		r, ok := s.t.Max()
		if !ok || r.End() <= n {
			break
		}
		if r.Off < n {
			r.Len = n - r.Off
			s.t.ReplaceOrInsert(r)
			break
		}
		s.t.DeleteMax()
	}
	s.size = n
}

// Clone returns an independent copy of s in O(1). The two share their B-tree
// nodes until one of them changes: the first Write to a region afterwards
// copies the O(log n) nodes on its path (about 2 KiB each), so a snapshot
// costs memory only for what changes after it.
func (s *Store) Clone() *Store {
	s.mut()
	c := &Store{t: s.t.Clone(), degree: s.degree, size: s.size}
	c.self = c
	return c
}

// Equal reports whether s and o have the same size and the same label at
// every byte.
func (s *Store) Equal(o *Store) bool {
	s.check()
	o.check()
	if s.size != o.size || s.Len() != o.Len() {
		return false
	}
	next, stop := iter.Pull(o.Runs())
	defer stop()
	for x := range s.Runs() {
		if y, _ := next(); x != y {
			return false
		}
	}
	return true
}

// Runs yields the stored runs in offset order. Zero runs are not stored, so
// holes between runs and after the last one read as zeros.
func (s *Store) Runs() iter.Seq[Run] {
	s.check()
	return func(yield func(Run) bool) {
		if s.t != nil {
			s.t.Ascend(yield)
		}
	}
}

// String returns the text form of bytes [0, Size()), as [Bytes.String] does.
// It lists every run; use it for small stores and debugging.
func (s *Store) String() string { return s.Read(0, s.Size()).String() }
