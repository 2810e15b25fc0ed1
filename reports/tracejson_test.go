package reports

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"pgregory.net/rapid"
)

type chromeEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  *float64       `json:"dur"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	ID   string         `json:"id"`
	Bp   string         `json:"bp"`
	S    string         `json:"s"`
	Args map[string]any `json:"args"`
}

func parseChrome(t testing.TB, data []byte) []chromeEvent {
	t.Helper()
	var doc struct {
		DisplayTimeUnit string        `json:"displayTimeUnit"`
		TraceEvents     []chromeEvent `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("trace.json does not parse: %v", err)
	}
	if len(doc.TraceEvents) == 0 {
		t.Fatal("trace.json has no events")
	}
	return doc.TraceEvents
}

// checkNesting verifies that on every track (pid, tid) the spans nest: B/E
// pairs match by name in LIFO order, and every X slice lies inside the
// span open around it and ends before that span does. Timestamps never go
// back on a track.
func checkNesting(evs []chromeEvent) error {
	type key struct{ pid, tid int }
	type open struct {
		name string
		ts   float64
	}
	type interval struct{ start, end float64 }
	stacks := map[key][]open{}
	lastTs := map[key]float64{}
	var xs = map[key][]interval{}
	var spans = map[key][]interval{}
	const eps = 1e-9
	for i, e := range evs {
		k := key{e.Pid, e.Tid}
		switch e.Ph {
		case "B", "E", "X":
		default:
			continue
		}
		if e.Ts+eps < lastTs[k] {
			return fmt.Errorf("event %d (%s %q): ts %.3f goes back on track %v (last %.3f)", i, e.Ph, e.Name, e.Ts, k, lastTs[k])
		}
		lastTs[k] = e.Ts
		switch e.Ph {
		case "B":
			stacks[k] = append(stacks[k], open{e.Name, e.Ts})
		case "E":
			st := stacks[k]
			if len(st) == 0 {
				return fmt.Errorf("event %d: E %q on track %v with no open span", i, e.Name, k)
			}
			top := st[len(st)-1]
			if top.name != e.Name {
				return fmt.Errorf("event %d: E %q on track %v closes %q", i, e.Name, k, top.name)
			}
			stacks[k] = st[:len(st)-1]
			spans[k] = append(spans[k], interval{top.ts, e.Ts})
		case "X":
			if e.Dur == nil || *e.Dur <= 0 {
				return fmt.Errorf("event %d: X %q without a positive dur", i, e.Name)
			}
			xs[k] = append(xs[k], interval{e.Ts, e.Ts + *e.Dur})
		}
	}
	for k, st := range stacks {
		if len(st) > 0 {
			return fmt.Errorf("track %v: %d spans never closed", k, len(st))
		}
	}
	// Laminar: any two intervals on a track are disjoint or nested. In
	// order of start (the longer first), each interval must end within
	// the innermost one still open around its start.
	for k := range lastTs {
		all := append(slices.Clone(spans[k]), xs[k]...)
		slices.SortFunc(all, func(a, b interval) int {
			if c := cmp.Compare(a.start, b.start); c != 0 {
				return c
			}
			return cmp.Compare(b.end, a.end)
		})
		var open []interval
		for _, b := range all {
			for len(open) > 0 && open[len(open)-1].end <= b.start+eps {
				open = open[:len(open)-1]
			}
			if len(open) > 0 {
				if a := open[len(open)-1]; b.end > a.end+eps {
					return fmt.Errorf("track %v: [%.3f, %.3f] and [%.3f, %.3f] overlap without nesting", k, a.start, a.end, b.start, b.end)
				}
			}
			open = append(open, b)
		}
	}
	return nil
}

