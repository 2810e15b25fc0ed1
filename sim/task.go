package sim

import (
	"fmt"
	"iter"
	"runtime/debug"
	"strings"
)

type taskState uint8

const (
	taskRunnable taskState = iota
	taskBlocked
	taskDone
)

// Task is a kernel task: a coroutine that runs model code written
// straight-line, like the C it mirrors. Model functions take the running
// task as their first argument, the way kernel code uses current.
type Task struct {
	w      *World
	id     int32
	name   string
	irq    bool
	daemon bool
	state  taskState

	resumeFn func() (struct{}, bool)
	stopFn   func()
	yieldFn  func(struct{}) bool
	started  bool
	points   int64 // scheduling points passed, blocks and the end included: a program position

	killed  bool     // World.Kill unwinds it
	atomic  int      // spinlocks held, plus one for interrupt context
	held    []string // locks held, for deadlock reports
	fns     []string // kernel function stack (Enter/Leave)
	sigpend bool

	// What a blocked task waits on, for deadlock reports and wakeups.
	waitObj       Obj
	waitWhat      string
	waitHolder    *Task
	interruptible bool
	woken         bool   // woken by a signal while interruptible
	wakeFn        func() // t.wake, for Sleep's timers
}

type abortPanic struct{}

// Spawn creates a process-context task. It can be called before Run or
// from inside a task (then it is a scheduling point).
func (w *World) Spawn(name string, body func(t *Task)) *Task {
	t := w.spawn(name, false, body)
	if cur := w.current; cur != nil && cur.resumeFn != nil && !w.stopping && cur.state == taskRunnable {
		cur.sched()
	}
	return t
}

// SpawnIRQ creates an interrupt-context task: it may not sleep, as I/O
// completion handlers may not.
func (w *World) SpawnIRQ(name string, body func(t *Task)) *Task {
	return w.spawn(name, true, body)
}

// SpawnDaemon creates a background task (the flusher, kswapd) that does
// not keep the run going: the run ends when every other task is done,
// whatever the daemons are doing. Its timers are daemon timers too.
func (w *World) SpawnDaemon(name string, body func(t *Task)) *Task {
	t := w.spawn(name, false, body)
	t.daemon = true
	w.fgTasks--
	return t
}

func (w *World) spawn(name string, irq bool, body func(t *Task)) *Task {
	t := &Task{w: w, id: int32(len(w.all)), name: name, irq: irq}
	if irq {
		t.atomic = 1
	}
	w.fgTasks++
	w.runnable++ // a new task is runnable
	w.invalidateCands()
	w.all = append(w.all, t)
	w.tasks = append(w.tasks, t)
	t.resumeFn, t.stopFn = iter.Pull(func(yield func(struct{}) bool) {
		t.yieldFn = yield
		defer t.exit()
		body(t)
	})
	w.Record(KindSpawn, "", t.obj(), 0, "")
	return t
}

// exit runs when the task body returns or unwinds. It turns a Go panic or a
// BUG into a Failure with the task's own stack, which iter.Pull would lose.
func (t *Task) exit() {
	t.setState(taskDone)
	t.points++
	r := recover()
	if r == nil {
		t.w.Record(KindExit, "", t.obj(), 0, "")
		return
	}
	if _, ok := r.(abortPanic); ok {
		return
	}
	if b, ok := r.(bugPanic); ok {
		t.w.failFromExit(t, &Failure{Kind: FailBug, Msg: b.msg, Obj: b.obj, Stack: b.stack})
		return
	}
	t.w.failFromExit(t, &Failure{Kind: FailPanic, Msg: fmt.Sprint(r), Stack: string(debug.Stack())})
}

func (w *World) failFromExit(t *Task, f *Failure) {
	if w.failure != nil {
		return
	}
	f.Task, f.TaskID = t.name, t.id
	cur := w.current
	w.current = nil // do not unwind again: the task is already returning
	w.Fail(f)
	w.current = cur
}

// resume runs the task until its next switch, block or end.
func (t *Task) resume() {
	t.started = true
	if _, ok := t.resumeFn(); !ok {
		t.setState(taskDone)
	}
}

func (t *Task) stop() {
	t.stopFn()
	t.setState(taskDone)
}

