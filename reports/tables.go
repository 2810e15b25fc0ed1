package reports

import (
	"strconv"

	"github.com/wbsim/wbsim/sim"
)

// The tables below are the only place where reports know what the model's
// operations mean. The model records kernel names (Event.Op) and objects
// (Event.Obj); these tables map them to page states, counters and flows.
// To teach the renderers a new operation, add a name here.

// PageState is one page flag as the timeline and counters show it.
type PageState struct {
	Name   string // "dirty", "locked", ...
	Phrase string // how narration says it: "the page is now <Phrase>"
	Color  string // CSS colour of the timeline stripe
	// Set and Clear list the operations (Event.Op on an event whose
	// Obj.Class is "page") that set or clear the flag.
	Set, Clear []string
}

// PageClass is the Obj.Class of a page.
const PageClass = "page"

// PageStates is the page-state table, in stripe order (top to bottom).
// Names follow the kernels modelled (2.6.x-3.x): the functions and the
// PG_* flag macros, since the model records whichever the C code calls.
var PageStates = []PageState{
	{Name: "dirty", Phrase: "dirty", Color: "#e8a33d",
		Set:   []string{"set_page_dirty", "__set_page_dirty_nobuffers", "__set_page_dirty_buffers", "SetPageDirty", "TestSetPageDirty", "redirty_page_for_writepage", "account_page_dirtied"},
		Clear: []string{"clear_page_dirty_for_io", "ClearPageDirty", "TestClearPageDirty", "cancel_dirty_page", "test_clear_page_dirty"}},
	{Name: "locked", Phrase: "locked", Color: "#7a5cc4",
		Set:   []string{"lock_page", "__lock_page", "trylock_page", "TestSetPageLocked", "SetPageLocked", "lock_page_killable"},
		Clear: []string{"unlock_page", "ClearPageLocked"}},
	{Name: "writeback", Phrase: "under writeback", Color: "#2f80c9",
		Set:   []string{"set_page_writeback", "TestSetPageWriteback", "SetPageWriteback"},
		Clear: []string{"end_page_writeback", "test_clear_page_writeback", "TestClearPageWriteback", "ClearPageWriteback"}},
	{Name: "uptodate", Phrase: "up to date", Color: "#3fa46a",
		Set:   []string{"SetPageUptodate", "set_page_uptodate"},
		Clear: []string{"ClearPageUptodate"}},
	{Name: "error", Phrase: "marked in error", Color: "#d23f3f",
		Set:   []string{"SetPageError", "set_page_error", "mapping_set_error"},
		Clear: []string{"ClearPageError", "TestClearPageError"}},
}

// pageChange says what an event does to a page: the index of the state in
// PageStates and whether it sets it, or ok=false when it changes no flag.
// Only operations (points, locks, unlocks) on page objects count: a task
// that sleeps in lock_page has not locked the page.
func pageChange(ev *sim.Event) (state int, set, ok bool) {
	if ev.Obj.Class != PageClass {
		return 0, false, false
	}
	if !isOp(ev) {
		return 0, false, false
	}
	return pageTransition(ev.Op)
}

// isOp reports whether an event is an operation the model performed (a
// point, a lock, an unlock), as opposed to a sleep, a wakeup or a span.
func isOp(ev *sim.Event) bool {
	return ev.Kind == sim.KindPoint || ev.Kind == sim.KindLock || ev.Kind == sim.KindUnlock
}

// pageTransition says what op does to a page flag.
func pageTransition(op string) (state int, set, ok bool) {
	for i, s := range PageStates {
		for _, o := range s.Set {
			if o == op {
				return i, true, true
			}
		}
		for _, o := range s.Clear {
			if o == op {
				return i, false, true
			}
		}
	}
	return 0, false, false
}

// A Counter is a Chrome-trace counter track: how many objects of Class are
// in a state, where Set ops enter the state and Clear ops leave it.
type Counter struct {
	Name       string
	Class      string
	Set, Clear []string
}

// Counters lists the counter tracks of trace.json. It starts with one
// counter per page state ("pages dirty", ...); append to it for other
// object classes (bios in flight, writeback records).
var Counters = pageStateCounters()

func pageStateCounters() []Counter {
	var out []Counter
	for _, s := range PageStates {
		out = append(out, Counter{Name: "pages " + s.Name, Class: PageClass, Set: s.Set, Clear: s.Clear})
	}
	return out
}

// CountPointsByOp makes trace.json carry, besides Counters, one
// cumulative counter per operation name of KindPoint events ("points:
// set_page_dirty"): a generic view that needs no table.
var CountPointsByOp = true

// A Flow links an event to the one that completes it: from an event with
// Op == From, to the next event on a different task with the same Obj (a
// request dispatched to the disk by one task and completed in an
// interrupt). A flow that never completes is left out of the trace.
type Flow struct {
	From string
	Name string // the flow's name in the trace viewer
}

// Flows lists the flow rules of trace.json.
// faultdisk names a request by its sectors (Obj disk NAME, A sector, B
// count) in request_fn, at dispatch, and in disk_complete, in the
// completion interrupt; the block layer names a bio (Obj bio) in
// submit_bio and again in bio_endio, in the completion interrupt.
var Flows = []Flow{
	{From: "request_fn", Name: "disk I/O"},
	{From: "submit_bio", Name: "bio"},
	{From: "generic_make_request", Name: "bio"},
	{From: "submit_bh", Name: "buffer I/O"},
}

func isZeroObj(o sim.Obj) bool { return o == sim.Obj{} }

// ObjString prints an object as the renderers show it: Obj.String, except
// that a page always shows "inode:index" ("page 1:0", where Obj.String
// leaves out a zero index).
func ObjString(o sim.Obj) string {
	if o.Class != PageClass {
		return o.String()
	}
	s := o.Class
	if o.Name != "" {
		s += " " + o.Name
	}
	return s + " " + strconv.FormatInt(o.A, 10) + ":" + strconv.FormatInt(o.B, 10)
}
