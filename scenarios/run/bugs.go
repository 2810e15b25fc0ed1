package run

import (
	"slices"
	"time"

	"github.com/wbsim/wbsim/scenarios"
)

// BugResult is a bug seed checked both ways: found by exploration with its
// fix off (every other fix on), and not found with the fix on within the
// same budget.
type BugResult struct {
	ID              string  `json:"id"`
	Scenario        string  `json:"scenario"`
	Version         string  `json:"version"`
	Switch          string  `json:"switch,omitempty"`
	Found           bool    `json:"found"`
	SchedulesToFind int     `json:"schedules_to_find"`
	Seconds         float64 `json:"seconds"`
	FixedClean      bool    `json:"fixed_clean"`
	Invariant       string  `json:"invariant"`
	// Off and On are the two verdicts.
	Off Verdict `json:"-"`
	On  Verdict `json:"-"`
}

// OK says the seed behaves: found with the fix off, clean with it on.
func (b BugResult) OK() bool { return b.Found && b.FixedClean }

// Catalogue returns the bug seeds: the built-in scenarios with a bug block.
func Catalogue() ([]*scenarios.Scenario, error) {
	all, err := scenarios.Builtins()
	if err != nil {
		return nil, err
	}
	var out []*scenarios.Scenario
	for _, s := range all {
		if s.Bug != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// otherFixes are the switches of s's kernel other than its bug's.
func otherFixes(s *scenarios.Scenario) []string {
	var l []string
	for _, f := range scenarios.FixesFor(s.Kernel) {
		if f != s.Bug.Switch && f != "boundary-ignored" && !slices.Contains(s.Fixes, f) {
			l = append(l, f)
		}
	}
	return l
}

// FixOff is o for running bug seed s with its fix off: every other fix of
// its kernel is turned on, so that only its own bug can be found.
func FixOff(s *scenarios.Scenario, o Options) Options {
	o.Fixes = append(slices.Clone(o.Fixes), otherFixes(s)...)
	return o
}

// CheckBug runs a bug seed both ways. With a switch, the fix-off run is the
// scenario with every other fix on; the fix-on run adds the switch and
// expects every schedule to pass. Without one (fsyncgate: the errseq
// contract broken by a kernel that meets linux-2.6), the "fixed" run
// checks the linux-2.6 contract instead.
func CheckBug(s *scenarios.Scenario, o Options) BugResult {
	start := time.Now()
	r := BugResult{ID: s.Bug.ID, Scenario: s.Name, Version: string(s.Kernel), Switch: s.Bug.Switch,
		Invariant: s.Expect.Failure}
	off := FixOff(s, o)
	r.Off = CheckWith(s, off)
	r.Found = r.Off.Pass && r.Off.SchedulesToFind > 0
	r.SchedulesToFind = r.Off.SchedulesToFind
	fixed := *s
	fixed.Expect = scenarios.Expect{Outcome: scenarios.OutcomeOK}
	on := off
	if s.Bug.Switch != "" {
		on.Fixes = append(slices.Clone(off.Fixes), s.Bug.Switch)
	} else {
		fixed.Contract = scenarios.ContractLinux26
	}
	r.On = CheckWith(&fixed, on)
	r.FixedClean = r.On.Pass
	r.Seconds = time.Since(start).Seconds()
	return r
}
