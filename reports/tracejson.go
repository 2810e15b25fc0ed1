package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/wbsim/wbsim/sim"
)

// Chrome trace-event format ("JSON Array/Object Format"), which Perfetto
// and chrome://tracing open. One process per run, one thread per task
// (tid = task id + 1; tid 0 is the world: timers, faults outside tasks).
//
//   - a B/E span per kernel function, from Enter/Leave events;
//   - an X slice per other event (points, locks, blocks, wakes), lasting
//     until the next event of the run or 1 µs, whichever is first;
//   - i instants for faults (thread) and failures (global);
//   - C counters from the Counters table, and one cumulative counter per
//     point operation;
//   - s/f flows from the Flows table (a disk request's dispatch -> its
//     completion); a flow that never completes is left out.
//
// ts is virtual time in microseconds. Events at the same virtual instant
// are spread spreadNS apart in recording order, so that every viewer
// orders them as they happened and spans nest; args.t is the exact time.

const spreadNS = 2

type usTime int64 // nanoseconds, printed as microseconds

func (t usTime) MarshalJSON() ([]byte, error) {
	ns := int64(t)
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	return []byte(neg + strconv.FormatInt(ns/1000, 10) + "." + fmt.Sprintf("%03d", ns%1000)), nil
}

type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   usTime         `json:"ts"`
	Dur  *usTime        `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	S    string         `json:"s,omitempty"`
	ID   string         `json:"id,omitempty"`
	Bp   string         `json:"bp,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// WriteTraceJSON writes the runs as one Chrome trace.
func WriteTraceJSON(out io.Writer, runs []*Run) error {
	w := bufio.NewWriter(out)
	w.WriteString("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"wbsim\",\"time\":\"virtual\"},\"traceEvents\":[\n")
	first := true
	emit := func(e traceEvent) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if !first {
			w.WriteString(",\n")
		}
		first = false
		_, err = w.Write(b)
		return err
	}
	flowID := 0
	for ri, r := range runs {
		for _, e := range traceEvents(r, ri+1, &flowID) {
			if err := emit(e); err != nil {
				return err
			}
		}
	}
	w.WriteString("\n]}\n")
	return w.Flush()
}

// displayTimes spreads events at one virtual instant spreadNS apart.
func displayTimes(evs []sim.Event) []int64 {
	disp := make([]int64, len(evs))
	var prev int64 = -spreadNS
	for i := range evs {
		d := max(int64(evs[i].Time), prev+spreadNS)
		disp[i], prev = d, d
	}
	return disp
}

