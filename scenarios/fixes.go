package scenarios

import (
	"slices"
	"strings"
)

// This file holds the closed vocabularies of the language: kernel versions,
// fix switches, invariants and failure kinds. The fix table is the one place
// that names the switches; the model packages' Fixes sets are checked
// against it by a test (scenarios/run's TestFixTableMatchesModels).

// Subsystem is the kernel subsystem a kernel version models and a fix
// switch belongs to.
type Subsystem string

// Subsystems.
const (
	SubsysMpage Subsystem = "mpage" // fs/mpage.c on blockfs
	SubsysAFS   Subsystem = "afs"   // fs/afs/write.c
)

// kernelVersions lists the modelled versions in documentation order.
var kernelVersions = []KernelVersion{Kernel2_6_12, Kernel2_6_2x, Kernel3x, KernelAFS}

// KernelVersions returns the modelled kernel versions.
func KernelVersions() []KernelVersion { return slices.Clone(kernelVersions) }

// Known reports whether v is a modelled kernel version.
func (v KernelVersion) Known() bool { return slices.Contains(kernelVersions, v) }

// Subsystem returns the subsystem version v models ("" if v is unknown).
func (v KernelVersion) Subsystem() Subsystem {
	switch v {
	case Kernel2_6_12, Kernel2_6_2x, Kernel3x:
		return SubsysMpage
	case KernelAFS:
		return SubsysAFS
	}
	return ""
}

// FSKind returns the file system version v runs on: "blockfs" or "afs".
func (v KernelVersion) FSKind() string {
	switch v.Subsystem() {
	case SubsysMpage:
		return "blockfs"
	case SubsysAFS:
		return "afs"
	}
	return ""
}

// Fix is a named switch in a subsystem's Fixes set. Seed code is modelled
// with its bugs; a switch turns on a later kernel's fix (or, for
// boundary-ignored, a deliberate mistake that shows why the code is as it
// is). Switches are off by default, except baseline ones.
type Fix struct {
	Name      string
	Subsystem Subsystem
	// Versions are the kernel versions whose code the switch changes: the
	// versions that have the bug.
	Versions []KernelVersion
	// Summary says what the bug is and what the switch does.
	Summary string
	// Baseline: the switch is on in every run of its kernels unless the
	// scenario's bug block names it (bug ... switch NAME), which turns it
	// off for that scenario. The baseline fixes are the seed bugs found
	// while modelling: left in, they would fire in scenarios about other
	// things (a double put on the flush_conflicting_wb path in any
	// two-key scenario, an fsync that waits for ever after any failed
	// store) and hide the behaviour the scenario is about. A bug seed
	// about one of them turns that one off and keeps the others on.
	Baseline bool
}

