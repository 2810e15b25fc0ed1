package mm

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// The page cache as a rapid state machine. Each action runs its kernel
// calls as one task in a fresh world (mm state lives in the Kernel and the
// mapping, not the world, so it carries over); after every action the
// invariants compare the mapping with a plain reference model: tags match
// flags, counters match, every reference the test does not hold is gone,
// and lookups from random indexes equal a sorted-slice implementation.

type smPage struct {
	dirty, wb, locked, towrite bool
	refs                       int // references the test holds (beyond the cache's)
}

type smState struct {
	k   *Kernel
	ino *Inode
	m   *AddressSpace
	ref map[uint64]*smPage
}

func (s *smState) run(rt *rapid.T, name string, body func(t *sim.Task)) {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 100_000})
	s.k.W = w
	w.Spawn(name, body)
	if r := w.Run(); r.Failure != nil {
		rt.Fatalf("%s: %v\n%s", name, r.Failure, r.Failure.Report())
	}
}

func (s *smState) keys() []uint64 {
	ks := make([]uint64, 0, len(s.ref))
	for k := range s.ref {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// pick draws an index: one in the cache, or a fresh one.
func (s *smState) pick(rt *rapid.T, label string, present func(*smPage) bool) (uint64, bool) {
	var cands []uint64
	for _, k := range s.keys() {
		if present == nil || present(s.ref[k]) {
			cands = append(cands, k)
		}
	}
	if len(cands) == 0 {
		return 0, false
	}
	return rapid.SampledFrom(cands).Draw(rt, label), true
}

func mappingIndexGen() *rapid.Generator[uint64] {
	return rapid.OneOf(
		rapid.Uint64Range(0, 80),
		rapid.Uint64Range(1<<32-40, 1<<32+40),
		rapid.Uint64Range(1<<40-40, 1<<40+40),
	)
}

func indexes(ps []*Page) []uint64 {
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = p.Index
	}
	return out
}

func TestMappingStateMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		v := rapid.SampledFrom([]Version{V2_6_2x, V3x}).Draw(rt, "version")
		s := &smState{ref: map[uint64]*smPage{}}
		s.k = NewKernel(sim.New(sim.Config{}), v)
		s.ino = s.k.NewInode(3, 12, &testFS{}, nil)
		s.m = s.ino.Mapping
		m := s.m
		unlocked := func(p *smPage) bool { return !p.locked }
		rt.Repeat(map[string]func(*rapid.T){
			"add_to_page_cache_lru": func(rt *rapid.T) {
				i := mappingIndexGen().Draw(rt, "index")
				_, exists := s.ref[i]
				s.run(rt, "add", func(t *sim.Task) {
					p := PageCacheAlloc(t, m)
					err := AddToPageCacheLRU(t, p, m, i)
					switch {
					case exists && err != errno.EEXIST.Neg():
						t.BUG(p.Obj(), "add over an existing page returned %d", err)
					case !exists && err != 0:
						t.BUG(p.Obj(), "add returned %d", err)
					case err == 0:
						UnlockPage(t, p)
					}
					PageCacheRelease(t, p)
				})
				if !exists {
					s.ref[i] = &smPage{}
				}
			},
			"set_page_dirty": func(rt *rapid.T) {
				i, ok := s.pick(rt, "index", unlocked)
				if !ok {
					rt.Skip("none")
				}
				s.run(rt, "dirty", func(t *sim.Task) {
					p := FindLockPage(t, m, i)
					SetPageDirty(t, p)
					UnlockPage(t, p)
					PageCacheRelease(t, p)
				})
				s.ref[i].dirty = true
			},
			"lock_page": func(rt *rapid.T) {
				i, ok := s.pick(rt, "index", unlocked)
				if !ok {
					rt.Skip("none")
				}
				s.run(rt, "lock", func(t *sim.Task) {
					p := FindGetPage(t, m, i)
					if !TrylockPage(t, p) {
						t.BUG(p.Obj(), "trylock failed on an unlocked page")
					}
				})
				s.ref[i].locked = true
				s.ref[i].refs++
			},
			"unlock_page": func(rt *rapid.T) {
				i, ok := s.pick(rt, "index", func(p *smPage) bool { return p.locked })
				if !ok {
					rt.Skip("none")
				}
				s.run(rt, "unlock", func(t *sim.Task) {
					p := m.PageTree.Lookup(i)
					UnlockPage(t, p)
					PageCacheRelease(t, p)
				})
				s.ref[i].locked = false
				s.ref[i].refs--
			},
			"writepage": func(rt *rapid.T) {
				// clear_page_dirty_for_io on a locked page, then what a
				// ->writepage does: set_page_writeback, or redirty.
				i, ok := s.pick(rt, "index", func(p *smPage) bool { return p.locked && !p.wb })
				if !ok {
					rt.Skip("none")
				}
				redirty := rapid.Bool().Draw(rt, "redirty")
				r := s.ref[i]
				var cleaned int
				s.run(rt, "writepage", func(t *sim.Task) {
					p := m.PageTree.Lookup(i)
					cleaned = ClearPageDirtyForIO(t, p)
					if cleaned == 1 {
						if redirty {
							RedirtyPageForWritepage(t, &WritebackControl{}, p)
						} else {
							SetPageWriteback(t, p)
						}
					}
				})
				if (cleaned == 1) != r.dirty {
					rt.Fatalf("clear_page_dirty_for_io = %d on a page with dirty=%v", cleaned, r.dirty)
				}
				if cleaned == 1 && !redirty {
					r.dirty, r.wb, r.towrite = false, true, false
				}
			},
			"end_page_writeback": func(rt *rapid.T) {
				i, ok := s.pick(rt, "index", func(p *smPage) bool { return p.wb })
				if !ok {
					rt.Skip("none")
				}
				s.run(rt, "end_io", func(t *sim.Task) { EndPageWriteback(t, m.PageTree.Lookup(i)) })
				s.ref[i].wb = false
			},
			"truncate_page": func(rt *rapid.T) {
				i, ok := s.pick(rt, "index", func(p *smPage) bool { return !p.locked && !p.wb && p.refs == 0 })
				if !ok {
					rt.Skip("none")
				}
				s.run(rt, "truncate", func(t *sim.Task) {
					TruncateInodePagesRange(t, m, int64(i)<<PageCacheShift, int64(i)<<PageCacheShift+PageCacheSize-1)
				})
				delete(s.ref, i)
			},
			"invalidate_mapping_pages": func(rt *rapid.T) {
				a := mappingIndexGen().Draw(rt, "start")
				b := mappingIndexGen().Draw(rt, "end")
				var n uint64
				s.run(rt, "invalidate", func(t *sim.Task) { n = InvalidateMappingPages(t, m, a, b) })
				want := s.refInvalidate(v, a, b)
				if n != want {
					rt.Fatalf("invalidate_mapping_pages(%d, %d) = %d, want %d", a, b, n, want)
				}
			},
			"tag_pages_for_writeback": func(rt *rapid.T) {
				if v != V3x {
					rt.Skip("no TOWRITE tag before 2.6.35")
				}
				a := mappingIndexGen().Draw(rt, "start")
				b := mappingIndexGen().Draw(rt, "end")
				s.run(rt, "tag", func(t *sim.Task) { TagPagesForWriteback(t, m, a, b) })
				for _, k := range s.keys() {
					if r := s.ref[k]; k >= a && k <= b && m.PageTree.TagGet(k, PAGECACHE_TAG_DIRTY) {
						r.towrite = true
					}
				}
			},
			"find_get_pages": func(rt *rapid.T) {
				start := mappingIndexGen().Draw(rt, "start")
				nr := rapid.IntRange(1, PAGEVEC_SIZE).Draw(rt, "nr")
				contig := rapid.Bool().Draw(rt, "contig")
				var got []uint64
				s.run(rt, "find", func(t *sim.Task) {
					var pv Pagevec
					if contig {
						pv.Nr = FindGetPagesContig(t, m, start, nr, pv.Pages[:])
					} else {
						PagevecLookup(t, &pv, m, start, nr)
					}
					got = indexes(pv.Pages[:pv.Nr])
					PagevecRelease(t, &pv)
				})
				var want []uint64
				for _, k := range s.keys() {
					if k >= start && len(want) < nr {
						if contig && k != start+uint64(len(want)) {
							break
						}
						want = append(want, k)
					}
				}
				if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
					rt.Fatalf("find_get_pages%s(%d, %d): %s", map[bool]string{true: "_contig"}[contig], start, nr, d)
				}
			},
			"find_get_pages_tag": func(rt *rapid.T) {
				start := mappingIndexGen().Draw(rt, "start")
				nr := rapid.IntRange(1, PAGEVEC_SIZE).Draw(rt, "nr")
				tag := rapid.IntRange(0, RadixTreeMaxTags-1).Draw(rt, "tag")
				var got []uint64
				next := start
				s.run(rt, "find_tag", func(t *sim.Task) {
					var pv Pagevec
					PagevecLookupTag(t, &pv, m, &next, tag, nr)
					got = indexes(pv.Pages[:pv.Nr])
					PagevecRelease(t, &pv)
				})
				var want []uint64
				for _, k := range s.keys() {
					r := s.ref[k]
					has := [RadixTreeMaxTags]bool{r.dirty || m.PageTree.TagGet(k, PAGECACHE_TAG_DIRTY), r.wb, r.towrite}
					if k >= start && has[tag] && len(want) < nr {
						want = append(want, k)
					}
				}
				wantNext := start
				if len(want) > 0 {
					wantNext = want[len(want)-1] + 1
				}
				if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" || next != wantNext {
					rt.Fatalf("find_get_pages_tag(%d, tag %d, %d): next %d want %d; %s", start, tag, nr, next, wantNext, d)
				}
			},
			"": func(rt *rapid.T) {
				if err := s.check(); err != nil {
					rt.Fatal(err)
				}
			},
		})
		// Release what the test still holds, and everything must balance.
		s.run(rt, "cleanup", func(t *sim.Task) {
			for _, k := range s.keys() {
				r := s.ref[k]
				p := m.PageTree.Lookup(k)
				if r.wb {
					EndPageWriteback(t, p)
					r.wb = false
				}
				if r.locked {
					UnlockPage(t, p)
					PageCacheRelease(t, p)
					r.locked = false
					r.refs--
				}
			}
			TruncateInodePages(t, m, 0)
		})
		s.ref = map[uint64]*smPage{}
		if err := s.check(); err != nil {
			rt.Fatal(err)
		}
		if s.k.NrAllocated() != 0 || s.k.NrFilePages != 0 {
			rt.Fatalf("after truncating everything: %d pages allocated, NR_FILE_PAGES %d", s.k.NrAllocated(), s.k.NrFilePages)
		}
	})
}