func traceEvents(r *Run, pid int, flowID *int) []traceEvent {
	var out []traceEvent
	title := r.Program
	if r.Title != "" {
		title += ": " + r.Title
	}
	title += fmt.Sprintf(" (seed %d)", r.Seed)
	out = append(out,
		traceEvent{Name: "process_name", Ph: "M", Pid: pid, Args: map[string]any{"name": title}},
		traceEvent{Name: "process_sort_index", Ph: "M", Pid: pid, Args: map[string]any{"sort_index": pid}},
		traceEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: 0, Args: map[string]any{"name": "[world]"}},
		traceEvent{Name: "thread_sort_index", Ph: "M", Pid: pid, Tid: 0, Args: map[string]any{"sort_index": 0}},
	)
	for _, t := range r.Tasks {
		name := t.Name
		switch {
		case t.IRQ:
			name += " (irq)"
		case t.Daemon:
			name += " (daemon)"
		}
		out = append(out,
			traceEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: int(t.ID) + 1, Args: map[string]any{"name": name}},
			traceEvent{Name: "thread_sort_index", Ph: "M", Pid: pid, Tid: int(t.ID) + 1, Args: map[string]any{"sort_index": int(t.ID) + 1}})
	}
	evs := r.Events
	disp := displayTimes(evs)
	stacks := map[int]([]string){}
	type counterState struct {
		members map[sim.Obj]bool
	}
	counters := make([]counterState, len(Counters))
	for i := range counters {
		counters[i].members = map[sim.Obj]bool{}
	}
	opCount := map[string]int{}
	type pendingFlow struct {
		id   int
		task int32
		name string
		at   int // index of its "s" event in out
	}
	pending := map[sim.Obj]pendingFlow{}
	// unfinished are the "s" events of flows that never completed (a bio
	// resubmitted before its completion, a run cut short): a viewer would
	// draw them dangling, so they are dropped at the end.
	unfinished := map[int]bool{}
	// Counters start at zero at the run's first event, if they are used.
	for _, c := range Counters {
		for i := range evs {
			if evs[i].Obj.Class == c.Class && isOp(&evs[i]) && (contains(c.Set, evs[i].Op) || contains(c.Clear, evs[i].Op)) {
				out = append(out, traceEvent{Name: c.Name, Ph: "C", Ts: usTime(disp[0]), Pid: pid, Args: map[string]any{"count": 0}})
				break
			}
		}
	}
	var last int64
	for i := range evs {
		ev := &evs[i]
		ts := disp[i]
		if r.Omitted > 0 && i == r.Gap {
			// The calls open before the gap end there; the tail's returns
			// from calls entered in the gap have no begin and are dropped.
			for _, tid := range slices.Sorted(maps.Keys(stacks)) {
				for j := len(stacks[tid]) - 1; j >= 0; j-- {
					out = append(out, traceEvent{Name: stacks[tid][j], Cat: "kernel", Ph: "E", Ts: usTime(last), Pid: pid, Tid: tid})
				}
				stacks[tid] = nil
			}
			out = append(out, traceEvent{Name: fmt.Sprintf("%d events left out", r.Omitted), Cat: "omitted", Ph: "i", S: "g",
				Ts: usTime(ts), Pid: pid, Args: map[string]any{"from_step": evs[i-1].Step, "to_step": ev.Step,
					"why": "a long run: the report keeps its first and last events"}})
		}
		last = ts
		tid := int(ev.Task) + 1
		args := map[string]any{"t": ev.Time.String(), "step": ev.Step}
		if ev.Obj.Class != "" {
			args["obj"] = ObjString(ev.Obj)
		}
		if ev.Arg != 0 {
			args["arg"] = ev.Arg
		}
		if ev.Msg != "" {
			args["msg"] = ev.Msg
		}
		switch ev.Kind {
		case sim.KindEnter:
			if ev.Msg != "" { // Task.EnterAt's citation
				delete(args, "msg")
				args["seed"] = ev.Msg
			}
			stacks[tid] = append(stacks[tid], ev.Op)
			out = append(out, traceEvent{Name: ev.Op, Cat: "kernel", Ph: "B", Ts: usTime(ts), Pid: pid, Tid: tid, Args: args})
		case sim.KindLeave:
			st := stacks[tid]
			if len(st) > 0 {
				stacks[tid] = st[:len(st)-1]
				out = append(out, traceEvent{Name: st[len(st)-1], Cat: "kernel", Ph: "E", Ts: usTime(ts), Pid: pid, Tid: tid})
			}
		case sim.KindFault:
			out = append(out, traceEvent{Name: "fault: " + ev.Op, Cat: "fault", Ph: "i", S: "t", Ts: usTime(ts), Pid: pid, Tid: tid, Args: args})
		case sim.KindFail:
			name := "FAIL: " + ev.Op
			if ev.Msg != "" {
				name += " [" + ev.Msg + "]"
			}
			out = append(out, traceEvent{Name: name, Cat: "fail", Ph: "i", S: "g", Ts: usTime(ts), Pid: pid, Tid: tid, Args: args})
		default:
			end := ts + 1000
			if i+1 < len(evs) {
				end = min(end, disp[i+1])
			}
			dur := usTime(max(end-ts, 1))
			name := ev.Op
			if name == "" {
				name = ev.Kind.String()
			}
			if ev.Kind == sim.KindSpawn || ev.Kind == sim.KindWake || ev.Kind == sim.KindSignal {
				name = ev.Kind.String() + " " + ev.Obj.Name
			} else if ev.Obj.Class != "" {
				name += " " + ObjString(ev.Obj)
			}
			out = append(out, traceEvent{Name: name, Cat: ev.Kind.String(), Ph: "X", Ts: usTime(ts), Dur: &dur, Pid: pid, Tid: tid, Args: args})
		}
		// Flows: complete a pending one, then maybe start one.
		if !isZeroObj(ev.Obj) {
			if p, ok := pending[ev.Obj]; ok && p.task != ev.Task {
				out = append(out, traceEvent{Name: p.name, Cat: "flow", Ph: "f", Bp: "e", ID: strconv.Itoa(p.id), Ts: usTime(ts), Pid: pid, Tid: tid})
				delete(pending, ev.Obj)
			}
			for _, f := range Flows {
				if ev.Op == f.From {
					if p, ok := pending[ev.Obj]; ok {
						unfinished[p.at] = true
					}
					*flowID++
					pending[ev.Obj] = pendingFlow{id: *flowID, task: ev.Task, name: f.Name, at: len(out)}
					out = append(out, traceEvent{Name: f.Name, Cat: "flow", Ph: "s", ID: strconv.Itoa(*flowID), Ts: usTime(ts), Pid: pid, Tid: tid})
					break
				}
			}
		}
		// Counters.
		for ci, c := range Counters {
			if ev.Obj.Class != c.Class || !isOp(ev) {
				continue
			}
			m := counters[ci].members
			before := len(m)
			if contains(c.Set, ev.Op) {
				m[ev.Obj] = true
			} else if contains(c.Clear, ev.Op) {
				delete(m, ev.Obj)
			} else {
				continue
			}
			if len(m) != before {
				out = append(out, traceEvent{Name: c.Name, Ph: "C", Ts: usTime(ts), Pid: pid, Args: map[string]any{"count": len(m)}})
			}
		}
		if CountPointsByOp && ev.Kind == sim.KindPoint && ev.Op != "" {
			opCount[ev.Op]++
			out = append(out, traceEvent{Name: "points: " + ev.Op, Ph: "C", Ts: usTime(ts), Pid: pid, Args: map[string]any{"count": opCount[ev.Op]}})
		}
	}
	for _, p := range pending {
		unfinished[p.at] = true
	}
	if len(unfinished) > 0 {
		kept := out[:0]
		for i, e := range out {
			if !unfinished[i] {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	// Close spans left open (a task stuck in a deadlock, a truncated
	// trace), innermost first, after the last event.
	tids := make([]int, 0, len(stacks))
	for tid := range stacks {
		tids = append(tids, tid)
	}
	slices.Sort(tids)
	for _, tid := range tids {
		st := stacks[tid]
		for j := len(st) - 1; j >= 0; j-- {
			last += spreadNS
			out = append(out, traceEvent{Name: st[j], Cat: "kernel", Ph: "E", Ts: usTime(last), Pid: pid, Tid: tid,
				Args: map[string]any{"unfinished": true}})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
