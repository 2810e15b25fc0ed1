package sim

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/sim/errno"
)

// lockMisuse raises a lock-invariant failure in the calling task.
func (t *Task) lockMisuse(obj Obj, msg, explain string) {
	t.w.Fail(&Failure{Kind: FailInvariant, Invariant: InvLock, Obj: obj, Msg: msg, Explain: explain,
		Stack: string(debug.Stack())})
}

func (t *Task) hold(name string) { t.held = append(t.held, name) }

func (t *Task) release(name string) {
	for i := len(t.held) - 1; i >= 0; i-- {
		if t.held[i] == name {
			t.held = append(t.held[:i], t.held[i+1:]...)
			return
		}
	}
}

// waiters is a FIFO of blocked tasks.
type waiters []*Task

func (q *waiters) remove(t *Task) {
	for i, x := range *q {
		if x == t {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return
		}
	}
}

// wakeOne wakes the first waiter still asleep: one killed, or woken by a
// signal, while queued is skipped so that the wakeup is not lost.
func (q *waiters) wakeOne() {
	for len(*q) > 0 {
		t := (*q)[0]
		*q = (*q)[1:]
		if t.state == taskBlocked {
			t.wake()
			return
		}
	}
}

func (q *waiters) wakeAll() {
	for _, t := range *q {
		t.wake()
	}
	*q = (*q)[:0]
}

// SpinLock is spinlock_t. Holding one is atomic context: sleeping there is
// a lock failure. A contended lock blocks the spinner in the simulation
// (spinning has no other observable effect).
type SpinLock struct {
	Name  string
	owner *Task
	q     waiters
}

func (l *SpinLock) obj() Obj { return Obj{Class: "spinlock", Name: l.Name} }

// Lock is spin_lock().
func (l *SpinLock) Lock(t *Task) {
	t.sched()
	if l.owner == t {
		t.lockMisuse(l.obj(), "BUG: spinlock recursion on "+l.Name,
			"The task already holds "+l.Name+" and tried to take it again; a real CPU would spin forever.")
	}
	for l.owner != nil {
		l.q = append(l.q, t)
		t.block(l.obj(), "spin_lock", l.owner)
	}
	l.owner = t
	t.atomic++
	t.hold(l.Name)
	t.w.Record(KindLock, "spin_lock", l.obj(), 0, "")
}

// TryLock is spin_trylock(): it takes the lock if free and reports whether
// it did.
func (l *SpinLock) TryLock(t *Task) bool {
	t.sched()
	if l.owner != nil {
		t.w.Record(KindPoint, "spin_trylock", l.obj(), 0, "busy")
		return false
	}
	l.owner = t
	t.atomic++
	t.hold(l.Name)
	t.w.Record(KindLock, "spin_trylock", l.obj(), 1, "")
	return true
}

// Unlock is spin_unlock().
func (l *SpinLock) Unlock(t *Task) {
	switch {
	case l.owner == nil:
		t.lockMisuse(l.obj(), "BUG: spin_unlock of unlocked "+l.Name,
			"The task released a spinlock that nobody held: an unlock without a lock, or a double unlock.")
	case l.owner != t:
		t.lockMisuse(l.obj(), fmt.Sprintf("BUG: spin_unlock of %s held by task %s", l.Name, l.owner.name),
			"A spinlock must be released by the task that took it.")
	}
	l.owner = nil
	t.atomic--
	t.release(l.Name)
	t.w.Record(KindUnlock, "spin_unlock", l.obj(), 0, "")
	l.q.wakeOne()
	t.sched()
}

// Held reports whether t holds the lock (assert_spin_locked).
func (l *SpinLock) Held(t *Task) bool { return l.owner == t }

// Mutex is struct mutex: a sleeping lock with an owner.
type Mutex struct {
	Name  string
	owner *Task
	q     waiters
}

func (m *Mutex) obj() Obj { return Obj{Class: "mutex", Name: m.Name} }

// IsLocked is mutex_is_locked(): some task holds m.
func (m *Mutex) IsLocked() bool { return m.owner != nil }

// Lock is mutex_lock().
func (m *Mutex) Lock(t *Task) {
	t.mightSleep("mutex_lock", m.obj())
	t.sched()
	if m.owner == t {
		t.lockMisuse(m.obj(), "mutex_lock: recursive locking of "+m.Name,
			"The task already holds the mutex; mutexes are not recursive, so this deadlocks.")
	}
	for m.owner != nil {
		m.q = append(m.q, t)
		t.block(m.obj(), "mutex_lock", m.owner)
	}
	m.owner = t
	t.hold(m.Name)
	t.w.Record(KindLock, "mutex_lock", m.obj(), 0, "")
}

// Unlock is mutex_unlock().
func (m *Mutex) Unlock(t *Task) {
	switch {
	case m.owner == nil:
		t.lockMisuse(m.obj(), "mutex_unlock of unlocked "+m.Name, "A mutex was released twice, or never taken.")
	case m.owner != t:
		t.lockMisuse(m.obj(), fmt.Sprintf("mutex_unlock of %s held by task %s", m.Name, m.owner.name),
			"Only the owner may release a mutex.")
	}
	m.owner = nil
	t.release(m.Name)
	t.w.Record(KindUnlock, "mutex_unlock", m.obj(), 0, "")
	m.q.wakeOne()
	t.sched()
}

