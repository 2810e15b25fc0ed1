// Command wbbench is the developer tool behind BENCHMARKS.md: it measures
// how fast each exploration strategy finds each bug seed, draws the plots,
// regenerates everything in docs/bench/, and guards the benchmark ratio
// targets in CI.
//
//	wbbench strategies [-seeds 20] [-budget N] [-out docs/bench/strategies.json]
//	wbbench plot [-bench FILE] [-strategies FILE] [-out docs/bench]
//	wbbench regen
//	wbbench guard [-baseline docs/bench/guard-baseline.txt] [-write-baseline] FILE
//
// Exit status: 0 ok, 1 a check failed (guard), 2 usage or input error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type command struct {
	name, about string
	run         func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"strategies", "schedules to find each bug seed, per strategy; shrink each first failure", cmdStrategies},
	{"plot", "draw scale.svg and strategies.svg from benchmark output and the strategies data", cmdPlot},
	{"regen", "regenerate everything in docs/bench (scale benchmark, strategies study, plots)", cmdRegen},
	{"guard", "check the benchmark ratio targets against their baselines", cmdGuard},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "wbbench: unknown command %q\nRun \"wbbench --help\" for usage.\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: wbbench COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.about)
	}
	fmt.Fprintln(w, "\nRun \"wbbench COMMAND --help\" for a command's flags. See docs/bench/README.md.")
}

// newFlagSet makes a command's flag set; args is the usage line after the
// command name, about says what the command does.
func newFlagSet(name, args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: wbbench %s %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and checks the number of positional arguments.
// It returns ok=false with the exit code: 0 for --help (usage on stdout),
// 2 for a bad flag or argument count (a one-line error on stderr).
func parseFlags(fs *flag.FlagSet, args []string, positional int, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK, false
	case err == nil && fs.NArg() != positional:
		err = fmt.Errorf("want %d argument(s), got %d", positional, fs.NArg())
	}
	if err != nil {
		fmt.Fprintf(stderr, "wbbench %s: %v\nRun \"wbbench %s --help\" for usage.\n", fs.Name(), err, fs.Name())
		return exitUsage, false
	}
	return exitOK, true
}

// fail prints a one-line error for command name and returns exit code 2.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "wbbench %s: %v\n", name, err)
	return exitUsage
}
