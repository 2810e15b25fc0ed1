package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// usageError is an input error: exit 2 with its message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// fail prints err for command name, one line and never a stack, and
// returns exit code 2: what reaches it is an input error (a bad flag value,
// program or file) or an output directory that cannot be written. A
// *usageError adds a line pointing at --help.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "simrun %s: %v\n", name, err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run \"simrun %s --help\" for usage.\n", name)
	}
	return exitUsage
}

// newFlagSet makes a command's flag set; synopsis is the argument part of
// the usage line and about what the command does.
func newFlagSet(name, args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: simrun %s %s\n\n%s\n", name, args, about)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(fs.Output(), "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags and positional arguments in any order (flags
// may follow the positionals, as in "simrun run abba-deadlock --seed 3").
// "--" ends the flags. It returns the positionals, or ok=false with the
// exit code: 0 for --help, 2 for a bad flag or count (message printed).
func parseArgs(fs *flag.FlagSet, args []string, minPos, maxPos int, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	fs.SetOutput(stderr)
	// The flag package prints the whole usage on a bad flag and on -help;
	// we print it on -help only, to stdout, and a one-line hint otherwise.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	rest := args
	var tail []string
	for i, a := range args {
		if a == "--" {
			rest, tail = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				usage()
				return nil, exitOK, false
			}
			fmt.Fprintf(stderr, "Run \"simrun %s --help\" for usage.\n", fs.Name())
			return nil, exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	pos = append(pos, tail...)
	switch {
	case len(pos) < minPos:
		what := "an argument"
		if minPos > 1 {
			what = fmt.Sprintf("%d arguments", minPos)
		}
		fmt.Fprintf(stderr, "simrun %s: missing %s\nRun \"simrun %s --help\" for usage.\n", fs.Name(), what, fs.Name())
		return nil, exitUsage, false
	case maxPos >= 0 && len(pos) > maxPos:
		fmt.Fprintf(stderr, "simrun %s: unexpected argument %q\nRun \"simrun %s --help\" for usage.\n", fs.Name(), pos[maxPos], fs.Name())
		return nil, exitUsage, false
	}
	return pos, 0, true
}

// parseShard parses "i/n" with 0 <= i < n.
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && n >= 1 && i >= 0 && i < n {
			return i, n, nil
		}
	}
	return 0, 0, usagef("--shard wants i/n with 0 <= i < n (e.g. 0/4), got %q", s)
}

// defaultOut is where a command writes its report when --out is not given:
// ./out/NAME, next to where simrun runs (the repository ignores /out/).
func defaultOut(name string) string { return filepath.Join("out", name) }

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// inCI reports whether the CI environment variable is set to a true value.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// optInt is an int flag that may be left unset (its default then comes
// from the program), and prints no default in the usage.
type optInt struct {
	v   int
	set bool
}

func (o *optInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	o.v, o.set = v, true
	return nil
}

func optIntFlag(fs *flag.FlagSet, name, usage string) *optInt {
	o := &optInt{}
	fs.Var(o, name, usage)
	return o
}

// flagSet reports whether the command line gave flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
