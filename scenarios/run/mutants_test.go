//go:build wbsim_mutants

package run

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// The mutation study (docs/mutants.md): each mutant of mutantCases is
// switched on alone, and the built-in scenarios, every fix of their kernel
// on, run within their own explore budgets until one fails. Rerun with
//
//	WBSIM_MUTANTS_WRITE=1 go test -tags wbsim_mutants -run TestMutants ./scenarios/run/
//
// to regenerate docs/mutants.md; without the variable the test checks the
// file's table against the study.

// mutantsDoc is the study's table, relative to this package.
const mutantsDoc = "../../docs/mutants.md"

// studyScenario is a built-in as the study runs it: every fix of its
// kernel on, every schedule expected to pass.
type studyScenario struct {
	s *scenarios.Scenario
	o Options
}

// mutantResult is what the study found for one mutant.
type mutantResult struct {
	mutantCase
	// Caught is the failure id that caught it ("" if none); Scenario and
	// Schedule say where (Schedule is the 1-based position of the failing
	// schedule in the scenario's exploration).
	Caught, Scenario string
	Schedule         int
	// Panic names a scenario where the model panicked (a Go runtime
	// error, not a check), if any did.
	Panic string
	// Reached is how often the mutant's hook was evaluated with it on.
	Reached int64
}

// caughtBy classifies a counted failure: the failure id for a check
// (an invariant, progress, a kernel BUG(), an op expectation), or
// "panic" for a Go runtime error in model code, which is a crash and not
// a contract the checks judged.
func caughtBy(f *sim.Failure) string {
	if f.Kind == sim.FailPanic {
		return "panic"
	}
	return FailureID(f)
}

// studyScenarios returns the built-ins that pass with every fix on and
// nothing mutated (the study's baseline), and the names of those that do
// not (scenarios whose expected failure no switch fixes, e.g. a missing
// cache flush).
func studyScenarios(t *testing.T) (clean []studyScenario, skipped []string) {
	t.Helper()
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		ok := *s
		ok.Expect = scenarios.Expect{Outcome: scenarios.OutcomeOK}
		var fixes []string
		for _, f := range scenarios.FixesFor(s.Kernel) {
			if f != "boundary-ignored" {
				fixes = append(fixes, f)
			}
		}
		st := studyScenario{s: &ok, o: Options{Fixes: fixes, Workers: 1}}
		if v := CheckWith(st.s, st.o); v.Failure != nil {
			skipped = append(skipped, fmt.Sprintf("%s (%s)", s.Name, v.Found))
			continue
		}
		clean = append(clean, st)
	}
	return clean, skipped
}

// schedulePosition is the 1-based position of v's failing schedule.
func schedulePosition(s *scenarios.Scenario, v Verdict) int {
	d := s.WithDefaults()
	switch d.Explore.Strategy.Kind {
	case scenarios.StrategyDFS:
		return v.Schedules
	case scenarios.StrategyRR:
		return 1
	}
	return int(v.Result.Seed-d.Explore.Seed) + 1
}

// runMutant switches m on and runs the study's scenarios in order until a
// check catches it.
func runMutant(m mutantCase, study []studyScenario) mutantResult {
	r := mutantResult{mutantCase: m}
	mutant.Set(m.ID)
	defer mutant.Set("")
	for _, st := range study {
		v := CheckWith(st.s, st.o)
		if v.Failure == nil {
			continue
		}
		if caughtBy(v.Failure) == "panic" {
			if r.Panic == "" {
				r.Panic = st.s.Name
			}
			continue
		}
		r.Caught, r.Scenario, r.Schedule = caughtBy(v.Failure), st.s.Name, schedulePosition(st.s, v)
		break
	}
	r.Reached = mutant.Reached()
	return r
}

func TestMutants(t *testing.T) {
	checkMutantHooks(t)
	start := time.Now()
	study, skipped := studyScenarios(t)
	if id := os.Getenv("WBSIM_MUTANT"); id != "" {
		explainMutant(t, id, study)
		return
	}
	var results []mutantResult
	for _, m := range mutantCases {
		r := runMutant(m, study)
		results = append(results, r)
		switch {
		case r.Caught != "":
			t.Logf("%-28s caught by %s in %s at schedule %d", m.ID, r.Caught, r.Scenario, r.Schedule)
		case r.Panic != "":
			t.Logf("%-28s panic in %s, no check", m.ID, r.Panic)
		default:
			t.Logf("%-28s lived (hook reached %d times)", m.ID, r.Reached)
		}
	}
	wall := time.Since(start)
	table := mutantsTable(results, study, skipped)
	t.Logf("study: %d mutants, %d scenarios, %v\n%s", len(results), len(study), wall.Round(time.Second), table)
	if os.Getenv("WBSIM_MUTANTS_WRITE") != "" {
		writeMutantsDoc(t, table, wall)
		return
	}
	doc, err := os.ReadFile(mutantsDoc)
	if err != nil {
		t.Fatalf("%v (generate it with WBSIM_MUTANTS_WRITE=1)", err)
	}
	if !strings.Contains(string(doc), table) {
		t.Errorf("%s is out of date: the study now gives\n%s\nregenerate it with WBSIM_MUTANTS_WRITE=1 go test -tags wbsim_mutants -run TestMutants ./scenarios/run/", mutantsDoc, table)
	}
}

