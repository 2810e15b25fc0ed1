package reports

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// ExplorerFile is the step-through explorer page, next to index.html.
const ExplorerFile = "explorer.html"

//go:embed explorer.html.tmpl
var explorerPage string

// explorerRun is one run as the explorer's script reads it. Step i is
// event i of the trace; the state shown at step i is the state after it
// (frame i+1 of the recording).
type explorerRun struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Program  string   `json:"program"`
	Strategy string   `json:"strategy"`
	Seed     uint64   `json:"seed"`
	Era      string   `json:"era"`
	Tasks    []string `json:"tasks"`
	// Alive is, for each task, the steps of its spawn and its exit (the
	// last step if it never exited).
	Alive [][2]int `json:"alive"`
	// Events are [task, kind, op, object, arg, msg, stack, time ns]; stack
	// indexes Stacks (-1: empty), the event's task's call stack after it.
	Events [][]any              `json:"events"`
	Stacks [][]int              `json:"stacks"`
	Calls  []sourceRef          `json:"calls"`
	Tables []snapshot.TableInfo `json:"tables"`
	// Frames are {"k":1 for a keyframe, "c": [[table, key, cells or 0]],
	// "o": {table: what was left out}}.
	Frames    []map[string]any `json:"frames"`
	Truncated string           `json:"truncated,omitempty"`
	Failure   *explorerFailure `json:"failure,omitempty"`
	// Ops are the scenario operations in the order the tasks began them.
	Ops []opMark `json:"ops"`
}

// scenarioTable is the recorded table of what each scenario task is
// doing (scenarios/run.ScenarioTable; a test checks they agree): rows of
// [task, "file:line:col: op"].
const scenarioTable = "scenario tasks"

// opMark is the step at which a scenario task began an operation; N
// counts the task's earlier runs of the same operation (a repeat).
type opMark struct {
	Task string `json:"task"`
	Op   string `json:"op"`
	N    int    `json:"n"`
	Step int    `json:"step"`
}

// Key names the mark across runs of one scenario.
func (o opMark) Key() string { return fmt.Sprintf("%s\x00%s\x00%d", o.Task, o.Op, o.N) }

// opMarks finds, in a recorded run, the step at which each scenario
// operation began: the event after which the scenario table first shows
// it.
func opMarks(l *snapshot.Log) []opMark {
	ti := slices.IndexFunc(l.Tables, func(t snapshot.TableInfo) bool { return t.Name == scenarioTable })
	if ti < 0 {
		return []opMark{}
	}
	cur := map[string]string{} // row key -> op cells joined
	seen := map[string]int{}
	out := []opMark{}
	for f, fr := range l.Frames {
		for _, c := range fr.Changes {
			if c.Table != ti || c.Cells == nil || len(c.Cells) < 2 {
				continue
			}
			v := c.Cells[0] + "\x00" + c.Cells[1]
			if cur[c.Key] == v {
				continue // a keyframe repeating it
			}
			cur[c.Key] = v
			m := opMark{Task: c.Cells[0], Op: c.Cells[1], N: seen[v], Step: max(f-1, 0)}
			seen[v]++
			out = append(out, m)
		}
	}
	return out
}

type explorerFailure struct {
	Step      int    `json:"step"`
	Kind      string `json:"kind"`
	Invariant string `json:"invariant,omitempty"`
	Task      string `json:"task,omitempty"`
	Msg       string `json:"msg"`
	Explain   string `json:"explain,omitempty"`
}

