package reports

import (
	"bytes"
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
	// Laminar: any two intervals on a track are disjoint or nested.
	for k := range lastTs {
		all := append(slices.Clone(spans[k]), xs[k]...)
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				a, b := all[i], all[j]
				disjoint := a.end <= b.start+eps || b.end <= a.start+eps
				aInB := b.start <= a.start+eps && a.end <= b.end+eps
				bInA := a.start <= b.start+eps && b.end <= a.end+eps
				if !disjoint && !aInB && !bInA {
					return fmt.Errorf("track %v: [%.3f, %.3f] and [%.3f, %.3f] overlap without nesting", k, a.start, a.end, b.start, b.end)
				}
			}
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

// TestTraceJSONNests renders random programs under random schedules and
// checks that every track's spans nest, names are set for every thread,
// and flows pair up.
func TestTraceJSONNests(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		setup := genProgram(rt)
		seed := rapid.Uint64().Draw(rt, "seed")
		run := Capture(setup, sim.Config{Seed: seed, Strategy: sim.NewRandom(seed), MaxSteps: 10000})
		run.Program = "generated"
		var buf bytes.Buffer
		if err := WriteTraceJSON(&buf, []*Run{run, run}); err != nil {
			rt.Fatal(err)
		}
		evs := parseChrome(t, buf.Bytes())
		if err := checkNesting(evs); err != nil {
			rt.Fatalf("%v\nschedule %s", err, run.Result.Log)
		}
		named := map[[2]int]bool{}
		flows := map[string]int{}
		for _, e := range evs {
			if e.Ph == "M" && e.Name == "thread_name" {
				named[[2]int{e.Pid, e.Tid}] = true
			}
			switch e.Ph {
			case "s":
				flows[e.ID]++
			case "f":
				flows[e.ID] += 10
			}
		}
		for _, e := range evs {
			if (e.Ph == "B" || e.Ph == "X") && !named[[2]int{e.Pid, e.Tid}] {
				rt.Fatalf("track %d/%d has no thread_name", e.Pid, e.Tid)
			}
		}
		for id, n := range flows {
			if n != 1 && n != 11 {
				rt.Fatalf("flow %s: %d starts and %d ends", id, n%10, n/10)
			}
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
