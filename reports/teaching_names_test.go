package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// captureBuiltin captures one random-walk run of a built-in scenario.
func captureBuiltin(t *testing.T, name string, seed uint64) *Run {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	setup, cfg, err := srun.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed, cfg.Strategy = seed, sim.NewRandom(seed)
	r := Capture(setup, cfg)
	r.Program = name
	return r
}

// lockName is how a lock of a file, a device or an inode prints:
// "tree_lock of /notes's mapping", "i_mutex of /notes", "tree_lock of
// sda's mapping", "io_lock of /vol/shared's vnode".
var lockName = regexp.MustCompile(`^[a-z_]+ of (/[^ ]*|sda|inode \d{1,9}|vnode \d{1,9})('s (mapping|vnode))?$`)

// TestLocksPrintByNameAndOwner: the per-inode locks of a block file system
// run (the block device's buffer cache included) and of an AFS run print
// by name and owner, never by a raw inode number such as the block
// device's 18446744073709551615.
func TestLocksPrintByNameAndOwner(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		want     []string
	}{
		{"first-writeback", []string{"tree_lock of sda's mapping", "tree_lock of /notes's mapping"}},
		{"teach-afs-writeback-record", []string{"writeback_lock of /vol/shared's vnode", "tree_lock of /vol/shared's mapping"}},
	} {
		r := captureBuiltin(t, tc.scenario, 1)
		seen := map[string]bool{}
		for _, e := range r.Events {
			if c := e.Obj.Class; c == "spinlock" || c == "mutex" {
				seen[e.Obj.Name] = true
			}
		}
		for name := range seen {
			// A global lock (inode_lock, sb_bgl_lock, the sync_filesystems
			// mutex) has no owner, and no number.
			global := !strings.Contains(name, " of ") && !strings.ContainsAny(name, "0123456789")
			if !global && !lockName.MatchString(name) {
				t.Errorf("%s: lock %q does not print as NAME of OWNER", tc.scenario, name)
			}
		}
		for _, w := range tc.want {
			if !seen[w] {
				t.Errorf("%s: no event about lock %q; locks seen: %v", tc.scenario, w, seen)
			}
		}
		var buf bytes.Buffer
		if err := Narrate(&buf, r, NarrateOptions{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "18446744073709551615") {
			t.Errorf("%s: the narrated trace prints a raw inode number", tc.scenario)
		}
	}
}

// TestEraFunctionNames: a run names its era's own functions. A 2.6.12
// run, here of the extent layout, calls ext2_get_block (2.6.12 has no
// ext4), ends requests with end_that_request_first (blk_end_request came
// in 2.6.25) and opens files in dentry_open (__dentry_open came in
// 2.6.14); the same layout on 3.x calls the later names, so the check
// does read the function names.
func TestEraFunctionNames(t *testing.T) {
	fns := func(name string) map[string]bool {
		m := map[string]bool{}
		for _, e := range captureBuiltin(t, name, 1).Events {
			if e.Kind == sim.KindEnter {
				m[e.Op] = true
			}
		}
		return m
	}
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range all {
		if s.Kernel != scenarios.Kernel2_6_12 {
			continue
		}
		n++
		for fn := range fns(s.Name) {
			if strings.HasPrefix(fn, "ext4_") || fn == "blk_end_request" || fn == "__dentry_open" {
				t.Errorf("%s (2.6.12) calls %s, which its kernel does not have", s.Name, fn)
			}
		}
	}
	if n == 0 {
		t.Fatal("no 2.6.12 built-in scenario")
	}
	if m := fns("cyclic-wrap-deadlock-2.6.12"); !m["ext2_get_block"] || !m["end_that_request_first"] || !m["dentry_open"] {
		t.Errorf("cyclic-wrap-deadlock-2.6.12 (extent layout, 2.6.12): want ext2_get_block, end_that_request_first and dentry_open, got %v", m)
	}
	if m := fns("conc-truncate-writeback-3.x"); !m["ext4_get_block"] || !m["blk_end_request"] || !m["__dentry_open"] {
		t.Errorf("conc-truncate-writeback-3.x (extent layout, 3.x): want ext4_get_block, blk_end_request and __dentry_open, got %v", m)
	}
}
