package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// Study is the strategies data file: for every bug seed and strategy, the
// schedules each of Seeds explorations took to find the bug's expected
// failure, and the shrunk first failure of each bug.
type Study struct {
	Seeds int `json:"seeds"`
	// Budget is the schedules per exploration if set by -budget; 0 means
	// each scenario's own (BugStudy.Budget).
	Budget     int        `json:"budget,omitempty"`
	DFSBound   int        `json:"dfs_bound"`
	Strategies []string   `json:"strategies"`
	Bugs       []BugStudy `json:"bugs"`
}

// BugStudy is one bug seed's row.
type BugStudy struct {
	ID        string `json:"id"`
	Scenario  string `json:"scenario"`
	Version   string `json:"version"`
	Invariant string `json:"invariant"`
	Budget    int    `json:"budget"`
	// Strategy is the scenario's own strategy.
	Strategy string `json:"strategy"`
	// Results are in Study.Strategies order.
	Results []StrategyResult `json:"results"`
	Shrink  *ShrinkResult    `json:"shrink,omitempty"`
}

// StrategyResult is one strategy on one bug over all seeds.
type StrategyResult struct {
	Strategy string `json:"strategy"`
	// Found counts the seeds whose exploration found the bug in budget.
	Found int `json:"found"`
	// Median is over the found seeds' Schedules (0 if none found).
	Median float64 `json:"median"`
	// Schedules is, per seed, the 1-based schedule that found the bug,
	// 0 if none within the budget.
	Schedules []int `json:"schedules"`
	// Seconds is the time its explorations took, added up (a timing: the
	// one part of the file that differs between runs).
	Seconds float64 `json:"seconds"`
}

// ShrinkResult is the bug's first failure found by its scenario as
// catalogued (its own strategy and seed), shrunk with sim.Shrink.
type ShrinkResult struct {
	Strategy          string  `json:"strategy"`
	Seed              uint64  `json:"seed"`
	PreemptionsBefore int     `json:"preemptions_before"`
	PreemptionsAfter  int     `json:"preemptions_after"`
	Seconds           float64 `json:"seconds"`
}

// studyStrategy is a column of the study.
type studyStrategy struct {
	name string
	s    scenarios.Strategy
}

func studyStrategies(dfsBound int) []studyStrategy {
	l := []studyStrategy{{"random", scenarios.Random()}}
	for d := 1; d <= 3; d++ {
		l = append(l, studyStrategy{strategyName(scenarios.PCT(d)), scenarios.PCT(d)})
	}
	return append(l, studyStrategy{strategyName(scenarios.DFS(dfsBound)), scenarios.DFS(dfsBound)})
}

// strategyName is the column name of a strategy: random, pct-d2, dfs-b2.
func strategyName(s scenarios.Strategy) string {
	switch s.Kind {
	case scenarios.StrategyPCT:
		return fmt.Sprintf("pct-d%d", max(s.Depth, 1))
	case scenarios.StrategyDFS:
		return fmt.Sprintf("dfs-b%d", s.Bound)
	case scenarios.StrategyRR:
		return fmt.Sprintf("rr-q%d", s.Quantum)
	}
	return string(s.Kind)
}

// The study's defaults, shared by strategies and regen.
const (
	defaultSeeds    = 20
	defaultDFSBound = 2
)

type studyOptions struct {
	seeds, budget, dfsBound int
	id                      string // only this bug seed, if set
	workers                 int
}

