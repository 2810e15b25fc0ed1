package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/wbsim/wbsim/scenarios"
)

// listing is one line of "simrun list": a planted race, a built-in
// scenario or a bug seed.
type listing struct {
	Name, Kind, Strategy, Description string
	Tags                              []string
}

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list", "[--tag T | --invariants]",
		"Lists the built-in programs: the planted races, the built-in scenarios and the\n"+
			"bug seeds, with their kind, tags, default strategy and a one-line description.\n"+
			"Scenarios are also tagged with their file system and kernel version (blockfs,\n"+
			"afs, 2.6.12, 2.6.2x, 3.x, afs-2.6.3x), and bug seeds with bug-seed.\n"+
			"With --invariants it lists the invariant registry instead.")
	tag := fs.String("tag", "", "list only programs with this tag (basics, concurrency, faults, teaching, afs, 3.x, ...)")
	invs := fs.Bool("invariants", false, "list the invariants: id, the package that checks it, its docs and its meaning")
	if _, code, ok := parseArgs(fs, args, 0, 0, stdout, stderr); !ok {
		return code
	}
	if *invs {
		if *tag != "" {
			return fail(stderr, "list", usagef("--invariants lists no programs: it takes no --tag"))
		}
		listInvariants(stdout)
		return exitOK
	}
	all, err := listings()
	if err != nil {
		return fail(stderr, "list", err)
	}
	var known []string
	for _, l := range all {
		for _, t := range l.Tags {
			if !slices.Contains(known, t) {
				known = append(known, t)
			}
		}
	}
	if *tag != "" && !slices.Contains(known, *tag) {
		slices.Sort(known)
		return fail(stderr, "list", fmt.Errorf("no program has tag %q (tags: %s)", *tag, strings.Join(known, ", ")))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tTAGS\tSTRATEGY\tDESCRIPTION")
	for _, l := range all {
		if *tag != "" && !slices.Contains(l.Tags, *tag) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Name, l.Kind, strings.Join(l.Tags, ","), l.Strategy, l.Description)
	}
	tw.Flush()
	return exitOK
}

// listings are the planted races, then the built-in scenarios and bug
// seeds in file order.
func listings() ([]listing, error) {
	var out []listing
	for _, p := range programs() {
		out = append(out, listing{Name: p.Name, Kind: "planted", Tags: p.Tags, Strategy: p.Strategy.info(0).Text,
			Description: oneLine(p.Description)})
	}
	all, err := scenarios.Builtins()
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		kind := "scenario"
		if s.Bug != nil {
			kind = "bug-seed"
		}
		out = append(out, listing{Name: s.Name, Kind: kind, Tags: scenarioTags(s), Strategy: scenarioStrategy(s).info(0).Text,
			Description: oneLine(s.Description)})
	}
	return out, nil
}

// scenarioTags are a scenario's own tags, then its file system, kernel
// version and (for a bug seed) bug-seed, each once.
func scenarioTags(s *scenarios.Scenario) []string {
	tags := slices.Clone(s.Tags)
	fs := "blockfs"
	if s.FS.AFS != nil {
		fs = "afs"
	}
	extra := []string{fs, string(s.Kernel)}
	if s.Bug != nil {
		extra = append(extra, "bug-seed")
	}
	for _, t := range extra {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// scenarioStrategy is the strategy a scenario's explore block asks for.
func scenarioStrategy(s *scenarios.Scenario) strategySpec {
	d := s.WithDefaults()
	st := strategySpec{Name: string(d.Explore.Strategy.Kind), Depth: d.Explore.Strategy.Depth,
		Bound: d.Explore.Strategy.Bound, Quantum: d.Explore.Strategy.Quantum}
	if st.Name == "" {
		st.Name = "random"
	}
	st.Depth = max(st.Depth, 1)
	return st
}

// oneLine is the first sentence of a description, on one line, at most
// 100 characters.
func oneLine(desc string) string {
	s := strings.Join(strings.Fields(desc), " ")
	if para, _, ok := strings.Cut(desc, "\n\n"); ok {
		s = strings.Join(strings.Fields(para), " ")
	}
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if len(s) > 100 {
		cut := strings.LastIndexByte(s[:97], ' ')
		if cut < 40 {
			cut = 97
		}
		s = s[:cut] + "..."
	}
	return s
}

// listInvariants prints the invariant registry (scenarios.Invariants).
// An id a check statement cannot name is marked "(always)".
func listInvariants(stdout io.Writer) {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPACKAGE\tDOCS\tMEANING")
	for _, e := range scenarios.Invariants() {
		id := string(e.ID)
		if e.Always {
			id += " (always)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id, e.Package, e.Doc, e.Meaning)
	}
	tw.Flush()
}
