package mpage

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// mpageData is struct mpage_data, mpage-2.6.2x.c:404-409 and
// mpage-3.x.c:436-441: what __mpage_writepage carries from page to page.
// 2.6.12 passes the same state as separate arguments of __mpage_writepage
// (mpage-2.6.12.numbered.c:390-392): the bio in and out, &last_block_in_bio,
// &ret and writepage_fn, where writepage_fn == NULL plays the part of
// use_writepage == 0.
type mpageData struct {
	bio            *block.Bio
	lastBlockInBio uint64 // sector_t
	getBlock       block.GetBlockFunc
	useWritepage   bool
	st             *state
	// ret is 2.6.12's int *ret (mpage-2.6.12.numbered.c:391): the
	// caller's ret, which __mpage_writepage writes only on its confused
	// path (586-590). A page that joins the bio leaves it as it was, so
	// an earlier page's error stays set for the rest of __mpage_writepages'
	// pagevec (715-731). nil in 2.6.2x and 3.x, whose __mpage_writepage
	// has its own ret, 0 unless confused (2.6.2x:432, 3.x:465).
	ret *int
	// mapBh is __mpage_writepage's on-stack struct buffer_head map_bh,
	// kept here because get_block is called through a function value,
	// so a local would escape to the heap on every page (146 B/page of
	// BenchmarkScale). It is cleared at every call, as a fresh local is.
	mapBh block.BufferHead
}

// mpageWritepageT is __mpage_writepage as the writepage_t callback that
// write_cache_pages calls (2.6.2x, 3.x): data is the *mpageData.
func mpageWritepageT(t *sim.Task, page *mm.Page, wbc *mm.WritebackControl, data any) int {
	return mpageWritepageInner(t, page, wbc, data.(*mpageData))
}

