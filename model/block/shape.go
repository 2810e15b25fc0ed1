package block

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// InvBioShape is the invariant id of the registry's bio-shape check.
const InvBioShape = "bio-shape"

const bioShapeExplain = "A bio describes one contiguous run of disk sectors starting at bi_sector: its io_vecs " +
	"are laid end to end on the disk, so each page must continue the previous one (the next page of " +
	"the same file, whose blocks follow on disk), every page but the last must be whole, and the bio " +
	"must fit the queue's limits. mpage builds bios page by page and must submit the current bio " +
	"before adding a page that does not continue it (do_mpage_readpage's and __mpage_writepage's " +
	"\"last_block_in_bio != blocks[0] - 1\" test, the boundary and hole checks); it must fall back to " +
	"the buffer path (\"confused\") for a page whose blocks are not contiguous. A bio that breaks " +
	"this writes data to, or reads it from, the wrong sectors."

func bioShapeFail(t *sim.Task, bio *Bio, format string, args ...any) {
	t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvBioShape, Obj: bio.Obj(),
		Msg: fmt.Sprintf("%s: ", bio) + fmt.Sprintf(format, args...), Explain: bioShapeExplain,
		Stack: string(debug.Stack())})
}

// place says where byte off of page p belongs on bdev: pages of the
// device's own buffer cache map one to one, file pages ask the file
// system's oracle.
func (b *BlockDevice) place(p *mm.Page, off uint) (int64, Placement) {
	if p.Mapping != nil && p.Mapping == b.Inode.Mapping {
		return (int64(p.Index)<<mm.PageCacheShift + int64(off)) / SectorSize, PlaceMapped
	}
	if b.Where == nil || p.Mapping == nil {
		return 0, PlaceUnknown
	}
	return b.Where(p, off)
}