var fixTable = []Fix{
	{
		Name: "sector-overflow", Subsystem: SubsysMpage, Versions: []KernelVersion{Kernel2_6_12},
		Summary: "do_mpage_readpage and __mpage_writepage compute block_in_file as " +
			"page->index << (PAGE_CACHE_SHIFT - blkbits) in unsigned long, without a (sector_t) " +
			"cast, so on 32-bit the block number wraps for large offsets; the fix casts first",
	},
	{
		Name: "wb-integrity", Subsystem: SubsysMpage, Versions: []KernelVersion{Kernel2_6_12},
		Summary: "__mpage_writepages stops when nr_to_write reaches 0 even for WB_SYNC_ALL, " +
			"so a data-integrity writeback (fsync) can leave dirty pages behind; the fix " +
			"keeps going for WB_SYNC_ALL",
	},
	{
		Name: "cyclic-wrap", Subsystem: SubsysMpage, Versions: []KernelVersion{Kernel2_6_12},
		Summary: "a range_cyclic scan starts at mapping->writeback_index and never wraps " +
			"back to index 0, so pages before it wait for another pass; the fix wraps once",
	},
	{
		Name: "cyclic-wrap-deadlock", Subsystem: SubsysMpage, Versions: []KernelVersion{Kernel2_6_12},
		Summary: "the cyclic-wrap fix's wrap locks a page below pages already under writeback in " +
			"the pass's unsubmitted bio, and a WB_SYNC_ALL sweep holding that page waits on their " +
			"writeback: a deadlock (2.6.29 to 4.19); the fix (Linux 4.20, \"fix range_cyclic " +
			"writeback vs writepages deadlock\") never wraps within a pass and restarts the next at 0",
	},
	{
		Name: "boundary-ignored", Subsystem: SubsysMpage,
		Versions: []KernelVersion{Kernel2_6_12, Kernel2_6_2x, Kernel3x},
		Summary: "ignores BH_Boundary: mpage no longer submits its bio at a boundary block, " +
			"so the indirect block's I/O is queued behind the data and the disk sees the " +
			"bad order the flag exists to prevent (a teaching switch, not a kernel fix)",
	},
	{
		Name: "wb-integrity-error", Subsystem: SubsysMpage,
		Versions: []KernelVersion{Kernel2_6_12, Kernel2_6_2x, Kernel3x},
		Summary: "a WB_SYNC_ALL sweep (2.6.12's __mpage_writepages, write_cache_pages) stops at the " +
			"first page whose ->writepage fails, so fsync and sync(2) leave the rest of the range dirty; " +
			"the fix (Linux 4.20, 3fa750dcf29e) goes on through the range and returns the first error",
	},
	{
		Name: "async-write-eio", Subsystem: SubsysMpage, Versions: []KernelVersion{Kernel2_6_12},
		Summary: "mpage_end_io_write sets PG_error but not AS_EIO, so an asynchronous write " +
			"error that no fsync waits on is lost: the next fsync returns 0; the fix (LKML, June " +
			"2005, in the 2.6.2x seed) sets AS_EIO on the mapping too",
	},
	{
		Name: "towrite-tagging", Subsystem: SubsysMpage, Versions: []KernelVersion{Kernel2_6_12, Kernel2_6_2x},
		Summary: "a WB_SYNC_ALL sweep (fsync, sync) writes every dirty page it meets, so a task " +
			"that keeps dirtying pages ahead of it keeps it going (the sync livelock); the switch " +
			"tags the dirty pages PAGECACHE_TAG_TOWRITE first and writes only those (\"mm: implement " +
			"writeback livelock avoidance using page tagging\", Jan Kara, f446daaea9d4, 2.6.35)",
	},
	{
		Name: "kill-pages-loop", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS},
		Summary: "afs_kill_pages never advances first, so for a range of more than " +
			"PAGEVEC_SIZE pages it loops on the first batch (calling end_page_writeback " +
			"again); the fix advances first by the batch",
	},
	{
		Name: "writepages-missing-put", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS},
		Summary: "afs_writepages_region skips a page under writeback or no longer dirty " +
			"without page_cache_release, leaking a page reference; the fix puts the page",
	},
	{
		Name: "write-begin-leak", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS},
		Summary: "when afs_fill_page fails, afs_write_begin returns without unlocking and " +
			"releasing the page grab_cache_page_write_begin returned; the fix unlocks and puts it",
	},
	{
		Name: "enospc-stuck-writeback", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS},
		Summary: "on EDQUOT/ENOSPC from the server, afs_write_back_from_locked_page sets " +
			"AS_ENOSPC but never ends writeback on the pages, which stay PG_writeback " +
			"forever; the fix kills the pages with an error",
	},
	{
		Name: "key-error-silent-loss", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS},
		Summary: "on a key or permission error (ENOKEY, EKEYEXPIRED, EACCES, ...) the pages " +
			"are killed without SetPageError or AS_EIO: the data is dropped and fsync " +
			"returns 0; the fix records the error",
	},
	{
		Name: "fill-page-offset", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "afs_fill_page fetches (0, eof) whatever page it fills: the file's first bytes " +
			"land in the page, and more than a page is -EBADMSG; the fix fetches the page's own range",
	},
	{
		Name: "candidate-list-init", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "when the flush_conflicting_wb store fails, afs_put_writeback(candidate) unlinks a " +
			"kzalloc'd candidate whose list link was never initialised (NULL dereference); the fix " +
			"does INIT_LIST_HEAD(&candidate->link)",
	},
	{
		Name: "flush-conflict-double-put", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "on the flush_conflicting_wb path the store's completion already dropped the page's " +
			"usage on its record and afs_write_begin drops it again (use after free, usage below " +
			"zero); the fix drops it only if page->private still points to the record",
	},
	{
		Name: "flush-conflict-wait-writeback", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "flush_conflicting_wb writes a dirty page back without waiting for an older store " +
			"of it still in flight, and test_set_page_writeback BUG()s; the fix waits on writeback " +
			"first, as v4.15's write_one_page does",
	},
	{
		Name: "store-io-lock", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "two stores of one file from two tasks can pass each other, and the later one's " +
			"older, smaller i_size (FileLength) truncates what the other wrote; the fix serialises " +
			"the stores under a per-vnode io_lock, as v4.15 does",
	},
	{
		Name: "secondary-page-writeback", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "afs_write_back_from_locked_page gathers following pages that are dirty and in the " +
			"record without checking PG_writeback, and BUG()s on one still under an older store; " +
			"the fix skips such a page",
	},
	{
		Name: "fsync-marker-wait", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "afs_fsync waits for its marker to reach the head of vnode->writebacks, but a " +
			"record killed by a failed store never leaves it, so fsync sleeps for ever; the fix is " +
			"v4.15's afs_fsync, filemap_write_and_wait_range returning the mapping's error",
	},
	{
		Name: "flush-conflict-page-leak", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "when afs_write_begin's flush_conflicting_wb store fails it returns with the page " +
			"locked and referenced, and the next lock_page of it sleeps for ever; the fix unlocks " +
			"and releases the page",
	},
	{
		Name: "setattr-truncate-pagecache", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "afs_setattr shrinks the file on the server and i_size, but leaves the page cache " +
			"beyond the new EOF (and the partial page's tail) with its old bytes, which show " +
			"through when the file grows again; the fix truncates the page cache as later " +
			"kernels' afs_setattr_edit_file does",
	},
	{
		Name: "writepages-sync-error", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS},
		Summary: "afs_writepages_region returns at the first failed store even for WB_SYNC_ALL, and " +
			"afs_writepages then skips its wrapped region: fsync and sync(2) leave the rest of the file " +
			"dirty and unwritten; the fix (write_cache_pages' rule from Linux 4.20, 3fa750dcf29e) goes on " +
			"through the range and returns the first error",
	},
	{
		Name: "store-data-maths", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "afs_fs_store_data computes the store's length as to - offset in unsigned int: a store of " +
			"several pages whose last page ends before the first one's start offset wraps to nearly 4 GiB, " +
			"and the request says 4 GiB more than it carries; the fix (v4.11, \"afs: Fix the maths in " +
			"afs_fs_store_data()\") widens to loff_t before subtracting",
	},
	{
		Name: "writepages-towrite", Subsystem: SubsysAFS, Versions: []KernelVersion{KernelAFS}, Baseline: true,
		Summary: "afs_writepages_region walks the dirty pages for as long as it finds any, even for " +
			"WB_SYNC_ALL, so a task that keeps dirtying pages keeps an fsync going (the sync " +
			"livelock); the fix tags the dirty pages PAGECACHE_TAG_TOWRITE first and writes only " +
			"those, as afs does since its writeback moved to netfs (Linux 6.9)",
	},
}

