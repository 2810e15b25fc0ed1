package sim

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"
)

// Kind classifies a trace event.
type Kind uint8

// Event kinds. The model adds meaning with Event.Op (the kernel name of the
// operation, such as "set_page_writeback") rather than with new kinds, so
// renderers stay generic.
const (
	KindPoint  Kind = iota // a scheduling point the model declared (Task.Point)
	KindSpawn              // a task was created
	KindExit               // a task finished
	KindBlock              // a task went to sleep waiting on an object
	KindWake               // a task was made runnable by another
	KindLock               // a lock was acquired
	KindUnlock             // a lock was released
	KindTimer              // the clock advanced to a timer event
	KindEnter              // a task entered a kernel function (span start)
	KindLeave              // a task left a kernel function (span end)
	KindFault              // a fault was injected
	KindSignal             // a signal was delivered
	KindFail               // the run failed
	KindNote               // free-form narration
	numKinds
)

var kindNames = [numKinds]string{
	"point", "spawn", "exit", "block", "wake", "lock", "unlock",
	"timer", "enter", "leave", "fault", "signal", "fail", "note",
}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Obj names the object an event is about, without allocating: a class
// ("page", "spinlock", "bio"...), an optional long-lived name, and up to
// two numbers the class defines (for a page: inode number and index). The
// zero Obj means "none".
type Obj struct {
	Class string
	Name  string
	A, B  int64
}

// String prints "class name A:B", leaving out the parts that are unset.
func (o Obj) String() string {
	if o.Class == "" {
		return ""
	}
	s := o.Class
	if o.Name != "" {
		s += " " + o.Name
	}
	switch {
	case o.B != 0:
		s += fmt.Sprintf(" %d:%d", o.A, o.B)
	case o.A != 0:
		s += fmt.Sprintf(" %d", o.A)
	}
	return s
}

// Event is one structured trace record. All fields are plain values or
// static strings, so recording one allocates nothing.
type Event struct {
	Time Time
	Step int64
	Task int32 // task id; -1 for the world itself (timers, faults outside tasks)
	Kind Kind
	Fn   string // the kernel function the task was in (top of its Enter stack)
	Op   string // kernel name of the operation: "spin_lock", "end_page_writeback"
	Obj  Obj
	Arg  int64
	Msg  string // optional static narration
}

// Trace keeps the last Keep events in full in a ring, counts every event and
// hashes the whole run. With Keep < 0 it keeps every event (for narrated
// traces of short runs).
type Trace struct {
	keep   int
	ring   []Event
	next   int // next ring slot
	total  int64
	hash   uint64
	traced bool // false: no hash and no ring (Config.Untraced)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newTrace(keep int, traced bool) Trace {
	// The ring grows on demand, so a short run does not pay for a long one.
	t := Trace{keep: keep, traced: traced}
	if traced {
		t.hash = fnvOffset
	}
	return t
}

// slot returns where the next event goes: its place in the ring, or
// scratch when the trace keeps none, so that Record writes each event once
// and copies it nowhere.
func (tr *Trace) slot(scratch *Event) *Event {
	switch {
	case tr.keep == 0 || !tr.traced:
		return scratch
	case tr.keep < 0 || len(tr.ring) < tr.keep:
		if tr.ring == nil && tr.keep > 0 {
			// A small ring at once, not a series of doublings.
			tr.ring = make([]Event, 0, min(tr.keep, 64))
		}
		tr.ring = append(tr.ring, Event{})
		return &tr.ring[len(tr.ring)-1]
	}
	ev := &tr.ring[tr.next]
	tr.next++
	if tr.next == tr.keep {
		tr.next = 0
	}
	return ev
}

// add counts and hashes ev, which is already in its slot.
func (tr *Trace) add(ev *Event) {
	tr.total++
	if !tr.traced {
		return
	}
	h := tr.hash
	h = mix(h, uint64(ev.Time))
	h = mix(h, uint64(ev.Step))
	h = mix(h, uint64(uint32(ev.Task))<<8|uint64(ev.Kind))
	// Fn is not hashed: it follows from the Enter and Leave events, which are.
	h = mixString(h, ev.Op)
	h = mixString(h, ev.Obj.Class)
	h = mixString(h, ev.Obj.Name)
	h = mix(h, uint64(ev.Obj.A))
	h = mix(h, uint64(ev.Obj.B))
	h = mix(h, uint64(ev.Arg))
	tr.hash = mixString(h, ev.Msg)
}

// mix folds one 64-bit word into an FNV-style running hash, a word at a
// time: cheaper than byte-wise FNV and just as stable across runs.
func mix(h, v uint64) uint64 {
	h ^= v
	h *= fnvPrime
	return h ^ h>>29
}

func mixString(h uint64, s string) uint64 {
	h = mix(h, uint64(len(s)))
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read-only view, no copy
	for len(b) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	// The last 0 to 7 bytes, little-endian, in at most three loads.
	var v uint64
	var shift uint
	if len(b) >= 4 {
		v, shift, b = uint64(binary.LittleEndian.Uint32(b)), 32, b[4:]
	}
	if len(b) >= 2 {
		v, shift, b = v|uint64(binary.LittleEndian.Uint16(b))<<shift, shift+16, b[2:]
	}
	if len(b) == 1 {
		v |= uint64(b[0]) << shift
	}
	return mix(h, v)
}

// Hash is the 64-bit hash over every event of the run so far.
func (tr *Trace) Hash() uint64 { return tr.hash }

// Total is the number of events recorded, kept or not.
func (tr *Trace) Total() int64 { return tr.total }

// Events returns the kept events, oldest first.
func (tr *Trace) Events() []Event {
	if tr.keep <= 0 || len(tr.ring) < tr.keep || tr.next == 0 {
		return append([]Event(nil), tr.ring...)
	}
	out := make([]Event, 0, len(tr.ring))
	out = append(out, tr.ring[tr.next:]...)
	return append(out, tr.ring[:tr.next]...)
}

// Format renders one event as a line of a plain trace, naming tasks through
// names (indexed by task id).
func (ev *Event) Format(names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%8s #%-5d ", ev.Time, ev.Step)
	if ev.Task >= 0 && int(ev.Task) < len(names) {
		fmt.Fprintf(&b, "%-10s ", names[ev.Task])
	} else {
		b.WriteString("[world]    ")
	}
	fmt.Fprintf(&b, "%-6s", ev.Kind)
	if ev.Fn != "" {
		fmt.Fprintf(&b, " %s:", ev.Fn)
	}
	if ev.Op != "" {
		fmt.Fprintf(&b, " %s", ev.Op)
	}
	if ev.Obj.Class != "" {
		fmt.Fprintf(&b, " %s", ev.Obj)
	}
	if ev.Arg != 0 {
		fmt.Fprintf(&b, " arg=%d", ev.Arg)
	}
	if ev.Msg != "" {
		fmt.Fprintf(&b, " (%s)", ev.Msg)
	}
	return b.String()
}
