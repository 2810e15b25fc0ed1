package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
)

// Config holds the budgets and knobs of one world.
type Config struct {
	Seed     uint64
	Strategy Strategy // nil means RoundRobin with no preemption
	// MaxSteps bounds scheduling points; exceeding it is a livelock.
	MaxSteps int64
	// MaxTime bounds virtual time; a timer beyond it is a time-budget failure.
	MaxTime Time
	// StepCost is the virtual time one scheduling point takes. It lets
	// timers (I/O completions) fire while tasks stay runnable, as interrupts
	// do on a busy CPU, so a task polling a flag is not a false livelock.
	StepCost Time
	// TraceKeep is how many recent events the trace keeps in full; the
	// hash always covers all of them. Negative keeps everything.
	TraceKeep int
	// Untraced neither hashes nor keeps the trace (Result.Hash and the
	// log's hash are 0); observers still see every event. Explore runs
	// schedules untraced and replays a failing one traced.
	Untraced bool
}

// Defaults for the zero Config fields.
const (
	DefaultMaxSteps  = 1_000_000
	DefaultMaxTime   = 3600 * Second
	DefaultStepCost  = 1 * Microsecond
	DefaultTraceKeep = 256
)

func (c Config) withDefaults() Config {
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if c.MaxTime == 0 {
		c.MaxTime = DefaultMaxTime
	}
	if c.StepCost == 0 {
		c.StepCost = DefaultStepCost
	}
	if c.TraceKeep == 0 {
		c.TraceKeep = DefaultTraceKeep
	}
	if c.Strategy == nil {
		c.Strategy = &RoundRobin{}
	}
	return c
}

// An Observer sees every trace event as it is recorded. It may call
// World.Fail to raise an invariant violation. The event is only valid
// during the call: copy it to keep it.
type Observer func(w *World, ev *Event)

// World is one deterministic run: clock, events, tasks, strategy, trace.
type World struct {
	cfg      Config
	now      Time
	step     int64
	rng      *rand.Rand
	events   eventQueue
	spare    []*event // fired events, for At to reuse
	eventSeq uint64
	nextID   int64 // object ids handed out by ID

	tasks    []*Task // live tasks in id order
	all      []*Task // every task ever spawned, by id
	cands    []*Task // candidates of the last decision, reused while valid
	candsCur *Task   // the task cands were built for; nil: rebuild
	runnable int     // tasks in state taskRunnable (Task.setState)
	dec      Decision
	ev       Event // scratch: the event being recorded when the trace keeps none (observers must not keep the pointer)
	current  *Task // the task running now, nil in scheduler context
	next     *Task // the task a scheduling point chose to run next

	log       DecisionLog   // Runs stays empty until Run ends: see runs
	runs      [][]ChoiceRun // the choices so far, run-length encoded, in chunks
	trace     Trace
	observers []Observer
	atEnd     []func()
	bitq      map[bitKey]*WaitQueue
	failure   *Failure
	escaped   any // a panic from a test framework (rapid) to re-raise in Run's caller
	stopping  bool
	ran       bool

	// The run ends when no foreground task is live and no foreground timer
	// is pending. Daemons (the flusher) and their timers do not keep it going.
	fgTasks, fgEvents int
}

// New makes a world. Spawn tasks on it, then call Run once.
func New(cfg Config) *World {
	cfg = cfg.withDefaults()
	w := &World{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		trace: newTrace(cfg.TraceKeep, !cfg.Untraced),
		log:   DecisionLog{Version: LogVersion, Seed: cfg.Seed},
	}
	w.dec.World = w
	return w
}

// Now is the virtual time.
func (w *World) Now() Time { return w.now }

// Step is the number of scheduling points passed so far.
func (w *World) Step() int64 { return w.step }

// Seed is the world's seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// Rand is the world's seeded random source, for the model (latencies,
// fault probabilities). Strategies have their own, so a change of strategy
// does not change what the model draws.
func (w *World) Rand() *rand.Rand { return w.rng }

// ID hands out a fresh object id, deterministic in call order.
func (w *World) ID() int64 { w.nextID++; return w.nextID }

// Trace gives access to the run's trace.
func (w *World) Trace() *Trace { return &w.trace }

// Current is the running task, or nil in scheduler context (timer
// callbacks, AtEnd hooks).
func (w *World) Current() *Task { return w.current }

