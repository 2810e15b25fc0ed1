package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wbsim/wbsim/reports"
	srun "github.com/wbsim/wbsim/scenarios/run"
)

// cmdBugs runs the bug-seed catalogue both ways: each seed must be found
// with its fix off and not found with its fix on, within its budget.
func cmdBugs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bugs", "[--json] [--id ID]",
		"Runs the bug-seed catalogue both ways: each seed must be found by exploration\n"+
			"with its fix off, and not found with its fix on within the same budget.\n"+
			"Prints a table (or, with --json, {\"bugs\":[...]}). Each seed is judged\n"+
			"against its scenario's \"expect failure ID\": found means that failure.\n\n"+
			"Exit status: 0 every entry found and clean with its fix, 1 not, 2 usage\n"+
			"or input error, 3 incomplete (Ctrl-C or SIGTERM stopped it).\n\n"+checkHelp)
	asJSON := fs.Bool("json", false, "print JSON: {\"bugs\":[...]}")
	id := fs.String("id", "", "run only the bug seed with this id")
	cf := addCheckFlags(fs)
	if _, code, ok := parseArgs(fs, args, 0, 0, stdout, stderr); !ok {
		return code
	}
	var v reports.Variant
	cf.set(&v)
	results, err := runBugs(ctx, *id, 0, 0, v)
	if err != nil {
		fmt.Fprintln(stderr, "simrun bugs:", err)
		return exitUsage
	}
	ok := true
	for _, r := range results {
		ok = ok && r.OK()
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Bugs []srun.BugResult `json:"bugs"`
		}{results}); err != nil {
			fmt.Fprintln(stderr, "simrun bugs:", err)
			return exitUsage
		}
	} else {
		printBugs(stdout, results)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "simrun bugs: interrupted: incomplete, the table shows what ran")
		return exitIncomplete
	}
	if !ok {
		return exitFailures
	}
	return exitOK
}

// runBugs checks the catalogue (or one id); schedules > 0 caps budgets;
// workers > 0 sets the worker goroutines (the tour uses 1, so that the
// schedule a seed is found at does not depend on timing).
func runBugs(ctx context.Context, id string, schedules, workers int, v reports.Variant) ([]srun.BugResult, error) {
	cat, err := srun.Catalogue()
	if err != nil {
		return nil, err
	}
	var out []srun.BugResult
	for _, s := range cat {
		if id != "" && s.Bug.ID != id {
			continue
		}
		if s, err = applyChecks(s, v); err != nil {
			return nil, &usageError{err.Error()}
		}
		out = append(out, srun.CheckBug(s, srun.Options{Context: ctx, Schedules: schedules, Workers: workers}))
	}
	if id != "" && len(out) == 0 {
		return nil, fmt.Errorf("no bug seed %q", id)
	}
	return out, nil
}

func printBugs(w io.Writer, results []srun.BugResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tversion\tfound\tschedules\tseconds\tfixed clean\tinvariant")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%s\t%s\n", r.ID, r.Version, yesNo(r.Found), r.SchedulesToFind,
			r.Seconds, yesNo(r.FixedClean), r.Invariant)
	}
	tw.Flush()
	for _, r := range results {
		if !r.Found {
			fmt.Fprintf(w, "%s: not found with the fix off: %s\n", r.ID, r.Off.Msg)
		}
		if !r.FixedClean {
			fmt.Fprintf(w, "%s: fails with the fix on: %s\n", r.ID, r.On.Msg)
		}
	}
}
