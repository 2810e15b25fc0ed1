//go:build !wbsim_mutants

package mutant

// On is false in normal builds: no mutant is ever active.
func On(id string) bool { return false }