// TaskNames lists every task's name by id, for rendering events.
func (w *World) TaskNames() []string {
	names := make([]string, len(w.all))
	for i, t := range w.all {
		names[i] = t.name
	}
	return names
}

// Tasks lists every task ever spawned, by id.
func (w *World) Tasks() []*Task { return append([]*Task(nil), w.all...) }

// Observe adds an observer that sees every event.
func (w *World) Observe(o Observer) { w.observers = append(w.observers, o) }

// AtEnd adds a hook run in scheduler context after every task has
// finished without failure; it may call Fail (end-of-run checks such as
// no-lost-write).
func (w *World) AtEnd(f func()) { w.atEnd = append(w.atEnd, f) }

// Record adds an event to the trace on behalf of the current task (or the
// world) and runs the observers. It is not a scheduling point.
func (w *World) Record(kind Kind, op string, obj Obj, arg int64, msg string) {
	// Field by field into the ring slot: one write of each field, no
	// zeroing and no copy of a whole Event.
	ev := w.trace.slot(&w.ev)
	ev.Time, ev.Step, ev.Kind, ev.Op, ev.Obj, ev.Arg, ev.Msg = w.now, w.step, kind, op, obj, arg, msg
	if t := w.current; t != nil {
		ev.Task, ev.Fn = t.id, t.fn()
	} else {
		ev.Task, ev.Fn = -1, ""
	}
	w.trace.add(ev)
	for _, o := range w.observers {
		o(w, ev)
	}
}

// Failure is the failure that ended the run, if any.
func (w *World) Failure() *Failure { return w.failure }

// Fail ends the run with f. The first failure wins. Called from a task, it
// does not return: the task is unwound. Called from scheduler context, the
// run stops at the next scheduling decision.
func (w *World) Fail(f *Failure) {
	if w.failure == nil {
		f.Time, f.Step, f.Seed = w.now, w.step, w.cfg.Seed
		if t := w.current; t != nil && f.Task == "" {
			f.Task, f.TaskID = t.name, t.id
		}
		if f.Task == "" {
			f.TaskID = -1
		}
		w.failure = f
		w.Record(KindFail, string(f.Kind), f.Obj, 0, f.Invariant)
	}
	if w.current != nil {
		panic(abortPanic{})
	}
}

// Failf is Fail with an invariant violation built from a format.
func (w *World) Failf(invariant string, obj Obj, format string, args ...any) {
	w.Fail(&Failure{Kind: FailInvariant, Invariant: invariant, Obj: obj, Msg: fmt.Sprintf(format, args...)})
}

// Result is the outcome of a run.
type Result struct {
	Seed    uint64
	Failure *Failure // nil when the run passed
	Steps   int64
	Time    Time
	Hash    uint64 // hash of the whole trace
	Events  int64
	Log     *DecisionLog
	// Divergence is set when a replayed log no longer fit the run.
	Divergence *Divergence
}

// OK reports whether the run passed.
func (r *Result) OK() bool { return r.Failure == nil }

// Run runs the world to the end: every task finished, or a failure. It may
// be called once.
func (w *World) Run() *Result {
	if w.ran {
		panic("sim: World.Run called twice")
	}
	w.ran = true
	if s, ok := w.cfg.Strategy.(interface{ Begin(*World) }); ok {
		s.Begin(w)
	}
	w.loop()
	if w.escaped != nil {
		w.stopAll()
		panic(w.escaped)
	}
	if w.failure == nil {
		for _, f := range w.atEnd {
			f()
			if w.failure != nil {
				break
			}
		}
	}
	w.stopAll()
	w.log.Steps = w.step
	w.log.Hash = w.trace.Hash()
	log := w.log
	log.Runs = joinRuns(w.runs)
	res := &Result{
		Seed: w.cfg.Seed, Failure: w.failure, Steps: w.step, Time: w.now,
		Hash: w.trace.Hash(), Events: w.trace.Total(), Log: &log,
	}
	if w.failure != nil {
		w.failure.Log = &log
	}
	if d, ok := w.cfg.Strategy.(interface{ Divergence() *Divergence }); ok {
		res.Divergence = d.Divergence()
	}
	return res
}

// loop is the scheduler: resume the chosen task until it switches away,
// blocks or ends; when nothing can run, advance the clock.
func (w *World) loop() {
	var prev *Task
	for w.failure == nil && w.escaped == nil {
		t := w.next
		w.next = nil
		if t == nil {
			if w.fgTasks == 0 && w.fgEvents == 0 {
				return
			}
			t = w.decide(prev)
			if w.failure != nil || w.escaped != nil {
				return
			}
			if t == nil {
				if !w.advance() {
					return
				}
				continue
			}
		}
		prev = t
		w.current = t
		t.resume()
		w.current = nil
		if t.state == taskDone {
			w.reap(t)
		}
	}
}

