package afs

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSeedCites checks that every Task.EnterAt of write.go cites the line
// where its function's definition starts in the seed, and that every
// function of the seed is cited.
func TestSeedCites(t *testing.T) {
	const seed = "afs-write-2.6.3x.c"
	b, err := os.ReadFile("../../../shared/seeds/" + seed)
	if err != nil {
		t.Skipf("seed not available: %v", err)
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\u00a0", " "), "\n")
	src, err := os.ReadFile("write.go")
	if err != nil {
		t.Fatal(err)
	}
	cited := map[string]bool{}
	for _, m := range regexp.MustCompile(`EnterAt\("(\w+)", "([\w.-]+):(\d+)"\)`).FindAllStringSubmatch(string(src), -1) {
		fn, file := m[1], m[2]
		n, _ := strconv.Atoi(m[3])
		cited[fn] = true
		if file != seed || n < 1 || n > len(lines) {
			t.Errorf("%s cites %s:%d, not a line of %s", fn, file, n, seed)
			continue
		}
		def := regexp.MustCompile(`^(static )?[a-z_]+ \*?` + fn + `\(`)
		if !def.MatchString(lines[n-1]) || !isDefinition(lines[n-1:]) {
			t.Errorf("%s cites %s:%d, which is %q", fn, file, n, lines[n-1])
		}
	}
	for _, fn := range []string{"afs_set_page_dirty", "afs_unlink_writeback", "afs_free_writeback",
		"afs_put_writeback", "afs_fill_page", "afs_write_begin", "afs_write_end", "afs_kill_pages",
		"afs_write_back_from_locked_page", "afs_writepage", "afs_writepages_region", "afs_writepages",
		"afs_pages_written_back", "afs_file_write", "afs_writeback_all", "afs_fsync", "afs_page_mkwrite"} {
		if !cited[fn] {
			t.Errorf("%s is not cited", fn)
		}
	}
}

// isDefinition reports whether the declaration starting at lines[0] has a
// body ("{" before ";"), not a prototype.
func isDefinition(lines []string) bool {
	for _, l := range lines {
		if i := strings.IndexAny(l, "{;"); i >= 0 {
			return l[i] == '{'
		}
		if strings.HasSuffix(strings.TrimSpace(l), ")") {
			return true // the parameters end with no ";"
		}
	}
	return false
}
