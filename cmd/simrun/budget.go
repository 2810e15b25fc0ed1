package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/wbsim/wbsim/scenarios"
)

// The memory model of a world, measured (docs/cli.md, "Resource
// budgets"): a 1 GiB write on a 2 GiB disk ran 15.5 million steps in one
// world of 274 MB, about 1 KiB per page (the page, its buffers and block
// state, and the decision log of its steps), and 64 worlds of
// first-writeback at once took 6.4 MB more than one. The estimate doubles
// the first and takes ten times the second, for margin. Captured runs keep at most reports.CaptureHead +
// reports.CaptureTail events, so a report costs a few MB whatever the run.
const (
	worldBaseBytes      = 1 << 20
	bytesPerPageTouched = 2 << 10
	pageBytes           = 4096
	// defaultMemoryBudget is --memory-budget's default: the memory all the
	// worlds of one command may need at once.
	defaultMemoryBudget = 2 << 30
)

// pagesTouched is how many page-cache pages a scenario's system calls
// write or read at most: each write, pwrite, mmap-write and read counts
// the pages its range covers, "repeat N" N times its block. A "repeat
// until" block counts once: its iterations are bounded by the run's step
// and time budgets, not known beforehand. A blockfs disk caps what can be
// written (past it writes fail with ENOSPC). Planted races touch none.
func pagesTouched(s *scenarios.Scenario) int64 {
	if s == nil {
		return 0
	}
	var count func(ops []scenarios.Op) int64
	count = func(ops []scenarios.Op) int64 {
		var pages int64
		for _, op := range ops {
			switch op.Kind {
			case scenarios.OpWrite, scenarios.OpPWrite, scenarios.OpMmapWrite, scenarios.OpRead:
				pages += (op.Len + pageBytes - 1) / pageBytes
			case scenarios.OpRepeat:
				pages += max(op.Count, 1) * count(op.Body)
			}
		}
		return pages
	}
	var pages int64
	if s.Setup != nil {
		pages += count(s.Setup.Ops)
	}
	for _, t := range s.Tasks {
		pages += count(t.Ops)
	}
	if b := s.WithDefaults().FS.BlockFS; b != nil {
		pages = min(pages, 2*b.Capacity/pageBytes) // written, then read back
	}
	return pages
}

// worldMemory estimates the memory one world of p needs.
func worldMemory(p *program) int64 {
	return worldBaseBytes + bytesPerPageTouched*pagesTouched(p.Scenario)
}

// checkMemory refuses, before anything is allocated, a command that would
// run worlds worlds of p at once beyond its memory budget (memoryBudget).
func checkMemory(p *program, worlds int, flag *sizeFlag) error {
	budget, from := memoryBudget(p, flag)
	one := worldMemory(p)
	need := one * int64(worlds)
	if need <= budget {
		return nil
	}
	how := "one world"
	if worlds > 1 {
		how = fmt.Sprintf("%d worlds at once (--workers) of %s each", worlds, formatBytes(one))
	}
	why := fmt.Sprintf("%s a world", formatBytes(worldBaseBytes))
	if pages := pagesTouched(p.Scenario); pages > 0 {
		why += fmt.Sprintf(" and its system calls touch %d pages, at about %s a page", pages, formatBytes(bytesPerPageTouched))
	}
	return fmt.Errorf("%s needs about %s of memory, %s (%s); the memory budget is %s (%s): "+
		"write and read less, use fewer --workers, or raise the budget",
		p.replayName(), formatBytes(need), how, why, formatBytes(budget), from)
}

// memoryBudget is the memory all the worlds of one command may need at
// once, and where it comes from: --memory-budget when given on the command
// line, else the scenario's "memory" in its explore block, else the
// default (docs/cli.md, "Resource budgets").
func memoryBudget(p *program, flag *sizeFlag) (budget int64, from string) {
	if flag.set {
		return flag.v, "--memory-budget"
	}
	if s := p.Scenario; s != nil && s.Explore.Memory != 0 {
		from = "the scenario's explore memory setting"
		if pos := s.Settings["explore.memory"].Pos; pos.IsValid() {
			from += " at " + pos.String()
		}
		return s.Explore.Memory, from + "; --memory-budget overrides it"
	}
	return flag.v, "--memory-budget"
}

// sizeFlag is a byte size flag: 512MiB, 2GiB, 1000000. set says it was
// given on the command line.
type sizeFlag struct {
	v   int64
	set bool
}

// sizeUnits are the binary units a size takes, largest first.
var sizeUnits = []struct {
	sfx string
	n   int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

func (f *sizeFlag) String() string {
	if f == nil {
		return ""
	}
	for _, u := range sizeUnits {
		if f.v >= u.n && f.v%u.n == 0 {
			return strconv.FormatInt(f.v/u.n, 10) + u.sfx
		}
	}
	return strconv.FormatInt(f.v, 10)
}

func (f *sizeFlag) Set(s string) error {
	num, unit := s, int64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.sfx); ok {
			num, unit = n, u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > (1<<62)/unit {
		return errors.New("want a size such as 512MiB or 4GiB")
	}
	f.v, f.set = n*unit, true
	return nil
}

func memoryBudgetFlag(fs *flag.FlagSet) *sizeFlag {
	f := &sizeFlag{v: defaultMemoryBudget}
	fs.Var(f, "memory-budget", "refuse to start a run estimated to need more memory than `SIZE` (e.g. 4GiB; overrides the scenario's explore memory; see docs/cli.md)")
	return f
}

// formatBytes prints n in the largest binary unit that keeps one decimal.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
