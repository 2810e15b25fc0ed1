package run

import (
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Mutation checks of the ->writepages contracts (check.Writepages):
// sync-complete, writepages-error and writeback-index. Each mutant is an
// a_ops table (mutAOps with ->writepage and ->writepages replaced) inside
// the runner's own checking wrapper (wrapWritepages), as a buggy
// ->writepages would sit there.

// wpMutAOps is mutAOps with ->writepage and ->writepages hooks (nil: the
// era's).
type wpMutAOps struct {
	*mutAOps
	writepage  func(a *wpMutAOps, t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int
	writepages func(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int
}

func (a *wpMutAOps) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	if a.writepage != nil {
		return a.writepage(a, t, p, wbc)
	}
	return a.Ext2AOps.Writepage(t, p, wbc)
}

func (a *wpMutAOps) Writepages(t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
	if a.writepages != nil {
		return a.writepages(a, t, mp, wbc)
	}
	return a.Ext2AOps.Writepages(t, mp, wbc)
}

// installChecked puts a, inside the runner's ->writepages checks, on m's
// file system.
func installChecked(m *machine, a *wpMutAOps) {
	a.mutAOps = &mutAOps{}
	mutInstallAOps(m, a.mutAOps)
	m.fs.AOps = wrapWritepages(a, m.writepagesChecks(false), m.w)
}

var blockEras = []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x}

// hideDirtyTag runs writepages with page i's DIRTY tag cleared (a lost
// radix tree tag), so the tagged lookup never finds it, and puts the tag
// back after if the page is still dirty.
func hideDirtyTag(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl, i uint64) int {
	hid := mp.PageTree.TagGet(i, mm.PAGECACHE_TAG_DIRTY)
	if hid {
		mp.PageTree.TagClear(i, mm.PAGECACHE_TAG_DIRTY)
	}
	ret := a.Ext2AOps.Writepages(t, mp, wbc)
	if p := mp.PageTree.Lookup(i); hid && p != nil && mm.PageDirty(p) {
		mp.PageTree.TagSet(i, mm.PAGECACHE_TAG_DIRTY)
	}
	return ret
}

// TestMutationSyncComplete: fsync's WB_SYNC_ALL sweep misses dirty page
// 1 (its DIRTY tag is lost for the sweep).
func TestMutationSyncComplete(t *testing.T) {
	for _, v := range blockEras {
		t.Run(string(v), func(t *testing.T) {
			s := mutBlockScenario("mut-sync-skips-page", v, func(tk *scenarios.Task) {
				tk.Open("f", "/f", 0).Write("f", 0, 12288, "A").Fsync("f")
			})
			mutationCase(t, s, check.InvSyncComplete, func(m *machine) {
				installChecked(m, &wpMutAOps{writepages: func(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
					if wbc.SyncMode != mm.WB_SYNC_ALL {
						return a.Ext2AOps.Writepages(t, mp, wbc)
					}
					return hideDirtyTag(a, t, mp, wbc, 1)
				}})
			})
		})
	}
}

// failFirstPage is a ->writepage that writes the page and then reports
// -EIO for page 0 (as a failed get_block or submission would).
func failFirstPage(a *wpMutAOps, t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	i := p.Index
	ret := a.Ext2AOps.Writepage(t, p, wbc)
	if i == 0 && ret == 0 {
		return errno.EIO.Neg()
	}
	return ret
}

// writepagesDroppingErrors is generic_writepages whose writepage_t
// callback drops ->writepage's error: no mapping_set_error, 0 returned.
func writepagesDroppingErrors(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return mm.WriteCachePages(t, mp, wbc, func(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl, _ any) int {
		mp.AOps.(mm.WritepageOp).Writepage(t, p, wbc)
		return 0 // the lost error
	}, nil)
}

// TestMutationWritepagesError: ->writepage fails on page 0 and the
// writepage_t callback of write_cache_pages loses the error. (2.6.12 has
// no write_cache_pages.)
func TestMutationWritepagesError(t *testing.T) {
	for _, v := range blockEras[1:] {
		t.Run(string(v), func(t *testing.T) {
			s := mutBlockScenario("mut-lost-writepage-error", v, func(tk *scenarios.Task) {
				tk.Open("f", "/f", 0).Write("f", 0, 8192, "A").Fsync("f")
			})
			mutationCase(t, s, check.InvWritepagesError, func(m *machine) {
				installChecked(m, &wpMutAOps{writepage: failFirstPage, writepages: writepagesDroppingErrors})
			})
		})
	}
}

// errorScenario writes 20 pages (more than a pagevec: 2.6.12's loop
// finishes the pagevec it stopped in) and fsyncs them, on kernel v with
// every fix on but those in off.
func errorScenario(v scenarios.KernelVersion, off ...string) *scenarios.Scenario {
	s := mutBlockScenario("writepage-error-kept", v, func(tk *scenarios.Task) {
		tk.Open("f", "/f", 0).Write("f", 0, 20*4096, "A").Fsync("f")
	})
	s.Fixes = propAllFixes(v, off...)
	return s
}

// keptError is a failing ->writepage for page 0 under
// generic_writepages (2.6.12: mpage_writepages with ->writepage), which
// returns the error and sets AS_EIO.
func keptError(m *machine) {
	installChecked(m, &wpMutAOps{writepage: failFirstPage,
		writepages: func(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
			return mm.GenericWritepages(t, mp, wbc)
		}})
}

// TestWritepagesErrorSilent: a failing ->writepage under each era's own
// loop, with wb-integrity-error on: the error is kept and the sweep goes
// on, and every check stays silent.
func TestWritepagesErrorSilent(t *testing.T) {
	for _, v := range blockEras {
		t.Run(string(v), func(t *testing.T) {
			s := errorScenario(v)
			if r := mutRun(t, s, &sim.RoundRobin{}, keptError); r.Failure != nil && counted(s, r.Failure) {
				t.Fatalf("a kept error fails the run: %s", r.Failure.Report())
			}
		})
	}
}

// TestSyncCompleteEraErrorBreak: with wb-integrity-error off, each era's
// loop stops its WB_SYNC_ALL sweep at the failing page (2.6.12: at the
// end of that pagevec) and leaves later dirty pages unwritten: the era
// bug sync-complete found.
func TestSyncCompleteEraErrorBreak(t *testing.T) {
	for _, v := range blockEras {
		t.Run(string(v), func(t *testing.T) {
			s := errorScenario(v, "wb-integrity-error")
			r := mutRun(t, s, &sim.RoundRobin{}, keptError)
			if r.Failure == nil || !matches(r.Failure, check.InvSyncComplete) {
				t.Fatalf("want sync-complete, got %v", r.Failure)
			}
		})
	}
}

// shortPass gives a cyclic WB_SYNC_NONE pass a budget of one page, so
// that it stops early, and runs the era's ->writepages; with skipAhead
// it then moves writeback_index to the end of the file, past the pages
// it never reached.
func shortPass(skipAhead bool) func(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return func(a *wpMutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
		if !check.IsCyclic(mp, wbc) {
			return a.Ext2AOps.Writepages(t, mp, wbc)
		}
		wbc.NrToWrite = 1
		ret := a.Ext2AOps.Writepages(t, mp, wbc)
		if skipAhead {
			mp.WritebackIndex = 1 << 20
		}
		return ret
	}
}

// writebackIndexScenario dirties 20 pages (more than a pagevec: 2.6.12's
// loop finishes the pagevec it stopped in) for kupdate's cyclic pass.
func writebackIndexScenario(v scenarios.KernelVersion) *scenarios.Scenario {
	return mutBlockScenario("mut-writeback-index", v, func(tk *scenarios.Task) {
		tk.Open("f", "/f", 0).Write("f", 0, 20*4096, "A").Sleep(5 * sim.Millisecond)
	})
}

// TestMutationWritebackIndex: a cyclic pass that stops after one page
// records a writeback_index past the pages it never reached.
func TestMutationWritebackIndex(t *testing.T) {
	for _, v := range blockEras {
		t.Run(string(v), func(t *testing.T) {
			mutationCase(t, writebackIndexScenario(v), check.InvWritebackIndex, func(m *machine) {
				installChecked(m, &wpMutAOps{writepages: shortPass(true)})
			})
		})
	}
}

// TestWritebackIndexSilent: each era's own loop, stopped early by
// nr_to_write, leaves writeback_index where it stopped: the check stays
// silent.
func TestWritebackIndexSilent(t *testing.T) {
	for _, v := range blockEras {
		t.Run(string(v), func(t *testing.T) {
			s := writebackIndexScenario(v)
			r := mutRun(t, s, &sim.RoundRobin{}, func(m *machine) {
				installChecked(m, &wpMutAOps{writepages: shortPass(false)})
			})
			if r.Failure != nil && counted(s, r.Failure) {
				t.Fatalf("an era's early stop fails the run: %s", r.Failure.Report())
			}
		})
	}
}

// afsMutWritepages is a mutant afs_writepages, checked by the runner in
// place of afs_fs_aops' own (machine.afsInner).
type afsMutWritepages func(t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int

func (f afsMutWritepages) Writepages(t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return f(t, mp, wbc)
}

// afsScenario is a one-task AFS scenario with every fix on but those in
// off, the flusher off, and a task that writes three pages and fsyncs.
func afsScenario(name string, plan *faultdisk.Plan, off ...string) *scenarios.Scenario {
	s := scenarios.New(name, scenarios.KernelAFS).OnAFS(scenarios.AFS{}).AddKey("alice", "")
	s.WithFixes(propAllFixes(scenarios.KernelAFS, off...)...)
	s.WithVM(scenarios.VM{Flusher: scenarios.Flusher{Off: true}})
	if plan != nil {
		s.WithFaults(plan)
	}
	s.AddTask("t").OpenAs("f", "/f", "alice", 0).Write("f", 0, 12288, "A").Fsync("f")
	return s
}

// TestMutationSyncCompleteAFS: afs_fsync's WB_SYNC_ALL afs_writepages
// misses page 0 (its DIRTY tag is lost for the sweep, so the region's
// tagged lookup starts at page 1, and the store gathers only pages after
// its first).
func TestMutationSyncCompleteAFS(t *testing.T) {
	s := afsScenario("mut-afs-sync-skips-page", nil)
	mutationCase(t, s, check.InvSyncComplete, func(m *machine) {
		m.afsInner = afsMutWritepages(func(t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
			if wbc.SyncMode != mm.WB_SYNC_ALL || !mp.PageTree.TagGet(0, mm.PAGECACHE_TAG_DIRTY) {
				return afs.AfsWritepages(t, mp, wbc)
			}
			mp.PageTree.TagClear(0, mm.PAGECACHE_TAG_DIRTY)
			ret := afs.AfsWritepages(t, mp, wbc)
			if p := mp.PageTree.Lookup(0); p != nil && mm.PageDirty(p) {
				mp.PageTree.TagSet(0, mm.PAGECACHE_TAG_DIRTY)
			}
			return ret
		})
	})
}

// TestMutationWritepagesErrorAFS: the server refuses the store with
// EACCES; the seed's key-error path (key-error-silent-loss off) kills
// the pages without AS_EIO and afs_writepages returns the error, which a
// mutant ->writepages drops.
func TestMutationWritepagesErrorAFS(t *testing.T) {
	plan := &faultdisk.Plan{Rules: []faultdisk.Rule{{Match: faultdisk.Match{Ops: faultdisk.Ops(faultdisk.OpStore), Nth: 1},
		Action: faultdisk.Fail{Errno: errno.EACCES}}}}
	s := afsScenario("mut-afs-lost-store-error", plan, "key-error-silent-loss")
	mutationCase(t, s, check.InvWritepagesError, func(m *machine) {
		m.afsInner = afsMutWritepages(func(t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
			afs.AfsWritepages(t, mp, wbc)
			return 0 // the lost error
		})
	})
}
