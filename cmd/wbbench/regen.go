package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// scaleCommand is the scale benchmark as regen runs it: one op per size
// (the 1M-page size takes seconds), five runs for the median.
var scaleCommand = []string{"go", "test", "-run", "^$", "-bench", "Scale", "-benchtime", "1x", "-count", "5", "./model/vfs/"}

func cmdRegen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("regen", "[-out DIR]",
		"Regenerates everything in DIR, from the repository root: runs\n"+
			"  "+strings.Join(scaleCommand, " ")+"\n"+
			"into DIR/scale.txt, the strategies study (\"wbbench strategies\" with its\n"+
			"defaults) into DIR/strategies.json and DIR/strategies.md, then draws\n"+
			"DIR/scale.svg and DIR/strategies.svg. See docs/bench/README.md.")
	out := fs.String("out", "docs/bench", "the directory to write to")
	if code, ok := parseFlags(fs, args, 0, stdout, stderr); !ok {
		return code
	}
	if _, err := os.Stat("model/vfs"); err != nil {
		return fail(stderr, "regen", fmt.Errorf("run it from the repository root: %v", err))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(stderr, "regen", err)
	}
	scale := filepath.Join(*out, "scale.txt")
	if err := runTee(ctx, scaleCommand, scale, stderr); err != nil {
		return fail(stderr, "regen", err)
	}
	st, err := runStudy(ctx, studyOptions{seeds: defaultSeeds, dfsBound: defaultDFSBound, workers: runtime.GOMAXPROCS(0)}, stderr)
	if err != nil {
		return fail(stderr, "regen", err)
	}
	var table strings.Builder
	writeStudyTable(&table, st)
	if err := writeJSON(filepath.Join(*out, "strategies.json"), st); err != nil {
		return fail(stderr, "regen", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "strategies.md"), []byte(table.String()), 0o644); err != nil {
		return fail(stderr, "regen", err)
	}
	io.WriteString(stdout, table.String())
	if err := plotAll(scale, filepath.Join(*out, "strategies.json"), *out, stdout); err != nil {
		return fail(stderr, "regen", err)
	}
	return exitOK
}

// runTee runs argv with its standard output written both to the file
// path and to progress, and its standard error to progress.
func runTee(ctx context.Context, argv []string, path string, progress io.Writer) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(progress, "$ %s > %s\n", strings.Join(argv, " "), path)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = io.MultiWriter(f, progress)
	cmd.Stderr = progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
	}
	return f.Close()
}
