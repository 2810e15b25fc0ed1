package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// The built-in scenario files, in builtin/*.wbs. Each one parses, and a
// test checks that it round-trips.
//
//	first-writeback          teaching: two pages from write to disk and back (3.x)
//	wb-integrity-2.6.12      bug seed: fsync stops at nr_to_write 0 (2.6.12)
//	sector-overflow-32bit    bug seed: block_in_file wraps on 32-bit (2.6.12)
//	eio-two-fds-2.6.2x       a write error, two file descriptions, errseq (2.6.2x)
//	crash-no-flush-3.x       fsync without a cache flush, then a crash (3.x)
//	crash-states-*-3.x       2-3 op workloads, fsync, crash enumerate, reads: flush honoured (ok) and ignored (-noflush: crash)
//	afs-key-expiry           bug seed: a key error drops data silently (afs)
//	afs-kill-pages-loop      bug seed: afs_kill_pages never advances (afs)
//	afs-enospc-stuck         bug seed: ENOSPC leaves pages under writeback (afs)
//
//go:embed builtin/*.wbs
var builtinFS embed.FS

// BuiltinFile is the text of a built-in scenario file.
type BuiltinFile struct {
	Path string // "builtin/first-writeback.wbs"
	Src  []byte
}

// BuiltinFiles returns the built-in scenario files, sorted by path.
func BuiltinFiles() []BuiltinFile {
	paths, err := fs.Glob(builtinFS, "builtin/*.wbs")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	slices.Sort(paths)
	files := make([]BuiltinFile, 0, len(paths))
	for _, p := range paths {
		src, err := builtinFS.ReadFile(p)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		files = append(files, BuiltinFile{Path: p, Src: src})
	}
	return files
}

// Builtins parses every built-in scenario file.
func Builtins() ([]*Scenario, error) {
	var l []*Scenario
	for _, f := range BuiltinFiles() {
		s, err := Parse(f.Path, f.Src)
		if err != nil {
			return nil, err
		}
		l = append(l, s)
	}
	return l, nil
}

// Builtin parses the built-in scenario named name (its file name without
// ".wbs", which is also its name statement).
func Builtin(name string) (*Scenario, error) {
	var names []string
	for _, f := range BuiltinFiles() {
		n := strings.TrimSuffix(path.Base(f.Path), ".wbs")
		if n == name {
			return Parse(f.Path, f.Src)
		}
		names = append(names, n)
	}
	return nil, fmt.Errorf("no built-in scenario %q; the built-ins are %s", name, strings.Join(names, ", "))
}