func (s *smState) check() error {
	m := s.m
	var dirty, wb int64
	var inTree []uint64
	var err error
	m.PageTree.Range(0, -1, func(i uint64, p *Page) bool {
		inTree = append(inTree, i)
		r := s.ref[i]
		if r == nil {
			err = fmt.Errorf("page %d in the tree, not in the model", i)
			return false
		}
		if p.Index != i || p.Mapping != m {
			err = fmt.Errorf("page %d: index %d mapping %p", i, p.Index, p.Mapping)
			return false
		}
		if PageDirty(p) != r.dirty || PageWriteback(p) != r.wb || PageLocked(p) != r.locked {
			err = fmt.Errorf("page %d: flags %s, model %+v", i, FlagNames(p.Flags), *r)
			return false
		}
		dt := m.PageTree.TagGet(i, PAGECACHE_TAG_DIRTY)
		// The DIRTY tag equals PG_dirty, except that a locked page may
		// keep its tag after clear_page_dirty_for_io until writepage sets
		// writeback or redirties it.
		if dt != PageDirty(p) && !(PageLocked(p) && dt) {
			err = fmt.Errorf("page %d: DIRTY tag %v, PG_dirty %v (%s)", i, dt, PageDirty(p), FlagNames(p.Flags))
			return false
		}
		if wt := m.PageTree.TagGet(i, PAGECACHE_TAG_WRITEBACK); wt != PageWriteback(p) {
			err = fmt.Errorf("page %d: WRITEBACK tag %v, PG_writeback %v", i, wt, PageWriteback(p))
			return false
		}
		if tt := m.PageTree.TagGet(i, PAGECACHE_TAG_TOWRITE); tt != r.towrite {
			err = fmt.Errorf("page %d: TOWRITE tag %v, model %v", i, tt, r.towrite)
			return false
		}
		if PageCount(p) != 1+r.refs {
			err = fmt.Errorf("page %d: count %d, want %d", i, PageCount(p), 1+r.refs)
			return false
		}
		if r.dirty {
			dirty++
		}
		if r.wb {
			wb++
		}
		return true
	})
	if err != nil {
		return err
	}
	if d := cmp.Diff(s.keys(), inTree, cmpopts.EquateEmpty()); d != "" {
		return fmt.Errorf("tree contents: %s", d)
	}
	if m.NrPages != len(s.ref) || int64(len(s.ref)) != s.k.NrAllocated() {
		return fmt.Errorf("nrpages %d, allocated %d, model %d", m.NrPages, s.k.NrAllocated(), len(s.ref))
	}
	if s.k.NrFileDirty != dirty || s.k.NrWriteback != wb {
		return fmt.Errorf("NR_FILE_DIRTY %d NR_WRITEBACK %d, model %d %d", s.k.NrFileDirty, s.k.NrWriteback, dirty, wb)
	}
	return nil
}

