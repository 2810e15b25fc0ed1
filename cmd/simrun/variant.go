package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
)

// nameList is a repeatable flag of names; a value may also hold several,
// separated by commas ("--fix a --fix b" or "--fix a,b").
type nameList []string

func (l *nameList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *nameList) Set(s string) error {
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return errors.New("empty name")
		}
		if !slices.Contains(*l, n) {
			*l = append(*l, n)
		}
	}
	return nil
}

// variantFlags are --version, --fix, --no-fix and --seed-exact: how a run
// changes a scenario's kernel version and fix switches.
type variantFlags struct {
	version        string
	fixes, noFixes nameList
	seedExact      bool
	checks         *checkFlags
}

func addVariantFlags(fs *flag.FlagSet) *variantFlags {
	v := &variantFlags{}
	fs.StringVar(&v.version, "version", "", "blockfs scenarios: run on this kernel version instead: 2.6.12, 2.6.2x or 3.x")
	fs.Var(&v.fixes, "fix", "turn this fix switch `NAME` on (repeatable; a wrong name lists the valid ones)")
	fs.Var(&v.noFixes, "no-fix", "leave this fix switch `NAME` off: a baseline fix or one the scenario turns on (repeatable)")
	fs.BoolVar(&v.seedExact, "seed-exact", false, "run the seed code as written: every fix switch off (baseline ones and the scenario's fixes line), except those given with --fix")
	v.checks = addCheckFlags(fs)
	return v
}

// seedExactName stands, in a Variant's NoFixes, for every switch the run
// would have on; withVariant replaces it with their names once it knows
// the scenario's kernel, so reports and replay files list them.
const seedExactName = "--seed-exact"

func (v *variantFlags) variant() reports.Variant {
	noFixes := v.noFixes
	if v.seedExact {
		noFixes = append(slices.Clone(noFixes), seedExactName)
	}
	r := reports.Variant{Kernel: v.version, Fixes: v.fixes, NoFixes: noFixes}
	v.checks.set(&r)
	return r
}

// variantHelp is the help text of the variant flags.
const variantHelp = "--version runs a blockfs scenario on another kernel version (a fix switch the\n" +
	"version has no bug for is dropped); --fix turns a fix switch on, --no-fix leaves\n" +
	"one off (a baseline fix, or one the scenario's fixes line names); --seed-exact\n" +
	"leaves every one off but those given with --fix: the seed code as written. A\n" +
	"replay file records them.\n\n" + checkHelp

// seedExactOff is every fix switch a run of s would have on (its fixes
// line and its kernel's baseline switches but its bug block's) but those
// in fixes: the --no-fix list --seed-exact stands for.
func seedExactOff(s *scenarios.Scenario, fixes []string) []string {
	on := slices.Concat(s.Fixes, scenarios.BaselineFixes(s.Kernel))
	return slices.DeleteFunc(on, func(f string) bool {
		return slices.Contains(fixes, f) || s.Bug != nil && s.Bug.Switch == f
	})
}

// title is the program's name and, if it has one, its variant.
func (p *program) title() string {
	if p.Variant.IsZero() {
		return p.Name
	}
	return p.Name + " (" + p.Variant.Flags() + ")"
}

// replayName is the program as a replay file names it: a scenario file's
// path, or the built-in's name; with its variant.
func (p *program) replayName() string {
	if p.Path == "" {
		return p.title()
	}
	if p.Variant.IsZero() {
		return p.Path
	}
	return p.Path + " (" + p.Variant.Flags() + ")"
}

// blockfsVersions are the kernel versions --version takes.
var blockfsVersions = []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x}

