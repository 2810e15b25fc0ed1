package scenarios_test

import (
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// idConstants are the invariant id constants of the packages that raise
// failures under them, each with its package. A new constant goes here:
// the test below then holds it to the registry.
var idConstants = []struct{ id, pkg string }{
	{sim.InvLock, "sim"},
	{sim.InvProgress, "sim"},
	{mm.InvPageState, "model/mm"},
	{mm.InvPageRef, "model/mm"},
	{mm.InvLock, "sim"}, // sim's, re-exported
	{afs.InvWbRecord, "model/afs"},
	{afs.InvRPCShape, "model/afs"},
	{block.InvBioShape, "model/block"},
	{blockfs.InvFsConsistent, "model/blockfs"},
	{check.InvReadCorrect, "check"},
	{check.InvFsyncDurable, "check"},
	{check.InvFsyncError, "check"},
	{check.InvCrash, "check"},
	{check.InvNoLostWrite, "check"},
	{check.InvCyclicComplete, "check"},
	{check.InvSyncComplete, "check"},
	{check.InvWritepagesError, "check"},
	{check.InvWritebackIndex, "check"},
	{check.InvFsyncBounded, "check"},
	{check.InvDirtyExpire, "check"},
	{srun.InvExpect, "scenarios/run"},
}

// Every id constant is in the registry under the package that defines
// it, and every registry entry has a constant in the package it names.
func TestRegistryCoversEveryConstant(t *testing.T) {
	covered := map[scenarios.Invariant]bool{}
	for _, c := range idConstants {
		e, ok := scenarios.LookupInvariant(scenarios.Invariant(c.id))
		switch {
		case !ok:
			t.Errorf("%s's invariant %q is not in the registry", c.pkg, c.id)
		case e.Package != c.pkg:
			t.Errorf("invariant %s: the registry says %s checks it, the constant is %s's", c.id, e.Package, c.pkg)
		default:
			covered[e.ID] = true
		}
	}
	for _, e := range scenarios.Invariants() {
		if !covered[e.ID] {
			t.Errorf("registry invariant %s has no id constant in %s", e.ID, e.Package)
		}
	}
}
