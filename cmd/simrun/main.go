// Command simrun runs wbsim: tours, single runs, explorations, replays,
// shrinking, narrated traces and merges of sharded runs. See docs/cli.md.
//
// Exit codes: 0 ok, 1 a failure found that the program does not expect
// (or an expected one not found), 2 usage or input error, 3 incomplete: the
// run stopped before its budget (a signal, --time, no schedule, a merge
// missing shards) without finding a failure. docs/cli.md lists them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wbsim/wbsim/sim"
)

const (
	exitOK         = 0
	exitFailures   = 1
	exitUsage      = 2
	exitIncomplete = 3
)

func main() {
	// SIGINT (Ctrl-C) and SIGTERM (a Kubernetes pod being stopped) end the
	// exploration cleanly, keeping results and replay files. A second one
	// kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"tour", "the default: find the built-in planted races with every strategy, shrink and replay them", cmdTour},
		{"list", "list the built-in programs", cmdList},
		{"run", "run a program under one schedule", cmdRun},
		{"explore", "run a program under many schedules and report the failures", cmdExplore},
		{"replay", "replay a replay file and say whether it reproduced exactly", cmdReplay},
		{"shrink", "shrink a replay file's schedule to the fewest preemptions", cmdShrink},
		{"explain", "print a narrated trace of a replay file or a program", cmdExplain},
		{"merge", "merge the outputs of explore shards into one report", cmdMerge},
		{"bugs", "run the bug-seed catalogue with each fix off and on", cmdBugs},
		{"diff-versions", "run one scenario on every kernel version and show what differs", cmdDiffVersions},
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `simrun: a deterministic simulator of Linux kernel writeback.

Usage:
  simrun [command] [arguments] [flags]

With no command, simrun runs the tour.

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "simrun COMMAND --help" for a command's flags. See docs/cli.md.
Exit codes:
  0  ok: every verdict passed (an expected failure found counts as a pass)
  1  a failure the program does not expect, an expected one not found, or for
     replay a recorded outcome not reproduced exactly
  2  usage or input error (a bad flag, file or scenario; a run estimated to
     need more than --memory-budget)
  3  incomplete: a run stopped before its budget (Ctrl-C or SIGTERM, --time,
     no schedule run, a merge missing shards) with no failure found

`+sim.LogHelp+"\n")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return cmdTour(ctx, nil, stdout, stderr)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] {
					return c.run(ctx, []string{"--help"}, stdout, stderr)
				}
			}
		}
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
