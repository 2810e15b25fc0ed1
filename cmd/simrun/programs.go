package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// A program is anything simrun can run: a name, a description, tags, a
// setup that populates a world, budgets, and defaults for exploring it.
// The programs are the planted races (scenarios.PlantedRaces), the
// built-in scenarios and bug seeds (scenarios.Builtin) and scenario files
// given by path; lookupProgram finds one by name or path, and
// withVariant changes a scenario's kernel version or fix switches.
type program struct {
	Name        string
	Description string
	Tags        []string
	Setup       func(*sim.World)
	Config      sim.Config   // budgets; Seed and Strategy are set per run
	Strategy    strategySpec // the default strategy of run and explore
	Schedules   int          // the default --schedules of explore
	Invariants  []string     // ids of the invariants it checks
	// Planted is set for a planted race: the tour's expectations.
	Planted *scenarios.Planted
	// Scenario is set for a scenario (a built-in or a file).
	Scenario *scenarios.Scenario
	// Path and SHA256 are set for a scenario file: its path as given on
	// the command line and the hex SHA-256 of its bytes. Replay files name
	// the program by them.
	Path, SHA256 string
	// Variant is how the scenario was changed (--version, --fix,
	// --no-fix); replay files and results record it.
	Variant reports.Variant
	// Record, for a scenario, is a setup like Setup that also records
	// the model's state into a recorder (the explorer; see capture).
	Record func(*snapshot.Recorder) func(*sim.World)
}

// scenarioProgram makes a program of a parsed scenario, built with o's
// fix switches.
func scenarioProgram(s *scenarios.Scenario, o srun.Options) (*program, error) {
	setup, cfg, err := srun.BuildWith(s, o)
	if err != nil {
		return nil, err
	}
	d := s.WithDefaults()
	st := scenarioStrategy(s)
	var inv []string
	for _, id := range s.Invariants() {
		inv = append(inv, string(id))
	}
	return &program{Name: s.Name, Description: s.Description, Tags: append([]string{"scenario"}, scenarioTags(s)...),
		Setup: setup, Config: cfg, Strategy: st, Schedules: d.Explore.Schedules, Invariants: inv, Scenario: s,
		Record: func(rec *snapshot.Recorder) func(*sim.World) { return srun.BuildRecording(s, o, rec) }}, nil
}

// programs lists the planted races in a stable order. The built-in
// scenarios and bug seeds are programs too: lookupProgram finds them by
// name, and listings lists them all.
func programs() []*program {
	var out []*program
	for _, p := range scenarios.PlantedRaces() {
		p := p
		tags := []string{"planted", fmt.Sprintf("depth-%d", p.Depth), fmt.Sprintf("preemptions-%d", p.Preemptions)}
		if p.RandomWalkHard {
			tags = append(tags, "random-walk-hard")
		}
		out = append(out, &program{
			Name: p.Name, Description: p.Description, Tags: tags, Setup: p.Setup,
			Strategy:   strategySpec{Name: "pct", Depth: max(p.Depth, 1), Bound: max(p.Preemptions, 2)},
			Schedules:  1000,
			Invariants: plantedInvariants[p.Name],
			Planted:    &p,
		})
	}
	return out
}

// plantedInvariants names what each planted race checks: sim's own
// invariants (progress, lock) and, for lost-update, the no-lost-write
// check of its AtEnd. Planted races are plain sim programs, with no
// scenario to declare them.
var plantedInvariants = map[string][]string{
	"abba-deadlock": {"progress", "lock"},
	"lost-update":   {"progress", "lock", "no-lost-write"},
	"pct-hard-case": {"progress", "lock"},
}

func (p *program) invariantInfos() []reports.InvariantInfo {
	var out []reports.InvariantInfo
	for _, id := range p.Invariants {
		e, _ := scenarios.LookupInvariant(scenarios.Invariant(id))
		out = append(out, reports.InvariantInfo{ID: id, What: e.Meaning})
	}
	return out
}

// lookupProgram finds a program by name (a planted race or a built-in
// scenario) or, if name is a file path ending in .wbs or an existing file,
// parses that scenario file.
func lookupProgram(name string) (*program, error) {
	if strings.HasSuffix(name, ".wbs") || strings.ContainsAny(name, `/\`) {
		if src, err := os.ReadFile(name); err == nil {
			return scenarioFile(name, src)
		}
	}
	for _, p := range programs() {
		if p.Name == name {
			return p, nil
		}
	}
	if s, err := scenarios.Builtin(name); err == nil {
		return scenarioProgram(s, srun.Options{})
	}
	all, err := listings()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range all {
		names = append(names, l.Name)
	}
	msg := fmt.Sprintf("unknown program %q", name)
	if _, err := os.Stat(name); err == nil || strings.ContainsAny(name, `/\`) {
		msg = fmt.Sprintf("%q is not a built-in program or a readable scenario file", name)
	}
	if s := closest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return nil, fmt.Errorf("%s (\"simrun list\" lists the programs)", msg)
}

// scenarioFile makes the program of a scenario file's text src, read from
// path.
func scenarioFile(path string, src []byte) (*program, error) {
	s, err := scenarios.Parse(path, src)
	if err != nil {
		return nil, err
	}
	p, err := scenarioProgram(s, srun.Options{})
	if err != nil {
		return nil, err
	}
	p.Path, p.SHA256 = path, reports.ProgramSHA256(src)
	return p, nil
}

// closest is the name within edit distance 3 of s, or one s is a prefix
// of, or "".
func closest(s string, names []string) string {
	best, bestD := "", 4
	for _, n := range names {
		if s != "" && strings.HasPrefix(n, s) {
			return n
		}
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