// refInvalidate is the reference for invalidate_mapping_pages: a page
// goes if it is clean, not under writeback, not locked and unreferenced.
// Which pages are looked at is the era's loop, replayed on the sorted
// keys: 2.6.32 may take the first page past end, 3.2 stops at end.
func (s *smState) refInvalidate(v Version, start, end uint64) uint64 {
	var n uint64
	try := func(k uint64) {
		if r := s.ref[k]; !r.dirty && !r.wb && !r.locked && r.refs == 0 {
			delete(s.ref, k)
			n++
		}
	}
	lookup := func(from uint64, nr int) []uint64 {
		var out []uint64
		for _, k := range s.keys() {
			if k >= from && len(out) < nr {
				out = append(out, k)
			}
		}
		return out
	}
	if v == V3x {
		for index := start; index <= end; index++ {
			batch := lookup(index, int(min(end-index, PAGEVEC_SIZE-1)+1))
			if len(batch) == 0 {
				break
			}
			for _, k := range batch {
				index = k
				if k > end {
					break
				}
				try(k)
			}
		}
		return n
	}
	next := start
	for next <= end {
		batch := lookup(next, PAGEVEC_SIZE)
		if len(batch) == 0 {
			break
		}
		for _, k := range batch {
			if k > next {
				next = k
			}
			next++
			if s.ref[k].locked {
				continue // trylock_page failed
			}
			try(k)
			if next > end {
				break
			}
		}
	}
	return n
}
