package afs

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/sim"
)

// A small struct list_head with the kernel's exact semantics
// (include/linux/list.h, Linux 2.6.35, CONFIG_DEBUG_LIST off), so that the
// seed's list manipulations do what the kernel's would, including what
// they do wrong:
//
//   - list_del leaves LIST_POISON1 in next and LIST_POISON2 in prev;
//     a later use of either (list_del again, list_del_init, a walk) is a
//     dereference of 0x00100100 or 0x00200200: an oops.
//   - A list_head that was kzalloc'd and never initialised has NULL next
//     and prev; list_del or list_del_init of it is a NULL dereference: an
//     oops.
//   - list_del_init of an initialised, empty entry (next == prev == self)
//     is harmless, as in the kernel.
//
// The model turns each oops into a wb-record failure naming the pointer
// and the operation, because in every seed path a corrupt list is a
// writeback record used wrongly.

// Poison values, include/linux/poison.h (no POISON_POINTER_DELTA).
const (
	LIST_POISON1 = 0x00100100
	LIST_POISON2 = 0x00200200
)

// ListHead is struct list_head. The zero value is what kzalloc leaves: NULL
// next and prev, not an empty list; INIT_LIST_HEAD makes it one.
type ListHead struct {
	next, prev *ListHead
	// poison is set on the two sentinel heads that stand for LIST_POISON1
	// and LIST_POISON2; a real list_head never has it.
	poison uintptr
	// wb is list_entry(head, struct afs_writeback, link): the record that
	// embeds this link, nil for a list head that is not in a record (such
	// as vnode->writebacks).
	wb *Writeback
}

var (
	listPoison1 = &ListHead{poison: LIST_POISON1}
	listPoison2 = &ListHead{poison: LIST_POISON2}
)

// Next is head->next, for checkers; nil for a kzalloc'd head.
func (l *ListHead) Next() *ListHead { return l.next }

// Prev is head->prev, for checkers.
func (l *ListHead) Prev() *ListHead { return l.prev }

// Poisoned reports whether the link holds the poison list_del leaves.
func (l *ListHead) Poisoned() bool { return l.next == listPoison1 || l.prev == listPoison2 }

// Entry is list_entry(l, struct afs_writeback, link), or nil if l is not
// a record's link (a list head, or a poison value).
func (l *ListHead) Entry() *Writeback { return l.wb }

// ptrName renders a list pointer as the kernel would print it in an oops.
func ptrName(p *ListHead) string {
	switch {
	case p == nil:
		return "NULL pointer"
	case p.poison != 0:
		return fmt.Sprintf("LIST_POISON%d (%#08x)", map[uintptr]int{LIST_POISON1: 1, LIST_POISON2: 2}[p.poison], p.poison)
	}
	return "valid pointer"
}

// deref is the dereference of a list pointer: a NULL or poisoned pointer
// oopses, reported as a wb-record failure.
func deref(t *sim.Task, p *ListHead, op string) *ListHead {
	if p == nil || p.poison != 0 {
		oops(t, p, op)
	}
	return p
}

func oops(t *sim.Task, p *ListHead, op string) {
	addr := "0000000000000000"
	why := "a list_head that was never added to a list (kzalloc left next and prev NULL) was unlinked"
	if p != nil {
		addr = fmt.Sprintf("%016x", p.poison)
		why = "a list_head that list_del had already removed (and poisoned) was used again"
	}
	t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvWbRecord,
		Obj: sim.Obj{Class: "list_head"},
		Msg: fmt.Sprintf("BUG: unable to handle kernel %s dereference at %s in %s",
			ptrName(p), addr, op),
		Explain: "The kernel would oops here: " + why + ". In fs/afs/write.c every list_head is the " +
			"link of an afs_writeback record in vnode->writebacks, so this means a record was unlinked " +
			"twice, or unlinked without ever having been linked: the record's list membership is " +
			"inconsistent (wb-record).",
		Stack: string(debug.Stack())})
}

// INIT_LIST_HEAD is INIT_LIST_HEAD(list).
//
//nolint:revive // kernel name
func INIT_LIST_HEAD(l *ListHead) { l.next, l.prev = l, l }

// listAdd is __list_add(new, prev, next).
func listAdd(t *sim.Task, n, prev, next *ListHead, op string) {
	deref(t, next, op).prev = n
	n.next = next
	n.prev = prev
	deref(t, prev, op).next = n
}

// ListAddTail is list_add_tail(new, head).
func ListAddTail(t *sim.Task, n, head *ListHead) {
	listAdd(t, n, deref(t, head.prev, "list_add_tail"), head, "list_add_tail")
}

// listDelEntry is __list_del(entry->prev, entry->next).
func listDelEntry(t *sim.Task, entry *ListHead, op string) {
	prev := deref(t, entry.prev, op)
	next := deref(t, entry.next, op)
	next.prev = prev
	prev.next = next
}

// ListDel is list_del(entry): unlink and poison.
func ListDel(t *sim.Task, entry *ListHead) {
	listDelEntry(t, entry, "list_del")
	entry.next = listPoison1
	entry.prev = listPoison2
}

// ListDelInit is list_del_init(entry): unlink and reinitialise.
func ListDelInit(t *sim.Task, entry *ListHead) {
	listDelEntry(t, entry, "list_del_init")
	INIT_LIST_HEAD(entry)
}

// ListEmpty is list_empty(head).
func ListEmpty(head *ListHead) bool { return head.next == head }

// listForEachEntry is list_for_each_entry(pos, head, link): it calls fn
// for each record until fn returns false. Following a poisoned or NULL
// link oopses.
func listForEachEntry(t *sim.Task, head *ListHead, fn func(wb *Writeback) bool) {
	for pos := deref(t, head.next, "list_for_each_entry"); pos != head; pos = deref(t, pos.next, "list_for_each_entry") {
		if pos.wb == nil {
			oops(t, pos, "list_for_each_entry")
		}
		if !fn(pos.wb) {
			return
		}
	}
}
