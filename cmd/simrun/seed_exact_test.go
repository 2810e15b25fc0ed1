package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestSeedExact: --seed-exact turns off every fix switch a scenario runs
// with (its kernel's baseline switches and its fixes line), so the seed
// bugs the baseline hides come back; --fix keeps one on; reports and
// replay files list the switches by name; planted races refuse it.
func TestSeedExact(t *testing.T) {
	// conc-afs-two-keys passes on the baseline; as the seed has it, the
	// flush_conflicting_wb double put frees alice's record early.
	if code, out, errs := runCLI(t, "run", "conc-afs-two-keys"); code != exitOK {
		t.Fatalf("baseline run: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := runCLI(t, "run", "conc-afs-two-keys", "--seed-exact")
	if code != exitFailures || !strings.Contains(out, "[wb-record]") {
		t.Errorf("--seed-exact: exit %d, want %d and wb-record:\n%s%s", code, exitFailures, out, errs)
	}
	for _, f := range append(scenarios.BaselineFixes(scenarios.KernelAFS), "writepages-missing-put") {
		if !strings.Contains(out, "--no-fix "+f+" ") && !strings.Contains(out, "--no-fix "+f+")") {
			t.Errorf("--seed-exact title does not name --no-fix %s:\n%s", f, out)
		}
	}

	// --fix keeps a switch on: the truncate bug seed with its own fix.
	code, out, errs = runCLI(t, "run", "afs-setattr-truncate-pagecache", "--seed-exact", "--fix", "setattr-truncate-pagecache")
	if code != exitOK || strings.Contains(out, "--no-fix setattr-truncate-pagecache") || !strings.Contains(out, "--fix setattr-truncate-pagecache") {
		t.Errorf("--seed-exact --fix: exit %d, want %d, the switch on:\n%s%s", code, exitOK, out, errs)
	}

	// The replay file lists the switches and reproduces the failure.
	dir := t.TempDir()
	if code, out, errs := runCLI(t, "explore", "conc-afs-two-keys", "--seed-exact", "--schedules", "1", "--out", dir); code != exitFailures {
		t.Fatalf("explore --seed-exact: exit %d\n%s%s", code, out, errs)
	}
	file := filepath.Join(dir, "replays", "conc-afs-two-keys-seed1.replay")
	text, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(text), "\nno-fixes: ") || !strings.Contains(string(text), "flush-conflict-double-put") ||
		strings.Contains(string(text), seedExactName) {
		t.Fatalf("replay file: %v\n%s", err, text)
	}
	if code, out, _ := runCLI(t, "replay", file); code != exitOK || !strings.Contains(out, "replay: exact") {
		t.Errorf("replay of the --seed-exact failure: exit %d\n%s", code, out)
	}

	if code, _, errs := runCLI(t, "run", "abba-deadlock", "--seed-exact"); code != exitUsage || !strings.Contains(errs, "--seed-exact apply to scenarios") {
		t.Errorf("planted race: exit %d, stderr %q", code, errs)
	}
}