// advance fires the next timer, or diagnoses why nothing can run.
func (w *World) advance() bool {
	if w.events.Len() == 0 {
		w.Fail(w.deadlock())
		return false
	}
	at := w.events[0].at
	if at > w.cfg.MaxTime {
		w.Fail(&Failure{Kind: FailTimeBudget, Invariant: InvProgress,
			Msg: fmt.Sprintf("virtual time budget %s exceeded: next event at %s", w.cfg.MaxTime, at)})
		return false
	}
	w.now = at
	w.fireDue()
	return w.failure == nil
}

func (w *World) deadlock() *Failure {
	f := &Failure{Kind: FailDeadlock, Invariant: InvProgress,
		Msg: fmt.Sprintf("deadlock: %d tasks blocked, none runnable, no pending event", len(w.tasks))}
	for _, t := range w.tasks {
		f.Waits = append(f.Waits, t.describeWait())
		if f.Obj.Class == "" && t.waitObj.Class != "" {
			f.Obj = t.waitObj
		}
	}
	f.Explain = "Every remaining task sleeps and nothing (no timer, no I/O completion) can wake any of them. " +
		"Each line says what one task waits on and which task holds it; a cycle there is a lock-order deadlock, " +
		"a wait with no holder is a lost wakeup or a flag nobody will clear."
	return f
}

// fireDue runs every timer whose time has come, in (time, sequence) order.
func (w *World) fireDue() {
	for w.events.Len() > 0 && w.events[0].at <= w.now {
		ev := heap.Pop(&w.events).(*event)
		if !ev.daemon {
			w.fgEvents--
		}
		cur := w.current
		w.current = nil
		w.Record(KindTimer, ev.name, Obj{}, int64(ev.at), "")
		fn := ev.fn
		*ev = event{}
		w.spare = append(w.spare, ev)
		fn()
		w.current = cur
		if w.failure != nil {
			return
		}
	}
}

// At runs fn in scheduler context at virtual time at (or now, if at is in
// the past). fn must not block: it may wake tasks, spawn tasks, record.
// A timer armed by a daemon task is a daemon timer: it does not keep the
// run going.
func (w *World) At(at Time, name string, fn func()) {
	if at < w.now {
		at = w.now
	}
	w.eventSeq++
	daemon := w.current != nil && w.current.daemon
	if !daemon {
		w.fgEvents++
	}
	// A fired timer's event is reused: a run arms hundreds of timers but
	// has few pending at once.
	var ev *event
	if n := len(w.spare); n > 0 {
		ev, w.spare = w.spare[n-1], w.spare[:n-1]
	} else {
		ev = new(event)
	}
	*ev = event{at: at, seq: w.eventSeq, name: name, fn: fn, daemon: daemon}
	heap.Push(&w.events, ev)
}

// After is At(Now()+d).
func (w *World) After(d Time, name string, fn func()) { w.At(w.now+d, name, fn) }

// AfterIRQ spawns an interrupt-context task running body after d: the way
// I/O completions run.
func (w *World) AfterIRQ(d Time, name string, body func(t *Task)) {
	w.After(d, name, func() { w.SpawnIRQ(name, body) })
}

