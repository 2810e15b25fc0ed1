package content

import (
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// The reference model keeps one label per byte.

type label struct {
	S   Stamp
	Src int64
}

func lbl(s Stamp, src int64) label {
	if s == Zero {
		return label{}
	}
	return label{s, src}
}

// expand returns the label of every byte of b.
func expand(b Bytes) []label {
	out := make([]label, 0, b.Len())
	for r := range b.Runs() {
		for k := range r.Len {
			out = append(out, lbl(r.Stamp, r.Src+k))
		}
	}
	return out
}

// refOverwrite is Bytes.Overwrite and Store.Write on the reference.
func refOverwrite(ref []label, off int64, x []label) []label {
	if end := off + int64(len(x)); end > int64(len(ref)) {
		ref = refResize(ref, end)
	}
	copy(ref[off:], x)
	return ref
}

// refResize is Truncate on the reference. It never shares memory with ref.
func refResize(ref []label, n int64) []label {
	out := make([]label, n)
	copy(out, ref)
	return out
}

// refRead is Store.Read on the reference: zeros past the end.
func refRead(ref []label, off, n int64) []label {
	out := make([]label, n)
	if off < int64(len(ref)) {
		copy(out, ref[off:])
	}
	return out
}

// refFirstDiff is Bytes.FirstDiff on the reference.
func refFirstDiff(a, b []label) int64 {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int64(i)
		}
	}
	if len(a) == len(b) {
		return -1
	}
	return int64(min(len(a), len(b)))
}