func cmdStrategies(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("strategies", "[flags]",
		"For every bug seed in the catalogue (its fix off, every other fix on) and each\n"+
			"strategy (random walk, PCT d=1..3, bounded DFS), runs one exploration per seed\n"+
			"and records the schedules it took to find the bug's expected failure; then\n"+
			"shrinks each bug's first found failure (under the scenario's own strategy).\n"+
			"Random and PCT exploration i starts at seed S+i*budget (disjoint seed ranges,\n"+
			"S the scenario's seed); DFS is systematic, so its run i sets the world seed S+i.\n"+
			"Prints progress to stderr, a markdown table to stdout, and writes the data.")
	o := studyOptions{workers: runtime.GOMAXPROCS(0)}
	fs.IntVar(&o.seeds, "seeds", defaultSeeds, "explorations (seeds) per bug and strategy")
	fs.IntVar(&o.budget, "budget", 0, "schedules per exploration (0: each scenario's own budget)")
	fs.IntVar(&o.dfsBound, "dfs-bound", defaultDFSBound, "preemption bound of the DFS strategy")
	fs.StringVar(&o.id, "id", "", "study only the bug seed with this id")
	out := fs.String("out", "docs/bench/strategies.json", "the JSON data file to write (\"\" for none)")
	if code, ok := parseFlags(fs, args, 0, stdout, stderr); !ok {
		return code
	}
	switch {
	case o.seeds < 1:
		return fail(stderr, "strategies", fmt.Errorf("-seeds must be at least 1"))
	case o.budget < 0:
		return fail(stderr, "strategies", fmt.Errorf("-budget must not be negative"))
	case o.dfsBound < 0 || o.dfsBound > scenarios.MaxBound:
		return fail(stderr, "strategies", fmt.Errorf("-dfs-bound must be in 0..%d", scenarios.MaxBound))
	}
	st, err := runStudy(ctx, o, stderr)
	if err != nil {
		return fail(stderr, "strategies", err)
	}
	writeStudyTable(stdout, st)
	if *out != "" {
		if err := writeJSON(*out, st); err != nil {
			return fail(stderr, "strategies", err)
		}
		fmt.Fprintf(stderr, "wrote %s\n", *out)
	}
	return exitOK
}

// bugSetup is a bug seed ready to run with its fix off.
type bugSetup struct {
	s      *scenarios.Scenario // with defaults
	opts   srun.Options        // fix off
	setup  func(*sim.World)
	cfg    sim.Config
	budget int
}

// cellResult is one exploration: bug × strategy × seed.
type cellResult struct {
	found   int // the schedule that found it, 0 if none
	elapsed time.Duration
}

