package run

import (
	"slices"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// TestGetblockWritebackShape: the two fault-getblock built-ins reach the
// path they exist for (and the mutation study counts on): a read fault
// is injected, and a page is marked in error by __block_write_full_page
// called from __mpage_writepage inside write_cache_pages, i.e. get_block
// failed at writeback time. If a model change moves the indirect block
// off the faulty sectors or keeps it cached, this fails.
func TestGetblockWritebackShape(t *testing.T) {
	for _, name := range []string{"fault-getblock-writeback-3.x", "fault-getblock-flusher-3.x"} {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		setup, cfg, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TraceKeep = -1
		w := sim.New(cfg)
		setup(w)
		if r := w.Run(); !r.OK() {
			t.Fatalf("%s: %s", name, r.Failure.Report())
		}
		stacks := map[int32][]string{}
		faults, reached := 0, false
		for _, ev := range w.Trace().Events() {
			switch {
			case ev.Kind == sim.KindEnter:
				stacks[ev.Task] = append(stacks[ev.Task], ev.Fn)
			case ev.Kind == sim.KindLeave && len(stacks[ev.Task]) > 0:
				stacks[ev.Task] = stacks[ev.Task][:len(stacks[ev.Task])-1]
			case ev.Kind == sim.KindFault:
				faults++
			case ev.Op == "SetPageError":
				st := stacks[ev.Task]
				if slices.Contains(st, "write_cache_pages") && slices.Contains(st, "__mpage_writepage") && slices.Contains(st, "__block_write_full_page") {
					reached = true
				}
			}
		}
		if faults == 0 || !reached {
			t.Errorf("%s: %d faults injected, failing get_block inside write_cache_pages reached: %v; want both", name, faults, reached)
		}
	}
}
