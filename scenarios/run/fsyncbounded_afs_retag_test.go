package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// afsRetagRace is the schedule of TestFsyncBoundedAFSStoredPageRetagged,
// in phases that trace events end: the fsyncer runs until its store has
// gathered page 1 behind page 0 (clear_page_dirty_for_io on page 1); the
// writer, or else the fsyncer (to finish the store and end page 1's
// writeback, which the writer waits for), until the writer has dirtied
// page 1 again (flag and DIRTY tag); the tagger until
// its fsync's tag_pages_for_writeback has tagged page 1 TOWRITE and
// released tree_lock; then the fsyncer, whose region lookup goes on. The
// idler (cached reads of another file) runs whenever the tasks of the
// phase cannot; the others sleep until its first read is cached.
type afsRetagRace struct {
	taskNames
	phase  int
	stored int  // how many times the fsyncer's first sweep cleaned page 1 for a store
	swept  bool // the fsyncer's first sweep (do_writepages) returned
	// dirtied: the writer set page 1's PG_dirty; the phase ends when
	// __set_page_dirty_nobuffers has tagged it DIRTY too.
	dirtied bool
}

func (r *afsRetagRace) Begin(w *sim.World) {
	r.w, r.names = w, map[int32]string{}
	w.Observe(r.observe)
}

func (r *afsRetagRace) observe(_ *sim.World, ev *sim.Event) {
	page1 := ev.Obj.Class == "page" && ev.Obj.B == 1
	switch {
	case page1 && ev.Op == "clear_page_dirty_for_io" && r.task(ev.Task) == "fsyncer":
		if !r.swept {
			r.stored++
		}
		if r.phase == 0 {
			r.phase = 1
		}
	case ev.Kind == sim.KindLeave && ev.Op == "do_writepages" && r.task(ev.Task) == "fsyncer":
		r.swept = true
	case r.phase == 1 && page1 && ev.Op == "TestSetPageDirty" && r.task(ev.Task) == "writer":
		r.dirtied = true
	case r.dirtied && r.phase == 1 && ev.Kind == sim.KindLeave && ev.Op == "__set_page_dirty_nobuffers" &&
		r.task(ev.Task) == "writer":
		r.phase = 2
	case r.phase == 2 && ev.Kind == sim.KindUnlock && ev.Fn == "tag_pages_for_writeback" && r.task(ev.Task) == "tagger":
		r.phase = 3
	}
}

func (r *afsRetagRace) Choose(d *sim.Decision) int {
	prefer := [][]string{
		{"fsyncer", "idler"},
		{"writer", "fsyncer", "idler"},
		{"tagger", "writer", "idler"},
		{"fsyncer", "idler"},
	}[r.phase]
	return chooseFirst(d, prefer...)
}

// TestFsyncBoundedAFSStoredPageRetagged: with every fix on, the fsyncer's
// sweep stores pages 0-1 in one store (page 1 gathered); meanwhile the
// writer dirties page 1 again and the tagger's fsync tags it TOWRITE. The
// fsyncer's region lookup resumed just past page 0, met page 1 tagged and
// stored it a second time in the same sweep (fsync-bounded: "pages: 1
// (again)"), which netfs_writepages, the kernel writepages-towrite
// models, cannot do: its iterator yields each folio once per sweep. With
// the region going on after the store's last page, page 1's new data is
// the tagger's to store.
func TestFsyncBoundedAFSStoredPageRetagged(t *testing.T) {
	s, err := scenarios.Parse("afs-retag.wbs", []byte(`wbsim-scenario v1
name afs-retag
kernel afs-2.6.3x
fs afs
    latency 100us
    key alice
    file /f size 8KiB
    file /g size 4KiB
vm
    flusher off
task fsyncer
    open f /f as alice
    sleep 1ms
    pwrite f 0+8KiB as A
    fsync f
task writer
    open f /f as alice
    sleep 1ms
    pwrite f 4KiB+1 as B
task tagger
    open f /f as alice
    sleep 1ms
    fsync f
task idler
    open g /g as alice
    read g 0+4KiB
    repeat 2000
        read g 0+4KiB
`))
	if err != nil {
		t.Fatal(err)
	}
	s.WithFixes(propAllFixes(scenarios.KernelAFS)...)
	r := &afsRetagRace{}
	res := mutRun(t, s, r, nil)
	if r.phase != 3 {
		t.Fatalf("the schedule did not reach the race (phase %d); result %v", r.phase, res.Failure)
	}
	if res.Failure != nil {
		t.Fatalf("%s", res.Failure.Report())
	}
	if r.stored != 1 {
		t.Errorf("the fsyncer's sweep stored page 1 %d times, want once", r.stored)
	}
}
