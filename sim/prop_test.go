package sim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// A random small program: tasks doing locked critical sections (mutex and
// spinlock), waits on events, wakes, sleeps and spawns. Locks are taken in
// index order and every awaited event is set by a task that waits on
// nothing, so a correct simulator never deadlocks on it: a deadlock here is
// a lost wakeup.
type op struct {
	Kind   string // "cs", "spin", "wait", "sleep", "spawn", "yield"
	Locks  []int  // for "cs": mutexes to take, ascending
	Yields int
	Event  int
	Sleep  Time
}

type program struct {
	Tasks   [][]op
	Setters [][2]int // (event, delay in us): a setter task per awaited event
	Mutexes int
	Events  int
}

func genProgram(t *rapid.T) program {
	p := program{Mutexes: rapid.IntRange(1, 3).Draw(t, "mutexes"), Events: rapid.IntRange(0, 2).Draw(t, "events")}
	genOp := func(label string, allowSpawn bool) op {
		kinds := []string{"cs", "spin", "sleep", "yield"}
		if p.Events > 0 {
			kinds = append(kinds, "wait")
		}
		if allowSpawn {
			kinds = append(kinds, "spawn")
		}
		o := op{Kind: rapid.SampledFrom(kinds).Draw(t, label)}
		switch o.Kind {
		case "cs":
			first := rapid.IntRange(0, p.Mutexes-1).Draw(t, label+"-lock")
			for i := first; i < p.Mutexes; i++ {
				if i == first || rapid.Bool().Draw(t, label+"-more") {
					o.Locks = append(o.Locks, i)
				}
			}
			o.Yields = rapid.IntRange(0, 3).Draw(t, label+"-yields")
		case "spin":
			o.Yields = rapid.IntRange(0, 3).Draw(t, label+"-yields")
		case "wait":
			o.Event = rapid.IntRange(0, p.Events-1).Draw(t, label+"-event")
		case "sleep":
			o.Sleep = Time(rapid.IntRange(1, 50).Draw(t, label+"-sleep")) * Microsecond
		}
		return o
	}
	for i := range rapid.IntRange(1, 4).Draw(t, "tasks") {
		var ops []op
		for j := range rapid.IntRange(1, 6).Draw(t, fmt.Sprintf("ops%d", i)) {
			ops = append(ops, genOp(fmt.Sprintf("op%d.%d", i, j), true))
		}
		p.Tasks = append(p.Tasks, ops)
	}
	for e := range p.Events {
		p.Setters = append(p.Setters, [2]int{e, rapid.IntRange(0, 30).Draw(t, "setter-delay")})
	}
	return p
}

// instrumented records what the properties check.
type instrumented struct {
	inCS      []int
	inSpin    int
	violation string
	lastTime  Time
}

func (p program) setup(ins *instrumented) func(w *World) {
	return func(w *World) {
		ms := make([]Mutex, p.Mutexes)
		for i := range ms {
			ms[i].Name = fmt.Sprintf("m%d", i)
		}
		spin := SpinLock{Name: "s"}
		events := make([]bool, p.Events)
		wqs := make([]WaitQueue, p.Events)
		ins.inCS = make([]int, p.Mutexes)
		w.Observe(func(w *World, ev *Event) {
			if ev.Time < ins.lastTime && ins.violation == "" {
				ins.violation = fmt.Sprintf("time went back from %s to %s", ins.lastTime, ev.Time)
			}
			ins.lastTime = ev.Time
		})
		var runOps func(t *Task, ops []op)
		runOps = func(t *Task, ops []op) {
			for _, o := range ops {
				switch o.Kind {
				case "cs":
					for _, l := range o.Locks {
						ms[l].Lock(t)
						ins.inCS[l]++
					}
					for range o.Yields {
						for _, l := range o.Locks {
							if ins.inCS[l] != 1 && ins.violation == "" {
								ins.violation = fmt.Sprintf("%d tasks inside mutex m%d", ins.inCS[l], l)
							}
						}
						t.Yield()
					}
					for i := len(o.Locks) - 1; i >= 0; i-- {
						ins.inCS[o.Locks[i]]--
						ms[o.Locks[i]].Unlock(t)
					}
				case "spin":
					spin.Lock(t)
					ins.inSpin++
					for range o.Yields {
						if ins.inSpin != 1 && ins.violation == "" {
							ins.violation = fmt.Sprintf("%d tasks inside spinlock", ins.inSpin)
						}
						t.Yield()
					}
					ins.inSpin--
					spin.Unlock(t)
				case "wait":
					wqs[o.Event].WaitEvent(t, func() bool { return events[o.Event] })
				case "sleep":
					t.Sleep(o.Sleep)
				case "yield":
					t.Yield()
				case "spawn":
					w.Spawn(t.Name()+"+", func(c *Task) { runOps(c, []op{{Kind: "cs", Locks: []int{0}, Yields: 1}}) })
				}
			}
		}
		for i, ops := range p.Tasks {
			w.Spawn(fmt.Sprintf("T%d", i), func(t *Task) { runOps(t, ops) })
		}
		for _, s := range p.Setters {
			w.Spawn(fmt.Sprintf("set%d", s[0]), func(t *Task) {
				t.Sleep(Time(s[1]) * Microsecond)
				events[s[0]] = true
				wqs[s[0]].WakeUpAll(t)
			})
		}
	}
}