// runStudy runs every (bug, strategy, seed) exploration on o.workers
// goroutines, one exploration per goroutine at a time (each on a single
// sim worker, so its answer does not depend on timing), and assembles the
// results in catalogue order.
func runStudy(ctx context.Context, o studyOptions, progress io.Writer) (*Study, error) {
	cat, err := srun.Catalogue()
	if err != nil {
		return nil, err
	}
	var bugs []bugSetup
	for _, s := range cat {
		if o.id != "" && s.Bug.ID != o.id {
			continue
		}
		b := bugSetup{s: s.WithDefaults(), opts: srun.FixOff(s, srun.Options{Workers: 1, Context: ctx})}
		b.budget = orDefault(o.budget, b.s.Explore.Schedules)
		if b.setup, b.cfg, err = srun.BuildWith(s, b.opts); err != nil {
			return nil, fmt.Errorf("%s: %v", s.Bug.ID, err)
		}
		bugs = append(bugs, b)
	}
	if len(bugs) == 0 {
		return nil, fmt.Errorf("no bug seed %q", o.id)
	}
	strats := studyStrategies(o.dfsBound)
	ns, nk := len(strats), o.seeds
	cells := make([]cellResult, len(bugs)*ns*nk)
	left := make([]int, len(bugs)*ns) // unfinished seeds per row
	for i := range left {
		left[i] = nk
	}
	var (
		next atomic.Int64
		mu   sync.Mutex
		rows int
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range max(o.workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(cells) {
					return
				}
				bi, si, k := i/(ns*nk), i/nk%ns, i%nk
				cells[i] = explore(&bugs[bi], strats[si].s, k)
				mu.Lock()
				row := bi*ns + si
				if left[row]--; left[row] == 0 {
					rows++
					r := summarise(strats[si].name, cells[row*nk:(row+1)*nk])
					fmt.Fprintf(progress, "[%3d/%d %5.1fs] %-34s %-7s found %d/%d, median %s\n", rows, len(left),
						time.Since(start).Seconds(), bugs[bi].s.Bug.ID, r.Strategy, r.Found, nk, fmtMedian(r))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted")
	}

	st := &Study{Seeds: nk, Budget: o.budget, DFSBound: o.dfsBound}
	for _, s := range strats {
		st.Strategies = append(st.Strategies, s.name)
	}
	for bi, b := range bugs {
		own := strategyName(b.s.Explore.Strategy)
		bs := BugStudy{ID: b.s.Bug.ID, Scenario: b.s.Name, Version: string(b.s.Kernel), Invariant: b.s.Expect.Failure,
			Budget: b.budget, Strategy: own}
		for si, s := range strats {
			bs.Results = append(bs.Results, summarise(s.name, cells[(bi*ns+si)*nk:(bi*ns+si+1)*nk]))
		}
		st.Bugs = append(st.Bugs, bs)
	}
	shrinkAll(st, bugs, o.workers, progress)
	return st, nil
}

// explore runs exploration k of bug b under strategy s, on one worker.
func explore(b *bugSetup, s scenarios.Strategy, k int) cellResult {
	sc := *b.s
	sc.Explore.Strategy = s
	sc.Explore.Schedules = b.budget
	if s.Kind == scenarios.StrategyDFS {
		sc.Explore.Seed += uint64(k)
	} else {
		sc.Explore.Seed += uint64(k * b.budget)
	}
	v := srun.CheckWith(&sc, b.opts)
	c := cellResult{elapsed: v.Elapsed}
	if v.Pass {
		c.found = v.SchedulesToFind
	}
	return c
}

// summarise turns one row of cells into a strategy's result.
func summarise(name string, row []cellResult) StrategyResult {
	r := StrategyResult{Strategy: name, Schedules: make([]int, len(row))}
	var found []int
	var secs time.Duration
	for k, c := range row {
		r.Schedules[k] = c.found
		secs += c.elapsed
		if c.found > 0 {
			found = append(found, c.found)
		}
	}
	r.Found, r.Median, r.Seconds = len(found), median(found), secs.Seconds()
	return r
}

// median of xs, 0 if empty.
func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return medianOf(f)
}

// shrinkAll explores each bug as the catalogue has it (its own strategy
// and seed, the study's budget, one worker), shrinks the first failure
// found, and records the result in st; bugs run in parallel on up to
// workers goroutines.
func shrinkAll(st *Study, bugs []bugSetup, workers int, progress io.Writer) {
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				bi := int(next.Add(1) - 1)
				if bi >= len(bugs) {
					return
				}
				b := &bugs[bi]
				sc := *b.s
				sc.Explore.Schedules = b.budget
				v := srun.CheckWith(&sc, b.opts)
				if !v.Pass {
					continue
				}
				start := time.Now()
				small, _ := sim.Shrink(b.setup, b.cfg, v.Result.Log, 0)
				sr := &ShrinkResult{Strategy: st.Bugs[bi].Strategy, Seed: v.Result.Log.Seed,
					PreemptionsBefore: v.Result.Log.Preemptions(), PreemptionsAfter: small.Preemptions(),
					Seconds: time.Since(start).Seconds()}
				mu.Lock()
				st.Bugs[bi].Shrink = sr
				fmt.Fprintf(progress, "shrunk %-34s %d -> %d preemptions in %.2fs\n", st.Bugs[bi].ID,
					sr.PreemptionsBefore, sr.PreemptionsAfter, sr.Seconds)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// orDefault is v, or d if v is 0.
func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func fmtMedian(r StrategyResult) string {
	if r.Found == 0 {
		return "—"
	}
	return strconv.FormatFloat(r.Median, 'f', -1, 64)
}

// writeStudyTable prints the study as a markdown table.
func writeStudyTable(w io.Writer, st *Study) {
	var b strings.Builder
	b.WriteString("| bug seed | version | invariant | budget |")
	for _, s := range st.Strategies {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString(" preemptions, shrunk | shrink time |\n|---|---|---|---:|")
	b.WriteString(strings.Repeat("---:|", len(st.Strategies)+2) + "\n")
	for _, bug := range st.Bugs {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d |", bug.ID, bug.Version, bug.Invariant, bug.Budget)
		for _, r := range bug.Results {
			mark := ""
			if r.Strategy == bug.Strategy {
				mark = "*" // the scenario's own strategy
			}
			fmt.Fprintf(&b, " %s%s (%d/%d) |", fmtMedian(r), mark, r.Found, st.Seeds)
		}
		if s := bug.Shrink; s != nil {
			fmt.Fprintf(&b, " %d → %d | %s |", s.PreemptionsBefore, s.PreemptionsAfter, fmtSeconds(s.Seconds))
		} else {
			b.WriteString(" — | — |")
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\nCells: median schedules to the first failure over the seeds that found it (found/seeds);"+
		" * marks the scenario's own strategy; — none found within the budget.\n")
	io.WriteString(w, b.String())
}

func fmtSeconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.1f ms", s*1000)
	}
	return fmt.Sprintf("%.2f s", s)
}

// writeJSON writes v as indented JSON to path, creating its directory.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
