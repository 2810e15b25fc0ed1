package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list", "[--tag T]", "Lists the built-in programs: name, tags, default strategy and description.")
	tag := fs.String("tag", "", "list only programs with this tag")
	if _, code, ok := parseArgs(fs, args, 0, 0, stdout, stderr); !ok {
		return code
	}
	all := programs()
	var known []string
	seen := map[string]bool{}
	for _, p := range all {
		for _, t := range p.Tags {
			if !seen[t] {
				seen[t] = true
				known = append(known, t)
			}
		}
	}
	if *tag != "" && !seen[*tag] {
		return fail(stderr, "list", fmt.Errorf("no program has tag %q (tags: %s)", *tag, strings.Join(known, ", ")))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTAGS\tSTRATEGY\tDESCRIPTION")
	for _, p := range all {
		if *tag != "" && !p.hasTag(*tag) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, strings.Join(p.Tags, ","), p.Strategy.info(0).Text, p.Description)
	}
	tw.Flush()
	return exitOK
}