func strategies(seed uint64, t *rapid.T) map[string]Strategy {
	return map[string]Strategy{
		"rr":     &RoundRobin{},
		"rr1":    &RoundRobin{Quantum: 1},
		"random": NewRandom(seed),
		"pct2":   NewPCT(seed, 2, 50),
		"pct3":   NewPCT(seed, 3, 50),
		"rapid":  Rapid{T: t},
	}
}

// TestPropertiesOfRandomPrograms checks, for random programs under every
// strategy: mutual exclusion, no lost wakeup (no deadlock), virtual time
// never goes back, the same seed gives the same trace, and replaying the
// decision log gives the same trace hash.
func TestPropertiesOfRandomPrograms(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := genProgram(rt)
		seed := rapid.Uint64().Draw(rt, "seed")
		for _, name := range []string{"rr", "rr1", "random", "pct2", "pct3", "rapid"} {
			strat := strategies(seed, rt)[name]
			var ins instrumented
			w := New(Config{Seed: seed, Strategy: strat, MaxSteps: 10_000})
			p.setup(&ins)(w)
			r := w.Run()
			if r.Failure != nil {
				rt.Fatalf("%s: run failed: %s", name, r.Failure.Report())
			}
			if ins.violation != "" {
				rt.Fatalf("%s: %s", name, ins.violation)
			}
			if name == "rapid" {
				continue // its choices come from rapid's stream, checked by replay below
			}
			// Determinism: a fresh strategy with the same seed.
			var ins2 instrumented
			w2 := New(Config{Seed: seed, Strategy: strategies(seed, rt)[name], MaxSteps: 10_000})
			p.setup(&ins2)(w2)
			if r2 := w2.Run(); r2.Hash != r.Hash {
				rt.Fatalf("%s: same seed, different trace hash: %x vs %x", name, r.Hash, r2.Hash)
			}
			// Replay fidelity, through the text encoding.
			log, err := ParseDecisionLog(r.Log.String())
			if err != nil {
				rt.Fatalf("%s: parse own log: %v", name, err)
			}
			var ins3 instrumented
			w3 := New(Config{Seed: seed, Strategy: NewReplay(log), MaxSteps: 10_000})
			p.setup(&ins3)(w3)
			r3 := w3.Run()
			if r3.Hash != r.Hash || r3.Divergence != nil {
				rt.Fatalf("%s: replay hash %x want %x, divergence %+v", name, r3.Hash, r.Hash, r3.Divergence)
			}
		}
	})
}

func TestDecisionLogRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		l := &DecisionLog{
			Version: LogVersion,
			Seed:    rapid.Uint64().Draw(rt, "seed"),
			Hash:    rapid.Uint64().Draw(rt, "hash"),
			Steps:   rapid.Int64Min(0).Draw(rt, "steps"),
		}
		for range rapid.IntRange(0, 200).Draw(rt, "n") {
			n := rapid.IntRange(2, 5).Draw(rt, "cands")
			l.Append(Choice{
				C: uint16(rapid.IntRange(0, n-1).Draw(rt, "c")), N: uint16(n),
				Preemptible: rapid.Bool().Draw(rt, "pre"),
			})
		}
		text, err := ParseDecisionLog(l.String())
		if err != nil {
			rt.Fatalf("parse %q: %v", l.String(), err)
		}
		bin, _ := l.MarshalBinary()
		var fromBin DecisionLog
		if err := fromBin.UnmarshalBinary(bin); err != nil {
			rt.Fatalf("unmarshal: %v", err)
		}
		opt := cmp.Comparer(func(a, b []ChoiceRun) bool { return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b)) })
		if d := cmp.Diff(l, text, opt); d != "" {
			rt.Fatalf("text round trip (-want +got):\n%s", d)
		}
		if d := cmp.Diff(l, &fromBin, opt); d != "" {
			rt.Fatalf("binary round trip (-want +got):\n%s", d)
		}
	})
}

