//go:build wbsim_mutants

package run

import (
	"testing"

	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/scenarios"
)

// afsRedirtyUnderStore is the shape afs-region-no-wait needs: alice
// rewrites page 1 while sync's store of pages 0 and 1 is in flight (page 0
// is the store's primary page, locked; page 1 a secondary, unlocked), so
// page 1 is dirty under writeback when her fsync's WB_SYNC_ALL
// afs_writepages_region reaches it, with page 0 clean and untagged before
// it. The era's own afs_write_begin lets that happen: flush_conflicting_wb
// waits for no writeback. With flush-conflict-wait-writeback on (a
// baseline fix, v4.15's write_one_page) the rewrite waits for the store,
// and the only page dirty under writeback left is a secondary page in
// afs_redirty_pages' window, which a full-range sweep cannot reach before
// the window closes: it sleeps first on the store's primary page, locked
// until the window is over. So the study, every fix on, cannot catch the
// mutant; this test shows that sync-complete does in the era's own shape.
const afsRedirtyUnderStore = `wbsim-scenario v1
name afs-redirty-under-store
description
    alice rewrites page 1 while sync stores it, then fsyncs.

kernel afs-2.6.3x
fs afs
    latency 2ms
    key alice

vm
    flusher off

task alice
    open f /vol/shared as alice
    write f 0+8KiB as A
    sleep 1500us
    pwrite f 4KiB+100 as A2
    fsync f

task syncer
    sleep 5ms
    sync

explore
    strategy random
    schedules 50

expect ok
`

func TestMutantAfsRegionNoWaitSeedShape(t *testing.T) {
	s, err := scenarios.Parse("afs-redirty-under-store.wbs", []byte(afsRedirtyUnderStore))
	if err != nil {
		t.Fatal(err)
	}
	var fixes []string
	for _, f := range scenarios.FixesFor(s.Kernel) {
		if f != "boundary-ignored" && f != "flush-conflict-wait-writeback" {
			fixes = append(fixes, f)
		}
	}
	o := Options{Fixes: fixes, Off: []string{"flush-conflict-wait-writeback"}, Workers: 1}
	if v := CheckWith(s, o); v.Failure != nil {
		t.Fatalf("without the mutant: %s", v.Failure.Report())
	}
	mutant.Set("afs-region-no-wait")
	defer mutant.Set("")
	v := CheckWith(s, o)
	if v.Failure == nil || v.Failure.Invariant != "sync-complete" {
		t.Fatalf("afs-region-no-wait: want sync-complete, got %v", v.Failure)
	}
	t.Logf("caught: %s", v.Failure.Msg)
	o.Off = nil // flush-conflict-wait-writeback on: equivalent
	if v := CheckWith(s, o); v.Failure != nil {
		t.Fatalf("with flush-conflict-wait-writeback on, the mutant fails the run: %s", v.Failure.Report())
	}
}
