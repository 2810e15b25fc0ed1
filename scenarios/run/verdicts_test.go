package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestErrorReportingVerdicts runs the two error-reporting built-ins on
// every mpage era under every fsync-error contract and checks the verdict
// of each cell (docs/versions.md, "Error reporting under each contract",
// prints the same table). "ok" passes; "fsync-error" fails that invariant.
func TestErrorReportingVerdicts(t *testing.T) {
	mpage := []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x}
	afs := []scenarios.KernelVersion{scenarios.KernelAFS}
	contracts := scenarios.Contracts()
	for _, c := range []struct {
		name string
		eras []scenarios.KernelVersion
		// want[era][contract], and why, cell by cell.
		want [][3]string
		why  string
	}{
		{"eio-ten-fds-3.x", mpage, [][3]string{
			{"ok", "fsync-error", "fsync-error"},
			{"ok", "fsync-error", "fsync-error"},
			{"ok", "fsync-error", "fsync-error"},
		}, "every era reports the error to the first fsync after it (PG_error on the page it waits on, and AS_EIO " +
			"from 2.6.2x) and to no other, so linux-2.6 holds; errseq and errseq-once owe it to each of the ten " +
			"descriptions open when it happened, and the second one's fsync returns 0"},
		{"eio-sync-fresh-open-3.x", mpage, [][3]string{
			{"fsync-error", "ok", "fsync-error"},
			{"ok", "ok", "fsync-error"},
			{"ok", "ok", "fsync-error"},
		}, "2.6.2x and 3.x: sync(2)'s filemap_fdatawait tests and clears AS_EIO, so under linux-2.6 nothing is owed; " +
			"2.6.12 sets no AS_EIO on an asynchronous write error, and sync's waiting pass finds the page no longer under " +
			"writeback, so the error is lost and the later fsync, the first after it, returns 0 (linux-2.6 fails). " +
			"errseq owes nothing to a description opened after the error; errseq-once owes it, as no description has " +
			"seen it, and every era returns 0"},
		{"eio-ten-fds-afs", afs, [][3]string{{"ok", "fsync-error", "fsync-error"}},
			"afs_fsync reports AS_EIO, set when the store failed, to the first fsync and to no other"},
		{"eio-sync-fresh-open-afs", afs, [][3]string{{"ok", "ok", "fsync-error"}},
			"sync(2) consumes AS_EIO on afs too; errseq-once owes the unseen error to the fresh description"},
	} {
		base, err := scenarios.Builtin(c.name)
		if err != nil {
			t.Fatal(err)
		}
		for i, era := range c.eras {
			for j, contract := range contracts {
				s := base.Clone()
				s.Kernel, s.Contract = era, contract
				s.Expect = scenarios.Expect{}
				v := Check(s)
				got := "ok"
				if v.Failure != nil {
					got = FailureID(v.Failure)
				}
				if got != c.want[i][j] {
					t.Errorf("%s on %s under %s: %s, want %s (%s)\n%s", c.name, era, contract, got, c.want[i][j], c.why, v.Msg)
				}
			}
		}
	}
}