func FuzzParseDecisionLog(f *testing.F) {
	f.Add("wbsim-schedule v1 seed=42 steps=311 hash=9f86d081884c7d65 : 0/2*37 1/2 0.3 2/3*4")
	f.Add("wbsim-schedule v1 seed=1 steps=0 hash=0 :")
	f.Add("wbsim-schedule v2 : 1/2")
	f.Add("wbsim-schedule v1 : 3/2 0/1 x*0")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseDecisionLog(s)
		if err != nil {
			return
		}
		again, err := ParseDecisionLog(l.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", l.String(), err)
		}
		if again.String() != l.String() {
			t.Fatalf("round trip changed %q to %q", l.String(), again.String())
		}
		bin, _ := l.MarshalBinary()
		var b DecisionLog
		if err := b.UnmarshalBinary(bin); err != nil || b.String() != l.String() {
			t.Fatalf("binary round trip of %q: %v", l.String(), err)
		}
	})
}

func FuzzUnmarshalDecisionLog(f *testing.F) {
	l := &DecisionLog{Version: 1, Seed: 3, Runs: []ChoiceRun{{Choice{1, 2, true}, 1}, {Choice{0, 3, false}, 1}}}
	b, _ := l.MarshalBinary()
	f.Add(b)
	f.Add([]byte("WBSL"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l DecisionLog
		_ = l.UnmarshalBinary(data) // must not panic or hang
	})
}

// TestDecisionLogPastOldLimit: a serial run's log of tens of millions of
// choices (a 1M-page fsync makes about 31 million) parses, stays a few
// hundred runs in memory, and prints back as it was read. The decoders
// bound runs, not choices.
func TestDecisionLogPastOldLimit(t *testing.T) {
	const n = 40_000_000
	line := fmt.Sprintf("wbsim-schedule v1 seed=1 steps=%d hash=0000000000000000 : 0.2 0/2*%d 1/2", n+2, n)
	l, err := ParseDecisionLog(line)
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != n+2 || len(l.Runs) > n/65535+3 || l.Preemptions() != 1 {
		t.Fatalf("parsed %d choices in %d runs, %d preemptions", l.Len(), len(l.Runs), l.Preemptions())
	}
	if l.String() != line {
		t.Fatalf("printed back as %q", l.String())
	}
	bin, _ := l.MarshalBinary()
	var b DecisionLog
	if err := b.UnmarshalBinary(bin); err != nil || len(bin) > 64 || b.String() != line {
		t.Fatalf("binary form of %d bytes: %v, %q", len(bin), err, b.String())
	}
	// A hostile repeat count is refused, not allocated.
	if _, err := ParseDecisionLog("wbsim-schedule v1 : 0/2*9000000000000000000"); err == nil || !strings.Contains(err.Error(), "runs of choices") {
		t.Fatalf("huge repeat count: %v", err)
	}
}

// TestReplayPastOldLimit: a run of more than 2^24 decisions (the old
// decoders' limit on choices), nearly all "go on" as in a 1M-page fsync,
// replays exactly from its text form, ending in the same failure.
func TestReplayPastOldLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("17M scheduling points")
	}
	const n = 1<<24/2 + 1000 // points per task; two runnable tasks make each a decision
	setup := func(w *World) {
		for _, name := range []string{"A", "B"} {
			w.Spawn(name, func(t *Task) {
				for i := range n {
					if i == n-10 && t.Name() == "B" {
						w.Failf("planted", Obj{}, "B reached the end")
					}
					t.Yield()
				}
			})
		}
	}
	cfg := Config{Seed: 5, MaxSteps: 1 << 26, TraceKeep: 1}
	c := cfg
	c.Strategy = &RoundRobin{Quantum: 1 << 22} // a few preemptions in 17M points
	w := New(c)
	setup(w)
	r := w.Run()
	if r.Failure == nil || r.Log.Len() <= 1<<24 {
		t.Fatalf("want a planted failure after more than 2^24 decisions: %d, %v", r.Log.Len(), r.Failure)
	}
	l, err := ParseDecisionLog(r.Log.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Strategy = NewReplay(l)
	w2 := New(c)
	setup(w2)
	r2 := w2.Run()
	if r2.Hash != r.Hash || r2.Divergence != nil || r2.Failure.Signature() != r.Failure.Signature() {
		t.Fatalf("replay: hash %x want %x, divergence %+v, failure %v", r2.Hash, r.Hash, r2.Divergence, r2.Failure)
	}
	t.Logf("%d decisions in %d runs, %d bytes of text", r.Log.Len(), len(r.Log.Runs), len(r.Log.String()))
}
