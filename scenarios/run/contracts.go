package run

import (
	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// watchContracts sets up the checks that watch writeback as it goes:
// fsync-bounded, on every ->writepages call (the kernel's
// WritepagesObserver), and dirty-expire, on the page-flag points and the
// kupdate passes, in runs without faults (a failed write back leaves a
// page dirty for good).
func (m *machine) watchContracts() {
	if m.checks(check.InvDirtyExpire) && !m.injectsFaults() && !m.s.VM.Flusher.Off {
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

// injectsFaults says whether the scenario can inject a fault: a fault
// plan, a device or server table op, or key trouble (an op that expires
// or revokes a key, or a key that starts in another state than valid).
func (m *machine) injectsFaults() bool {
	s := m.s
	if s.Faults != nil && s.Faults.Plan != nil && len(s.Faults.Plan.Rules) > 0 {
		return true
	}
	for _, k := range []scenarios.OpKind{scenarios.OpExpireKey, scenarios.OpRevokeKey, scenarios.OpDevice, scenarios.OpServer} {
		if s.HasOp(k) {
			return true
		}
	}
	if s.FS.AFS != nil {
		for _, k := range s.FS.AFS.Keys {
			if k.State != "" && k.State != scenarios.KeyValid {
				return true
			}
		}
	}
	return false
}
