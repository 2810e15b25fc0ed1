package run

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/scenarios"
)

// TestFixTableMatchesModels: the scenario language's fix switches are
// exactly the model packages' Fixes names: the afs rows of the table are
// afs.FixIDs(), in its order; the mpage rows are mpage's fixes and the
// boundary-ignored teaching switch, in Fixes field order.
func TestFixTableMatchesModels(t *testing.T) {
	lang := map[scenarios.Subsystem][]string{}
	for _, f := range scenarios.KnownFixes() {
		lang[f.Subsystem] = append(lang[f.Subsystem], f.Name)
	}
	if d := cmp.Diff(afs.FixIDs(), lang[scenarios.SubsysAFS]); d != "" {
		t.Errorf("afs fixes: model (-) vs scenario table (+):\n%s", d)
	}
	mp := []string{"sector-overflow", "wb-integrity", "cyclic-wrap", "cyclic-wrap-deadlock", "wb-integrity-error", "async-write-eio",
		"towrite-tagging"}
	all, err := mpage.ParseFixes(strings.Join(mp, ","))
	if err != nil || all != mpage.AllFixes() {
		t.Errorf("mpage fixes: %v %v", all, err)
	}
	if d := cmp.Diff([]string{"sector-overflow", "wb-integrity", "cyclic-wrap", "cyclic-wrap-deadlock", "boundary-ignored",
		"wb-integrity-error", "async-write-eio", "towrite-tagging"}, lang[scenarios.SubsysMpage]); d != "" {
		t.Errorf("mpage fixes: model (-) vs scenario table (+):\n%s", d)
	}
	if _, err := mpage.ParseFixes("boundary-ignored"); err != nil {
		t.Errorf("boundary-ignored: %v", err)
	}
}

// TestBaselineFixes: the baseline fixes are the afs bugs found while
// modelling, and a run turns on every baseline fix but the one its bug
// block names, plus the scenario's and the options' fixes, less Off.
func TestBaselineFixes(t *testing.T) {
	want := []string{"fill-page-offset", "candidate-list-init", "flush-conflict-double-put",
		"flush-conflict-wait-writeback", "store-io-lock", "secondary-page-writeback", "fsync-marker-wait",
		"flush-conflict-page-leak", "setattr-truncate-pagecache", "store-data-maths", "writepages-towrite"}
	if d := cmp.Diff(want, scenarios.BaselineFixes(scenarios.KernelAFS)); d != "" {
		t.Errorf("afs baseline (-want +got):\n%s", d)
	}
	for _, v := range []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x} {
		if l := scenarios.BaselineFixes(v); len(l) > 0 {
			t.Errorf("%s baseline %v, want none", v, l)
		}
	}
	s := &scenarios.Scenario{Kernel: scenarios.KernelAFS, Fixes: []string{"kill-pages-loop"}}
	if d := cmp.Diff(append([]string{"kill-pages-loop"}, want...), onFixes(s, nil)); d != "" {
		t.Errorf("no bug block (-want +got):\n%s", d)
	}
	s.Bug = &scenarios.Bug{ID: "x", Switch: "store-io-lock"}
	got := onFixes(s, []string{"fsync-marker-wait"})
	if slices.Contains(got, "store-io-lock") || slices.Contains(got, "fsync-marker-wait") ||
		!slices.Contains(got, "flush-conflict-page-leak") || len(got) != len(want)-1 {
		t.Errorf("bug switch store-io-lock, off fsync-marker-wait: %v", got)
	}
}
