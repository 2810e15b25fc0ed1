package reports

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
)

// MergeInput is one result to merge and the directory its relative paths
// (replay files) are in.
type MergeInput struct {
	Dir    string
	Result *Result
}

// FileCopy is a file the merged output refers to: copy Rel, a local path
// inside the shard directory Dir, to To (relative to the merged output
// directory). Merge refuses a Rel that leaves Dir; the copier must read it
// through an os.Root of Dir, so that a symlink cannot leave it either.
type FileCopy struct{ Dir, Rel, To string }

// Merge combines the results of shards of the same explorations into one
// result, as if one run had covered all the shards: program results with
// the same Key are merged, others are kept side by side. Without
// keep_going the merged result keeps only the failure with the lowest
// seed and counts the schedules up to it, exactly as an unsharded run
// does. Replay paths are rewritten to "replays/NAME"; copies says which
// files to copy there. Warnings name shards that are missing.
func Merge(inputs []MergeInput) (merged *Result, copies []FileCopy, warnings []string, err error) {
	type group struct {
		parts []ProgramResult
		dirs  []string
	}
	var order []string
	groups := map[string]*group{}
	for _, in := range inputs {
		if in.Result.Version != SchemaVersion {
			return nil, nil, nil, fmt.Errorf("%s: result.json version %d, this build merges version %d", in.Dir, in.Result.Version, SchemaVersion)
		}
		for _, p := range in.Result.Programs {
			k := p.Key()
			g := groups[k]
			if g == nil {
				g = &group{}
				groups[k] = g
				order = append(order, k)
			}
			g.parts = append(g.parts, p)
			g.dirs = append(g.dirs, in.Dir)
		}
	}
	merged = NewResult("merge")
	dst := map[string]string{} // To -> From, to catch clashes
	addCopy := func(dir, rel string) (string, error) {
		if rel == "" {
			return "", nil
		}
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return "", fmt.Errorf("%s: result.json names the replay file %q, outside its shard directory; "+
				"merge reads only files inside the directories it is given", dir, rel)
		}
		to := "replays/" + path.Base(rel)
		from := filepath.Join(dir, filepath.FromSlash(rel))
		if prev, ok := dst[to]; ok {
			if prev != from {
				return "", fmt.Errorf("two replay files would both be merged as %s: %s and %s", to, prev, from)
			}
			return to, nil
		}
		dst[to] = from
		copies = append(copies, FileCopy{Dir: dir, Rel: filepath.FromSlash(rel), To: to})
		return to, nil
	}
	for _, k := range order {
		g := groups[k]
		m := g.parts[0]
		m.Failures = nil
		m.Minimal = nil
		m.Stopped = ""
		m.Seeds.Done = nil
		m.Schedules = 0
		m.FailuresFound = 0
		seen := map[int]string{}
		type located struct {
			f   FailureInfo
			dir string
		}
		var fails []located
		var minimals []*Minimal
		var minimalDirs []string
		complete := true
		for i, p := range g.parts {
			for _, d := range p.Seeds.Done {
				if prev, ok := seen[d]; ok {
					return nil, nil, nil, fmt.Errorf("%s: shard %d/%d appears twice (%s and %s)", p.Name(), d, max(p.Seeds.Shards, 1), prev, g.dirs[i])
				}
				seen[d] = g.dirs[i]
				m.Seeds.Done = append(m.Seeds.Done, d)
			}
			if p.Stopped != "" {
				complete = false
				if m.Stopped == "" {
					m.Stopped = p.Stopped
				}
			}
			if p.Exhausted != nil {
				e := *p.Exhausted && (m.Exhausted == nil || *m.Exhausted)
				m.Exhausted = &e
			}
			m.Schedules += p.Schedules
			m.FailuresFound += p.FailuresFound
			for _, f := range p.Failures {
				fails = append(fails, located{f, g.dirs[i]})
			}
			if p.Minimal != nil {
				minimals = append(minimals, p.Minimal)
				minimalDirs = append(minimalDirs, g.dirs[i])
			}
		}
		sort.Ints(m.Seeds.Done)
		shards := max(m.Seeds.Shards, 1)
		if len(m.Seeds.Done) < shards {
			complete = false
			var missing []int
			for s := range shards {
				if _, ok := seen[s]; !ok {
					missing = append(missing, s)
				}
			}
			warnings = append(warnings, fmt.Sprintf("%s: shards %v of %d are missing; the merged result covers only part of the seed range", m.Name(), missing, shards))
			if m.Stopped == "" {
				m.Stopped = StoppedMissingShards
			}
		}
		slices.SortStableFunc(fails, func(a, b located) int {
			switch {
			case a.f.Seed < b.f.Seed:
				return -1
			case a.f.Seed > b.f.Seed:
				return 1
			}
			return 0
		})
		if !m.KeepGoing && complete && len(fails) > 0 {
			// An unsharded run stops at its lowest failing seed and counts
			// every seed up to it; each shard ran all its seeds below its
			// own first failure, so the lowest of those is the same one.
			fails = fails[:1]
			m.Schedules = int(fails[0].f.Seed-m.Seeds.First) + 1
			m.FailuresFound = 1
		}
		// Each shard kept its lowest MaxFailures seeds, so the lowest of
		// their union are the whole range's lowest.
		if m.MaxFailures > 0 && len(fails) > m.MaxFailures {
			fails = fails[:m.MaxFailures]
		}
		for _, lf := range fails {
			f := lf.f
			if f.Replay, err = addCopy(lf.dir, f.Replay); err != nil {
				return nil, nil, nil, err
			}
			m.Failures = append(m.Failures, f)
		}
		if len(m.Failures) > 0 {
			for j, mn := range minimals {
				if mn.Seed == m.Failures[0].Seed {
					c := *mn
					if c.Replay, err = addCopy(minimalDirs[j], c.Replay); err != nil {
						return nil, nil, nil, err
					}
					m.Minimal = &c
					break
				}
			}
		}
		if m.Failures == nil {
			m.Failures = []FailureInfo{}
		}
		m.Judge()
		merged.Programs = append(merged.Programs, m)
	}
	return merged, copies, warnings, nil
}