// setState moves the task to state s, keeping the world's count of
// runnable tasks.
func (t *Task) setState(s taskState) {
	t.w.invalidateCands()
	if t.state == taskRunnable {
		t.w.runnable--
	}
	if s == taskRunnable {
		t.w.runnable++
	}
	t.state = s
}

// park hands control back to the scheduler. It returns when the scheduler
// resumes this task; if the run is being torn down, it unwinds the task.
func (t *Task) park() {
	if !t.yieldFn(struct{}{}) || t.w.stopping || t.killed {
		panic(abortPanic{})
	}
	if t.w.failure != nil {
		panic(abortPanic{})
	}
}

// sched is the scheduling decision at a point: count the step, charge its
// virtual time, let the strategy pick, and switch if it picked another.
func (t *Task) sched() {
	w := t.w
	if w.stopping || w.failure != nil || t.killed {
		panic(abortPanic{})
	}
	w.step++
	t.points++
	w.now += w.cfg.StepCost
	if w.step > w.cfg.MaxSteps {
		w.Fail(&Failure{Kind: FailLivelock, Invariant: InvProgress,
			Msg: fmt.Sprintf("step budget of %d scheduling points exceeded", w.cfg.MaxSteps),
			Explain: "A task kept running without finishing. Either the model loops (a kernel loop that never " +
				"advances, like afs_kill_pages without first++) or the budget is too small for the scenario."})
	}
	next := w.decide(t)
	if w.failure != nil {
		panic(abortPanic{})
	}
	if next == t {
		return
	}
	w.next = next
	t.park()
}

// block puts the task to sleep on obj until wake is called. The caller has
// already queued the task where a waker will find it.
func (t *Task) block(obj Obj, what string, holder *Task) {
	t.setState(taskBlocked)
	t.points++
	t.waitObj, t.waitWhat, t.waitHolder = obj, what, holder
	t.w.Record(KindBlock, what, obj, 0, "")
	t.w.next = nil
	t.park()
	t.waitObj, t.waitWhat, t.waitHolder = Obj{}, "", nil
}

// wake makes a blocked task runnable; by is the waker (nil for timers).
func (t *Task) wake() {
	if t.state != taskBlocked {
		return
	}
	t.setState(taskRunnable)
	t.w.Record(KindWake, t.waitWhat, t.obj(), 0, "")
}

func (t *Task) describeWait() string {
	s := fmt.Sprintf("task %s waits in %s on %s", t.name, t.waitWhat, t.waitObj)
	if fn := t.fn(); fn != "" {
		s = fmt.Sprintf("task %s (in %s) waits in %s on %s", t.name, fn, t.waitWhat, t.waitObj)
	}
	if h := t.waitHolder; h != nil {
		s += fmt.Sprintf(", held by task %s", h.name)
	}
	if len(t.held) > 0 {
		s += fmt.Sprintf("; it holds %s", strings.Join(t.held, ", "))
	}
	return s
}

// ID is the task's id, its index in spawn order.
func (t *Task) ID() int32 { return t.id }

// Name is the task's name.
func (t *Task) Name() string { return t.name }

// World is the world the task runs in.
func (t *Task) World() *World { return t.w }

// Daemon reports whether the task is a background daemon.
func (t *Task) Daemon() bool { return t.daemon }

// IRQ reports whether the task runs in interrupt context.
func (t *Task) IRQ() bool { return t.irq }

// InAtomic reports whether the task may not sleep: it holds a spinlock or
// runs in interrupt context.
func (t *Task) InAtomic() bool { return t.atomic > 0 }

func (t *Task) fn() string {
	if n := len(t.fns); n > 0 {
		return t.fns[n-1]
	}
	return ""
}

// Enter records that the task entered the kernel function fn; pair it with
// Leave (usually deferred). It is not a scheduling point.
func (t *Task) Enter(fn string) {
	t.fns = append(t.fns, fn)
	t.w.Record(KindEnter, fn, Obj{}, 0, "")
}

// EnterAt is Enter with a citation of the source the function models:
// cite names the seed file and the line where the function starts
// ("mpage-2.6.2x.c:150"). The Enter event carries it in Msg, so narrated
// traces can show it; it must be a static string, as every event field
// is, and recording it allocates nothing.
func (t *Task) EnterAt(fn, cite string) {
	t.fns = append(t.fns, fn)
	t.w.Record(KindEnter, fn, Obj{}, 0, cite)
}