// genProgram makes a random program: tasks whose bodies are random trees
// of kernel calls (Enter/Leave), points on shared objects, mutexes, sleeps
// and interrupts.
func genProgram(t *rapid.T) func(w *sim.World) {
	ntasks := rapid.IntRange(1, 4).Draw(t, "tasks")
	type op struct {
		kind  int // 0 point, 1 call, 2 mutex, 3 sleep, 4 irq
		name  string
		obj   int
		body  []op
		delay int
	}
	var gen func(depth int) []op
	gen = func(depth int) []op {
		n := rapid.IntRange(0, 4).Draw(t, "n")
		var out []op
		for range n {
			k := rapid.IntRange(0, 4).Draw(t, "kind")
			o := op{kind: k, name: rapid.SampledFrom([]string{"set_page_dirty", "lock_page", "unlock_page", "submit_bio",
				"set_page_writeback", "end_page_writeback", "load", "store"}).Draw(t, "op"), obj: rapid.IntRange(0, 3).Draw(t, "obj")}
			if k == 1 {
				if depth >= 3 {
					o.kind = 0
				} else {
					o.name = rapid.SampledFrom([]string{"sys_write", "write_cache_pages", "mpage_writepage", "submit_bio", "afs_writepages"}).Draw(t, "fn")
					o.body = gen(depth + 1)
				}
			}
			o.delay = rapid.IntRange(1, 50).Draw(t, "delay")
			out = append(out, o)
		}
		return out
	}
	bodies := make([][]op, ntasks)
	for i := range bodies {
		bodies[i] = gen(0)
	}
	return func(w *sim.World) {
		var mu sim.Mutex
		mu.Name = "m"
		obj := func(i int) sim.Obj {
			if i == 3 {
				return sim.Obj{Class: "bio", A: 1}
			}
			return sim.Obj{Class: PageClass, A: 1, B: int64(i)}
		}
		var exec func(t *sim.Task, ops []op)
		exec = func(t *sim.Task, ops []op) {
			for _, o := range ops {
				switch o.kind {
				case 0:
					t.Point(o.name, obj(o.obj), 0)
				case 1:
					t.Enter(o.name)
					exec(t, o.body)
					t.Leave()
				case 2:
					mu.Lock(t)
					t.Point(o.name, obj(o.obj), 0)
					mu.Unlock(t)
				case 3:
					t.Sleep(sim.Time(o.delay) * sim.Microsecond)
				case 4:
					ob := obj(o.obj)
					t.World().AfterIRQ(sim.Time(o.delay)*sim.Microsecond, "irq", func(t *sim.Task) {
						t.Enter("end_io")
						t.Point("end_page_writeback", ob, 0)
						t.Leave()
					})
				}
			}
		}
		for i, b := range bodies {
			w.Spawn(fmt.Sprintf("t%d", i), func(t *sim.Task) {
				t.Enter("syscall")
				defer t.Leave()
				exec(t, b)
			})
		}
	}
}

