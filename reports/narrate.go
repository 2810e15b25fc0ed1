package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/sim"
)

// NarrateOptions configures a narrated trace.
type NarrateOptions struct {
	// Follow keeps only the events about one object, named as Obj.String()
	// prints it ("page 1:3"), or by class and name ("mutex a", "task B").
	Follow string
}

// ObjMatches reports whether o is the object named by name (see
// NarrateOptions.Follow).
func ObjMatches(o sim.Obj, name string) bool {
	if o.Class == "" || name == "" {
		return false
	}
	name = strings.Join(strings.Fields(name), " ")
	if ObjString(o) == name || o.String() == name || (o.Name != "" && o.Class+" "+o.Name == name) {
		return true
	}
	// "page 1:0": Obj.String leaves out a zero B, but people write it.
	full := o.Class
	if o.Name != "" {
		full += " " + o.Name
	}
	return full+fmt.Sprintf(" %d:%d", o.A, o.B) == name
}

// Objects lists the distinct objects the run's events are about, sorted,
// for "did you mean" messages.
func (r *Run) Objects() []string {
	seen := map[string]bool{}
	var out []string
	for i := range r.Events {
		o := r.Events[i].Obj
		if o.Class == "" {
			continue
		}
		s := ObjString(o)
		if o.Class == "task" {
			s = "task " + o.Name
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Narrate writes the narrated trace of a run: one line per event naming
// the time, the step, the task, the kernel function the task is in and
// what changed, with a task's kernel calls (Enter/Leave spans) marked and
// indented, and a line at each switch between tasks saying why it
// happened. With opts.Follow only events about that object are kept.
func Narrate(out io.Writer, r *Run, opts NarrateOptions) error {
	w := bufio.NewWriter(out)
	title := r.Program
	if r.Title != "" {
		title += ": " + r.Title
	}
	fmt.Fprintf(w, "wbsim narrated trace of %s\n", title)
	fmt.Fprintf(w, "  run:       seed %d", r.Seed)
	if r.Strategy != "" {
		fmt.Fprintf(w, ", strategy %s", r.Strategy)
	}
	w.WriteString("\n")
	res := r.Result
	if res != nil && res.Log != nil {
		fmt.Fprintf(w, "  schedule:  %s\n", res.Log)
	}
	if res != nil {
		if res.Failure != nil {
			fmt.Fprintf(w, "  outcome:   FAILED: %s\n", res.Failure.Error())
		} else {
			fmt.Fprintf(w, "  outcome:   passed: %d steps, t=%s, trace hash %016x\n", res.Steps, res.Time, res.Hash)
		}
	}
	if opts.Follow != "" {
		n := 0
		for i := range r.Events {
			if ObjMatches(r.Events[i].Obj, opts.Follow) {
				n++
			}
		}
		fmt.Fprintf(w, "  following: %s (%d of %d events)\n", opts.Follow, n, len(r.Events))
	}
	switch {
	case r.Omitted > 0:
		fmt.Fprintf(w, "  note:      a long run: the first %d and last %d events are kept, the %d between left out\n",
			r.Gap, len(r.Events)-r.Gap, r.Omitted)
	case !r.Complete:
		fmt.Fprintf(w, "  note:      only the last %d events were kept\n", len(r.Events))
	}
	w.WriteString(`
Each line: virtual time, step, task, the kernel function the task is in, and
what happened. "=> fn" is a task entering a kernel function and "<= fn" its
return; the lines between belong to that call and are indented by depth.
`)
	if slices.ContainsFunc(r.Events, func(ev sim.Event) bool { return ev.Kind == sim.KindEnter && ev.Msg != "" }) {
		w.WriteString(`"=> fn  [file:line]" names the seed file and line where the function starts.
`)
	}
	taskW, fnW := len("[world]"), len("function")
	for _, t := range r.Tasks {
		taskW = max(taskW, len(t.Name))
	}
	for i := range r.Events {
		fnW = max(fnW, len(r.Events[i].Fn))
	}
	fnW = min(fnW, 32)
	fmt.Fprintf(w, "\n%9s %6s  %-*s  %-*s  %s\n", "time", "step", taskW, "task", fnW, "function", "what happened")

	depth := map[int32]int{}
	lastKind := map[int32]sim.Kind{}
	var cur int32 = -1
	for i := range r.Events {
		ev := &r.Events[i]
		if r.Omitted > 0 && i == r.Gap {
			fmt.Fprintf(w, "   ... %d events left out (steps %d to %d); call depths restart below ...\n",
				r.Omitted, r.Events[i-1].Step, ev.Step)
			clear(depth)
			cur = -1
		}
		d := depth[ev.Task]
		switch ev.Kind {
		case sim.KindEnter:
			depth[ev.Task] = d + 1
		case sim.KindLeave:
			d = max(d-1, 0)
			depth[ev.Task] = d
		}
		if opts.Follow != "" && !ObjMatches(ev.Obj, opts.Follow) {
			continue
		}
		if opts.Follow == "" && ev.Task >= 0 && ev.Task != cur {
			line := "-- " + r.TaskName(ev.Task) + " runs"
			if cur >= 0 {
				switch lastKind[cur] {
				case sim.KindBlock:
					line += " (" + r.TaskName(cur) + " sleeps)"
				case sim.KindExit:
					line += " (" + r.TaskName(cur) + " has finished)"
				case sim.KindFail:
				default:
					line += " (" + r.TaskName(cur) + " is preempted while runnable)"
				}
			}
			fmt.Fprintln(w, line)
			cur = ev.Task
		}
		if ev.Task >= 0 {
			lastKind[ev.Task] = ev.Kind
		}
		fn := ev.Fn
		if fn == "" {
			fn = "-"
		}
		if len(fn) > fnW {
			fn = fn[:fnW-1] + "~"
		}
		fmt.Fprintf(w, "%9s %6d  %-*s  %-*s  %s%s\n", ev.Time, ev.Step, taskW, r.TaskName(ev.Task), fnW, fn,
			strings.Repeat("  ", d), describe(ev))
	}
	if res != nil && res.Failure != nil {
		fi := NewFailureInfo(res)
		fmt.Fprintf(w, "\nThe failure:\n%s", indent(fi.Text(), "  "))
	}
	return w.Flush()
}

func indent(s, pre string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString(pre)
		b.WriteString(line)
	}
	return b.String()
}

// describe says what one event did, in words.
func describe(ev *sim.Event) string {
	obj := ObjString(ev.Obj)
	withObj := func(s string) string {
		if obj != "" {
			s += " " + obj
		}
		return s
	}
	var s string
	switch ev.Kind {
	case sim.KindPoint:
		s = withObj(ev.Op)
		if ev.Arg != 0 {
			s += fmt.Sprintf(", arg=%d", ev.Arg)
		}
	case sim.KindLock:
		s = withObj(ev.Op) + ": takes it"
	case sim.KindUnlock:
		s = withObj(ev.Op) + ": releases it"
	case sim.KindBlock:
		s = "sleeps in " + ev.Op
		if obj != "" {
			s += ", waiting on " + obj
		}
	case sim.KindWake:
		s = "wakes task " + ev.Obj.Name
		if ev.Op != "" {
			s += " (asleep in " + ev.Op + ")"
		}
	case sim.KindSpawn:
		s = "creates task " + ev.Obj.Name
	case sim.KindExit:
		s = "returns: the task is done"
	case sim.KindTimer:
		s = "timer " + ev.Op + " fires"
	case sim.KindEnter:
		s = "=> " + ev.Op
		if ev.Msg != "" { // Task.EnterAt: the seed line the function starts at
			return s + "  [" + ev.Msg + "]"
		}
	case sim.KindLeave:
		s = "<= " + ev.Op + " returns"
	case sim.KindFault:
		s = withObj("FAULT injected: " + ev.Op)
	case sim.KindSignal:
		s = "sends a signal to task " + ev.Obj.Name
	case sim.KindFail:
		s = "the run FAILS: " + ev.Op
		if ev.Msg != "" {
			s += " [" + ev.Msg + "]"
		}
		if obj != "" {
			s += " on " + obj
		}
		return s
	case sim.KindNote:
		return ev.Msg
	default:
		s = withObj(ev.Kind.String() + " " + ev.Op)
	}
	if st, set, ok := pageChange(ev); ok {
		if set {
			s += "; the page is now " + PageStates[st].Phrase
		} else {
			s += "; the page is no longer " + PageStates[st].Phrase
		}
	}
	if ev.Msg != "" {
		s += " (" + ev.Msg + ")"
	}
	return s
}
