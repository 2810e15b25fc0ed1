package mm

import (
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// Mutation checks of the background paths, in the style of
// scenarios/run/mutation_checks_test.go: each case plants one small fault
// in the flusher, reclaim or balance_dirty_pages (Kernel.plant, a field
// only these tests set), runs a short workload that passes without it, and
// asserts that the matching invariant fires with it.

type bgMutation struct {
	name  string
	plant plant
	kind  sim.FailureKind
	inv   string
	// setup builds the workload on w; it returns the kernel so the test
	// can plant the fault before the run.
	setup func(w *sim.World, v Version) *Kernel
}

var bgMutations = []bgMutation{{
	// The flusher (kupdate) writes the inode back and forgets to clear
	// I_SYNC: a later data-integrity writeback of that inode
	// (write_inode_now) waits in inode_wait_for_writeback for ever, while
	// the kupdate timer keeps the clock going.
	name: "flusher keeps I_SYNC", plant: plantKeepISync, kind: sim.FailTimeBudget, inv: sim.InvProgress,
	setup: func(w *sim.World, v Version) *Kernel {
		fs := &testFS{Latency: sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		k.DirtyWritebackInterval = 2 * sim.Millisecond
		k.DirtyExpireInterval = sim.Millisecond
		StartFlusher(k, FlusherOptions{})
		w.Spawn("writer", func(t *sim.Task) {
			for i := range uint64(4) {
				writePage(t, ino.Mapping, i, content.Stamp(i+1))
			}
			t.Sleep(10 * sim.Millisecond) // kupdate has written them by now
			writePage(t, ino.Mapping, 0, 9)
			WriteInodeNow(t, ino, true)
		})
		return k
	},
}, {
	// Direct reclaim frees a page that is still under writeback: page-state
	// fires as __remove_mapping takes it out of the cache (its I/O
	// completion would then touch a freed page).
	name: "reclaim frees a page under writeback", plant: plantReclaimWB, kind: sim.FailInvariant, inv: InvPageState,
	setup: func(w *sim.World, v Version) *Kernel {
		fs := &testFS{Latency: sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		k.MemLimit = 8
		m := ino.Mapping
		k.CheckQuiescent(m)
		w.Spawn("writer", func(t *sim.Task) {
			for i := range uint64(8) {
				writePage(t, m, i, content.Stamp(i+1))
			}
			FilemapFlush(t, m) // all 8 under writeback for 1 ms
			for i := range uint64(4) {
				writePage(t, m, 8+i, 9) // allocations over the limit reclaim
			}
			FilemapWriteAndWait(t, m)
		})
		return k
	},
}, {
	// A throttled dirtier whose pages are all under writeback already
	// (nothing left for it to write) spins instead of sleeping in
	// congestion_wait: the clock cannot move, the I/O never completes.
	name: "balance_dirty_pages spins", plant: plantBdpSpin, kind: sim.FailLivelock, inv: sim.InvProgress,
	setup: func(w *sim.World, v Version) *Kernel {
		fs := &testFS{Latency: 5 * sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		k.TotalRAMPages = 100 // dirty threshold 20 pages
		m := ino.Mapping
		k.CheckQuiescent(m)
		w.Spawn("writer", func(t *sim.Task) {
			for i := range uint64(30) {
				writePage(t, m, i, content.Stamp(i+1))
			}
			FilemapFlush(t, m) // 30 pages under writeback, none dirty
			BalanceDirtyPages(t, m)
			FilemapWriteAndWait(t, m)
		})
		return k
	},
}}

func runBgMutation(mc bgMutation, v Version, p plant) *sim.Result {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 200_000, MaxTime: 10 * sim.Second})
	k := mc.setup(w, v)
	k.plant = p
	return w.Run()
}

func TestBackgroundMutationsCaught(t *testing.T) {
	for _, mc := range bgMutations {
		for _, v := range []Version{V2_6_2x, V3x} {
			if r := runBgMutation(mc, v, plantNone); r.Failure != nil {
				t.Fatalf("%s, %s: fails without the mutation: %s", mc.name, v, r.Failure.Report())
			}
			r := runBgMutation(mc, v, mc.plant)
			if r.Failure == nil {
				t.Errorf("%s, %s: the mutation went unnoticed", mc.name, v)
				continue
			}
			if f := r.Failure; f.Kind != mc.kind || f.Invariant != mc.inv {
				t.Errorf("%s, %s: caught as %s [%s], want %s [%s]: %v", mc.name, v, f.Kind, f.Invariant, mc.kind, mc.inv, f)
			}
			t.Logf("%s, %s: caught: %s [%s] %s", mc.name, v, r.Failure.Kind, r.Failure.Invariant, r.Failure.Msg)
		}
	}
}
