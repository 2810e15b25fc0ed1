package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wbsim/wbsim/reports"
)

// goldenPath is the golden trace file of a scenario file's "expect trace
// FILE", relative to the scenario file, or "" when there is none (or the
// program is a built-in, which has no directory of its own).
func (p *program) goldenPath() string {
	if p.Scenario == nil || p.Scenario.Expect.Trace == "" || p.Path == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(p.Path), filepath.FromSlash(p.Scenario.Expect.Trace))
}

// checkGolden compares run's narrated trace with the golden file path, as
// the datadriven tests of etcd raft and pebble do: with rewrite it writes
// the file instead. It returns the difference (want -, got +), "" when
// they match or the file was rewritten.
func checkGolden(path string, run *reports.Run, rewrite bool) (diff string, err error) {
	var got bytes.Buffer
	if err := reports.Narrate(&got, run, reports.NarrateOptions{}); err != nil {
		return "", err
	}
	if rewrite {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		return "", reports.WriteFileAtomic(path, got.Bytes())
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("the golden trace %s (expect trace) does not exist: run with --rewrite to write it", path)
	}
	if err != nil {
		return "", err
	}
	if bytes.Equal(want, got.Bytes()) {
		return "", nil
	}
	return lineDiff(string(want), got.String()), nil
}

// lineDiff shows where got differs from want: the lines between their
// common head and tail, "-" wanted and "+" got, with up to 3 lines of
// context and line numbers. (One hunk spanning every change: a narrated
// trace that changes usually changes from one point on.)
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	const ctx = 3
	var d strings.Builder
	from := max(head-ctx, 0)
	fmt.Fprintf(&d, "@@ want line %d, got line %d @@\n", from+1, from+1)
	for _, l := range a[from:head] {
		d.WriteString("  " + l + "\n")
	}
	for _, l := range a[head : len(a)-tail] {
		d.WriteString("- " + l + "\n")
	}
	for _, l := range b[head : len(b)-tail] {
		d.WriteString("+ " + l + "\n")
	}
	for _, l := range a[len(a)-tail : min(len(a)-tail+ctx, len(a))] {
		d.WriteString("  " + l + "\n")
	}
	return d.String()
}

// firstLines is s cut to n lines, saying how many more there are.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n+1 {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("... %d more lines (--out writes the whole difference to result.json)\n", len(lines)-n)
}
