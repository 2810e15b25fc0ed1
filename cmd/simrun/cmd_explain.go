package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wbsim/wbsim/reports"
)

func cmdExplain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("explain", "FILE|PROGRAM [flags]",
		"Prints a narrated trace for learning: every step names the task, the kernel\n"+
			"function it is in and what changed; a task's kernel calls are marked \"=> fn\"\n"+
			"and \"<= fn\" with the lines between indented, and every switch between tasks\n"+
			"says why it happened.\n\n"+
			"FILE is a replay file (its schedule is replayed); PROGRAM is a built-in program\n"+
			"or a .wbs scenario file (run once with --seed and --strategy). --follow keeps\n"+
			"the events about one object, e.g. --follow \"page 1:3\" or --follow \"mutex a\".\n\n"+
			variantHelp+
			"Exit status: 0 explained (whether or not the run failed), 2 usage or input error.")
	follow := fs.String("follow", "", "keep only the events about this object (\"page 1:3\", \"mutex a\", \"task B\")")
	seed := fs.Uint64("seed", 1, "PROGRAM: the seed")
	strategy := fs.String("strategy", "", "PROGRAM: random, pct or rr (default: the program's)")
	depth := fs.Int("depth", 0, "PROGRAM: PCT depth (default: the program's)")
	quantum := fs.Int("quantum", 0, "PROGRAM: rr quantum")
	vf := addVariantFlags(fs)
	budget := memoryBudgetFlag(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	arg := pos[0]
	var run *reports.Run
	if st, err := os.Stat(arg); err == nil && !st.IsDir() && !strings.HasSuffix(arg, ".wbs") {
		if !vf.variant().IsZero() {
			return fail(stderr, "explain", fmt.Errorf("%s: a replay file runs the kernel version and fixes it records; --version, --fix and --no-fix apply to a PROGRAM", arg))
		}
		f, prog, warn, err := loadReplay(arg)
		if err == nil {
			err = checkMemory(prog, 1, budget)
		}
		if err != nil {
			return fail(stderr, "explain", err)
		}
		if warn != "" {
			fmt.Fprintf(stderr, "simrun explain: warning: %s\n", warn)
		}
		run = replayRun(prog.unrecorded(), f, "replay of "+arg)
		if exact, msg := verdict(f, run.Result); !exact {
			fmt.Fprintf(stderr, "simrun explain: warning: %s\n", msg)
		}
	} else {
		prog, err := lookupProgram(arg)
		if err != nil {
			return fail(stderr, "explain", fmt.Errorf("%q is neither a replay file nor a program: %v", arg, err))
		}
		if prog, err = prog.withVariant(vf.variant()); err != nil {
			return fail(stderr, "explain", err)
		}
		if err := checkMemory(prog, 1, budget); err != nil {
			return fail(stderr, "explain", err)
		}
		spec := prog.Strategy
		if *strategy != "" {
			spec.Name = *strategy
		}
		if *depth != 0 {
			spec.Depth = *depth
		}
		spec.Quantum = *quantum
		if err := spec.validate(false); err != nil {
			return fail(stderr, "explain", &usageError{err.Error()})
		}
		var k int64
		if spec.needsK() {
			k = calibrate(prog, *seed)
		}
		run = captureSeed(prog.unrecorded(), spec, *seed, k, "")
	}
	if *follow != "" {
		n := 0
		for i := range run.Events {
			if reports.ObjMatches(run.Events[i].Obj, *follow) {
				n++
			}
		}
		if n == 0 {
			return fail(stderr, "explain", fmt.Errorf("no event is about %q; the objects in this run are: %s",
				*follow, strings.Join(run.Objects(), ", ")))
		}
	}
	if err := reports.Narrate(stdout, run, reports.NarrateOptions{Follow: *follow}); err != nil {
		return fail(stderr, "explain", err)
	}
	return exitOK
}
