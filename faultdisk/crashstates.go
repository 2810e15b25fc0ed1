package faultdisk

import (
	"slices"

	"github.com/wbsim/wbsim/sim/content"
)

// CrashStates are the distinct images a power loss at one moment may leave
// on the medium, as ALICE (Pillai et al., "All File Systems Are Not Created
// Equal", OSDI 2014) and B3 (Mohan et al., "Finding Crash-Consistency Bugs
// with Bounded Black-Box Crash Testing", OSDI 2018) define the crash states
// of a block device with a volatile write cache:
//
//   - the durable data survives: every write that completed before a flush
//     that completed was dispatched, and every completed FUA write;
//   - the writes completed since then (the cache's entries) land in any
//     subset, each whole, applied in completion order (a FUA write among
//     them is applied in its place, always);
//   - the writes in flight at the device (dispatched, not completed) land
//     or not after them, in dispatch order: each whole, or, with torn, each
//     of their sectors on its own (sectors are never torn).
//
// The enumeration order is deterministic, so that an index names a state
// in a replay: first the in-order prefixes (nothing kept, which is
// drop-all; the first write kept; the first two; ...; every write kept),
// then every other subset as built write by write, each state without the
// write before the same state with it. Identical images count once.
type CrashStates struct {
	base *content.Store // the durable data
	segs []segment
	vecs [][]uint16 // per state, the class of each segment (0: the durable data)
	// Capped says that the cap stopped the enumeration: there may be more
	// states than Len.
	Capped bool
}

// segment is a piece of the disk that no write starts or ends inside: the
// writes that cover it cover all of it. data[c-1] is what class c puts
// there (class 0 is the durable data).
type segment struct {
	off, n int64
	data   []content.Bytes
}

// crashUnit is a write (or, torn, one sector of one) that a crash keeps or
// loses; a forced one is always applied (a FUA write in the cache).
type crashUnit struct {
	off    int64
	data   content.Bytes
	forced bool
	first  int      // first segment it covers
	cls    []uint16 // class it puts in each segment it covers
}

// CrashStates enumerates the crash states of a power loss now, without
// changing the disk, up to max of them (max >= 1). A powered-off disk has
// one state: its medium.
func (d *Disk) CrashStates(torn bool, max int) *CrashStates {
	d.catchUp(d.w.Now())
	cs := &CrashStates{base: d.cache.durable.Clone()}
	if d.off {
		cs.vecs = [][]uint16{nil}
		return cs
	}
	var units []crashUnit
	for i := range d.cache.entries.n {
		e := d.cache.entries.at(i)
		units = append(units, crashUnit{off: e.off, data: e.data, forced: e.fua})
	}
	for _, e := range d.inFlightWrites() {
		if !torn {
			units = append(units, crashUnit{off: e.off, data: e.data})
			continue
		}
		for s := int64(0); s < e.data.Len(); s += SectorSize {
			units = append(units, crashUnit{off: e.off + s, data: e.data.Slice(s, SectorSize)})
		}
	}
	cs.segment(units)
	cs.enumerate(units, max)
	return cs
}

// segment cuts the disk at every unit's start and end, and gives each
// unit the class of its data in each segment it covers: units putting
// the same bytes in a segment share a class, and bytes equal to the
// durable data are class 0.
func (cs *CrashStates) segment(units []crashUnit) {
	var cuts []int64
	for _, u := range units {
		cuts = append(cuts, u.off, u.off+u.data.Len())
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	for i := range units {
		u := &units[i]
		u.first, _ = slices.BinarySearch(cuts, u.off)
		end, _ := slices.BinarySearch(cuts, u.off+u.data.Len())
		for k := u.first; k < end; k++ {
			// Segments are made as units reach them; units covering the
			// same cut points share them.
			for len(cs.segs) <= k {
				j := len(cs.segs)
				cs.segs = append(cs.segs, segment{off: cuts[j], n: cuts[j+1] - cuts[j]})
			}
			sg := &cs.segs[k]
			b := u.data.Slice(sg.off-u.off, sg.n)
			c := 0
			if !b.Equal(cs.base.Read(sg.off, sg.n)) {
				c = slices.IndexFunc(sg.data, b.Equal) + 1
				if c == 0 {
					sg.data = append(sg.data, b)
					c = len(sg.data)
				}
			}
			u.cls = append(u.cls, uint16(c))
		}
	}
}

// enumerate fills cs.vecs: the prefixes, then the subsets write by write,
// deduplicated, at most max.
func (cs *CrashStates) enumerate(units []crashUnit, max int) {
	n := len(cs.segs)
	seen := map[string]bool{}
	var buf []byte
	add := func(v []uint16) {
		buf = key(buf, v)
		switch {
		case seen[string(buf)]:
		case len(cs.vecs) == max:
			cs.Capped = true
		default:
			seen[string(buf)] = true
			cs.vecs = append(cs.vecs, v)
		}
	}
	apply := func(v []uint16, u *crashUnit) { copy(v[u.first:], u.cls) }
	// The prefixes.
	cands := 0
	for _, u := range units {
		if !u.forced {
			cands++
		}
	}
	for k := 0; k <= cands; k++ {
		v := make([]uint16, n)
		kept := 0
		for i := range units {
			if units[i].forced || kept < k {
				apply(v, &units[i])
			}
			if !units[i].forced {
				kept++
			}
		}
		add(v)
	}
	// Every subset, write by write. A state lost from the set by the cap
	// keeps its successors out too: the set only grows, so a capped
	// search has found max states at least.
	// in holds the keys of set; a unit that is not forced only adds to
	// both, a forced one changes every state and so rebuilds them.
	set := [][]uint16{make([]uint16, n)}
	in := map[string]bool{string(key(buf, set[0])): true}
	for i := range units {
		u := &units[i]
		if u.forced {
			next := set[:0:0]
			in = make(map[string]bool, len(set))
			for _, v := range set {
				apply(v, u)
				if buf = key(buf, v); !in[string(buf)] {
					in[string(buf)] = true
					next = append(next, v)
				}
			}
			set = next
			continue
		}
		for _, v := range set[:len(set):len(set)] {
			// The key of v with u kept, without building it first.
			buf = key(buf, v)
			for j, c := range u.cls {
				k := u.first + j
				buf[2*k], buf[2*k+1] = byte(c), byte(c>>8)
			}
			if in[string(buf)] {
				continue
			}
			if len(set) == max {
				cs.Capped = true
				break
			}
			in[string(buf)] = true
			w := slices.Clone(v)
			apply(w, u)
			set = append(set, w)
		}
	}
	for _, v := range set {
		add(v)
	}
}

// key writes a state's class vector into buf (reused) as a map key.
func key(buf []byte, v []uint16) []byte {
	buf = buf[:0]
	for _, c := range v {
		buf = append(buf, byte(c), byte(c>>8))
	}
	return buf
}

// Len is the number of states enumerated.
func (cs *CrashStates) Len() int { return len(cs.vecs) }

// Image returns state i (0 <= i < Len) as the medium would hold it.
func (cs *CrashStates) Image(i int) *content.Store {
	img := cs.base.Clone()
	for k, c := range cs.vecs[i] {
		if c != 0 {
			sg := &cs.segs[k]
			img.Write(sg.off, sg.data[c-1])
		}
	}
	return img
}
