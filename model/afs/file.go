package afs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// The page-cache side of fs/afs/file.c, read from a Linux 3.0.x tree (the
// same as 2.6.35 here, CONFIG_AFS_FSCACHE off): afs_page_filler,
// afs_readpage, afs_invalidatepage, afs_releasepage, and the
// address_space_operations table afs_fs_aops.

// AfsFsAops is afs_fs_aops: readpage, set_page_dirty, releasepage,
// invalidatepage, write_begin, write_end, writepage and writepages
// (readpages and launder_page are not modelled: mm never calls them).
type AfsFsAops struct{ mm.NoAOps }

// Readpage is afs_fs_aops.readpage.
func (AfsFsAops) Readpage(t *sim.Task, f any, p *mm.Page) int {
	return AfsReadpage(t, afsFile(f), p)
}

// SetPageDirty is afs_fs_aops.set_page_dirty.
func (AfsFsAops) SetPageDirty(t *sim.Task, p *mm.Page) int { return AfsSetPageDirty(t, p) }

// ReleasePage is afs_fs_aops.releasepage.
func (AfsFsAops) ReleasePage(t *sim.Task, p *mm.Page, gfp int) int { return AfsReleasepage(t, p, gfp) }

// InvalidatePage is afs_fs_aops.invalidatepage.
func (AfsFsAops) InvalidatePage(t *sim.Task, p *mm.Page, offset uint) {
	AfsInvalidatepage(t, p, offset)
}

// WriteBegin is afs_fs_aops.write_begin.
func (AfsFsAops) WriteBegin(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any) int {
	return AfsWriteBegin(t, afsFile(f), m, pos, length, flags, pagep, fsdata)
}

// WriteEnd is afs_fs_aops.write_end.
func (AfsFsAops) WriteEnd(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, copied uint,
	p *mm.Page, fsdata any) int {
	return AfsWriteEnd(t, afsFile(f), m, pos, length, copied, p, fsdata)
}

// Writepage is afs_fs_aops.writepage.
func (AfsFsAops) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	return AfsWritepage(t, p, wbc)
}

// Writepages is afs_fs_aops.writepages.
func (AfsFsAops) Writepages(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return AfsWritepages(t, m, wbc)
}

// AfsPageFiller is afs_page_filler(data, page), fs/afs/file.c (2.6.34+,
// without fscache): fetch the page's bytes from the server with key, set
// it uptodate and unlock it; on error set PG_error and unlock. -ENOENT from
// the server marks the vnode deleted and becomes -ESTALE.
func AfsPageFiller(t *sim.Task, key *Key, page *mm.Page) int {
	t.Enter("afs_page_filler")
	defer t.Leave()
	inode := page.Mapping.Host
	vnode := AFS_FS_I(inode)
	if !mm.PageLocked(page) {
		t.BUG(page.Obj(), "afs_page_filler: page not locked")
	}
	var ret int
	if vnode.TestBit(AFS_VNODE_DELETED) {
		ret = ESTALE.Neg()
		goto error
	}
	{
		// page will not be cached (-ENOBUFS): go_on
		offset := mm.PageOffset(page)
		// len = min_t(size_t, i_size_read(inode) - offset, PAGE_SIZE): in
		// size_t, so a page at or past EOF (do_generic_file_read calls
		// ->readpage for it) fetches a whole page, not a negative length.
		// (A 32-bit size_t would also cut i_size - offset past 4 GiB; not
		// modelled.)
		length := int64(min(uint64(mm.ISizeRead(inode)-offset), uint64(mm.PageSize)))
		// read the contents of the file from the server into the page
		ret = AfsVnodeFetchData(t, vnode, key, offset, length, page)
		if ret < 0 {
			if ret == errno.ENOENT.Neg() {
				vnode.setBit(t, AFS_VNODE_DELETED)
				ret = ESTALE.Neg()
			}
			goto error
		}
		mm.SetPageUptodate(t, page)
		mm.UnlockPage(t, page)
	}
	return 0

error:
	mm.SetPageError(t, page)
	mm.UnlockPage(t, page)
	return ret
}

// AfsReadpage is afs_readpage(file, page), fs/afs/file.c: afs_page_filler
// with the file's key, or, with no file, a key requested for the cell (the
// model uses the volume's first key).
func AfsReadpage(t *sim.Task, file *File, page *mm.Page) int {
	if file != nil {
		if file.Key == nil {
			t.BUG(page.Obj(), "AFS: Assertion failed in afs_readpage: key != NULL")
		}
		return AfsPageFiller(t, file.Key, page)
	}
	fs := AFS_FS_I(page.Mapping.Host).fs
	if len(fs.keys) == 0 {
		return errno.ENOKEY.Neg()
	}
	key := KeyGet(t, fs.keys[0]) // afs_request_key
	ret := AfsPageFiller(t, key, page)
	KeyPut(t, key)
	return ret
}

// AfsInvalidatepage is afs_invalidatepage(page, offset), fs/afs/file.c
// (2.6.35/3.0): when the whole page goes (offset 0) and it is not under
// writeback, drop its reference on its writeback record.
func AfsInvalidatepage(t *sim.Task, page *mm.Page, offset uint) {
	t.Enter("afs_invalidatepage")
	defer t.Leave()
	wb := pagePrivateWb(page)
	if !mm.PageLocked(page) {
		t.BUG(page.Obj(), "afs_invalidatepage: page not locked")
	}
	// we clean up only if the entire page is being invalidated
	if offset == 0 {
		if mm.PagePrivate(page) {
			if wb != nil && !mm.PageWriteback(page) {
				mm.SetPagePrivateData(t, page, nil)
				AfsPutWriteback(t, wb)
			}
			if pagePrivateWb(page) == nil {
				mm.ClearPagePrivate(t, page)
			}
		}
	}
}

// AfsReleasepage is afs_releasepage(page, gfp_flags), fs/afs/file.c
// (2.6.35/3.0): drop the page's reference on its writeback record; the
// page can always be released (returns 1).
func AfsReleasepage(t *sim.Task, page *mm.Page, gfp int) int {
	t.Enter("afs_releasepage")
	defer t.Leave()
	wb := pagePrivateWb(page)
	if mm.PagePrivate(page) {
		if wb != nil {
			mm.SetPagePrivateData(t, page, nil)
			AfsPutWriteback(t, wb)
		}
		mm.ClearPagePrivate(t, page)
	}
	// indicate that the page can be released
	return 1
}
