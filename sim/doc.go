// Package sim is wbsim's deterministic simulation kernel: a virtual clock,
// an event queue, kernel tasks run as coroutines, scheduling points,
// kernel-style synchronisation primitives, failures, decision logs, traces
// and the exploration driver.
//
// One World is one run. Only one task runs at a time; a task gives the
// scheduler a chance to switch only at a scheduling point: every lock,
// unlock, wait, wake and explicit CondResched, and every point the model
// declares with Task.Point (page-flag operations, I/O submission). At each
// point a Strategy picks the next task among the runnable ones. Choice 0
// always means "the current task goes on", so shrinking choices toward 0
// removes preemptions.
//
// Nothing here reads the wall clock, the global random source or depends on
// map iteration order: the same seed and the same code give the same trace
// hash. The package knows nothing about pages or disks; the model packages
// build on it (see ARCHITECTURE.md).
//
// Simplification, stated once: tasks interleave but never run in parallel,
// and there is no memory-model reordering. A data race that needs weak
// memory ordering to show is out of scope; one that needs an unlucky
// interleaving of whole operations is in scope.
package sim
