package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// cmdDiffVersions runs one blockfs scenario under the serial schedule on
// every mpage kernel version and shows what differs: write requests (count
// and sizes), get_block calls, fsync returns and the final disk contents
// of each file.
func cmdDiffVersions(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("diff-versions", "SCENARIO",
		"Runs one blockfs scenario (a built-in name or a .wbs file) under the serial\n"+
			"schedule on each mpage kernel version (2.6.12, 2.6.2x, 3.x), with no fixes,\n"+
			"and shows what differs: write requests and bios, get_block calls, fsync\n"+
			"returns, the final disk contents, failures. A failure is judged against the\n"+
			"scenario's expect line: the failure \"expect failure ID\" names is marked\n"+
			"expected; any other is unexpected. (One serial schedule is no search: an\n"+
			"expected failure it does not hit is not a failure; explore looks for it.)\n\n"+
			"Exit status: 0 no version failed unexpectedly, 1 some version did, 2 usage\n"+
			"or input error.\n\n"+checkHelp)
	cf := addCheckFlags(fs)
	htmlDir := fs.String("html", "", "also write, into this directory, explorer.html (each version's run, step by step) and side-by-side.html (two versions at once, aligned by scenario operation)")
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	var s *scenarios.Scenario
	var err error
	if src, rerr := os.ReadFile(pos[0]); rerr == nil {
		s, err = scenarios.Parse(pos[0], src)
	} else {
		s, err = scenarios.Builtin(pos[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "simrun diff-versions:", err)
		return exitUsage
	}
	if s.FS.BlockFS == nil {
		fmt.Fprintln(stderr, "simrun diff-versions: only blockfs scenarios run on several versions")
		return exitUsage
	}
	var v reports.Variant
	cf.set(&v)
	if s, err = applyChecks(s, v); err != nil {
		return fail(stderr, "diff-versions", &usageError{err.Error()})
	}
	type row struct {
		v     scenarios.KernelVersion
		st    srun.Stats
		fail  string
		lines map[string]string
	}
	var rows []row
	var unexpected []string        // versions that failed not as expected
	var eras []*scenarios.Scenario // each version's scenario, for --html
	for _, v := range []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x} {
		c := *s
		c.Kernel = v
		c.Fixes = nil
		if c.Bug != nil {
			b := *c.Bug
			b.Switch = ""
			c.Bug = &b
		}
		r := row{v: v}
		eras = append(eras, &c)
		setup, cfg, err := srun.BuildWith(&c, srun.Options{Stats: &r.st})
		if err != nil {
			fmt.Fprintf(stderr, "simrun diff-versions: %s: %v\n", v, err)
			return exitUsage
		}
		cfg.Strategy = &sim.RoundRobin{}
		w := sim.New(cfg)
		setup(w)
		getBlock := 0
		w.Observe(func(_ *sim.World, ev *sim.Event) {
			if ev.Kind == sim.KindEnter && (ev.Op == "ext2_get_block" || ev.Op == "ext4_get_block") {
				getBlock++
			}
		})
		if res := w.Run(); res.Failure != nil {
			r.fail = srun.FailureID(res.Failure) + ": " + res.Failure.Msg
			if s.Expect.Outcome == scenarios.OutcomeFailure && srun.Matches(res.Failure, s.Expect.Failure) {
				r.fail = "(expected) " + r.fail
			} else {
				unexpected = append(unexpected, string(v))
			}
		}
		sizes := make([]string, len(r.st.BioSizes))
		for i, n := range r.st.BioSizes {
			sizes[i] = fmt.Sprint(n)
		}
		r.lines = map[string]string{
			"write requests":  fmt.Sprintf("%d requests, %d bios; bytes %s", len(r.st.BioSizes), r.st.Bios, strings.Join(sizes, " ")),
			"get_block calls": fmt.Sprint(getBlock),
			"fsync returns":   strings.Join(r.st.FsyncReturn, ", "),
			"failure":         r.fail,
		}
		var files []string
		for p, b := range r.st.Final {
			files = append(files, fmt.Sprintf("%s=%v", p, b))
		}
		slices.Sort(files)
		r.lines["final disk"] = strings.Join(files, " ")
		rows = append(rows, r)
	}
	fmt.Fprintf(stdout, "%s under the serial schedule on each version\n", s.Name)
	for _, k := range []string{"write requests", "get_block calls", "fsync returns", "final disk", "failure"} {
		same := true
		for _, r := range rows[1:] {
			same = same && r.lines[k] == rows[0].lines[k]
		}
		mark := "same"
		if !same {
			mark = "DIFFERS"
		}
		fmt.Fprintf(stdout, "\n%s (%s)\n", k, mark)
		for _, r := range rows {
			fmt.Fprintf(stdout, "  %-7s %s\n", r.v, r.lines[k])
		}
	}
	if *htmlDir != "" {
		page, err := writeSideBySide(*htmlDir, s.Name, eras)
		if err != nil {
			return fail(stderr, "diff-versions", err)
		}
		fmt.Fprintf(stdout, "\nside by side: %s\n", page)
	}
	if len(unexpected) > 0 {
		fmt.Fprintf(stdout, "\nverdict: FAIL: unexpected failure on %s\n", strings.Join(unexpected, ", "))
		return exitFailures
	}
	fmt.Fprintln(stdout, "\nverdict: ok (no unexpected failure)")
	return exitOK
}
