package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// A block that a truncate freed and a later write allocated again reads,
// in the runner's view of stable storage, as the hole it was until the
// new data is written (ordered mode), not as the other file's old data
// it still holds on the disk. Here the write's page is never written back
// (the crash comes first), so the crash check passes only with that view;
// the test also checks that the block was reused and still holds /o's
// data, so that the view is what decides.
func TestStableViewHidesReusedBlocks(t *testing.T) {
	src := `wbsim-scenario v1
name reuse
kernel 3.x
fs blockfs
vm
    flusher off
task t
    open o /o
    write o 0+4KiB as A
    fsync o expect ok
    open s /s
    pwrite s 8KiB+4KiB as B
    fsync s expect ok
    truncate o 0
    pwrite s 0+1 as C
    crash
check crash
expect ok
`
	s, err := scenarios.Parse("reuse.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w := sim.New(sim.Config{Seed: 1, Strategy: &sim.RoundRobin{}, TraceKeep: 64})
	m, err := build(s.WithDefaults(), nil, nil, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := w.Run(); r.Failure != nil {
		t.Fatalf("the crash check failed with the ordered view: %s", r.Failure.Report())
	}
	f := m.files["/s"]
	bs := int64(m.fs.BlockSize())
	phys, _, ok := f.ei.Lookup(0)
	if !ok || !m.fresh[phys] {
		t.Fatalf("/s block 0 at %d (mapped %v) is not a fresh allocation", phys, ok)
	}
	old := m.disk.Durable().Read(int64(phys)*bs, bs)
	if old.Equal(content.Zeros(bs)) {
		t.Fatalf("block %d holds zeros on the disk: /o's freed block was not reused", phys)
	}
	if got := f.stable(0, bs); !got.Equal(content.Zeros(bs)) {
		t.Errorf("stable view of /s block 0 = %v, want the hole's zeros", got)
	}
	clear(m.fresh)
	if got := f.stable(0, bs); !got.Equal(old) {
		t.Errorf("without the ordered view /s block 0 reads %v, want the disk's %v", got, old)
	}
}