// checkTraceJSON checks the events of a trace.json written for runs
// (process i+1 is runs[i]; parseChrome parses it) against what Perfetto needs and what the run had:
//   - on every track (pid, tid) spans nest and every B has its E
//     (checkNesting);
//   - every task of a run, and the world (tid 0), has a thread_name, and
//     so does every track with events;
//   - every flow start "s" has exactly one finish "f" with the same id and
//     name, in the same process, at a later time;
//   - every counter "C" has args, all numbers;
//   - an "i" instant per fault (category fault) and per failure (category
//     fail) the run recorded, and one for the failure when the run failed.
func checkTraceJSON(evs []chromeEvent, runs []*Run) error {
	if err := checkNesting(evs); err != nil {
		return err
	}
	type track struct{ pid, tid int }
	named := map[track]bool{}
	type flow struct {
		starts, finishes []chromeEvent
	}
	flows := map[string]*flow{}
	var flowIDs []string
	instants := map[track]int{} // (pid, 0) faults, (pid, 1) failures
	for i, e := range evs {
		switch e.Ph {
		case "M":
			if e.Name == "thread_name" {
				if n, _ := e.Args["name"].(string); n == "" {
					return fmt.Errorf("event %d: thread_name of %d/%d without a name", i, e.Pid, e.Tid)
				}
				named[track{e.Pid, e.Tid}] = true
			}
		case "s", "f":
			if e.ID == "" {
				return fmt.Errorf("event %d: flow %q without an id", i, e.Ph)
			}
			f := flows[e.ID]
			if f == nil {
				f = &flow{}
				flows[e.ID] = f
				flowIDs = append(flowIDs, e.ID)
			}
			if e.Ph == "s" {
				f.starts = append(f.starts, e)
			} else {
				f.finishes = append(f.finishes, e)
			}
		case "C":
			if len(e.Args) == 0 {
				return fmt.Errorf("event %d: counter %q without args", i, e.Name)
			}
			for k, v := range e.Args {
				if _, ok := v.(float64); !ok {
					return fmt.Errorf("event %d: counter %q: args.%s = %v is not a number", i, e.Name, k, v)
				}
			}
		case "i":
			switch {
			case e.Cat == "fault" && e.S == "t":
				instants[track{e.Pid, 0}]++
			case e.Cat == "fail" && e.S == "g":
				instants[track{e.Pid, 1}]++
			case e.Cat == "omitted" && e.S == "g":
				// a long run's gap (WriteTraceJSON keeps its first and
				// last events)
			default:
				return fmt.Errorf("event %d: instant %q of category %q, scope %q", i, e.Name, e.Cat, e.S)
			}
		}
	}
	for i, e := range evs {
		if e.Ph != "M" && e.Ph != "C" && !named[track{e.Pid, e.Tid}] {
			return fmt.Errorf("event %d (%s %q): track %d/%d has no thread_name", i, e.Ph, e.Name, e.Pid, e.Tid)
		}
	}
	for _, id := range flowIDs {
		f := flows[id]
		if len(f.starts) != 1 || len(f.finishes) != 1 {
			return fmt.Errorf("flow %s: %d starts and %d finishes, want one each", id, len(f.starts), len(f.finishes))
		}
		s, e := f.starts[0], f.finishes[0]
		if s.Name != e.Name || s.Pid != e.Pid || e.Ts <= s.Ts {
			return fmt.Errorf("flow %s: start %q at %d/%d ts %.3f, finish %q at %d/%d ts %.3f", id, s.Name, s.Pid, s.Tid, s.Ts,
				e.Name, e.Pid, e.Tid, e.Ts)
		}
	}
	for ri, r := range runs {
		pid := ri + 1
		if !named[track{pid, 0}] {
			return fmt.Errorf("run %d: the world has no thread_name", pid)
		}
		for _, t := range r.Tasks {
			if !named[track{pid, int(t.ID) + 1}] {
				return fmt.Errorf("run %d: task %s has no thread_name", pid, t.Name)
			}
		}
		var faults, fails int
		for _, ev := range r.Events {
			switch ev.Kind {
			case sim.KindFault:
				faults++
			case sim.KindFail:
				fails++
			}
		}
		if got := instants[track{pid, 0}]; got != faults {
			return fmt.Errorf("run %d: %d fault instants for %d faults", pid, got, faults)
		}
		if got := instants[track{pid, 1}]; got != fails || r.Result.Failure != nil && got == 0 {
			return fmt.Errorf("run %d: %d failure instants for %d failure events (failure: %v)", pid, got, fails, r.Result.Failure)
		}
	}
	return nil
}

// TestTraceJSONIsWellFormed renders random programs under random
// schedules and checks the trace (checkTraceJSON).
func TestTraceJSONIsWellFormed(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		setup := genProgram(rt)
		seed := rapid.Uint64().Draw(rt, "seed")
		run := Capture(setup, sim.Config{Seed: seed, Strategy: sim.NewRandom(seed), MaxSteps: 10000})
		run.Program = "generated"
		var buf bytes.Buffer
		if err := WriteTraceJSON(&buf, []*Run{run, run}); err != nil {
			rt.Fatal(err)
		}
		if err := checkTraceJSON(parseChrome(t, buf.Bytes()), []*Run{run, run}); err != nil {
			rt.Fatalf("%v\nschedule %s", err, run.Result.Log)
		}
	})
}

