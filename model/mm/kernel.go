package mm

import "github.com/wbsim/wbsim/sim"

// Version names a modelled kernel era (ARCHITECTURE.md, "Kernel eras and
// fix switches").
type Version string

// The modelled versions.
const (
	V2_6_12 Version = "2.6.12"
	V2_6_2x Version = "2.6.2x"
	V3x     Version = "3.x"
	VAFS    Version = "afs-2.6.3x"
)

// Page-cache geometry: 4 KiB pages on every modelled architecture.
const (
	PageCacheShift = 12
	PageCacheSize  = 1 << PageCacheShift
	PageSize       = PageCacheSize
	PageCacheMask  = ^uint64(PageCacheSize - 1)
)

// LLONG_MAX is the kernel's LLONG_MAX: wbc->range_end for "to the end".
const LLONG_MAX = int64(^uint64(0) >> 1)

// Invariant ids of the registry (scenarios.Invariants) that mm raises
// itself.
const (
	InvPageState = "page-state"
	InvPageRef   = "page-ref"
	InvLock      = sim.InvLock
)

// Kernel is one simulated kernel instance: the era it models, its
// architecture, and its global memory-management state. Every inode and
// mapping points to it; it is the Go stand-in for the kernel's globals.
type Kernel struct {
	W       *sim.World
	Version Version
	// Bits32 models a 32-bit architecture: unsigned long (pgoff_t, and
	// page->index shifts) wraps at 32 bits. sector_t stays 64-bit
	// (CONFIG_LBD), which is what makes the 2.6.12 missing cast a bug.
	Bits32 bool
	// WBIntegrityError is model/mpage's Fixes.WBIntegrityError
	// ("wb-integrity-error"), set by mpage.Setup: write_cache_pages (here)
	// goes on after a ->writepage error in WB_SYNC_ALL and returns the
	// first error (Linux 4.20, 3fa750dcf29e). Off: the era's break.
	WBIntegrityError bool

	// VM statistics, global_page_state(): NR_FILE_DIRTY, NR_WRITEBACK and
	// the number of page-cache pages (NR_FILE_PAGES). The model has one
	// zone and one CPU's worth of counters, so they are exact.
	NrFileDirty   int64
	NrWriteback   int64
	NrFilePages   int64
	NrUnstableNFS int64 // always 0: no NFS; kept so formulas read as the kernel's

	// InodeLock is the global inode_lock (fs/inode.c of 2.6.x) that
	// protects i_state and the dirty-inode lists.
	InodeLock sim.SpinLock
	// dirtyInodes is the list of inodes with dirty state, oldest
	// dirtied_when first: sb->s_dirty before 2.6.32, bdi->wb.b_dirty after.
	// The model keeps one list for the whole kernel (one superblock, one
	// flusher).
	dirtyInodes []*Inode

	// Memory. TotalRAMPages is the machine's memory in pages; it sizes the
	// dirty thresholds and, when MemLimit is set, reclaim. MemLimit is the
	// number of page-cache pages allowed before an allocation enters
	// direct reclaim (0: no limit).
	TotalRAMPages int64
	MemLimit      int64
	nrAllocated   int64 // pages allocated and not yet freed
	lru           lruList

	// Writeback tunables (/proc/sys/vm), with the kernel's defaults.
	DirtyRatio             int      // vm_dirty_ratio, percent
	DirtyBackgroundRatio   int      // dirty_background_ratio, percent
	DirtyWritebackInterval sim.Time // dirty_writeback_interval (kupdate period)
	DirtyExpireInterval    sim.Time // dirty_expire_interval
	// RatelimitPages is ratelimit_pages: balance_dirty_pages_ratelimited
	// calls balance_dirty_pages once per this many dirtied pages.
	RatelimitPages int64
	ratelimit      int64 // the per-CPU counter (one CPU)
	dirtyExceeded  bool

	// PageErrorSticky selects wait_on_page_writeback_range's handling of
	// PG_error: true is the 2.6.12 to 2.6.32 text (PageError, the flag
	// stays and every later fdatawait over the page reports -EIO again),
	// false is the TestClearPageError of 3.0 and later (the first waiter
	// consumes it). NewKernel sets it from the version.
	PageErrorSticky bool

	// Buffer-layer entry points, set by model/block. fs/buffer.c sits above
	// mm in the import order, yet mm calls it where an a_ops method is NULL:
	// set_page_dirty falls back to __set_page_dirty_buffers,
	// do_invalidatepage to block_invalidatepage, try_to_release_page to
	// try_to_free_buffers. Nil means "no buffer layer linked in".
	SetPageDirtyBuffers func(t *sim.Task, p *Page) int
	BlockInvalidatepage func(t *sim.Task, p *Page, offset uint)
	TryToFreeBuffers    func(t *sim.Task, p *Page) int
	// PageHasBuffers tells the end-of-run check that a page holds the
	// extra reference attach_page_buffers takes (fs/buffer.c).
	PageHasBuffers func(p *Page) bool

	// MpageWritepages is 2.6.12's generic_writepages body,
	// mpage_writepages(mapping, wbc, NULL), installed by model/mpage.
	MpageWritepages func(t *sim.Task, m *AddressSpace, wbc *WritebackControl) int
	// Mpage is model/mpage's per-kernel state (its configuration and
	// stats), set by mpage.Setup and read only by mpage. It is typed any
	// because mpage sits above mm in the import ladder; one field per
	// subsystem that needs one is simpler than a registry keyed by type.
	Mpage any

	// WriteInode is the superblock's s_op->write_inode, called by the
	// flusher for inodes with I_DIRTY_SYNC/DATASYNC (nil: none).
	WriteInode func(t *sim.Task, ino *Inode, wait bool) int

	// TowriteTagging is the towrite-tagging fix switch of model/mpage
	// (mpage.Fixes.TowriteTagging: PAGECACHE_TAG_TOWRITE in 2.6.2x's
	// write_cache_pages), which mm's loop reads. 3.x always tags.
	TowriteTagging bool

	// WritepagesObserver, if set, is told of every ->writepages call
	// (do_writepages, and afs_writeback_all's direct call) as it begins
	// (done false) and as it returns (done true). It is not kernel code:
	// the checks (scenarios/run) watch sweeps with it. It must not
	// schedule or change model state.
	WritepagesObserver func(t *sim.Task, m *AddressSpace, wbc *WritebackControl, done bool)

	flusher *flusher
	nextID  int64

	// pageLocks lists the page locks each task took with lock_page or
	// trylock_page and still holds (lockorder.go). Looked up, never
	// iterated.
	pageLocks map[*sim.Task][]*Page

	// plant is a deliberate fault in a background path, set only by the
	// mutation checks (background_mutation_test.go) to show that the
	// invariants catch it; NewKernel leaves it plantNone.
	plant plant
}

