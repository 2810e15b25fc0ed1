package run

import (
	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// watchContracts sets up the checks that watch writeback as it goes:
// fsync-bounded, on every ->writepages call (the kernel's
// WritepagesObserver), and dirty-expire, on the page-flag points and the
// kupdate passes, in runs without faults (a failed write back leaves a
// page dirty for good).
func (m *machine) watchContracts() {
	if m.checks(check.InvDirtyExpire) && !m.faults && !m.s.VM.Flusher.Off {
		check.NewDirtyExpire(m.w, m.k.DirtyExpireInterval)
	}
	if m.checks(check.InvFsyncBounded) {
		fb := check.NewFsyncBounded(m.w)
		sweeps := map[*mm.WritebackControl]*check.Sweep{}
		m.k.WritepagesObserver = func(t *sim.Task, mapping *mm.AddressSpace, wbc *mm.WritebackControl, done bool) {
			if !done {
				sweeps[wbc] = fb.Begin(t, mapping, wbc)
				return
			}
			fb.End(sweeps[wbc])
			delete(sweeps, wbc)
		}
	}
}
