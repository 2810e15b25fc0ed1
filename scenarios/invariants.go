package scenarios

import "slices"

// Invariant is an invariant id: the name a failure is reported under and
// a check statement selects.
type Invariant string

// The invariant ids. The packages that raise them keep their own
// constants of the same value where they cannot import this one (model
// packages sit below scenarios); TestRegistryCoversEveryConstant checks
// those against the registry.
const (
	InvPageState       Invariant = "page-state"
	InvPageRef         Invariant = "page-ref"
	InvWBRecord        Invariant = "wb-record"
	InvBioShape        Invariant = "bio-shape"
	InvLock            Invariant = "lock"
	InvProgress        Invariant = "progress"
	InvReadCorrect     Invariant = "read-correct"
	InvFsyncDurable    Invariant = "fsync-durable"
	InvFsyncError      Invariant = "fsync-error"
	InvCrash           Invariant = "crash"
	InvNoLostWrite     Invariant = "no-lost-write"
	InvCyclicComplete  Invariant = "cyclic-complete"
	InvSyncComplete    Invariant = "sync-complete"
	InvWritepagesError Invariant = "writepages-error"
	InvWritebackIndex  Invariant = "writeback-index"
	InvFsConsistent    Invariant = "fs-consistent"
	InvRPCShape        Invariant = "rpc-shape"
	InvFsyncBounded    Invariant = "fsync-bounded"
	InvDirtyExpire     Invariant = "dirty-expire"
	// InvExpect is a failed per-operation expectation ("fsync f expect
	// EIO" returned 0): every run judges it, and a check statement cannot
	// name it.
	InvExpect Invariant = "expect"
)

// InvariantInfo is one entry of the invariant registry.
type InvariantInfo struct {
	ID      Invariant
	Meaning string // one line: what must hold
	Package string // the package that checks it, from the module root
	Doc     string // where the docs describe it: file#anchor, from the repo root
	Always  bool   // judged in every run; not selectable by a check statement
}

// scenarioDoc is the page whose check section describes every invariant.
const scenarioDoc = "docs/scenario-language.md"

// registry is the one list of invariants, in the order of the docs' table
// and of every check list (AllInvariants).
var registry = []InvariantInfo{
	{InvPageState, "page flags change only along legal transitions: lock held for set/clear of writeback and dirty-for-io, no end_page_writeback on a page not under writeback, no unlock of an unlocked page, no page leaves the page cache under writeback",
		"model/mm", scenarioDoc + "#invariants", false},
	{InvPageRef, "every page reference taken is dropped; no access to a freed page; no page freed while referenced",
		"model/mm", scenarioDoc + "#invariants", false},
	{InvWBRecord, "AFS writeback record usage equals the pages (and fsync markers) that point to it; freed exactly once; never used after free; list membership consistent",
		"model/afs", scenarioDoc + "#invariants", false},
	{InvBioShape, "each bio covers contiguous sectors, in page order, no partial page except at EOF, within the queue's limits",
		"model/block", scenarioDoc + "#invariants", false},
	{InvLock, "no sleeping in atomic context, no lock released by a non-owner, no recursive locking, page locks taken in index order within one task",
		"sim", scenarioDoc + "#invariants", false},
	{InvProgress, "every task finishes within the step and virtual-time budgets; no deadlock",
		"sim", scenarioDoc + "#invariants", false},
	{InvReadCorrect, "a read returns the oracle's bytes: written data, zeros in holes and past EOF",
		"check", scenarioDoc + "#invariants", false},
	{InvFsyncDurable, "when fsync returns 0, every byte written to that file before fsync began is on stable storage",
		"check", scenarioDoc + "#invariants", false},
	{InvFsyncError, "when writeback of data written before fsync failed, fsync reports it",
		"check", scenarioDoc + "#fsync-contract", false},
	{InvCrash, "after a crash, stable storage holds, for every fsync that returned 0, at least what that fsync promised",
		"check", scenarioDoc + "#crash", false},
	{InvNoLostWrite, "after a final sync, stable storage equals the oracle, bytes and length, outside what injected faults touched: no update is lost",
		"check", scenarioDoc + "#no-lost-write", false},
	{InvCyclicComplete, "a cyclic WB_SYNC_NONE writeback pass with enough nr_to_write writes every page that was dirty, unlocked and not under writeback when it began",
		"check", scenarioDoc + "#the--writepages-checks", false},
	{InvSyncComplete, "a WB_SYNC_ALL ->writepages call writes every page of its range that was dirty when it began (or the page leaves the mapping), whatever errors it meets on the way",
		"check", scenarioDoc + "#the--writepages-checks", false},
	{InvWritepagesError, "an error a ->writepage or an AFS store returned inside ->writepages is returned by the call or recorded on the mapping (AS_EIO/AS_ENOSPC) before it returns",
		"check", scenarioDoc + "#the--writepages-checks", false},
	{InvWritebackIndex, "a WB_SYNC_NONE cyclic pass that stops early leaves writeback_index no further than the first dirty page it did not write",
		"check", scenarioDoc + "#the--writepages-checks", false},
	{InvFsConsistent, "blockfs's fsck is clean once every task is done and on the image each crash leaves: no block used twice, none leaked, bitmaps and free count right, no block mapped past i_size, i_blocks matching the map",
		"model/blockfs", scenarioDoc + "#fs-consistent", false},
	{InvRPCShape, "every AFS FS.StoreData and FS.FetchData agrees with what it carries: length = bytes sent, range within its pages, file length = max(i_size, end of store), a page fill fetches that page",
		"model/afs", scenarioDoc + "#rpc-shape", false},
	{InvFsyncBounded, "a WB_SYNC_ALL sweep (fsync, sync, msync) writes no more pages than were dirty in its range when it began, plus those its TOWRITE tagging took in after: a writer that never stops cannot keep it going",
		"check", scenarioDoc + "#fsync-bounded", false},
	{InvDirtyExpire, "while the periodic flusher runs (and no fault is injected), a page dirtied at p is clean by the end of the second kupdate pass that starts after p + dirty_expire_interval",
		"check", scenarioDoc + "#dirty-expire", false},
	{InvExpect, "an operation's expect RESULT holds: the call returns what the scenario says it returns",
		"scenarios/run", scenarioDoc + "#operations", true},
}

// Invariants returns the invariant registry: every id with its meaning,
// the package that checks it and where the docs describe it.
func Invariants() []InvariantInfo { return slices.Clone(registry) }

// LookupInvariant returns the registry entry of id.
func LookupInvariant(id Invariant) (InvariantInfo, bool) {
	i := slices.IndexFunc(registry, func(e InvariantInfo) bool { return e.ID == id })
	if i < 0 {
		return InvariantInfo{}, false
	}
	return registry[i], true
}

// AllInvariants returns every invariant id a check statement may name, in
// the registry's order.
func AllInvariants() []Invariant {
	var l []Invariant
	for _, e := range registry {
		if !e.Always {
			l = append(l, e.ID)
		}
	}
	return l
}

// Known reports whether id is an invariant id a check statement may name.
func (id Invariant) Known() bool {
	e, ok := LookupInvariant(id)
	return ok && !e.Always
}
