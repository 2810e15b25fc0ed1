package mpage

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// Fixes selects fixes that later kernels made to the seed code. Every
// switch is off by default: the seed runs as it is, bugs included. See
// docs/versions.md for the seed lines and the fixing commits.
type Fixes struct {
	// SectorOverflow ("sector-overflow") adds the (sector_t) cast that
	// 2.6.2x and 3.x have to 2.6.12's block_in_file = page->index <<
	// (PAGE_CACHE_SHIFT - blkbits) (mpage-2.6.12.numbered.c:230, 466).
	// Without it a 32-bit kernel maps the wrong blocks for pages at or
	// beyond 2^32 blocks.
	SectorOverflow bool
	// WBIntegrity ("wb-integrity") is "mm: write_cache_pages integrity
	// fix" (Nick Piggin, commit 05fe478dd04e, 2.6.29; patch 5/8 of his
	// October 2008 series on linux-mm, read with the search tool) applied
	// to 2.6.12's __mpage_writepages: nr_to_write no longer stops a
	// WB_SYNC_ALL sweep (mpage-2.6.12.numbered.c:730-731). Not "writeback:
	// fix range handling" (OGAWA Hirofumi, 111ebb6e6f7b, 2.6.18), which
	// only replaced wbc->start/end with range_start/range_end/range_cyclic:
	// 2.6.18's mpage_writepages still has "if (ret ||
	// (--(wbc->nr_to_write) <= 0)) done = 1;".
	WBIntegrity bool
	// CyclicWrap ("cyclic-wrap") is "mm: write_cache_pages cyclic fix"
	// (Nick Piggin, patch 1/8 of his write_cache_pages series, linux-mm,
	// October 2008; in 2.6.29) applied to 2.6.12's __mpage_writepages: a
	// cyclic pass that did not start at index 0 always wraps, up to
	// writeback_index - 1 (mpage-2.6.12.numbered.c:649, 681, 740-747).
	CyclicWrap bool
	// CyclicWrapDeadlock ("cyclic-wrap-deadlock") is "mm/page-writeback.c:
	// fix range_cyclic writeback vs writepages deadlock" (Dave Chinner,
	// commit 64081362e8ff, Linux 4.20, in stable 4.19.87; found with the
	// search tool in stable release notes and in later commits citing it)
	// applied to 2.6.12's __mpage_writepages: a cyclic pass
	// no longer wraps inside one call. The wrap that CyclicWrap adds
	// takes the lock of a page below pages that are already under
	// writeback in the pass's unsubmitted bio; a WB_SYNC_ALL sweep (fsync,
	// sync) holding that lower page waits on their writeback, which ends
	// only when the bio is submitted: an ABBA deadlock (the 2.6.29 to 4.19
	// kernels had it; ext4 hit the same inversion earlier, commit
	// 2acf2c261b82, kernel bugzilla 12579). With the fix the pass stops at
	// the end of the file and sets writeback_index to 0, so the next pass
	// starts at the beginning (mpage-2.6.12.numbered.c:740-750). It
	// fixes the CyclicWrap fix and changes nothing without it.
	CyclicWrapDeadlock bool
	// BoundaryIgnored ("boundary-ignored") is not a fix but its reverse:
	// mpage ignores BH_Boundary in every era, to show the request order
	// "12 0 1 2 ... 11 13 14 15 16" that the seed's comment warns of
	// (mpage-2.6.12.numbered.c:190-207).
	BoundaryIgnored bool
	// WBIntegrityError ("wb-integrity-error") is "mm/page-writeback.c:
	// don't break integrity writeback on ->writepage() error" (Brian
	// Foster, commit 3fa750dcf29e, Linux 4.20; stable 4.19 as
	// afd8c7748429): a WB_SYNC_ALL sweep no longer stops at the first
	// page whose write fails, but goes on through its whole range and
	// returns the first error. Without it 2.6.12's __mpage_writepages
	// (done = 1 on ret, mpage-2.6.12.numbered.c:730-731, finishing only
	// the pagevec it is in) and write_cache_pages of 2.6.2x and 3.x
	// (Kernel.WBIntegrityError; 2.6.32's and 3.1's "done = 1; break")
	// leave the rest of an fsync's or sync's range dirty: sync-complete.
	// Background writeback still stops. Found by the sync-complete check.
	WBIntegrityError bool
	// AsyncWriteEIO ("async-write-eio") makes 2.6.12's mpage_end_io_write
	// set AS_EIO on the page's mapping with PG_error, as 2.6.2x
	// (mpage-2.6.2x.c:69) and 3.x do: "mpage_end_io_write() I/O error
	// handling fix" (Qu Fuping; posted to LKML against 2.6.11.7 as the
	// mpage half of "[PATCH] JFS fsync wrong behavior when I/O failure
	// occurs", ACKed by Dave Kleikamp, reposted 2 June 2005 against
	// 2.6.11.11; listed in Linus's 2.6.12-rc6 shortlog, so in 2.6.12
	// final but not in the rc2 seed; all read with the search tool, the
	// commit id not found). Without it an asynchronous write error that
	// no fsync waits on is lost: the page leaves the writeback tag, and
	// wait_on_page_writeback_range looks only at tagged pages.
	AsyncWriteEIO bool
	// TowriteTagging ("towrite-tagging") is "mm: implement writeback
	// livelock avoidance using page tagging" (Jan Kara, commit
	// f446daaea9d4, Linux 2.6.35) applied to 2.6.12's __mpage_writepages
	// and 2.6.2x's write_cache_pages (model/mm, through
	// mm.Kernel.TowriteTagging): a WB_SYNC_ALL sweep first tags its dirty
	// pages PAGECACHE_TAG_TOWRITE (tag_pages_for_writeback) and then
	// writes only tagged pages, so a task that keeps dirtying pages ahead
	// of it cannot keep an fsync or sync going (fsync-bounded). In 2.6.12
	// it acts on top of WBIntegrity (it came after it) and changes
	// nothing without it.
	TowriteTagging bool
}

