package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
)

// checkFlags are --contract, --check and --no-check: which fsync-error
// contract and which invariants a run checks, overriding the scenario's
// fsync-contract and check lines. A replay file records them (Variant).
type checkFlags struct {
	contract         string
	checks, noChecks nameList
}

func addCheckFlags(fs *flag.FlagSet) *checkFlags {
	c := &checkFlags{}
	fs.StringVar(&c.contract, "contract", "", "check fsync errors under this contract instead of the scenario's: "+contractNames())
	fs.Var(&c.checks, "check", "also check invariant `ID` (repeatable, or a comma list)")
	fs.Var(&c.noChecks, "no-check", "do not check invariant `ID` (repeatable, or a comma list)")
	return c
}

// checkHelp is the help text of the check flags.
const checkHelp = "--contract picks the fsync-error contract (linux-2.6, errseq or errseq-once);\n" +
	"--check and --no-check add and remove invariants, overriding the scenario's\n" +
	"fsync-contract and check lines.\n\n"

func contractNames() string {
	var s []string
	for _, c := range check.Contracts {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

// set copies the flags into v.
func (c *checkFlags) set(v *reports.Variant) {
	v.Contract, v.Checks, v.NoChecks = c.contract, c.checks, c.noChecks
}

// applyChecks returns a copy of s with v's contract and checks, or an
// input error naming the flag at fault.
func applyChecks(s *scenarios.Scenario, v reports.Variant) (*scenarios.Scenario, error) {
	if v.Contract == "" && len(v.Checks) == 0 && len(v.NoChecks) == 0 {
		return s, nil
	}
	s = s.Clone()
	if v.Contract != "" {
		if _, err := check.ParseContract(v.Contract); err != nil {
			return nil, fmt.Errorf("--contract: %v", err)
		}
		s.Contract = scenarios.Contract(v.Contract)
	}
	for _, l := range []struct {
		flag  string
		names []string
	}{{"--check", v.Checks}, {"--no-check", v.NoChecks}} {
		for _, n := range l.names {
			if !scenarios.Invariant(n).Known() {
				return nil, fmt.Errorf("%s %s: unknown invariant; the invariants are %s", l.flag, n, invariantNames())
			}
			if l.flag == "--check" && slices.Contains(v.NoChecks, n) {
				return nil, fmt.Errorf("--check %s and --no-check %s contradict each other", n, n)
			}
		}
	}
	c := &s.Checks
	for _, n := range v.Checks {
		id := scenarios.Invariant(n)
		c.Except = slices.DeleteFunc(c.Except, func(x scenarios.Invariant) bool { return x == id })
		if len(c.Only) > 0 && !slices.Contains(c.Only, id) {
			c.Only = append(c.Only, id)
		}
	}
	for _, n := range v.NoChecks {
		id := scenarios.Invariant(n)
		if len(c.Only) > 0 {
			c.Only = slices.DeleteFunc(c.Only, func(x scenarios.Invariant) bool { return x == id })
			if len(c.Only) == 0 {
				return nil, fmt.Errorf("--no-check %s leaves the scenario nothing to check (its check line names only %s)", n, n)
			}
		} else if !slices.Contains(c.Except, id) {
			c.Except = append(c.Except, id)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", v.Flags(), err)
	}
	for _, n := range v.Checks {
		if !slices.Contains(s.Invariants(), scenarios.Invariant(n)) {
			return nil, fmt.Errorf("--check %s: the invariant does not apply to %s (see docs/scenario-language.md, check)", n, s.Name)
		}
	}
	return s, nil
}

func invariantNames() string {
	var s []string
	for _, id := range scenarios.AllInvariants() {
		s = append(s, string(id))
	}
	return strings.Join(s, ", ")
}
