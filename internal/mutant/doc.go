// Package mutant is the test-only hook of the mutation study
// (docs/mutants.md). Model code marks a deliberate, plausible bug with
//
//	if mutant.On("mpage-skip-page") { ... }
//
// next to the line it changes, with a comment naming the upstream fix the
// mutant undoes. In normal builds On is a constant false that the compiler
// removes with the branch, so the model behaves exactly as without the
// hook. Under the build tag wbsim_mutants the study sets one mutant active
// at a time (Set) before it explores, and On reports whether id is it.
package mutant