// checkBioShape is the model's bio-shape invariant, checked at
// submit_bio (no kernel function: the kernel trusts its callers).
func checkBioShape(t *sim.Task, bio *Bio) {
	b := bio.Bdev
	if b == nil {
		t.BUG(bio.Obj(), "submit_bio: bio %d has no bi_bdev", bio.id)
	}
	if bio.Vcnt == 0 {
		if bio.Size != 0 {
			bioShapeFail(t, bio, "bi_size is %d but the bio has no io_vecs", bio.Size)
		}
		if bio.Rw&(RW_FLUSH|RW_BARRIER) == 0 {
			bioShapeFail(t, bio, "empty bio that is not a cache flush")
		}
		return
	}
	if bio.Vcnt > bio.MaxVecs {
		bioShapeFail(t, bio, "bi_vcnt %d exceeds bi_max_vecs %d", bio.Vcnt, bio.MaxVecs)
	}
	if uint(bio.Vcnt) > b.Limits.MaxSegments {
		bioShapeFail(t, bio, "%d io_vecs exceed the queue's %d segments (bio_get_nr_vecs/bio_add_page "+
			"would not have built it)", bio.Vcnt, b.Limits.MaxSegments)
	}
	if bio.Size>>9 > b.Limits.MaxSectors {
		bioShapeFail(t, bio, "%d sectors exceed the queue's max_sectors %d (bio_add_page would have "+
			"refused the page)", bio.Size>>9, b.Limits.MaxSectors)
	}
	var sum uint
	for i, bv := range bio.Vecs() {
		if bv.Page == nil || bv.Len == 0 || bv.Offset+bv.Len > mm.PageSize {
			bioShapeFail(t, bio, "io_vec %d is malformed (page %v, offset %d, len %d)", i, bv.Page != nil,
				bv.Offset, bv.Len)
		}
		if bv.Offset%SectorSize != 0 || bv.Len%SectorSize != 0 {
			bioShapeFail(t, bio, "io_vec %d (offset %d, len %d) is not sector aligned", i, bv.Offset, bv.Len)
		}
		sum += bv.Len
	}
	if sum != bio.Size {
		bioShapeFail(t, bio, "bi_size %d differs from the sum of the io_vec lengths %d", bio.Size, sum)
	}

	// Page order and partial pages. A submit_bh bio carries one buffer,
	// which may be any part of its page.
	vecs := bio.Vecs()
	for i := 1; i < len(vecs); i++ {
		prev, cur := vecs[i-1], vecs[i]
		if cur.Page == prev.Page {
			if cur.Offset != prev.Offset+prev.Len {
				bioShapeFail(t, bio, "io_vecs %d and %d are parts of page %d:%d that do not follow each other "+
					"(offset %d after %d+%d)", i-1, i, prev.Page.Ino(), prev.Page.Index, cur.Offset,
					prev.Offset, prev.Len)
			}
			continue
		}
		if cur.Page.Mapping == nil || prev.Page.Mapping == nil {
			continue // truncated under I/O: nothing left to compare
		}
		if cur.Page.Mapping != prev.Page.Mapping {
			bioShapeFail(t, bio, "io_vec %d is page %d:%d of another file than io_vec %d (page %d:%d)",
				i, cur.Page.Ino(), cur.Page.Index, i-1, prev.Page.Ino(), prev.Page.Index)
		}
		// No page-order rule: mpage merges the next page into the bio
		// whenever its first block follows the bio's last block on disk
		// (do_mpage_readpage / __mpage_writepage test only
		// *last_block_in_bio == blocks[0] - 1). Skipped clean pages leave
		// gaps in the indexes, and a cyclic write_cache_pages that wraps may
		// put page 0 after page 5 in one bio. What must hold is that every
		// block lands where the file system mapped it: checked below.
		if prev.Offset+prev.Len != mm.PageSize {
			bioShapeFail(t, bio, "partial page in the middle of the bio: io_vec %d covers bytes %d..%d of "+
				"page %d:%d and io_vec %d follows", i-1, prev.Offset, prev.Offset+prev.Len,
				prev.Page.Ino(), prev.Page.Index, i)
		}
		if cur.Offset != 0 {
			bioShapeFail(t, bio, "io_vec %d starts at offset %d of page %d:%d: only the first page of a bio "+
				"may start inside a page", i, cur.Offset, cur.Page.Ino(), cur.Page.Index)
		}
	}
	if !bio.fromBH && vecs[0].Offset != 0 {
		bioShapeFail(t, bio, "the bio starts at offset %d of page %d:%d: mpage puts whole pages (from "+
			"offset 0) in bios", vecs[0].Offset, vecs[0].Page.Ino(), vecs[0].Page.Index)
	}

	// Contiguous sectors: each block of each page must be where the file
	// system mapped it. Checked at every sector-sized step is too slow;
	// the file's block size is the grain.
	sector := int64(bio.Sector)
	for i, bv := range vecs {
		grain := uint(SectorSize)
		if m := bv.Page.Mapping; m != nil && m.Host != nil && m.Host.Blkbits >= 9 {
			grain = 1 << m.Host.Blkbits
		}
		for off := bv.Offset; off < bv.Offset+bv.Len; off += grain - off%grain {
			want, place := b.place(bv.Page, off)
			here := sector + int64(off-bv.Offset)/SectorSize
			switch place {
			case PlaceMapped:
				if want != here {
					bioShapeFail(t, bio, "io_vec %d puts byte %d of page %d:%d at sector %d, but the file "+
						"system has it at sector %d: the bio's pages are not contiguous on disk", i, off,
						bv.Page.Ino(), bv.Page.Index, here, want)
				}
			case PlaceHole:
				bioShapeFail(t, bio, "io_vec %d covers byte %d of page %d:%d, which is in a hole: there is "+
					"no disk block behind it, yet the bio would %s sector %d", i, off, bv.Page.Ino(),
					bv.Page.Index, dirVerb(bio), here)
			}
		}
		sector += int64(bv.Len) / SectorSize
	}

	// The last page of a read may be partial only where the rest of it
	// has no data on disk: a hole, or past the end of the file. (A write
	// may legitimately stop short: its page is unlocked before the bio is
	// submitted, and an appending writer may fill the rest meanwhile.)
	last := vecs[len(vecs)-1]
	if !bio.fromBH && bio.Rw&WRITE == 0 && last.Offset+last.Len < mm.PageSize {
		p := last.Page
		m := p.Mapping
		if m != nil && m.Host != nil && m != b.Inode.Mapping && m.Host.Blkbits >= 9 {
			grain := uint(1) << m.Host.Blkbits
			isize := mm.ISizeRead(m.Host)
			for off := last.Offset + last.Len; off < mm.PageSize; off += grain {
				if int64(p.Index)<<mm.PageCacheShift+int64(off) >= isize {
					break
				}
				if _, place := b.place(p, off); place == PlaceMapped {
					bioShapeFail(t, bio, "partial last page: the bio stops at byte %d of page %d:%d, but byte %d "+
						"is mapped file data inside i_size %d that this bio leaves out", last.Offset+last.Len,
						p.Ino(), p.Index, off, isize)
				}
			}
		}
	}
}

func dirVerb(bio *Bio) string {
	if bio.Rw&WRITE != 0 {
		return "overwrite"
	}
	return "read"
}
