package run

import (
	"slices"
	"testing"

	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/scenarios"
)

// TestFixTableMatchesModels: the scenario language's fix switches are the
// model packages' Fixes names; the model's extra afs fixes (found while
// modelling) are exactly ModelOnlyFixes, which the runner turns on.
func TestFixTableMatchesModels(t *testing.T) {
	var lang []string
	for _, f := range scenarios.KnownFixes() {
		lang = append(lang, f.Name)
	}
	all, err := mpage.ParseFixes("sector-overflow,wb-integrity,cyclic-wrap")
	if err != nil || all != mpage.AllFixes() {
		t.Errorf("mpage fixes: %v %v", all, err)
	}
	for _, id := range []string{"sector-overflow", "wb-integrity", "cyclic-wrap"} {
		if !slices.Contains(lang, id) {
			t.Errorf("mpage fix %s not in the scenario table", id)
		}
	}
	for _, id := range afs.FixIDs() {
		if !slices.Contains(lang, id) && !slices.Contains(ModelOnlyFixes(), id) {
			t.Errorf("afs fix %s neither in the scenario table nor model-only", id)
		}
	}
	for _, f := range scenarios.KnownFixes() {
		if f.Subsystem == scenarios.SubsysAFS && !slices.Contains(afs.FixIDs(), f.Name) {
			t.Errorf("scenario fix %s is not an afs model fix", f.Name)
		}
	}
	t.Logf("model-only afs fixes (on in every scenario run): %v", ModelOnlyFixes())
}
