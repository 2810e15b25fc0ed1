package mm

import (
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

func TestPageLifeSmoke(t *testing.T) {
	for _, v := range []Version{V2_6_2x, V3x} {
		w := sim.New(sim.Config{Seed: 1})
		fs := &testFS{Latency: 5 * sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		m := ino.Mapping
		var got int
		w.Spawn("writer", func(t *sim.Task) {
			for i := range uint64(20) {
				writePage(t, m, i, 1)
			}
			if got = FilemapWriteAndWait(t, m); got != 0 {
				t.BUG(sim.Obj{}, "fsync returned %d", got)
			}
		})
		r := w.Run()
		if r.Failure != nil {
			t.Fatalf("%s: %v\n%s", v, r.Failure, r.Failure.Report())
		}
		if len(fs.Written) != 20 {
			t.Fatalf("%s: wrote %v", v, fs.Written)
		}
		if k.NrFileDirty != 0 || k.NrWriteback != 0 || m.NrPages != 20 {
			t.Fatalf("%s: dirty %d writeback %d nrpages %d", v, k.NrFileDirty, k.NrWriteback, m.NrPages)
		}
		for i := range uint64(20) {
			p := m.PageTree.Lookup(i)
			if PageCount(p) != 1 || p.Flags != 1<<PG_uptodate|1<<PG_lru {
				t.Fatalf("%s: %v", v, p)
			}
		}
		_ = errno.EIO
	}
}
