package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
)

// tourExploration are the built-in scenarios the tour explores briefly:
// one per file system and a few races and faults, each within
// tourScenarioSchedules schedules.
var tourExploration = []string{
	"teach-page-life-3.x",
	"teach-why-fsync-waits-2.6.2x",
	"teach-eio-reaches-fsync-2.6.2x",
	"teach-afs-writeback-record",
	"conc-two-writers-one-page-3.x",
	"conc-flusher-fsync-3.x",
	"conc-afs-two-keys",
	"fault-eio-fsync-3.x",
	"fault-afs-store-edquot",
}

const tourScenarioSchedules = 20

// tourScenarios runs the bug-seed catalogue both ways (as "simrun bugs",
// with the seeds' own budgets) and a short exploration of the scenarios
// in tourExploration, prints their tables, and adds their results to
// result. It returns how many did not behave as expected. Both parts run
// on one worker, so the schedules counted do not depend on --workers.
func tourScenarios(ctx context.Context, stdout io.Writer, result *reports.Result) (int, error) {
	bad := 0
	bugs, err := runBugs(ctx, "", 0, 1, reports.Variant{})
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "\n2. Bug seeds: each must be found with its fix off and pass with it on\n\n")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUG\tSCENARIO\tVERSION\tINVARIANT\tFOUND (fix off)\tAT SCHEDULE\tCLEAN (fix on)")
	for _, b := range bugs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", b.ID, b.Scenario, b.Version, b.Invariant, yesNo(b.Found),
			b.SchedulesToFind, yesNo(b.FixedClean))
	}
	tw.Flush()
	for _, b := range bugs {
		if !b.OK() {
			bad++
		}
		if !b.Found {
			fmt.Fprintf(stdout, "%s: not found with the fix off: %s\n", b.ID, b.Off.Msg)
		}
		if !b.FixedClean {
			fmt.Fprintf(stdout, "%s: fails with the fix on: %s\n", b.ID, b.On.Msg)
		}
		s, err := scenarios.Builtin(b.Scenario)
		if err != nil {
			return 0, err
		}
		if err := addVerdict(result, s, "fix-off", reports.ExpectFind, b.Off); err != nil {
			return 0, err
		}
		if err := addVerdict(result, s, "fix-on", reports.ExpectPass, b.On); err != nil {
			return 0, err
		}
	}

	fmt.Fprintf(stdout, "\n3. Built-in scenarios, at most %d schedules each (\"simrun list\" shows them all)\n\n", tourScenarioSchedules)
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tTAGS\tEXPECTED\tFOUND\tOK")
	var msgs []string
	for _, name := range tourExploration {
		s, err := scenarios.Builtin(name)
		if err != nil {
			return 0, err
		}
		v := srun.CheckWith(s, srun.Options{Context: ctx, Schedules: tourScenarioSchedules, Workers: 1})
		found := v.Found
		if found == "" {
			found = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, joinTags(scenarioTags(s)), v.Expected, found, yesNo(v.Pass))
		if !v.Pass {
			bad++
			msgs = append(msgs, fmt.Sprintf("%s: %s", s.Name, v.Msg))
		}
		expect := reports.ExpectPass
		if s.Expect.Outcome == scenarios.OutcomeFailure {
			expect = reports.ExpectFind
		}
		if err := addVerdict(result, s, "scenario", expect, v); err != nil {
			return 0, err
		}
	}
	tw.Flush()
	for _, m := range msgs {
		fmt.Fprintln(stdout, m)
	}
	return bad, nil
}

// addVerdict adds a scenario's verdict to the tour's result.
func addVerdict(result *reports.Result, s *scenarios.Scenario, label, expect string, v srun.Verdict) error {
	p, err := scenarioProgram(s, srun.Options{})
	if err != nil {
		return err
	}
	d := s.WithDefaults()
	// Once the expected failure is found the search stops, and how many
	// schedules were already under way depends on timing: count up to the
	// find.
	n := v.Schedules
	if v.SchedulesToFind > 0 {
		n = v.SchedulesToFind
	}
	pr := newProgramResult(p, label, p.Strategy.info(v.K), d.Explore.Seed, n, 0, 1, false, expect)
	pr.Schedules = n
	if expect == reports.ExpectFind {
		pr.ExpectFailure = s.Expect.Failure
	}
	if v.Failure != nil && v.Result != nil {
		fi := reports.NewFailureInfo(v.Result)
		fi.Expected = expect == reports.ExpectFind && srun.Matches(v.Result.Failure, s.Expect.Failure)
		pr.Failures = append(pr.Failures, fi)
		pr.FailuresFound = 1
	}
	pr.Judge()
	pr.OK, pr.Elapsed = v.Pass, v.Elapsed
	result.Programs = append(result.Programs, pr)
	return nil
}

func joinTags(tags []string) string {
	s := ""
	for i, t := range tags {
		if i > 0 {
			s += ","
		}
		s += t
	}
	return s
}
