package run

import (
	"os"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestCatalogueBothWays: every bug seed is found by exploration with its
// fix off (every other fix on), and not found with the fix on, within the
// scenario's own budget.
func TestCatalogueBothWays(t *testing.T) {
	cat, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	if len(cat) < 7 {
		t.Errorf("%d bug seeds; want at least 7", len(cat))
	}
	_ = os.Getenv("WBSIM_LONG")
	for _, s := range cat {
		t.Run(s.Bug.ID, func(t *testing.T) {
			r := CheckBug(s, Options{})
			t.Logf("%s %s: found=%v after %d schedules (%s); fixed clean=%v (%d schedules; %s); %.2fs",
				r.ID, r.Version, r.Found, r.SchedulesToFind, r.Off.Msg, r.FixedClean, r.On.Schedules, r.On.Msg, r.Seconds)
			if !r.Found {
				t.Errorf("not found with the fix off: %s", r.Off.Msg)
			}
			if !r.FixedClean {
				t.Errorf("found with the fix on: %s", r.On.Msg)
			}
		})
	}
}

// TestEveryFixHasCatalogueEntry: every fix switch, baseline ones included,
// is the switch of a bug seed, so that `simrun bugs` shows each seed bug
// found with its switch off and clean with it on. boundary-ignored is the
// exception: a teaching switch that turns a mistake on, not a fix.
func TestEveryFixHasCatalogueEntry(t *testing.T) {
	cat, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	seeded := map[string]string{}
	for _, s := range cat {
		seeded[s.Bug.Switch] = s.Name
	}
	for _, f := range scenarios.KnownFixes() {
		if _, ok := seeded[f.Name]; !ok && f.Name != "boundary-ignored" {
			t.Errorf("fix switch %s (baseline %v) has no bug seed in scenarios/builtin", f.Name, f.Baseline)
		}
	}
}