// mpageWritepageInner is __mpage_writepage, one body for the three eras:
// mpage-2.6.12.numbered.c:389-602 (2.6.12), mpage-2.6.2x.c:410-598
// (2.6.2x), mpage-3.x.c:443-651 (3.x). The eras differ in
//
//   - the signature (see mpageData);
//   - ret: 2.6.12 writes the caller's *ret only when confused (586-590)
//     and leaves it alone when the page joins the bio, so an error from
//     an earlier page survives; the later eras return their own ret, 0
//     for a page that joins the bio (mpageData.ret);
//   - the (sector_t) cast of block_in_file (2.6.12:466 has none, 2.6.2x:481
//     and 3.x:521 do; firstBlockOfPage);
//   - map_bh.b_size = 1 << blkbits (2.6.2x:486, 3.x:527; 2.6.12 leaves it,
//     its get_block mapping one block, which the model asks for the same
//     way);
//   - the spelling of the fallback: 2.6.12 calls (*writepage_fn)(page, wbc)
//     and sets AS_ENOSPC or AS_EIO itself (586-600), the later eras call
//     mapping->a_ops->writepage and mapping_set_error (2.6.2x:585-594,
//     3.x:638-647), which does the same;
//   - the EOF zeroing: kmap_atomic + memset (2.6.12:512-515) or
//     zero_user_segment (2.6.2x:523, 3.x:567), the same bytes.
//
// The page comes locked and cleaned for I/O. A page whose blocks are
// mapped (from its buffers, or by get_block with create) and contiguous,
// continuing the bio's, joins the bio: its buffers are cleaned, it is set
// under writeback and unlocked. Anything else submits the bio and goes to
// ->writepage ("confused"), or returns -EAGAIN for mpage_writepage.
func mpageWritepageInner(t *sim.Task, page *mm.Page, wbc *mm.WritebackControl, mpd *mpageData) int {
	t.EnterAt("__mpage_writepage", citeMpageWritepageInner.at(mpd.st.version))
	defer t.Leave()
	st := mpd.st
	bio := mpd.bio
	ret := mpd.ret // 2.6.12: the caller's *ret
	if ret == nil {
		ret = new(int) // 2.6.2x:432, 3.x:465: int ret = 0
	}
	mapping := page.Mapping
	inode := page.Mapping.Host
	k := inode.Kernel
	blkbits := inode.Blkbits
	blocksPerPage := uint32(mm.PageCacheSize >> blkbits)
	var (
		endIndex      uint64 // unsigned long
		lastBlock     uint64 // sector_t
		blockInFile   uint64 // sector_t
		blocks        [block.MAX_BUF_PER_PAGE]uint64
		pageBlock     uint32
		firstUnmapped = blocksPerPage
		bdev          *block.BlockDevice
		boundary      bool
		boundaryBlock uint64
		boundaryBdev  *block.BlockDevice
		length        uint32
		iSize         = mm.ISizeRead(inode) // loff_t
		head, bh      *block.BufferHead
		offset        uint32
		bufferCounter uint32
	)

	mapBh := &mpd.mapBh
	*mapBh = block.BufferHead{}
	if block.PageHasBuffers(page) {
		head = block.PageBuffers(page)
		bh = head

		// If they're all mapped and dirty, do it
		pageBlock = 0
		for {
			t.BUG_ON(block.BufferLocked(bh), bh.Obj(), "__mpage_writepage: BUG_ON(buffer_locked(bh))")
			if !block.BufferMapped(bh) {
				// unmapped dirty buffers are created by
				// __set_page_dirty_buffers -> mmapped data
				if block.BufferDirty(bh) {
					goto confused
				}
				if firstUnmapped == blocksPerPage {
					firstUnmapped = pageBlock
				}
				goto next // continue: on to the loop's condition
			}

			if firstUnmapped != blocksPerPage {
				goto confused // hole -> non-hole
			}

			if !block.BufferDirty(bh) || !block.BufferUptodate(bh) {
				goto confused
			}
			// mutant: no contiguity test, cf. "fs/mpage.c: fix mpage_writepage() for pages with buffers"
			if pageBlock != 0 && !mutant.On("mpage-contig-ignored") {
				if bh.Blocknr != blocks[pageBlock-1]+1 {
					goto confused
				}
			}
			blocks[pageBlock] = bh.Blocknr
			pageBlock++
			boundary = bufferBoundary(st, bh)
			if boundary {
				boundaryBlock = bh.Blocknr
				boundaryBdev = bh.Bdev
			}
			bdev = bh.Bdev
		next:
			if bh = bh.ThisPage; bh == head {
				break
			}
		}

		if firstUnmapped != 0 {
			goto page_is_mapped
		}

		// Page has buffers, but they are all unmapped. The page was
		// created by pagein or read over a hole which was handled by
		// block_read_full_page(). If this address_space is also using
		// mpage_readpages then this can rarely happen.
		goto confused
	}

	// The page has no buffers: map it to disk
	t.BUG_ON(!mm.PageUptodate(page), page.Obj(), "__mpage_writepage: BUG_ON(!PageUptodate(page))")
	blockInFile = firstBlockOfPage(k, st, page.Index, blkbits) // 2.6.12:466 no cast; 2.6.2x:481 (sector_t)
	lastBlock = uint64((iSize - 1) >> blkbits)
	mapBh.Page = page
	for pageBlock = 0; pageBlock < blocksPerPage; {
		mapBh.State = 0
		mapBh.Size = 1 << blkbits
		if mpd.getBlock(t, inode, blockInFile, mapBh, 1) != 0 {
			goto confused
		}
		if block.BufferNew(mapBh) {
			block.UnmapUnderlyingMetadata(t, mapBh.Bdev, mapBh.Blocknr)
		}
		if bufferBoundary(st, mapBh) {
			boundaryBlock = mapBh.Blocknr
			boundaryBdev = mapBh.Bdev
		}
		// mutant: no contiguity test, cf. "fs/mpage.c: fix mpage_writepage() for pages with buffers"
		if pageBlock != 0 && !mutant.On("mpage-contig-ignored") {
			if mapBh.Blocknr != blocks[pageBlock-1]+1 {
				goto confused
			}
		}
		blocks[pageBlock] = mapBh.Blocknr
		pageBlock++
		boundary = bufferBoundary(st, mapBh)
		bdev = mapBh.Bdev
		if blockInFile == lastBlock {
			break
		}
		blockInFile++
	}
	t.BUG_ON(pageBlock == 0, page.Obj(), "__mpage_writepage: BUG_ON(page_block == 0)")

	firstUnmapped = pageBlock

page_is_mapped:
	endIndex = k.ULong(uint64(iSize >> mm.PageCacheShift))
	if page.Index >= endIndex {
		// The page straddles i_size. It must be zeroed out on each and
		// every writepage invocation because it may be mmapped. "A file
		// is mapped in multiples of the page size. For a file that is not
		// a multiple of the page size, the remaining memory is zeroed when
		// mapped, and writes to that region are not written out to the
		// file."
		offset = uint32(iSize & (mm.PageCacheSize - 1))
		if page.Index > endIndex || offset == 0 {
			goto confused
		}
		mm.ZeroUserSegment(t, page, uint(offset), mm.PageCacheSize)
	}

	// This page will go to BIO. Do we need to send this BIO off first?
	if bio != nil && mpd.lastBlockInBio != blocks[0]-1 {
		bio = mpageBioSubmit(t, st, block.WRITE, bio)
	}

alloc_new:
	if bio == nil {
		bio = mpageAlloc(t, st, bdev, blocks[0]<<(blkbits-9),
			block.BioGetNrVecs(bdev), block.GFP_NOFS|block.GFP_HIGH)
		if bio == nil {
			goto confused
		}
	}

	// Must try to add the page before marking the buffer clean or the
	// confused fail path above (OOM) will be very confused when it finds
	// all bh marked clean (i.e. it will not write anything)
	length = firstUnmapped << blkbits
	if block.BioAddPage(t, bio, page, uint(length), 0) < int(length) {
		bio = mpageBioSubmit(t, st, block.WRITE, bio)
		goto alloc_new
	}

	// OK, we have our BIO, so we can now mark the buffers clean. Make
	// sure to only clean buffers which we know we'll be writing.
	if block.PageHasBuffers(page) {
		head = block.PageBuffers(page)
		bh = head
		bufferCounter = 0
		for {
			if bufferCounter == firstUnmapped {
				break
			}
			bufferCounter++
			block.ClearBufferDirty(t, bh)
			if bh = bh.ThisPage; bh == head {
				break
			}
		}

		// we cannot drop the bh if the page is not uptodate or a
		// concurrent readpage would fail to serialize with the bh and it
		// would read from disk before we reach the platter.
		if block.BufferHeadsOverLimit(t) && mm.PageUptodate(page) {
			block.TryToFreeBuffers(t, page)
		}
	}

	t.BUG_ON(mm.PageWriteback(page), page.Obj(), "__mpage_writepage: BUG_ON(PageWriteback(page))")
	mm.SetPageWriteback(t, page)
	mm.UnlockPage(t, page)
	if boundary || firstUnmapped != blocksPerPage {
		bio = mpageBioSubmit(t, st, block.WRITE, bio)
		if boundaryBlock != 0 {
			block.WriteBoundaryBlock(t, boundaryBdev, boundaryBlock, 1<<blkbits)
		}
	} else {
		mpd.lastBlockInBio = blocks[blocksPerPage-1]
	}
	goto out

confused:
	st.stats.WriteConfused++
	if bio != nil {
		bio = mpageBioSubmit(t, st, block.WRITE, bio)
	}

	if mpd.useWritepage {
		*ret = mapping.AOps.(mm.WritepageOp).Writepage(t, page, wbc)
	} else {
		*ret = errno.EAGAIN.Neg()
		goto out
	}
	// The caller has a ref on the inode, so *mapping is stable
	if !mutant.On("mpage-confused-lost-error") { // mutant: "buffer: use mapping_set_error ..." kind
		mm.MappingSetError(t, mapping, *ret) // 2.6.12: set_bit(AS_ENOSPC or AS_EIO), 595-600
	}
out:
	mpd.bio = bio
	return *ret
}

// mpageWritepage is mpage_writepage(page, get_block, wbc):
// mpage-2.6.12.numbered.c:758-770 (2.6.12), mpage-2.6.2x.c:639-652
// (2.6.2x), mpage-3.x.c:700-713 (3.x), the same in all three: write one
// locked page through __mpage_writepage without a fallback (writepage_fn
// NULL, use_writepage 0: -EAGAIN if the page is not simple), then submit
// the bio.
func mpageWritepage(t *sim.Task, st *state, page *mm.Page, getBlock block.GetBlockFunc,
	wbc *mm.WritebackControl) int {
	t.EnterAt("mpage_writepage", citeMpageWritepage.at(st.version))
	defer t.Leave()
	mpd := mpageData{
		bio:            nil,
		lastBlockInBio: 0,
		getBlock:       getBlock,
		useWritepage:   false,
		st:             st,
	}
	ret := mpageWritepageInner(t, page, wbc, &mpd)
	if mpd.bio != nil {
		mpageBioSubmit(t, st, block.WRITE, mpd.bio)
	}
	return ret
}