// plant names a fault the mutation checks can plant.
type plant uint8

const (
	plantNone      plant = iota
	plantKeepISync       // writeback_single_inode never clears I_SYNC
	plantReclaimWB       // shrink_page_list reclaims a page under writeback
	plantBdpSpin         // balance_dirty_pages spins instead of sleeping in congestion_wait
)

// NewKernel makes a kernel of version v on world w with the era's default
// tunables: 2.6.30+ vm_dirty_ratio 20 and dirty_background_ratio 10 (2.6.12:
// 40 and 10), dirty_writeback_interval 5 s, dirty_expire_interval 30 s,
// ratelimit_pages 32, and 256 MiB of RAM.
func NewKernel(w *sim.World, v Version) *Kernel {
	k := &Kernel{
		W:                      w,
		Version:                v,
		InodeLock:              sim.SpinLock{Name: "inode_lock"},
		TotalRAMPages:          256 << 20 >> PageCacheShift,
		DirtyRatio:             20,
		DirtyBackgroundRatio:   10,
		DirtyWritebackInterval: 5 * sim.Second,
		DirtyExpireInterval:    30 * sim.Second,
		RatelimitPages:         32,
	}
	if v == V2_6_12 {
		k.DirtyRatio = 40
	}
	k.PageErrorSticky = v == V2_6_12 || v == V2_6_2x
	k.lru.init()
	return k
}

// ULong truncates x to the width of unsigned long on the modelled
// architecture, for arithmetic the kernel does in unsigned long.
func (k *Kernel) ULong(x uint64) uint64 {
	if k.Bits32 {
		return x & 0xffffffff
	}
	return x
}

// PgoffMax is (pgoff_t)-1 on the modelled architecture.
func (k *Kernel) PgoffMax() uint64 { return k.ULong(^uint64(0)) }

// NrAllocated is the number of pages allocated and not yet freed.
func (k *Kernel) NrAllocated() int64 { return k.nrAllocated }
