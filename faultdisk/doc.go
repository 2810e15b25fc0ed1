// Package faultdisk is wbsim's fault-injecting virtual block device and the
// fault-plan vocabulary that both the device and the AFS file server model
// use.
//
// A [Plan] is pure data: an ordered list of [Rule]s, each a [Match] (which
// requests: operation, sectors, file, bytes, key, allocation site, Nth match,
// time window, dm-flakey style periodic window, probability) and an [Action]
// (fail, transient, latent, misdirect, corrupt, latency, offline, partial).
// Plans have a line-oriented text form ([Parse], [Plan.String]) documented in
// docs/fault-plans.md, and the Go form is just as complete.
//
// An [Injector] evaluates a Plan for one world: it holds the counters and
// per-rule random streams, answers each [Request] with an [Effect], and
// reports every fault it injects as a [Fault] through the caller's callback,
// for the trace.
//
// A [Disk] is the device: 512-byte sectors of symbolic contents
// (sim/content), requests ([IO]: read, write, FUA write, flush) submitted
// with [Disk.Submit] from a task and completed after a simulated latency by
// a callback in the disk's interrupt task, a request queue with a depth,
// congestion and plugging, a bounded reorder window, a volatile write cache
// that [Disk.Crash] drops, keeps or tears, and the faults of a Plan, decided
// when each request is dispatched. docs/faultdisk.md describes its
// semantics: when faults apply, what a flush covers, what a crash keeps and
// that requests lost to a crash never complete.
package faultdisk