// explainMutant runs mutant id alone over every study scenario and logs
// what each one found (WBSIM_MUTANT=id): for looking into one mutant.
func explainMutant(t *testing.T, id string, study []studyScenario) {
	mutant.Set(id)
	defer mutant.Set("")
	for _, st := range study {
		v := CheckWith(st.s, st.o)
		if v.Failure == nil {
			t.Logf("%s: clean in %d schedules", st.s.Name, v.Schedules)
			continue
		}
		t.Logf("%s: %s at schedule %d\n%s", st.s.Name, caughtBy(v.Failure), schedulePosition(st.s, v), v.Failure.Report())
	}
	t.Logf("hook reached %d times", mutant.Reached())
}

// checkMutantHooks checks that mutantCases and the hooks in model code
// name the same ids, each once in the list.
func checkMutantHooks(t *testing.T) {
	t.Helper()
	inCode := map[string]bool{}
	hook := regexp.MustCompile(`mutant\.On\("([a-z0-9-]+)"\)`)
	err := filepath.WalkDir("../../model", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range hook.FindAllStringSubmatch(string(src), -1) {
			inCode[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range mutantCases {
		if slices.Contains(ids, m.ID) {
			t.Errorf("mutant %s listed twice", m.ID)
		}
		ids = append(ids, m.ID)
		if !inCode[m.ID] {
			t.Errorf("mutant %s has no mutant.On hook in model/", m.ID)
		}
		delete(inCode, m.ID)
	}
	for id := range inCode {
		t.Errorf("hook mutant.On(%q) in model/ is not in mutantCases", id)
	}
}

// mutantsTable renders the results as the Markdown that docs/mutants.md
// holds between its generated markers.
func mutantsTable(results []mutantResult, study []studyScenario, skipped []string) string {
	var b strings.Builder
	caught, panics := 0, 0
	for _, r := range results {
		if r.Caught != "" {
			caught++
		} else if r.Panic != "" {
			panics++
		}
	}
	fmt.Fprintf(&b, "Caught: **%d of %d (%d%%)**; lived: %d (of which %d only panic).\n\n",
		caught, len(results), 100*caught/len(results), len(results)-caught, panics)
	fmt.Fprintf(&b, "Built-in scenarios run: %d. Left out because they fail with every fix on and no mutant: %s.\n\n",
		len(study), strings.Join(skipped, ", "))
	b.WriteString("| mutant | kind | where | caught by | scenario | schedule |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		by, where, sched := "**lived**", "", ""
		switch {
		case r.Caught != "":
			by, where, sched = r.Caught, r.Scenario, fmt.Sprint(r.Schedule)
		case r.Panic != "":
			by, where = "**lived** (panic only)", r.Panic
		case r.Reached == 0:
			by = "**lived** (hook never reached)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", r.ID, r.Kind, r.File, by, where, sched)
	}
	b.WriteString("\n### Lived mutants and the check that should catch them\n\n")
	for _, r := range results {
		if r.Caught == "" {
			fmt.Fprintf(&b, "- `%s`: %s.\n", r.ID, r.Want)
		}
	}
	b.WriteString("\n### Upstream fixes the mutants imitate\n\n")
	for _, r := range results {
		fmt.Fprintf(&b, "- `%s`: %s.\n", r.ID, r.Fix)
	}
	return b.String()
}

const (
	docBegin = "<!-- mutants table: generated by TestMutants, do not edit -->\n"
	docEnd   = "<!-- end of generated table -->\n"
)

// writeMutantsDoc puts table (and the wall time) between the markers of
// docs/mutants.md, keeping the hand-written text around them.
func writeMutantsDoc(t *testing.T, table string, wall time.Duration) {
	t.Helper()
	doc, err := os.ReadFile(mutantsDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, docBegin), strings.Index(s, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated-table markers", mutantsDoc)
	}
	gen := docBegin + table + fmt.Sprintf("\nStudy wall time at generation: %v.\n", wall.Round(time.Second))
	s = s[:i] + gen + s[j:]
	if err := os.WriteFile(mutantsDoc, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
