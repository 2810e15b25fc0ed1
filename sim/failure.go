package sim

import (
	"fmt"
	"strings"
)

// FailureKind says what sort of failure ended a run.
type FailureKind string

// Failure kinds.
const (
	FailDeadlock       FailureKind = "deadlock"       // no runnable task, no pending event, tasks left
	FailLivelock       FailureKind = "livelock"       // the step budget ran out
	FailTimeBudget     FailureKind = "time-budget"    // the virtual-time budget ran out
	FailBug            FailureKind = "bug"            // kernel BUG() / BUG_ON
	FailPanic          FailureKind = "panic"          // a Go panic in model code
	FailInvariant      FailureKind = "invariant"      // an invariant (observer or model check) fired
	FailNondeterminism FailureKind = "nondeterminism" // the same seed gave two traces
)

// Invariant ids used by sim itself; the model and check/ add the rest.
// The invariant registry (scenarios.Invariants) gives every id's meaning.
const (
	InvLock     = "lock"     // lock misuse: sleeping in atomic context, non-owner unlock, recursion
	InvProgress = "progress" // deadlock, livelock, time budget
)

// Failure describes why a run failed, with what a reader needs to
// reproduce and understand it.
type Failure struct {
	Kind      FailureKind
	Invariant string // an invariant id of the registry (scenarios.Invariants), when one applies
	Msg       string // one line: what happened
	Explain   string // a paragraph for a learner: expected, happened, which kernel function
	Task      string // the task that failed or was running ("" for the world)
	TaskID    int32
	Obj       Obj // the object involved, if any
	Time      Time
	Step      int64
	Seed      uint64
	Stack     string   // the failing task's Go stack, for panics and BUGs
	Waits     []string // for deadlocks: who waits on what, held by whom
	Log       *DecisionLog
}

// Error makes a Failure usable as an error.
func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", f.Kind)
	if f.Invariant != "" {
		fmt.Fprintf(&b, " [%s]", f.Invariant)
	}
	fmt.Fprintf(&b, ": %s", f.Msg)
	if f.Task != "" {
		fmt.Fprintf(&b, " (task %s", f.Task)
	} else {
		b.WriteString(" (world")
	}
	fmt.Fprintf(&b, ", t=%s, step %d, seed %d)", f.Time, f.Step, f.Seed)
	return b.String()
}

// Report is the readable multi-line report: the summary, the explanation,
// who waits on what, and the stack.
func (f *Failure) Report() string {
	var b strings.Builder
	b.WriteString(f.Error())
	b.WriteByte('\n')
	if f.Obj.Class != "" {
		fmt.Fprintf(&b, "  object: %s\n", f.Obj)
	}
	if f.Explain != "" {
		fmt.Fprintf(&b, "  %s\n", f.Explain)
	}
	for _, w := range f.Waits {
		fmt.Fprintf(&b, "  %s\n", w)
	}
	if f.Log != nil {
		fmt.Fprintf(&b, "  schedule: %d decisions, %d preemptions\n", f.Log.Len(), f.Log.Preemptions())
	}
	if f.Stack != "" {
		b.WriteString("  stack:\n")
		for line := range strings.Lines(f.Stack) {
			b.WriteString("    ")
			b.WriteString(line)
		}
	}
	return b.String()
}

// Signature identifies "the same failure" for shrinking and replay: the
// kind, the invariant, the task and the object, but not the step or time,
// which a shorter schedule changes.
func (f *Failure) Signature() string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("%s|%s|%s|%s", f.Kind, f.Invariant, f.Task, f.Obj)
}