func TestTraceJSONOfToy(t *testing.T) {
	run := Capture(toyWriteback, sim.Config{Seed: 3, Strategy: sim.NewRandom(3)})
	run.Program = "toy"
	var buf bytes.Buffer
	if err := WriteTraceJSON(&buf, []*Run{run}); err != nil {
		t.Fatal(err)
	}
	evs := parseChrome(t, buf.Bytes())
	if err := checkNesting(evs); err != nil {
		t.Fatal(err)
	}
	var starts, ends, dirtyCounter, spans int
	for _, e := range evs {
		switch {
		case e.Ph == "s" && e.Name == "bio":
			starts++
		case e.Ph == "f" && e.Name == "bio":
			ends++
			if e.Bp != "e" {
				t.Errorf("flow end without bp=e")
			}
		case e.Ph == "C" && e.Name == "pages dirty":
			dirtyCounter++
		case e.Ph == "B":
			spans++
		}
	}
	if starts == 0 || starts != ends {
		t.Errorf("bio flows: %d starts, %d ends; want equal and > 0", starts, ends)
	}
	if dirtyCounter < 2 || spans == 0 {
		t.Errorf("want page counters and kernel spans, got %d counter samples, %d spans", dirtyCounter, spans)
	}
	// Deterministic.
	var again bytes.Buffer
	_ = WriteTraceJSON(&again, []*Run{Capture(toyWriteback, sim.Config{Seed: 3, Strategy: sim.NewRandom(3)})})
	var first bytes.Buffer
	r2 := Capture(toyWriteback, sim.Config{Seed: 3, Strategy: sim.NewRandom(3)})
	_ = WriteTraceJSON(&first, []*Run{r2})
	if !bytes.Equal(again.Bytes(), first.Bytes()) {
		t.Error("trace.json differs between two runs of one seed")
	}
}

func TestUsTime(t *testing.T) {
	for ns, want := range map[int64]string{0: "0.000", 1: "0.001", 1500: "1.500", 3600e9: "3600000000.000", -2: "-0.002"} {
		b, _ := usTime(ns).MarshalJSON()
		if string(b) != want {
			t.Errorf("usTime(%d) = %s, want %s", ns, b, want)
		}
	}
}

func TestCheckNestingCatchesBadTraces(t *testing.T) {
	d := func(v float64) *float64 { return &v }
	bad := [][]chromeEvent{
		{{Ph: "B", Name: "f", Ts: 1}, {Ph: "B", Name: "g", Ts: 2}, {Ph: "E", Name: "f", Ts: 3}, {Ph: "E", Name: "g", Ts: 4}},
		{{Ph: "B", Name: "f", Ts: 1}, {Ph: "X", Name: "x", Ts: 2, Dur: d(5)}, {Ph: "E", Name: "f", Ts: 3}},
		{{Ph: "B", Name: "f", Ts: 1}},
		{{Ph: "E", Name: "f", Ts: 1}},
		{{Ph: "X", Name: "x", Ts: 2, Dur: d(1)}, {Ph: "X", Name: "y", Ts: 1, Dur: d(1)}},
	}
	for i, evs := range bad {
		if checkNesting(evs) == nil {
			t.Errorf("bad trace %d passed", i)
		}
	}
	good := []chromeEvent{{Ph: "B", Name: "f", Ts: 1}, {Ph: "X", Name: "x", Ts: 2, Dur: d(1)}, {Ph: "B", Name: "g", Ts: 3},
		{Ph: "E", Name: "g", Ts: 4}, {Ph: "E", Name: "f", Ts: 4}}
	if err := checkNesting(good); err != nil {
		t.Errorf("good trace: %v", err)
	}
}