// explorerData turns a captured run into the explorer's data.
func explorerData(id string, r *Run) explorerRun {
	x := explorerRun{ID: id, Title: r.Title, Program: r.Program, Strategy: r.Strategy, Seed: r.Seed,
		Events: make([][]any, 0, len(r.Events)), Stacks: [][]int{}, Calls: []sourceRef{}, Tables: []snapshot.TableInfo{},
		Frames: []map[string]any{}}
	x.Alive = make([][2]int, len(r.Tasks))
	for i, t := range r.Tasks {
		x.Tasks = append(x.Tasks, t.Name)
		x.Alive[i] = [2]int{0, max(len(r.Events)-1, 0)}
	}
	for i, ev := range r.Events {
		if ev.Obj.Class != "task" || ev.Obj.A < 0 || int(ev.Obj.A) >= len(r.Tasks) {
			continue
		}
		switch ev.Kind {
		case sim.KindSpawn:
			x.Alive[ev.Obj.A][0] = i
		case sim.KindExit:
			x.Alive[ev.Obj.A][1] = i
		}
	}
	var cites []string
	for _, ev := range r.Events {
		if ev.Kind == sim.KindEnter && ev.Msg != "" {
			cites = append(cites, ev.Msg)
		}
	}
	x.Era = eraOf(cites)
	callIdx := map[string]int{}
	stackIdx := map[string]int{}
	stacks := map[int32][]int{} // task -> call indexes, outermost first
	for i, ev := range r.Events {
		switch ev.Kind {
		case sim.KindEnter:
			key := ev.Op + "\x00" + ev.Msg
			c, ok := callIdx[key]
			if !ok {
				c = len(x.Calls)
				callIdx[key] = c
				x.Calls = append(x.Calls, citeSource(ev.Op, ev.Msg, x.Era))
			}
			stacks[ev.Task] = append(stacks[ev.Task], c)
		case sim.KindLeave:
			if s := stacks[ev.Task]; len(s) > 0 {
				stacks[ev.Task] = s[:len(s)-1]
			}
		}
		st := -1
		if s := stacks[ev.Task]; len(s) > 0 {
			key := fmt.Sprint(s)
			var ok bool
			if st, ok = stackIdx[key]; !ok {
				st = len(x.Stacks)
				stackIdx[key] = st
				x.Stacks = append(x.Stacks, append([]int(nil), s...))
			}
		}
		msg := ev.Msg
		if ev.Kind == sim.KindEnter {
			msg = "" // the citation, shown with the call stack
		}
		x.Events = append(x.Events, []any{ev.Task, ev.Kind.String(), ev.Op, ObjString(ev.Obj), ev.Arg, msg, st, int64(ev.Time)})
		if ev.Kind == sim.KindFail && x.Failure == nil && r.Failed() {
			f := r.Result.Failure
			x.Failure = &explorerFailure{Step: i, Kind: string(f.Kind), Invariant: f.Invariant, Task: f.Task,
				Msg: f.Msg, Explain: f.Explain}
		}
	}
	if r.Failed() && x.Failure == nil {
		// The failure came from outside a task's events (a deadlock found
		// by the scheduler): pin it to the last step.
		f := r.Result.Failure
		x.Failure = &explorerFailure{Step: max(len(r.Events)-1, 0), Kind: string(f.Kind), Invariant: f.Invariant,
			Task: f.Task, Msg: f.Msg, Explain: f.Explain}
	}
	x.Ops = []opMark{}
	if r.States != nil {
		x.Ops = opMarks(r.States)
		x.Tables = r.States.Tables
		x.Truncated = r.States.Truncated
		for _, f := range r.States.Frames {
			m := map[string]any{}
			if f.Key {
				m["k"] = 1
			}
			if len(f.Changes) > 0 {
				cs := make([][]any, len(f.Changes))
				for j, c := range f.Changes {
					var cells any = 0
					if c.Cells != nil {
						cells = c.Cells
					}
					cs[j] = []any{c.Table, c.Key, cells}
				}
				m["c"] = cs
			}
			if len(f.Omitted) > 0 {
				m["o"] = f.Omitted
			}
			x.Frames = append(x.Frames, m)
		}
	}
	return x
}

// WriteExplorer writes explorer.html: the step-through explorer of rep's
// captured runs, self-contained (its script, style and data inline).
func WriteExplorer(w io.Writer, rep *Report) error {
	title := rep.Title
	if title == "" {
		title = "wbsim report"
	}
	var runs []explorerRun
	for i, r := range rep.Runs {
		runs = append(runs, explorerData(fmt.Sprintf("run-%d", i+1), r))
	}
	if runs == nil {
		runs = []explorerRun{}
	}
	data, err := json.Marshal(runs) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	page := strings.NewReplacer("{{TITLE}}", html.EscapeString(title+" — explorer"), "{{DATA}}", string(data)).Replace(explorerPage)
	_, err = io.WriteString(w, page)
	return err
}