// WaitQueue is wait_queue_head_t.
type WaitQueue struct {
	Name string
	Obj  Obj // what the queue belongs to, for traces; defaults to the name
	q    waiters
}

func (q *WaitQueue) obj() Obj {
	if q.Obj.Class != "" {
		return q.Obj
	}
	return Obj{Class: "waitqueue", Name: q.Name}
}

// WaitEvent is wait_event(wq, cond): sleep until cond holds. The check and
// the sleep are one step, as prepare_to_wait makes them in the kernel, so a
// wakeup between them is not lost.
func (q *WaitQueue) WaitEvent(t *Task, cond func() bool) {
	t.mightSleep("wait_event", q.obj())
	t.sched()
	for !cond() {
		q.q = append(q.q, t)
		t.block(q.obj(), "wait_event", nil)
	}
}

// WaitEventInterruptible is wait_event_interruptible(wq, cond): it returns
// 0 once cond holds, or ERESTARTSYS if a signal is pending.
func (q *WaitQueue) WaitEventInterruptible(t *Task, cond func() bool) errno.Errno {
	t.mightSleep("wait_event_interruptible", q.obj())
	t.sched()
	for !cond() {
		if t.sigpend {
			return errno.ERESTARTSYS
		}
		q.q = append(q.q, t)
		t.interruptible = true
		t.block(q.obj(), "wait_event_interruptible", nil)
		t.interruptible = false
		if t.woken {
			t.woken = false
			q.q.remove(t)
		}
	}
	return 0
}

// WakeUp is wake_up(): wake the first waiter.
func (q *WaitQueue) WakeUp(t *Task) {
	t.sched()
	q.q.wakeOne()
	t.w.Record(KindPoint, "wake_up", q.obj(), 0, "")
}

// WakeUpAll is wake_up_all().
func (q *WaitQueue) WakeUpAll(t *Task) {
	t.sched()
	q.q.wakeAll()
	t.w.Record(KindPoint, "wake_up_all", q.obj(), 0, "")
}

// Waiters is the number of tasks asleep on the queue.
func (q *WaitQueue) Waiters() int { return len(q.q) }

// Completion is struct completion.
type Completion struct {
	Name string
	done int
	q    WaitQueue
}

// Wait is wait_for_completion().
func (c *Completion) Wait(t *Task) {
	c.q.Name = c.Name
	c.q.WaitEvent(t, func() bool { return c.done > 0 })
	c.done--
}

// Complete is complete(): one waiter (present or future) proceeds.
func (c *Completion) Complete(t *Task) {
	c.done++
	c.q.Name = c.Name
	c.q.WakeUp(t)
}

// CompleteAll is complete_all(): every waiter proceeds, now and later.
func (c *Completion) CompleteAll(t *Task) {
	c.done = 1 << 30
	c.q.Name = c.Name
	c.q.WakeUpAll(t)
}

// Bit waits: the kernel hashes (word, bit) to a wait queue
// (bit_waitqueue); the world keeps one queue per (word, bit) in use.
type bitKey struct {
	word *uint64
	bit  uint
}

func (w *World) bitQueue(word *uint64, bit uint) *WaitQueue {
	k := bitKey{word, bit}
	if w.bitq == nil {
		w.bitq = make(map[bitKey]*WaitQueue)
	}
	q := w.bitq[k]
	if q == nil {
		q = &WaitQueue{}
		w.bitq[k] = q
	}
	return q
}

// WaitOnBit is wait_on_bit(word, bit, ..., TASK_UNINTERRUPTIBLE): sleep
// until the bit is clear. obj and op name the flag for traces
// (Obj{"page",...}, "wait_on_page_writeback").
func WaitOnBit(t *Task, word *uint64, bit uint, obj Obj, op string) {
	t.mightSleep(op, obj)
	t.sched()
	for *word&(1<<bit) != 0 {
		q := t.w.bitQueue(word, bit)
		q.q = append(q.q, t)
		t.block(obj, op, nil)
	}
	t.w.Record(KindPoint, op, obj, int64(bit), "")
}

// WaitOnBitLock is wait_on_bit_lock(): sleep until the bit is clear, then
// set it, atomically with the last check (lock_page).
func WaitOnBitLock(t *Task, word *uint64, bit uint, obj Obj, op string) {
	t.mightSleep(op, obj)
	t.sched()
	for *word&(1<<bit) != 0 {
		q := t.w.bitQueue(word, bit)
		q.q = append(q.q, t)
		t.block(obj, op, nil)
	}
	*word |= 1 << bit
	t.w.Record(KindLock, op, obj, int64(bit), "")
}

// WakeUpBit is wake_up_bit(word, bit): wake every task waiting on that bit;
// each rechecks it. Clearing a bit without this is a lost wakeup, which the
// simulation shows as a deadlock.
func WakeUpBit(t *Task, word *uint64, bit uint, obj Obj) {
	t.sched()
	k := bitKey{word, bit}
	if q := t.w.bitq[k]; q != nil {
		q.q.wakeAll()
		delete(t.w.bitq, k)
	}
	t.w.Record(KindPoint, "wake_up_bit", obj, int64(bit), "")
}