// diffLabels returns "" if want and got are equal, else their difference
// (-want +got). It calls go-cmp only on a mismatch, because go-cmp's
// reflection is too slow to run at every step of a property test.
func diffLabels(want, got []label) string {
	if slices.Equal(want, got) {
		return ""
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

var stamps = []Stamp{Zero, 1, 2, 3, Corrupt(1)}

// genBytes draws contents of a few pieces and their reference labels. Pieces
// often take Src from their position base+i, as a write to a file does, so
// that neighbouring pieces of the same stamp merge.
func genBytes(t *rapid.T, name string, base int64) (Bytes, []label) {
	var b Bytes
	var ref []label
	for range rapid.IntRange(0, 5).Draw(t, name+".pieces") {
		n := rapid.Int64Range(0, 12).Draw(t, name+".len")
		s := rapid.SampledFrom(stamps).Draw(t, name+".stamp")
		src := base + int64(len(ref))
		if !rapid.Bool().Draw(t, name+".aligned") {
			src = rapid.Int64Range(0, 40).Draw(t, name+".src")
		}
		b = b.Append(Fill(n, s, src))
		for k := range n {
			ref = append(ref, lbl(s, src+k))
		}
	}
	return b, ref
}

// bounds returns the offsets where runs start and end.
func bounds(runs iter.Seq[Run]) []int64 {
	var out []int64
	for r := range runs {
		out = append(out, r.Off, r.End())
	}
	return out
}

// genOff draws an offset in [0, hi], often at or next to one of the run
// boundaries bs, where runs split and merge.
func genOff(t *rapid.T, name string, hi int64, bs []int64) int64 {
	if len(bs) > 0 && rapid.Bool().Draw(t, name+".atBoundary") {
		b := rapid.SampledFrom(bs).Draw(t, name+".boundary")
		return min(max(b+rapid.Int64Range(-1, 1).Draw(t, name+".nudge"), 0), hi)
	}
	return rapid.Int64Range(0, hi).Draw(t, name)
}

// checkDense checks the canonical form of a Bytes.
func checkDense(runs []Run) error {
	var pos int64
	for i, r := range runs {
		switch {
		case r.Off != pos:
			return fmt.Errorf("run %d %v starts at %d, want %d", i, r, r.Off, pos)
		case r.Len <= 0:
			return fmt.Errorf("run %d %v is empty", i, r)
		case r.Src < 0 || r.Stamp == Zero && r.Src != 0:
			return fmt.Errorf("run %d %v has a bad Src", i, r)
		case i > 0 && continues(runs[i-1], r):
			return fmt.Errorf("runs %d %v and %d %v are not merged", i-1, runs[i-1], i, r)
		}
		pos = r.End()
	}
	return nil
}

// checkSparse checks the canonical form of a Store's runs.
func checkSparse(runs []Run, size int64) error {
	for i, r := range runs {
		switch {
		case r.Len <= 0:
			return fmt.Errorf("run %d %v is empty", i, r)
		case r.Stamp == Zero:
			return fmt.Errorf("run %d %v is a stored zero run", i, r)
		case r.Off < 0 || r.Src < 0:
			return fmt.Errorf("run %d %v has a negative Off or Src", i, r)
		case r.End() > size:
			return fmt.Errorf("run %d %v ends past size %d", i, r, size)
		case i > 0 && r.Off < runs[i-1].End():
			return fmt.Errorf("runs %d %v and %d %v overlap or are out of order", i-1, runs[i-1], i, r)
		case i > 0 && continues(runs[i-1], r):
			return fmt.Errorf("runs %d %v and %d %v are not merged", i-1, runs[i-1], i, r)
		}
	}
	return nil
}

func checkBytes(t *rapid.T, b Bytes, ref []label) {
	t.Helper()
	if err := checkDense(b.runs); err != nil {
		t.Fatalf("not canonical: %v\n%v", err, b)
	}
	if b.Len() != int64(len(ref)) {
		t.Fatalf("Len() = %d, want %d: %v", b.Len(), len(ref), b)
	}
	if diff := diffLabels(ref, expand(b)); diff != "" {
		t.Fatalf("contents differ from reference (-want +got):\n%s\n%v", diff, b)
	}
	c, err := Parse(b.String())
	if err != nil || !c.Equal(b) {
		t.Fatalf("Parse(%q) = %v, %v; want the same contents", b.String(), c, err)
	}
}

func TestBytesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b, ref := genBytes(t, "init", 0)
		// Bytes is immutable: the values before the last steps must keep
		// their contents.
		var history []Bytes
		var historyRef [][]label
		step := func(nb Bytes, nref []label) {
			history = append(history[max(len(history)-2, 0):], b)
			historyRef = append(historyRef[max(len(historyRef)-2, 0):], ref)
			b, ref = nb, nref
		}
		t.Repeat(map[string]func(*rapid.T){
			"overwrite": func(t *rapid.T) {
				off := genOff(t, "off", b.Len()+8, bounds(b.Runs()))
				x, xr := genBytes(t, "x", off)
				step(b.Overwrite(off, x), refOverwrite(slices.Clone(ref), off, xr))
			},
			"append": func(t *rapid.T) {
				x, xr := genBytes(t, "x", b.Len())
				step(b.Append(x), append(slices.Clone(ref), xr...))
			},
			"truncate": func(t *rapid.T) {
				n := genOff(t, "n", b.Len()+8, bounds(b.Runs()))
				step(b.Truncate(n), refResize(ref, n))
			},
			"slice": func(t *rapid.T) {
				off := genOff(t, "off", b.Len(), bounds(b.Runs()))
				n := genOff(t, "end", b.Len(), bounds(b.Runs())) - off
				if n < 0 {
					off, n = off+n, -n
				}
				step(b.Slice(off, n), slices.Clone(ref[off:off+n]))
			},
			"": func(t *rapid.T) {
				checkBytes(t, b, ref)
				off := rapid.Int64Range(0, b.Len()).Draw(t, "check.off")
				n := rapid.Int64Range(0, b.Len()-off).Draw(t, "check.n")
				if diff := diffLabels(ref[off:off+n], expand(b.Slice(off, n))); diff != "" {
					t.Fatalf("Slice(%d, %d) of %v (-want +got):\n%s", off, n, b, diff)
				}
				for i, h := range history {
					if diff := diffLabels(historyRef[i], expand(h)); diff != "" {
						t.Fatalf("earlier value %d changed (-want +got):\n%s", i, diff)
					}
				}
			},
		})
	})
}

