package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// afsTagRace is the schedule of TestFsyncBoundedAFSGathersLentPage, in
// phases that trace events end: the writer runs until its pwrite has
// attached page 1 to the record of dirty page 0 (its second afs_write_begin
// returns); the syncer until its fsync's store has cleared page 0's dirty
// bit (its sweep began with page 0 dirty, page 1 not); the writer until
// its own fsync's tag_pages_for_writeback has tagged page 1 and released
// tree_lock; then the syncer, whose store goes on gathering. The idler
// (cached reads of another file) runs whenever the task of the phase
// cannot, so that the other one waits.
type afsTagRace struct {
	taskNames
	phase, writeBeginsDone int
	gathered               bool // the syncer's store took page 1 in phase 3
}

func (r *afsTagRace) Begin(w *sim.World) {
	r.w, r.names = w, map[int32]string{}
	w.Observe(r.observe)
}

// taskNames names the tasks of a phased schedule's world, whose
// observer ends its phases by task name.
type taskNames struct {
	w     *sim.World
	names map[int32]string
}

// task names the task of an event (the scenario's tasks are spawned as
// the run starts).
func (n *taskNames) task(id int32) string {
	if name, ok := n.names[id]; ok {
		return name
	}
	for _, t := range n.w.Tasks() {
		n.names[t.ID()] = t.Name()
	}
	return n.names[id]
}

func (r *afsTagRace) observe(_ *sim.World, ev *sim.Event) {
	switch {
	case r.phase == 0 && ev.Kind == sim.KindLeave && ev.Op == "afs_write_begin" && r.task(ev.Task) == "writer":
		if r.writeBeginsDone++; r.writeBeginsDone == 2 {
			r.phase = 1
		}
	case r.phase == 1 && ev.Op == "clear_page_dirty_for_io" && r.task(ev.Task) == "syncer":
		r.phase = 2
	case r.phase == 2 && ev.Kind == sim.KindUnlock && ev.Fn == "tag_pages_for_writeback" && r.task(ev.Task) == "writer":
		r.phase = 3
	case r.phase == 3 && ev.Op == "clear_page_dirty_for_io" && ev.Fn == "afs_write_back_from_locked_page" &&
		ev.Obj.B == 1 && r.task(ev.Task) == "syncer":
		r.gathered = true
	}
}

func (r *afsTagRace) Choose(d *sim.Decision) int {
	if r.phase == 0 || r.phase == 2 {
		return chooseFirst(d, "writer", "idler")
	}
	return chooseFirst(d, "syncer", "idler")
}

// chooseFirst is the candidate of d named first in names (the phased
// schedules of these tests), or choice 0.
func chooseFirst(d *sim.Decision, names ...string) int {
	for _, name := range names {
		for i, c := range d.Candidates {
			if c.Name() == name {
				return i
			}
		}
	}
	return 0
}

// TestFsyncBoundedAFSGathersLentPage is the TestPropStack failure on afs
// with every fix on, on its own: the syncer's fsync sweep began with page
// 0 dirty; the writer dirtied page 1 of the same record after that, and
// its own fsync tagged page 1 TOWRITE; before that tagging returned, the
// syncer's afs_write_back_from_locked_page gathered page 1, tagged as
// writepages-towrite asks. TOWRITE is one tag for every sweep, so the
// page is in the syncer's slack (fsync-bounded, the other sweep's
// tagging), counted when the writer's batch was tagged.
func TestFsyncBoundedAFSGathersLentPage(t *testing.T) {
	s, err := scenarios.Parse("afs-lent-tag.wbs", []byte(`wbsim-scenario v1
name afs-lent-tag
kernel afs-2.6.3x
fs afs
    latency 100us
    key alice
    file /f size 8KiB
    file /g size 4KiB
vm
    flusher off
task writer
    open f /f as alice
    read f 0+8KiB
    pwrite f 0+8KiB as A
    fsync f
task syncer
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
	r := &afsTagRace{}
	res := mutRun(t, s, r, nil)
	if !r.gathered {
		t.Fatalf("the schedule did not reach the race: the syncer did not gather page 1 (phase %d); result %v", r.phase, res.Failure)
	}
	if res.Failure != nil {
		t.Fatalf("%s", res.Failure.Report())
	}
}