// fixNames are the switches' names, in Fixes field order.
var fixNames = [...]string{"sector-overflow", "wb-integrity", "cyclic-wrap", "cyclic-wrap-deadlock", "boundary-ignored", "wb-integrity-error", "async-write-eio", "towrite-tagging"}

func (f *Fixes) field(i int) *bool {
	return [...]*bool{&f.SectorOverflow, &f.WBIntegrity, &f.CyclicWrap, &f.CyclicWrapDeadlock, &f.BoundaryIgnored, &f.WBIntegrityError, &f.AsyncWriteEIO, &f.TowriteTagging}[i]
}

// AllFixes turns every fix on (BoundaryIgnored stays off: it is not a fix).
func AllFixes() Fixes {
	return Fixes{SectorOverflow: true, WBIntegrity: true, CyclicWrap: true, CyclicWrapDeadlock: true, WBIntegrityError: true, AsyncWriteEIO: true, TowriteTagging: true}
}

// String lists the switches that are on, comma-separated, or "none".
func (f Fixes) String() string {
	var on []string
	for i, n := range fixNames {
		if *f.field(i) {
			on = append(on, n)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// ParseFixes reads a comma-separated list of switch names ("wb-integrity,
// cyclic-wrap"); "all" is AllFixes, "" and "none" turn nothing on.
func ParseFixes(s string) (Fixes, error) {
	var f Fixes
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "", "none":
			continue
		case "all":
			a := AllFixes()
			f.SectorOverflow, f.WBIntegrity, f.CyclicWrap, f.CyclicWrapDeadlock, f.WBIntegrityError = a.SectorOverflow, a.WBIntegrity, a.CyclicWrap, a.CyclicWrapDeadlock, a.WBIntegrityError
			f.AsyncWriteEIO, f.TowriteTagging = a.AsyncWriteEIO, a.TowriteTagging
			continue
		}
		found := false
		for i, n := range fixNames {
			if n == name {
				*f.field(i) = true
				found = true
			}
		}
		if !found {
			return Fixes{}, fmt.Errorf("mpage: unknown fix %q (known: %s, all)", name, strings.Join(fixNames[:], ", "))
		}
	}
	return f, nil
}

// Config is the mpage configuration of one simulated kernel.
type Config struct {
	Fixes Fixes
	// Cleancache is the 3.x cleancache backend (cleancache_ops). Nil means
	// cleancache is off (cleancache_enabled == 0): cleancache_get_page
	// returns -1. Ignored by the other eras.
	Cleancache Cleancache
	// Memalloc says whether the task has PF_MEMALLOC set (it is reclaiming
	// memory), which makes mpage_alloc retry a failed bio_alloc with half
	// as many vecs. Nil: never (sim tasks have no flags).
	Memalloc func(t *sim.Task) bool
}

// Stats counts what mpage did on one kernel, for tests and benchmarks.
type Stats struct {
	ReadBios, WriteBios   int64 // bios submitted by mpage_bio_submit
	ReadPages, WritePages int64 // pages put into those bios
	ReadConfused          int64 // do_mpage_readpage fell back to block_read_full_page (or found the page uptodate)
	WriteConfused         int64 // __mpage_writepage fell back to ->writepage (or returned -EAGAIN)
	CleancacheHits        int64 // 3.x: pages cleancache_get_page filled
}

// state is the per-kernel mpage state: the configuration and the stats.
// It lives on the kernel (mm.Kernel.Mpage), so worlds run side by side on
// the explorer's workers share nothing and it goes when the kernel goes.
type state struct {
	cfg     Config
	stats   Stats
	version mm.Version // the kernel's, copied by Setup (it never changes)
}

// Setup configures mpage for kernel k and installs Kernel.MpageWritepages
// (2.6.12's generic_writepages is mpage_writepages(mapping, wbc, NULL)).
// Calling it again replaces the configuration and resets the stats. A
// kernel that was never set up runs the seeds with no fixes.
func Setup(k *mm.Kernel, cfg Config) {
	k.Mpage = &state{cfg: cfg, version: k.Version}
	k.WBIntegrityError = cfg.Fixes.WBIntegrityError // write_cache_pages' share of the switch
	k.TowriteTagging = cfg.Fixes.TowriteTagging
	k.MpageWritepages = func(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) int {
		return MpageWritepages(t, m, wbc, nil)
	}
}

// stateOf is k's state, made with the default configuration on first use.
func stateOf(k *mm.Kernel) *state {
	if k.Mpage == nil {
		Setup(k, Config{})
	}
	return k.Mpage.(*state)
}

// ConfigOf is the configuration in force for kernel k.
func ConfigOf(k *mm.Kernel) Config { return stateOf(k).cfg }

// StatsOf is what mpage did on kernel k so far.
func StatsOf(k *mm.Kernel) Stats { return stateOf(k).stats }

// seedCite is where a function starts in each era's seed, "file:line",
// for Task.EnterAt: the narrated trace shows it on the function's "=> fn"
// line. The line is the first of the definition (the return type's, when
// it has a line of its own). Lines of mpage-2.6.12.numbered.c are its
// original numbers, at the left; where its web view dropped a lone "int"
// line (mpage_readpages, mpage_writepages, __mpage_writepages), the cite
// is the line naming the function. The strings are static: citing
// allocates nothing. seed_test.go checks every cite against the seeds.
type seedCite struct{ fn, v2612, v2x, v3x string }

// at is the citation for a kernel of version v; eras other than 2.6.12
// and 3.x run the 2.6.2x seed, as the dispatchers in api.go do.
func (c *seedCite) at(v mm.Version) string {
	switch v {
	case mm.V2_6_12:
		return c.v2612
	case mm.V3x:
		return c.v3x
	default:
		return c.v2x
	}
}

// The seed functions whose model runs in several eras. Each era's own
// functions (the end_io handlers, mpage_bio_submit, mpage_writepages,
// 2.6.12's read path and __mpage_writepages) cite their seed directly.
var (
	citeMpageAlloc = seedCite{"mpage_alloc",
		"mpage-2.6.12.numbered.c:99", "mpage-2.6.2x.c:83", "mpage-3.x.c:81"}
	citeMapBufferToPage = seedCite{"map_buffer_to_page",
		"mpage-2.6.12.numbered.c:130", "mpage-2.6.2x.c:110", "mpage-3.x.c:112"}
	citeMpageWritepageInner = seedCite{"__mpage_writepage",
		"mpage-2.6.12.numbered.c:389", "mpage-2.6.2x.c:410", "mpage-3.x.c:443"}
	citeMpageWritepage = seedCite{"mpage_writepage",
		"mpage-2.6.12.numbered.c:758", "mpage-2.6.2x.c:639", "mpage-3.x.c:700"}
	// 2.6.2x and 3.x share the read path; 2.6.12 has its own
	// (readpage_2_6_12.go), so these have no 2.6.12 cite.
	citeDoMpageReadpage = seedCite{"do_mpage_readpage", "", "mpage-2.6.2x.c:150", "mpage-3.x.c:154"}
	citeMpageReadpages  = seedCite{"mpage_readpages", "", "mpage-2.6.2x.c:339", "mpage-3.x.c:365"}
	citeMpageReadpage   = seedCite{"mpage_readpage", "", "mpage-2.6.2x.c:373", "mpage-3.x.c:402"}
)

// firstBlockOfPage is the first file block of page index: page->index <<
// (PAGE_CACHE_SHIFT - blkbits). 2.6.12 shifts page->index, an unsigned
// long, with no cast (mpage-2.6.12.numbered.c:230, 466), so on a 32-bit
// kernel the block number wraps at 2^32 before it is widened to sector_t;
// 2.6.2x (mpage-2.6.2x.c:172, 481) and 3.x (mpage-3.x.c:178, 521) cast to
// sector_t first. Fixes.SectorOverflow gives 2.6.12 the cast.
func firstBlockOfPage(k *mm.Kernel, st *state, index uint64, blkbits uint) uint64 {
	if st.version == mm.V2_6_12 && !st.cfg.Fixes.SectorOverflow {
		return k.ULong(index << (mm.PageCacheShift - blkbits))
	}
	return index << (mm.PageCacheShift - blkbits) // (sector_t)page->index << ...
}

// bufferBoundary is buffer_boundary(bh), unless Fixes.BoundaryIgnored
// makes mpage blind to BH_Boundary.
func bufferBoundary(st *state, bh *block.BufferHead) bool {
	return block.BufferBoundary(bh) && !st.cfg.Fixes.BoundaryIgnored
}

// pfMemalloc is current->flags & PF_MEMALLOC.
func pfMemalloc(t *sim.Task, st *state) bool {
	return st.cfg.Memalloc != nil && st.cfg.Memalloc(t)
}

// mpageAlloc is mpage_alloc(bdev, first_sector, nr_vecs, gfp_flags),
// mpage-2.6.12.numbered.c:99-117, mpage-2.6.2x.c:83-99, mpage-3.x.c:81-100
// (the same code in all three eras): bio_alloc, and if that fails in a task
// that is reclaiming memory, retry with half as many vecs until one
// allocation works or none is left.
func mpageAlloc(t *sim.Task, st *state, bdev *block.BlockDevice, firstSector uint64, nrVecs int, gfp block.Gfp) *block.Bio {
	t.EnterAt("mpage_alloc", citeMpageAlloc.at(st.version))
	defer t.Leave()
	bio := block.BioAlloc(t, gfp, nrVecs)

	if bio == nil && pfMemalloc(t, st) {
		for bio == nil {
			if nrVecs /= 2; nrVecs == 0 {
				break
			}
			bio = block.BioAlloc(t, gfp, nrVecs)
		}
	}

	if bio != nil {
		bio.Bdev = bdev
		bio.Sector = firstSector
	}
	return bio
}

// mapBufferToPage is map_buffer_to_page(page, bh, page_block),
// mpage-2.6.12.numbered.c:130-160, mpage-2.6.2x.c:110-140,
// mpage-3.x.c:112-143 (the same code in all three eras): get_block returned
// an uptodate buffer (the file system filled it), so copy its mapping into
// the page's buffer for page_block, creating the page's buffers first;
// with one block per page, just mark the page uptodate.
func mapBufferToPage(t *sim.Task, page *mm.Page, bh *block.BufferHead, pageBlock int) {
	inode := page.Mapping.Host
	t.EnterAt("map_buffer_to_page", citeMapBufferToPage.at(inode.Kernel.Version))
	defer t.Leave()
	var pageBh, head *block.BufferHead
	blk := 0

	if !block.PageHasBuffers(page) {
		// don't make any buffers if there is only one buffer on the page
		// and the page just needs to be set up to date
		if inode.Blkbits == mm.PageCacheShift && block.BufferUptodate(bh) {
			mm.SetPageUptodate(t, page)
			return
		}
		block.CreateEmptyBuffers(t, page, 1<<inode.Blkbits, 0)
	}
	head = block.PageBuffers(page)
	pageBh = head
	for {
		if blk == pageBlock {
			pageBh.State = bh.State
			pageBh.Bdev = bh.Bdev
			pageBh.Blocknr = bh.Blocknr
			break
		}
		pageBh = pageBh.ThisPage
		blk++
		if pageBh == head {
			break
		}
	}
}

// mpageBioSubmit is mpage_bio_submit(rw, bio) of the kernel's era: set the
// era's completion handler and submit_bio. It returns nil, as the kernel's
// does, so callers write bio = mpageBioSubmit(...).
func mpageBioSubmit(t *sim.Task, st *state, rw uint64, bio *block.Bio) *block.Bio {
	if rw == block.WRITE {
		st.stats.WriteBios++
		st.stats.WritePages += int64(bio.Vcnt)
	} else {
		st.stats.ReadBios++
		st.stats.ReadPages += int64(bio.Vcnt)
	}
	switch st.version {
	case mm.V2_6_12:
		return mpageBioSubmit2612(t, rw, bio)
	case mm.V3x:
		return mpageBioSubmit3x(t, rw, bio)
	default:
		return mpageBioSubmit2x(t, rw, bio)
	}
}