// TestBytesCompare checks Equal and FirstDiff against the reference, on pairs
// that are often equal or nearly so.
func TestBytesCompare(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, ar := genBytes(t, "a", 0)
		b, br := a, ar
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 0: // a small change to a
			off := rapid.Int64Range(0, a.Len()+2).Draw(t, "off")
			x, xr := genBytes(t, "x", off)
			b, br = a.Overwrite(off, x), refOverwrite(slices.Clone(ar), off, xr)
		case 1: // a rebuilt from pieces in another order
			cut := rapid.Int64Range(0, a.Len()).Draw(t, "cut")
			b = Zeros(a.Len()).Overwrite(cut, a.Slice(cut, a.Len()-cut)).Overwrite(0, a.Slice(0, cut))
		case 2: // unrelated
			b, br = genBytes(t, "b", 0)
		}
		if got, want := a.Equal(b), slices.Equal(ar, br); got != want {
			t.Fatalf("%v.Equal(%v) = %v, want %v", a, b, got, want)
		}
		if got, want := a.FirstDiff(b), refFirstDiff(ar, br); got != want {
			t.Fatalf("%v.FirstDiff(%v) = %d, want %d", a, b, got, want)
		}
		if got, want := b.FirstDiff(a), refFirstDiff(br, ar); got != want {
			t.Fatalf("%v.FirstDiff(%v) = %d, want %d", b, a, got, want)
		}
	})
}

// checkStore compares s with the reference and checks its invariants.
func checkStore(t *rapid.T, name string, s *Store, ref []label) {
	t.Helper()
	if s.Size() != int64(len(ref)) {
		t.Fatalf("%s: Size() = %d, want %d", name, s.Size(), len(ref))
	}
	runs := slices.Collect(s.Runs())
	if err := checkSparse(runs, s.Size()); err != nil {
		t.Fatalf("%s: not canonical: %v\n%v", name, err, runs)
	}
	if s.Len() != len(runs) {
		t.Fatalf("%s: Len() = %d, Runs yields %d", name, s.Len(), len(runs))
	}
	if diff := diffLabels(ref, expand(s.Read(0, s.Size()))); diff != "" {
		t.Fatalf("%s: contents differ from reference (-want +got):\n%s\n%v", name, diff, s)
	}
	if !s.Equal(s) {
		t.Fatalf("%s: not Equal to itself", name)
	}
}

func TestStoreModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		deg := rapid.SampledFrom([]int{2, 3, 4, defaultDegree}).Draw(t, "degree")
		s, ref := newStoreDegree(deg), []label(nil)
		var snap *Store // a clone, with its own reference
		var snapRef []label
		t.Repeat(map[string]func(*rapid.T){
			"write": func(t *rapid.T) {
				off := genOff(t, "off", 300, bounds(s.Runs()))
				x, xr := genBytes(t, "x", off)
				s.Write(off, x)
				ref = refOverwrite(ref, off, xr)
			},
			"truncate": func(t *rapid.T) {
				n := genOff(t, "n", 330, bounds(s.Runs()))
				s.Truncate(n)
				ref = refResize(ref, n)
			},
			"read": func(t *rapid.T) {
				off := genOff(t, "off", 340, bounds(s.Runs()))
				n := rapid.Int64Range(0, 80).Draw(t, "n")
				got := s.Read(off, n)
				if err := checkDense(got.runs); err != nil {
					t.Fatalf("Read(%d, %d) = %v: not canonical: %v", off, n, got, err)
				}
				if diff := diffLabels(refRead(ref, off, n), expand(got)); diff != "" {
					t.Fatalf("Read(%d, %d) (-want +got):\n%s", off, n, diff)
				}
			},
			"clone": func(t *rapid.T) {
				snap, snapRef = s.Clone(), slices.Clone(ref)
				if rapid.Bool().Draw(t, "swap") { // go on changing the clone
					s, snap = snap, s
					ref, snapRef = snapRef, ref
				}
			},
			"": func(t *rapid.T) {
				checkStore(t, "store", s, ref)
				if snap == nil {
					return
				}
				checkStore(t, "snapshot", snap, snapRef)
				want := slices.Equal(ref, snapRef)
				if s.Equal(snap) != want || snap.Equal(s) != want {
					t.Fatalf("Equal = %v, %v; want %v\n%v\n%v", s.Equal(snap), snap.Equal(s), want, s, snap)
				}
			},
		})
	})
}

// TestStoreEqualStructure checks that equal contents built by different
// write sequences (so different tree shapes) are Equal.
func TestStoreEqualStructure(t *testing.T) {
	a, b := newStoreDegree(2), newStoreDegree(3)
	for i := range int64(200) {
		a.Write(i*10, Fill(5, Stamp(i%7+1), i))
	}
	for i := int64(199); i >= 0; i-- {
		b.Write(i*10, Fill(3, Stamp(i%7+1), i))
		b.Write(i*10+3, Fill(2, Stamp(i%7+1), i+3))
	}
	if !a.Equal(b) {
		t.Fatalf("stores with the same contents are not Equal:\n%v\n%v", a, b)
	}
	b.Write(1000, Fill(1, 1, 0))
	if a.Equal(b) {
		t.Fatalf("stores with different contents are Equal")
	}
}

