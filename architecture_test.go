package wbsim_test

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the module path; the ladder names packages relative to it.
const module = "github.com/wbsim/wbsim"

// TestImportLadder checks ARCHITECTURE.md's import ladder against the
// packages and imports `go list` reports.
func TestImportLadder(t *testing.T) {
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	ladder, err := parseLadder(string(doc))
	if err != nil {
		t.Fatalf("ARCHITECTURE.md: %v", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-f", `{{if .GoFiles}}{{.ImportPath}}:{{join .Imports " "}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, e := range ladderErrors(ladder, parseGoList(string(out))) {
		t.Error(e)
	}
}

// Each kind of drift between the ladder and the code is reported.
func TestImportLadderErrors(t *testing.T) {
	ladder, err := parseLadder("text\n```imports\nsim:\nmodel/mm: sim\ngone: sim\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string][]string{"sim": nil, "model/mm": {"sim", "faultdisk"}, "faultdisk": {"sim"}}
	got := strings.Join(ladderErrors(ladder, pkgs), "\n")
	for _, want := range []string{
		"model/mm imports faultdisk, which its line in ARCHITECTURE.md does not allow",
		"faultdisk has no line in ARCHITECTURE.md's import ladder",
		"ARCHITECTURE.md's import ladder names gone, which is not a package",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"no block", "```imports\nsim\n```", "```imports\nsim:\nsim:\n```", "```imports\nsim:\n"} {
		if _, err := parseLadder(bad); err == nil {
			t.Errorf("parseLadder(%q) accepted it", bad)
		}
	}
}

// parseLadder reads the "```imports" block: lines "pkg: allowed ...".
func parseLadder(doc string) (map[string][]string, error) {
	_, rest, ok := strings.Cut(doc, "```imports\n")
	if !ok {
		return nil, fmt.Errorf("no ```imports block")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		return nil, fmt.Errorf("the ```imports block is not closed")
	}
	ladder := map[string][]string{}
	for i, line := range strings.Split(strings.TrimSpace(block), "\n") {
		pkg, allowed, ok := strings.Cut(line, ":")
		pkg = strings.TrimSpace(pkg)
		if !ok || pkg == "" {
			return nil, fmt.Errorf("imports block line %d: %q is not \"package: imports\"", i+1, line)
		}
		if _, dup := ladder[pkg]; dup {
			return nil, fmt.Errorf("imports block line %d: %s given twice", i+1, pkg)
		}
		ladder[pkg] = strings.Fields(allowed)
	}
	return ladder, nil
}

// parseGoList reads `go list` lines "path:imports" into the module's
// packages and the module packages each imports, relative to the module.
func parseGoList(out string) map[string][]string {
	pkgs := map[string][]string{}
	for _, line := range strings.Fields(strings.ReplaceAll(out, " ", ",")) {
		path, imports, _ := strings.Cut(line, ":")
		var own []string
		for _, imp := range strings.Split(imports, ",") {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				own = append(own, rel)
			}
		}
		pkgs[strings.TrimPrefix(path, module+"/")] = own
	}
	return pkgs
}

// ladderErrors lists where the ladder and the packages disagree.
func ladderErrors(ladder, pkgs map[string][]string) []string {
	var errs []string
	for _, pkg := range sortedKeys(pkgs) {
		allowed, ok := ladder[pkg]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s has no line in ARCHITECTURE.md's import ladder (add \"%s: %s\")", pkg, pkg, strings.Join(pkgs[pkg], " ")))
			continue
		}
		for _, imp := range pkgs[pkg] {
			if !slices.Contains(allowed, imp) {
				errs = append(errs, fmt.Sprintf("%s imports %s, which its line in ARCHITECTURE.md does not allow (add it there, or drop the import)", pkg, imp))
			}
		}
	}
	for _, pkg := range sortedKeys(ladder) {
		for _, name := range append([]string{pkg}, ladder[pkg]...) {
			if _, ok := pkgs[name]; !ok {
				errs = append(errs, fmt.Sprintf("ARCHITECTURE.md's import ladder names %s, which is not a package of the module", name))
			}
		}
	}
	return errs
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
