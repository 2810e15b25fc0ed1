package sim

import (
	"context"
	"time"
)

// Exhaustive search with bounded preemptions: iterative context bounding
// after CHESS (Musuvathi, Qadeer: "Iterative Context Bounding for
// Systematic Testing of Multithreaded Programs", PLDI 2007). It explores
// every schedule with at most Bound preemptions, fewest first: all
// schedules with 0 preemptions, then those with exactly 1, and so on.
// Switches at points where the current task blocked or ended are free.
//
// It is stateless: each schedule is a fresh world from setup, steered by a
// prefix of choices and continued with choice 0. This needs the world to be
// deterministic, which is the point of the package.

// DFSOptions configures ExhaustiveSearch.
type DFSOptions struct {
	Config Config // per-world budgets and the world seed; Strategy is ignored
	Bound  int    // maximum preemptions
	// MaxSchedules stops the search early (0 = no limit).
	MaxSchedules int
	// KeepGoing collects every failure instead of stopping at the first.
	KeepGoing bool
	// Context, if set, stops the search when it is done.
	Context context.Context
	// OnFailure, if set, is called as each failure is found.
	OnFailure func(*Result)
	// Progress, if set, is called about every ProgressEvery schedules.
	Progress      func(Progress)
	ProgressEvery int
}

// DFSResult is the outcome of an exhaustive search.
type DFSResult struct {
	Schedules int
	Failures  []*Result
	Steps     int64
	// Exhausted is true when every schedule within the bound was run.
	Exhausted bool
	// Stopped is true when the context ended the search.
	Stopped bool
	// Preemptions is the bound reached when the search stopped.
	Preemptions int
}

// ExhaustiveSearch runs setup's world under every schedule with at most
// opts.Bound preemptions. It runs on the calling goroutine.
func ExhaustiveSearch(setup func(w *World), opts DFSOptions) DFSResult {
	var res DFSResult
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	every := max(opts.ProgressEvery, 1)
	progress := func() {
		if opts.Progress != nil {
			opts.Progress(Progress{Done: res.Schedules, Total: opts.MaxSchedules, Failures: len(res.Failures),
				Elapsed: time.Since(start)})
		}
	}
	defer progress()
	for bound := 0; bound <= opts.Bound; bound++ {
		res.Preemptions = bound
		var prefix []int
		for {
			if ctx.Err() != nil {
				res.Stopped = true
				return res
			}
			cfg := opts.Config
			cfg.Strategy = &Fixed{Prefix: prefix}
			w := New(cfg)
			setup(w)
			r := w.Run()
			res.Steps += r.Steps
			// Every schedule with fewer preemptions was counted in an
			// earlier round; the search re-runs them only to walk the tree.
			if r.Log.Preemptions() == bound {
				res.Schedules++
				if r.Failure != nil {
					res.Failures = append(res.Failures, r)
					if opts.OnFailure != nil {
						opts.OnFailure(r)
					}
					if !opts.KeepGoing {
						return res
					}
				}
				if res.Schedules%every == 0 {
					progress()
				}
				if opts.MaxSchedules > 0 && res.Schedules >= opts.MaxSchedules {
					return res
				}
			}
			var ok bool
			prefix, ok = nextPrefix(r.Log.Choices(), bound)
			if !ok {
				break
			}
		}
	}
	res.Exhausted = true
	return res
}

// nextPrefix backtracks over the choices of the last run: the deepest
// decision that can take its next alternative within the bound, with all
// decisions before it kept.
func nextPrefix(choices []Choice, bound int) ([]int, bool) {
	used := make([]int, len(choices)+1) // preemptions in choices[:i]
	for i, c := range choices {
		used[i+1] = used[i]
		if c.C != 0 && c.Preemptible {
			used[i+1]++
		}
	}
	for i := len(choices) - 1; i >= 0; i-- {
		c := choices[i]
		next := int(c.C) + 1
		if next >= int(c.N) {
			continue
		}
		cost := used[i]
		if c.Preemptible {
			cost++ // next >= 1 is a preemption
		}
		if cost > bound {
			continue
		}
		prefix := make([]int, i+1)
		for j := range i {
			prefix[j] = int(choices[j].C)
		}
		prefix[i] = next
		return prefix, true
	}
	return nil, false
}