type event struct {
	at     Time
	seq    uint64
	name   string
	fn     func()
	daemon bool
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// decide is a scheduling decision. cur is the task that reached the point
// (nil at the very start); it is candidate 0 when it can still run. The
// others follow in cyclic id order after cur, so candidate 1 is "the next
// task round-robin".
func (w *World) decide(cur *Task) *Task {
	w.fireDue()
	if w.failure != nil {
		return nil
	}
	curRunnable := cur != nil && cur.state == taskRunnable
	// Most points have one runnable task, the current one: nothing to
	// choose, so no list of candidates to build.
	switch {
	case w.runnable == 0:
		return nil
	case w.runnable == 1 && curRunnable:
		return cur
	}
	c := w.cands
	if w.candsCur != cur || cur == nil {
		c = w.candidates(cur, curRunnable)
	}
	switch len(c) {
	case 0:
		return nil
	case 1:
		return c[0]
	}
	// Field by field: the World is set once, in New, and a whole-struct
	// store would pay for it again.
	d := &w.dec
	d.Step, d.Candidates, d.CurrentRunnable, d.cur = w.step, c, curRunnable, cur
	i := w.choose(d)
	if w.escaped != nil {
		if w.current != nil {
			panic(abortPanic{})
		}
		return nil
	}
	if i < 0 || i >= len(c) {
		panic(fmt.Sprintf("sim: strategy %T chose %d of %d", w.cfg.Strategy, i, len(c)))
	}
	w.record(Choice{C: uint16(i), N: uint16(len(c)), Preemptible: curRunnable})
	return c[i]
}

// candidates builds the list of a decision's candidates: cur first when it
// can go on, then the other runnable tasks in cyclic id order after cur.
// The list stays valid, and is reused, until a task changes state or the
// deciding task changes (invalidateCands): a long stretch of points that
// keep the same task running asks the strategy without rebuilding it.
func (w *World) candidates(cur *Task, curRunnable bool) []*Task {
	c := w.cands[:0]
	if curRunnable {
		c = append(c, cur)
	}
	start := 0
	if cur != nil {
		for start < len(w.tasks) && w.tasks[start].id <= cur.id {
			start++
		}
	}
	for _, t := range w.tasks[start:] {
		if t.state == taskRunnable {
			c = append(c, t)
		}
	}
	for _, t := range w.tasks[:start] {
		if t != cur && t.state == taskRunnable {
			c = append(c, t)
		}
	}
	w.cands, w.candsCur = c, cur
	return c
}

// invalidateCands marks the cached candidates stale: a task was spawned,
// reaped, or changed state.
func (w *World) invalidateCands() { w.candsCur = nil }

// runChunk is how many runs a chunk of the world's choices holds. The
// choices grow in chunks, not as one slice, so that a long random walk
// (one run per decision) never copies what it has recorded: doubling one
// slice cost a seventh of BenchmarkSchedulerDecision, most of it touching
// fresh pages.
const runChunk = 4096

// record appends c to the world's choices, run-length encoded: a long
// serial run (one task writing a 4 GiB file while completions wait) makes
// tens of millions of choices, nearly all the same.
func (w *World) record(c Choice) {
	if n := len(w.runs); n > 0 {
		cur := &w.runs[n-1]
		if m := len(*cur); (*cur)[m-1].Choice == c && (*cur)[m-1].Reps < math.MaxUint16 {
			(*cur)[m-1].Reps++
			return
		}
		if len(*cur) < runChunk {
			// The first chunk grows by appending, so that a short run
			// does not pay for a whole chunk.
			*cur = append(*cur, ChoiceRun{Choice: c, Reps: 1})
			return
		}
	}
	size := runChunk
	if len(w.runs) == 0 {
		size = 16
	}
	chunk := make([]ChoiceRun, 1, size)
	chunk[0] = ChoiceRun{Choice: c, Reps: 1}
	w.runs = append(w.runs, chunk)
}

// joinRuns puts the chunks of runs into one slice: the log keeps them
// run-length encoded (DecisionLog.Runs), as record made them. A run of up
// to 4,096 runs (most schedules) is one chunk, used as it is.
func joinRuns(chunks [][]ChoiceRun) []ChoiceRun {
	if len(chunks) == 1 {
		return chunks[0]
	}
	n := 0
	for _, runs := range chunks {
		n += len(runs)
	}
	if n == 0 {
		return nil // as a log with no choices decodes
	}
	out := make([]ChoiceRun, 0, n)
	for _, runs := range chunks {
		out = append(out, runs...)
	}
	return out
}

// choose asks the strategy, catching a panic from it (rapid uses panics
// for control flow, and they must reach rapid on the caller's goroutine,
// not end in a task).
func (w *World) choose(d *Decision) (i int) {
	defer func() {
		if r := recover(); r != nil {
			w.escaped = r
		}
	}()
	return w.cfg.Strategy.Choose(d)
}

func (w *World) reap(t *Task) {
	if !t.daemon {
		w.fgTasks--
	}
	w.invalidateCands()
	for i, x := range w.tasks {
		if x == t {
			w.tasks = append(w.tasks[:i], w.tasks[i+1:]...)
			break
		}
	}
}

// stopAll unwinds every unfinished task so no goroutine outlives the run.
func (w *World) stopAll() {
	w.stopping = true
	for _, t := range w.tasks {
		w.current = t
		t.stop()
		w.current = nil
	}
	w.tasks = nil
}