func TestStoreCopyByValuePanics(t *testing.T) {
	var s Store
	s.Write(0, Fill(1, 1, 0))
	c := s //nolint:govet // the copy is the point of the test
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "copied by value") {
			t.Fatalf("Write to a copied Store: recover() = %v, want a copy panic", r)
		}
	}()
	c.Write(0, Fill(1, 2, 0))
}

func TestPanics(t *testing.T) {
	var s Store
	b := Fill(10, 1, 0)
	for name, f := range map[string]func(){
		"Zeros(-1)":               func() { Zeros(-1) },
		"Fill(-1)":                func() { Fill(-1, 1, 0) },
		"Fill src<0":              func() { Fill(1, 1, -1) },
		"Fill src overflow":       func() { Fill(2, 1, math.MaxInt64) },
		"Slice past end":          func() { b.Slice(5, 6) },
		"Slice negative":          func() { b.Slice(-1, 1) },
		"Overwrite negative":      func() { b.Overwrite(-1, b) },
		"Overwrite overflow":      func() { b.Overwrite(math.MaxInt64, b) },
		"Truncate negative":       func() { b.Truncate(-1) },
		"Corrupt high bit":        func() { Corrupt(1 << 63) },
		"Store.Write negative":    func() { s.Write(-1, b) },
		"Store.Write overflow":    func() { s.Write(math.MaxInt64-5, b) },
		"Store.Read negative":     func() { s.Read(0, -1) },
		"Store.Truncate negative": func() { s.Truncate(-1) },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "content: ") {
					t.Errorf("%s: recover() = %v, want a content: panic", name, r)
				}
			}()
			f()
		}()
	}
}

func TestStamp(t *testing.T) {
	for _, tc := range []struct {
		s       Stamp
		corrupt bool
		str     string
	}{
		{Zero, false, "0"},
		{3, false, "w3"},
		{Corrupt(0), true, "c0"},
		{Corrupt(7), true, "c7"},
	} {
		if tc.s.IsCorrupt() != tc.corrupt || tc.s.String() != tc.str {
			t.Errorf("Stamp %#x: IsCorrupt() = %v, String() = %q; want %v, %q", uint64(tc.s), tc.s.IsCorrupt(), tc.s.String(), tc.corrupt, tc.str)
		}
	}
	if Corrupt(3) == 3 || Corrupt(0) == Zero {
		t.Errorf("corrupt stamps collide with write stamps")
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{
		"[1,2)=0",                      // does not start at 0
		"[0,2)=0 [3,4)=0",              // gap
		"[0,2)=0 [1,4)=0",              // overlap
		"[0,0)=0",                      // empty run
		"[0,2)=w0@0",                   // w0 is not a stamp
		"[0,2)=w1",                     // no src
		"[0,2)=0@1",                    // zeros have no src
		"[0,2)=x1@0",                   // unknown label
		"[0,2)=w-1@0",                  // sign
		"[0,2)=w1@+1",                  // sign
		"[0,2)=w1@9223372036854775807", // src overflow
		"[0,2)=c9223372036854775808@0", // corrupt id out of range
		"[0,2)=w9223372036854775808@0", // stamp out of range
		"[0,99999999999999999999)=0",   // offset out of range
		"[0,2=0", "0,2)=0", "[0;2)=0", "empty empty",
	} {
		if b, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, nil; want an error", s, b)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "empty", "[0,512)=w3@0 [512,4096)=0", "[0,1)=c5@9", "[0,5)=w1@0 [5,9)=w1@5", "[0,2)=w1@0\t[2,3)=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Parse(s)
		if err != nil {
			return
		}
		if err := checkDense(b.runs); err != nil {
			t.Fatalf("Parse(%q) = %v: not canonical: %v", s, b, err)
		}
		c, err := Parse(b.String())
		if err != nil || !c.Equal(b) {
			t.Fatalf("Parse(%q) = %v, %v; want %v", b.String(), c, err, b)
		}
	})
}
