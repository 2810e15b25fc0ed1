package reports

import (
	_ "embed"
	"fmt"
	"github.com/wbsim/wbsim/sim"
	"html/template"
	"io"
	"regexp"
	"strings"
)

// Report is everything a report directory is written from.
type Report struct {
	Title  string  // e.g. "simrun explore abba-deadlock"
	Result *Result // result.json, junit.xml, the summary
	// Runs are the captured runs to draw: timelines, trace.json, trace.txt.
	// Usually each program's minimal failing schedule, or one passing run.
	Runs []*Run
	// Timing goes to timing.json only.
	Timing *Timing
}

//go:embed report.html.tmpl
var reportTemplate string

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc":   func(i int) int { return i + 1 },
	"deref": func(b *bool) bool { return b != nil && *b },
	"last":  func(s SeedRange) uint64 { return s.First + uint64(max(s.Count, 1)) - 1 },
}).Parse(reportTemplate))

type htmlFailure struct {
	ID      string
	N       int
	Program string
	FailureInfo
	Stack  string
	RunIdx int // index of the run drawing it, or -1
}

type htmlRun struct {
	ID       string
	Run      *Run
	Timeline *timeline
	Trace    string
	Failure  string
	Tasks    int
	Pages    int
}

type htmlInvariant struct {
	InvariantInfo
	Programs string
}

// htmlMaxEvents bounds the events of all the runs index.html shows.
const htmlMaxEvents = 20000

type htmlData struct {
	Title      string
	Result     *Result
	OK         bool
	Incomplete bool // not OK only because a run stopped before its budget
	Failures   []htmlFailure
	Runs       []htmlRun
	Invariants []htmlInvariant
	States     []PageState
	Programs   []ProgramResult
	Described  []ProgramResult // one per program, for descriptions
	Total      int
	// ScheduleHelp explains the one-line schedules the report shows.
	ScheduleHelp string
}

var (
	stackGoroutine = regexp.MustCompile(`(?m)^goroutine \d+ \[[^\]]*\]:\n`)
	stackArgs      = regexp.MustCompile(`(?m)\((?:0x|\{|\.\.\.)[^\n]*\)$`)
	stackCreatedIn = regexp.MustCompile(`(?m) in goroutine \d+$`)
	stackOffsets   = regexp.MustCompile(` \+0x[0-9a-f]+`)
)

// cleanStack drops what changes between runs from a Go stack (goroutine
// ids, argument words, code offsets), keeping functions, files and lines.
func cleanStack(s string) string {
	s = stackGoroutine.ReplaceAllString(s, "")
	s = stackArgs.ReplaceAllString(s, "(...)")
	s = stackCreatedIn.ReplaceAllString(s, "")
	return stackOffsets.ReplaceAllString(s, "")
}

// TotalSchedules is how many schedules a result ran, over all its program
// results: what the report's summary line says, and what simrun prints.
func TotalSchedules(r *Result) int {
	n := 0
	for _, p := range r.Programs {
		n += p.Schedules
	}
	return n
}

// WriteHTML writes the self-contained index.html.
func WriteHTML(w io.Writer, rep *Report) error {
	d := htmlData{Title: rep.Title, Result: rep.Result, OK: true, States: PageStates, ScheduleHelp: sim.LogHelp}
	if d.Title == "" {
		d.Title = "wbsim report"
	}
	// Each run gets an equal share of the events index.html draws and
	// narrates (about 350 bytes an event), so that it stays under 10 MB
	// however many long runs it shows; trace.txt and trace.json keep what
	// Capture kept.
	share := htmlMaxEvents / max(len(rep.Runs), 1)
	for i, r := range rep.Runs {
		r = r.Trim(share)
		hr := htmlRun{ID: fmt.Sprintf("run-%d", i+1), Run: r, Timeline: buildTimeline(r), Tasks: len(r.Tasks)}
		for _, l := range hr.Timeline.Lanes {
			if l.Kind == "page" {
				hr.Pages++
			}
		}
		var b strings.Builder
		_ = Narrate(&b, r, NarrateOptions{})
		hr.Trace = b.String()
		d.Runs = append(d.Runs, hr)
	}
	invIdx := map[string]int{}
	described := map[string]bool{}
	d.Total = TotalSchedules(rep.Result)
	failed := false
	for _, p := range rep.Result.Programs {
		d.Programs = append(d.Programs, p)
		if p.Description != "" && !described[p.Program] {
			described[p.Program] = true
			d.Described = append(d.Described, p)
		}
		if !p.OK {
			d.OK = false
		}
		if p.Verdict() == VerdictFail {
			failed = true
		}
		for _, f := range p.Failures {
			hf := htmlFailure{N: len(d.Failures) + 1, Program: p.Name(), FailureInfo: f, RunIdx: -1}
			hf.ID = fmt.Sprintf("failure-%d", hf.N)
			for ri, r := range rep.Runs {
				if r.Program == p.Program && r.Failed() && r.Seed == f.Seed && r.Result.Failure.Signature() == f.Signature {
					hf.RunIdx = ri
					if d.Runs[ri].Failure == "" {
						d.Runs[ri].Failure = hf.ID
					}
					hf.Stack = cleanStack(r.Result.Failure.Stack)
					break
				}
			}
			d.Failures = append(d.Failures, hf)
		}
		for _, inv := range p.Invariants {
			if i, ok := invIdx[inv.ID]; ok {
				if !strings.Contains(", "+d.Invariants[i].Programs+", ", ", "+p.Program+", ") {
					d.Invariants[i].Programs += ", " + p.Program
				}
				continue
			}
			invIdx[inv.ID] = len(d.Invariants)
			d.Invariants = append(d.Invariants, htmlInvariant{InvariantInfo: inv, Programs: p.Program})
		}
	}
	d.Incomplete = !d.OK && !failed
	return htmlTmpl.Execute(w, d)
}
