package scenarios

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuiltins: every embedded scenario parses, is named after its file,
// and round-trips through its canonical text.
func TestBuiltins(t *testing.T) {
	files := BuiltinFiles()
	if len(files) < 6 {
		t.Fatalf("%d built-in scenarios; want at least 6", len(files))
	}
	for _, f := range files {
		t.Run(path.Base(f.Path), func(t *testing.T) {
			s, err := Parse(f.Path, f.Src)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(path.Base(f.Path), ".wbs"); s.Name != want {
				t.Errorf("name %q, want the file's name %q", s.Name, want)
			}
			if s.Description == "" {
				t.Errorf("no description")
			}
			text := s.String()
			again, err := Parse(f.Path, []byte(text))
			if err != nil {
				t.Fatalf("canonical text does not parse: %v\n%s", err, numbered(text))
			}
			if d := cmp.Diff(s, again); d != "" {
				t.Errorf("round trip changed the scenario:\n%s", d)
			}
			if again.String() != text {
				t.Errorf("canonical text is not a fixed point")
			}
			if b, err := Builtin(s.Name); err != nil || !cmp.Equal(b, s) {
				t.Errorf("Builtin(%q) = %v, %v", s.Name, b, err)
			}
		})
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "first-writeback") {
		t.Errorf("Builtin(nope): %v", err)
	}
}

// TestBuiltinCoverage: the built-ins show every file system and kernel
// version, faults, a crash, AFS keys, and a narrated teaching scenario.
func TestBuiltinCoverage(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	versions := map[KernelVersion]bool{}
	var faults, crash, keys, teaching, bugs bool
	for _, s := range all {
		versions[s.Kernel] = true
		faults = faults || s.Faults != nil && len(s.Faults.Plan.Rules) > 0
		crash = crash || s.HasOp(OpCrash)
		keys = keys || s.FS.AFS != nil && len(s.FS.AFS.Keys) > 1 && len(s.FS.AFS.ACL) > 0
		bugs = bugs || s.Bug != nil
		if slices.Contains(s.Tags, "teaching") {
			n := 0
			for _, t := range s.AllTasks() {
				for _, op := range t.Ops {
					n += len(op.Meta.Comment)
				}
			}
			teaching = n >= 5
		}
	}
	for _, v := range KernelVersions() {
		if !versions[v] {
			t.Errorf("no built-in scenario for kernel %s", v)
		}
	}
	for what, ok := range map[string]bool{"faults": faults, "crash": crash, "afs keys and acl": keys,
		"a narrated teaching scenario": teaching, "a bug block": bugs} {
		if !ok {
			t.Errorf("no built-in scenario shows %s", what)
		}
	}
}