// Leave records that the task left its innermost kernel function.
func (t *Task) Leave() {
	if n := len(t.fns); n > 0 {
		fn := t.fns[n-1]
		t.w.Record(KindLeave, fn, Obj{}, 0, "")
		t.fns = t.fns[:n-1]
	}
}

// Point is a scheduling point the model declares before an operation (a
// page-flag change, an I/O submission), recorded under its kernel name.
func (t *Task) Point(op string, obj Obj, arg int64) {
	t.sched()
	t.w.Record(KindPoint, op, obj, arg, "")
}

// CondResched is the kernel's cond_resched(): an explicit scheduling point.
func (t *Task) CondResched() { t.Point("cond_resched", Obj{}, 0) }

// Yield is an explicit scheduling point with no kernel meaning.
func (t *Task) Yield() { t.sched() }

// mightSleep is the kernel's might_sleep(): sleeping in atomic context is a
// lock-invariant failure, "BUG: scheduling while atomic".
func (t *Task) mightSleep(op string, obj Obj) {
	if t.atomic == 0 {
		return
	}
	ctx := "while holding " + strings.Join(t.held, ", ")
	if t.irq {
		ctx = "in interrupt context"
	}
	t.w.Fail(&Failure{Kind: FailInvariant, Invariant: InvLock, Obj: obj,
		Msg: fmt.Sprintf("BUG: scheduling while atomic: %s %s", op, ctx),
		Explain: "A task tried to sleep (" + op + ") " + ctx + ". Spinlock holders and interrupt handlers " +
			"must not sleep: the CPU cannot switch away from them, so the sleep could deadlock the machine.",
		Stack: string(debug.Stack())})
}

// Sleep blocks the task for d of virtual time (msleep, schedule_timeout).
func (t *Task) Sleep(d Time) {
	t.mightSleep("schedule_timeout", Obj{})
	t.sched()
	if t.wakeFn == nil {
		t.wakeFn = t.wake // one closure per task, not per sleep
	}
	t.w.After(d, "timer", t.wakeFn)
	t.block(Obj{Class: "timer", A: int64(t.w.now + d)}, "schedule_timeout", nil)
}

type bugPanic struct {
	msg   string
	obj   Obj
	stack string
}

// BUG is the kernel's BUG(): the run fails with the task's stack.
func (t *Task) BUG(obj Obj, format string, args ...any) {
	panic(bugPanic{msg: "kernel BUG: " + fmt.Sprintf(format, args...), obj: obj, stack: string(debug.Stack())})
}

// BUG_ON is the kernel's BUG_ON(cond).
//
//nolint:revive // the kernel's name
func (t *Task) BUG_ON(cond bool, obj Obj, what string) {
	if cond {
		t.BUG(obj, "%s", what)
	}
}

// Kill ends task t at once, wherever it is, as power loss ends every task
// of a machine: it is unwound (its deferred functions run, but reach no
// scheduling point) and never runs again. Locks it held stay held, and
// I/O it waits for may never complete; a scenario's crash kills every task
// but the one that crashes the machine, then builds the remounted one.
// A task cannot kill itself.
func (w *World) Kill(t *Task) {
	if t.state == taskDone {
		return
	}
	if t == w.current {
		panic("sim: a task cannot Kill itself")
	}
	t.killed = true
	if t.started {
		prev := w.current
		w.current = t
		t.stopFn()
		w.current = prev
	} else {
		t.stopFn()
	}
	t.setState(taskDone)
	w.reap(t)
	w.Record(KindExit, "kill", t.obj(), 0, "killed")
	if w.next == t {
		w.next = nil
	}
}

// Signal delivers a signal to t: an interruptible wait returns
// -ERESTARTSYS. It is not a scheduling point; call it from a task or a timer.
func (w *World) Signal(t *Task) {
	if t.state == taskDone {
		return
	}
	t.sigpend = true
	w.Record(KindSignal, "signal_wake_up", t.obj(), 0, "")
	if t.state == taskBlocked && t.interruptible {
		t.woken = true
		t.wake()
	}
}

// SignalPending is the kernel's signal_pending(current).
func (t *Task) SignalPending() bool { return t.sigpend }

func (t *Task) obj() Obj { return Obj{Class: "task", Name: t.name, A: int64(t.id)} }
