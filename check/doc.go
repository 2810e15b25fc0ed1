// Package check holds wbsim's contracts: the oracle of what each file must
// contain and what each fsync promised, and the checks that compare the
// model's observable state with it (read-correct, fsync-durable,
// fsync-error, crash, no-lost-write). The invariants the model raises
// where they happen (page-state, page-ref, wb-record, bio-shape, lock) and
// the progress checks of sim share the same ids, from the invariant
// registry (scenarios.Invariants).
//
// The oracle knows nothing of the model: the runner tells it what the
// workload did (writes, truncates, fsyncs and what they returned, writeback
// errors the model recorded) and hands it views of stable storage. Each
// violation is a *sim.Failure with its invariant id, the file, and a
// paragraph a learner can follow.
package check