// withVariant is p changed by v: a scenario on another kernel version, or
// with fix switches turned on or left off. Errors are input errors, one
// line each, naming what is valid.
func (p *program) withVariant(v reports.Variant) (*program, error) {
	if v.IsZero() {
		return p, nil
	}
	if p.Scenario == nil {
		return nil, fmt.Errorf("%s is a planted race: it has no kernel version, fix switches or checks (--version, --fix, --no-fix, --contract, --check, --no-check and --seed-exact apply to scenarios)", p.Name)
	}
	s, err := applyChecks(p.Scenario, v)
	if err != nil {
		return nil, err
	}
	s = s.Clone()
	if v.Kernel != "" {
		k := scenarios.KernelVersion(v.Kernel)
		if s.FS.BlockFS == nil {
			return nil, fmt.Errorf("--version applies to blockfs scenarios (%s); %s runs on AFS, modelled in one version (%s)",
				joinVersions(blockfsVersions), p.Name, s.Kernel)
		}
		if !slices.Contains(blockfsVersions, k) {
			return nil, fmt.Errorf("unknown --version %q: blockfs scenarios run on %s", v.Kernel, joinVersions(blockfsVersions))
		}
		// A switch for a bug the version does not have goes: its code is
		// already the fixed one.
		s.Kernel = k
		s.Fixes = slices.DeleteFunc(s.Fixes, func(f string) bool { return !slices.Contains(scenarios.FixesFor(k), f) })
		if s.Bug != nil && s.Bug.Switch != "" && !slices.Contains(scenarios.FixesFor(k), s.Bug.Switch) {
			s.Bug.Switch = ""
			s.Expect = fixedExpect(s.Expect)
		}
	}
	if i := slices.Index(v.NoFixes, seedExactName); i >= 0 {
		off := slices.Delete(slices.Clone(v.NoFixes), i, i+1)
		for _, f := range seedExactOff(s, v.Fixes) {
			if !slices.Contains(off, f) {
				off = append(off, f)
			}
		}
		v.NoFixes = off
	}
	valid := scenarios.FixesFor(s.Kernel)
	for _, l := range []struct {
		flag  string
		names []string
	}{{"--fix", v.Fixes}, {"--no-fix", v.NoFixes}} {
		for _, n := range l.names {
			if slices.Contains(valid, n) {
				continue
			}
			why := "no such fix switch"
			if f, ok := scenarios.LookupFix(n); ok {
				why = "a fix switch of " + joinVersions(f.Versions) + " only"
			}
			return nil, fmt.Errorf("%s %s: %s; kernel %s takes: %s", l.flag, n, why, s.Kernel, strings.Join(valid, ", "))
		}
	}
	for _, n := range v.Fixes {
		if slices.Contains(v.NoFixes, n) {
			return nil, fmt.Errorf("--fix %s and --no-fix %s contradict each other", n, n)
		}
	}
	s.Fixes = slices.DeleteFunc(s.Fixes, func(f string) bool { return slices.Contains(v.NoFixes, f) })
	if s.Bug != nil && s.Bug.Switch != "" && slices.Contains(v.Fixes, s.Bug.Switch) {
		s.Expect = fixedExpect(s.Expect)
	}
	q, err := scenarioProgram(s, srun.Options{Fixes: v.Fixes, Off: v.NoFixes})
	if err != nil {
		return nil, fmt.Errorf("%s with %s: %v", p.Name, v.Flags(), err)
	}
	q.Variant = v
	q.Path, q.SHA256 = p.Path, p.SHA256
	return q, nil
}

// fixedExpect is a bug seed's expectation once its bug is gone (its fix
// switch on, or a kernel version without the bug): every schedule passes,
// as "simrun bugs" checks.
func fixedExpect(e scenarios.Expect) scenarios.Expect {
	e.Outcome, e.Failure = scenarios.OutcomeOK, ""
	return e
}

// lookupVariant finds a program (lookupProgram) and changes it by v.
func lookupVariant(name string, v reports.Variant) (*program, error) {
	p, err := lookupProgram(name)
	if err != nil {
		return nil, err
	}
	return p.withVariant(v)
}

func joinVersions(vs []scenarios.KernelVersion) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
