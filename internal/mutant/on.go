//go:build wbsim_mutants

package mutant

import "sync/atomic"

// active is the id of the mutant on ("" for none). It is set between
// explorations, never while a world runs, and read by every world of one
// exploration alike, so a run stays a function of its seed.
var active atomic.Pointer[string]

// reached counts the times the active mutant's hook was evaluated: a
// mutant whose hook no scenario reaches cannot be caught.
var reached atomic.Int64

// On reports whether id is the active mutant.
func On(id string) bool {
	p := active.Load()
	if p == nil || *p == "" || *p != id {
		return false
	}
	reached.Add(1)
	return true
}

// Set makes id the active mutant ("" turns mutation off) and zeroes the
// reached count.
func Set(id string) {
	active.Store(&id)
	reached.Store(0)
}

// Reached says how many times the active mutant's hook was evaluated
// since Set.
func Reached() int64 { return reached.Load() }
