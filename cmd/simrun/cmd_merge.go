package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/sim"
)

// readInside reads the replay file rel inside the shard directory dir,
// through an os.Root: neither "..", an absolute path nor a symlink may
// lead out of dir.
func readInside(dir, rel string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	st, err := root.Stat(rel)
	if err == nil && st.Size() > maxReplayFile {
		return nil, fmt.Errorf("%s: replay file %s: %d bytes is too large for a replay file", dir, rel, st.Size())
	}
	var data []byte
	if err == nil {
		data, err = root.ReadFile(rel)
	}
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if fi, lerr := root.Lstat(rel); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s: the replay file %s is a symlink that leads outside its shard directory; "+
			"merge reads only files inside the directories it is given", dir, rel)
	}
	return nil, fmt.Errorf("%s: replay file %s: %v", dir, rel, err)
}

// mergedProgram finds the program a merged result ran, to re-run its
// first failure: a scenario file by its path, only if its contents are
// the ones the shards ran; else a built-in by name.
func mergedProgram(p *reports.ProgramResult) (*program, error) {
	if p.Path == "" {
		return lookupVariant(p.Program, p.Variant)
	}
	src, err := os.ReadFile(p.Path)
	if err != nil {
		return nil, fmt.Errorf("cannot read its scenario file: %v", unwrapPathErr(err))
	}
	if reports.ProgramSHA256(src) != p.ProgramSHA256 {
		return nil, fmt.Errorf("its scenario file %s has changed since the shards ran", p.Path)
	}
	prog, err := scenarioFile(p.Path, src)
	if err != nil {
		return nil, err
	}
	return prog.withVariant(p.Variant)
}

func cmdMerge(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("merge", "DIR... [--out DIR]",
		"Merges the outputs of explore shards (each DIR holds a result.json) into one\n"+
			"report, as if one run had covered every shard: results of the same program,\n"+
			"strategy and seed range are combined, replay files are copied to OUT/replays,\n"+
			"and the first failure's minimal schedule is re-run for the timeline and trace.\n"+
			"Missing shards are reported on stderr, and make the result incomplete\n"+
			"(stopped: missing-shards), as does a shard that stopped early.\n\n"+
			"Exit status: 0 passed, 1 an unexpected failure (or an expected one not\n"+
			"found), 2 usage or input error, 3 incomplete with no failure.")
	out := fs.String("out", defaultOut("merged"), "output directory")
	pos, code, ok := parseArgs(fs, args, 1, -1, stdout, stderr)
	if !ok {
		return code
	}
	var inputs []reports.MergeInput
	for _, dir := range pos {
		path := dir
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			path = filepath.Join(dir, reports.ResultFile)
		} else if err != nil {
			return fail(stderr, "merge", fmt.Errorf("cannot read %s", unwrapPathErr(err)))
		} else {
			dir = filepath.Dir(dir)
		}
		r, err := reports.ReadResult(path)
		if err != nil {
			return fail(stderr, "merge", unwrapPathErr(err))
		}
		inputs = append(inputs, reports.MergeInput{Dir: dir, Result: r})
	}
	merged, copies, warnings, err := reports.Merge(inputs)
	if err != nil {
		return fail(stderr, "merge", err)
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "simrun merge: warning: %s\n", w)
	}
	if err := mkOut(*out); err != nil {
		return fail(stderr, "merge", err)
	}
	for _, c := range copies {
		data, err := readInside(c.Dir, c.Rel)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "simrun merge: warning: replay file %s is missing; the merged report refers to it anyway\n",
				filepath.Join(c.Dir, c.Rel))
			continue
		}
		if err != nil {
			return fail(stderr, "merge", err)
		}
		if err := reports.WriteFileAtomic(filepath.Join(*out, filepath.FromSlash(c.To)), data); err != nil {
			return fail(stderr, "merge", err)
		}
	}
	// Re-run each minimal schedule for the timeline and narrated trace,
	// when the program is one this build knows.
	var runs []*reports.Run
	for _, p := range merged.Programs {
		prog, err := mergedProgram(&p)
		if err != nil {
			if p.Minimal != nil || len(p.Failures) > 0 {
				fmt.Fprintf(stderr, "simrun merge: warning: %s: no timeline or narrated trace: %v\n", p.Name(), err)
			}
			continue
		}
		prog.Config = p.Budget.Config()
		switch {
		case p.Minimal != nil:
			if log, err := sim.ParseDecisionLog(p.Minimal.Schedule); err == nil {
				runs = append(runs, captureLog(prog, log, "minimal failing schedule", p.Strategy.Text+", shrunk"))
			}
		case len(p.Failures) > 0:
			if log, err := sim.ParseDecisionLog(p.Failures[0].Schedule); err == nil {
				runs = append(runs, captureLog(prog, log, "first failing schedule", p.Strategy.Text))
			}
		}
	}
	var names []string
	for _, p := range merged.Programs {
		names = append(names, p.Name())
	}
	index, err := writeReport(*out, &reports.Report{Title: "simrun merge: " + strings.Join(names, ", "), Result: merged, Runs: runs})
	if err != nil {
		return fail(stderr, "merge", err)
	}
	for i := range merged.Programs {
		printSummary(stdout, &merged.Programs[i], *out)
	}
	fmt.Fprintf(stdout, "report: %s\n", index)
	return exitFor(merged.Programs)
}