// KnownFixes returns the fix switches, grouped by subsystem, in a stable
// order. The slice and its Versions are copies.
func KnownFixes() []Fix {
	l := slices.Clone(fixTable)
	for i := range l {
		l[i].Versions = slices.Clone(l[i].Versions)
	}
	return l
}

// LookupFix returns the fix switch named name.
func LookupFix(name string) (Fix, bool) {
	for _, f := range fixTable {
		if f.Name == name {
			f.Versions = slices.Clone(f.Versions)
			return f, true
		}
	}
	return Fix{}, false
}

// FixesFor returns the names of the fix switches that apply to version v.
func FixesFor(v KernelVersion) []string {
	var l []string
	for _, f := range fixTable {
		if slices.Contains(f.Versions, v) {
			l = append(l, f.Name)
		}
	}
	return l
}

// BaselineFixes returns the names of the baseline fix switches of version
// v (Fix.Baseline): on in every run unless a scenario's bug block names
// one.
func BaselineFixes(v KernelVersion) []string {
	var l []string
	for _, f := range fixTable {
		if f.Baseline && slices.Contains(f.Versions, v) {
			l = append(l, f.Name)
		}
	}
	return l
}

// failureKinds are the sim failure kinds an expectation may name besides
// invariant ids (sim.FailureKind values).
var failureKinds = []string{"deadlock", "livelock", "time-budget", "bug"}

// knownFailure reports whether s names an invariant or a failure kind.
func knownFailure(s string) bool {
	return Invariant(s).Known() || slices.Contains(failureKinds, s)
}

// failureInvariant returns the invariant a failure id is reported under
// ("" for bug).
func failureInvariant(s string) Invariant {
	switch s {
	case "deadlock", "livelock", "time-budget":
		return InvProgress
	case "bug":
		return ""
	}
	return Invariant(s)
}

// oneOf lists names for an error message: "one of a, b, c".
func oneOf[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	switch len(s) {
	case 0:
		return "nothing (none apply)"
	case 1:
		return s[0]
	}
	return "one of " + strings.Join(s, ", ")
}
