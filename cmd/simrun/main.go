// Command simrun runs wbsim: tours, scenario runs, exploration, replay.
//
// Exit codes: 0 ok, 1 failures found (or, for the tour, a planted bug not
// found), 2 usage or input error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"text/tabwriter"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"tour", "the default: find the built-in planted races with every strategy, shrink and replay them", cmdTour},
		{"list", "list the built-in programs", cmdList},
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `simrun: a deterministic simulator of Linux kernel writeback.

Usage:
  simrun [command] [flags]

With no command, simrun runs the tour.

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "simrun COMMAND --help" for a command's flags.
Exit codes: 0 ok, 1 failures found, 2 usage or input error.
`)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return cmdTour(ctx, nil, stdout, stderr)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	if len(args[0]) > 0 && args[0][0] == '-' {
		// Flags with no command belong to the tour.
		return cmdTour(ctx, args, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "simrun: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// parseFlags parses a command's flags; it reports help as exitOK and bad
// flags as exitUsage, with the message already printed.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (int, bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "simrun %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: simrun %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list", "Lists the built-in programs with one-line descriptions.")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tDESCRIPTION")
	for _, p := range scenarios.PlantedRaces() {
		fmt.Fprintf(tw, "%s\tplanted-race\t%s\n", p.Name, p.Description)
	}
	tw.Flush()
	return exitOK
}

func cmdTour(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tour", "Runs every built-in planted race under random walk, PCT (d=1, 2) and\n"+
		"bounded exhaustive search, shrinks the first failure found, replays it and\n"+
		"checks the replay's trace hash. Exits 1 if a strategy expected to find a\n"+
		"bug does not.")
	schedules := fs.Int("schedules", 2000, "schedules per randomized strategy")
	seed := fs.Uint64("seed", 1, "first seed")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "worker goroutines")
	bound := fs.Int("bound", 2, "preemption bound for exhaustive search")
	verbose := fs.Bool("v", false, "print each shrunk failure's full report")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *schedules < 1 || *workers < 1 || *bound < 0 {
		fmt.Fprintln(stderr, "simrun tour: --schedules and --workers must be at least 1, --bound at least 0")
		return exitUsage
	}

	type strat struct {
		name    string
		factory sim.StrategyFactory
		expect  func(p scenarios.Planted) bool
	}
	strats := []strat{
		{"random", func(s uint64, _ int64) sim.Strategy { return sim.NewRandom(s) },
			func(p scenarios.Planted) bool { return !p.RandomWalkHard }},
		{"pct-d1", func(s uint64, k int64) sim.Strategy { return sim.NewPCT(s, 1, k) },
			func(p scenarios.Planted) bool { return p.Depth <= 1 }},
		{"pct-d2", func(s uint64, k int64) sim.Strategy { return sim.NewPCT(s, 2, k) },
			func(p scenarios.Planted) bool { return p.Depth <= 2 }},
	}
	fmt.Fprintf(stdout, "wbsim tour: planted races, %d schedules per randomized strategy, seeds from %d\n\n", *schedules, *seed)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAM\tSTRATEGY\tEXPECTED\tFOUND\tSCHEDULES\tFAILURE\tPREEMPTIONS (shrunk)")
	missed := 0
	var firsts []*sim.Result
	for _, p := range scenarios.PlantedRaces() {
		var first *sim.Result
		row := func(name string, expect bool, r *sim.Result, n int) {
			if expect && r == nil {
				missed++
			}
			if r == nil {
				fmt.Fprintf(tw, "%s\t%s\t%s\tno\t%d\t-\t-\n", p.Name, name, yesNo(expect), n)
				return
			}
			small, _ := sim.Shrink(p.Setup, sim.Config{}, r.Log, 0)
			fmt.Fprintf(tw, "%s\t%s\t%s\tyes\t%d\t%s\t%d -> %d\n", p.Name, name, yesNo(expect), n,
				r.Failure.Kind, r.Log.Preemptions(), small.Preemptions())
			if first == nil {
				first = r
			}
		}
		for _, s := range strats {
			res := sim.Explore(ctx, p.Setup, sim.ExploreOptions{
				Strategy: s.factory, FirstSeed: *seed, Schedules: *schedules,
				Workers: *workers, CalibrateK: true,
			})
			if res.Stopped {
				fmt.Fprintln(stderr, "simrun tour: interrupted")
				return exitFailures
			}
			row(s.name, s.expect(p), firstOf(res.Failures), res.Schedules)
		}
		dfs := sim.ExhaustiveSearch(p.Setup, sim.DFSOptions{Bound: *bound})
		row(fmt.Sprintf("dfs-p%d", *bound), p.Preemptions <= *bound, firstOf(dfs.Failures), dfs.Schedules)
		if first != nil {
			firsts = append(firsts, first)
		}
	}
	tw.Flush()

	fmt.Fprintln(stdout, "\nEXPECTED says whether theory says the strategy must find the bug: PCT with depth d finds\n"+
		"bugs of depth <= d with probability >= 1/(n*k^(d-1)); random walk almost never meets the\n"+
		"PCT paper's hard case; exhaustive search finds whatever needs at most its bound of preemptions.")
	fmt.Fprintln(stdout, "\nShrunk failures, replayed from their decision logs:")
	for i, p := range scenarios.PlantedRaces() {
		if i >= len(firsts) {
			break
		}
		r := firsts[i]
		small, sr := sim.Shrink(p.Setup, sim.Config{}, r.Log, 0)
		w := sim.New(sim.Config{Seed: small.Seed, Strategy: sim.NewReplay(small)})
		p.Setup(w)
		rr := w.Run()
		verdict := "exact (trace hash matches)"
		if rr.Hash != small.Hash || rr.Divergence != nil {
			verdict = "DIVERGED"
			missed++
		}
		fmt.Fprintf(stdout, "\n%s: %s\n  replay: %s\n  schedule: %s\n", p.Name, sr.Failure.Error(), verdict, small)
		if *verbose {
			fmt.Fprintf(stdout, "%s", sr.Failure.Report())
		}
	}
	if missed > 0 {
		fmt.Fprintf(stdout, "\n%d expected finds were missed\n", missed)
		return exitFailures
	}
	fmt.Fprintln(stdout, "\nEvery planted bug was found where expected. The kernel scenarios arrive with the model packages.")
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func firstOf(rs []*sim.Result) *sim.Result {
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}
