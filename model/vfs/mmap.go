package vfs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Shared file mappings: mmap, write faults and munmap, without page
// tables (see the package comment). mm/filemap.c's filemap_fault and
// mm/memory.c's __do_fault are Linux 2.6.32's (3.2's differ in nothing
// modelled); the 2.6.12 era runs filemap_nopage and do_no_page (read from
// memory of 2.6.12's mm/filemap.c and mm/memory.c, where no fault handler
// dirtied the page: the dirty pte did, when it was zapped).

// vm_flags bits, include/linux/mm.h.
const (
	VM_READ          = 0x00000001
	VM_WRITE         = 0x00000002
	VM_EXEC          = 0x00000004
	VM_SHARED        = 0x00000008
	VM_MAYREAD       = 0x00000010
	VM_MAYWRITE      = 0x00000020
	VM_MAYEXEC       = 0x00000040
	VM_MAYSHARE      = 0x00000080
	VM_CAN_NONLINEAR = 0x08000000
)

// mmap(2) protections and flags.
const (
	PROT_READ   = 0x1
	PROT_WRITE  = 0x2
	MAP_SHARED  = 0x01
	MAP_PRIVATE = 0x02
)

// Fault flags (struct vm_fault's flags), include/linux/mm.h, 2.6.32.
const (
	FAULT_FLAG_WRITE     = 0x01
	FAULT_FLAG_NONLINEAR = 0x02
	FAULT_FLAG_MKWRITE   = 0x04
)

// Fault results, include/linux/mm.h, 2.6.32. The 2.6.12 era's handlers
// (VM_FAULT_MINOR, NOPAGE_SIGBUS, ...) are mapped onto these.
const (
	VM_FAULT_OOM      = 0x0001
	VM_FAULT_SIGBUS   = 0x0002
	VM_FAULT_MAJOR    = 0x0004
	VM_FAULT_WRITE    = 0x0008
	VM_FAULT_HWPOISON = 0x0010
	VM_FAULT_NOPAGE   = 0x0100
	VM_FAULT_LOCKED   = 0x0200
	VM_FAULT_ERROR    = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_HWPOISON
)

// VMArea is struct vm_area_struct for a mapping of a whole file from
// offset 0, with the pages it has mapped (its ptes, in the model a list).
type VMArea struct {
	File  *File
	Flags uint64
	// Ops is vm_ops (see VMOperations).
	Ops VMOperations

	ptes []pte
}

// pte is a mapped page and its dirty bit.
type pte struct {
	page  *mm.Page
	dirty bool
}

// VMFault is struct vm_fault.
type VMFault struct {
	Flags uint
	Pgoff uint64
	// Page is the page the handler returns (with a reference).
	Page *mm.Page
}

// VMOperations is struct vm_operations_struct.
type VMOperations any

// FaultOp is ->fault(vma, vmf) (->nopage in the 2.6.12 era: the model
// calls filemap_nopage there whatever the table says).
type FaultOp interface {
	Fault(t *sim.Task, vma *VMArea, vmf *VMFault) int
}

// PageMkwriteOp is ->page_mkwrite(vma, vmf) (2.6.18 and later): a
// read-only page is about to become writable.
type PageMkwriteOp interface {
	PageMkwrite(t *sim.Task, vma *VMArea, vmf *VMFault) int
}

// GenericFileVMOps is generic_file_vm_ops, mm/filemap.c, Linux 2.6.32:
// .fault = filemap_fault and no ->page_mkwrite (3.6 added
// filemap_page_mkwrite). Embed it to add one.
type GenericFileVMOps struct{}

// Fault is generic_file_vm_ops.fault.
func (GenericFileVMOps) Fault(t *sim.Task, vma *VMArea, vmf *VMFault) int {
	return FilemapFault(t, vma, vmf)
}

// GenericFileMmap is generic_file_mmap(file, vma), mm/filemap.c, Linux
// 2.6.32: a mapping needs ->readpage; its vm_ops are generic_file_vm_ops.
func GenericFileMmap(t *sim.Task, f *File, vma *VMArea) int {
	if _, ok := f.Mapping.AOps.(mm.ReadpageOp); !ok {
		return ENOEXEC.Neg()
	}
	// file_accessed(file): no atime
	vma.Ops = GenericFileVMOps{}
	vma.Flags |= VM_CAN_NONLINEAR
	return 0
}

// GenericFileReadonlyMmap is generic_file_readonly_mmap(file, vma),
// mm/filemap.c, Linux 2.6.32: a shared mapping that may become writable is
// refused with -EINVAL (AFS of the 2.6.3x era maps its files this way).
func GenericFileReadonlyMmap(t *sim.Task, f *File, vma *VMArea) int {
	if vma.Flags&VM_SHARED != 0 && vma.Flags&VM_MAYWRITE != 0 {
		return errno.EINVAL.Neg()
	}
	return GenericFileMmap(t, f, vma)
}

// Mmap is mmap(2) of the whole file, do_mmap_pgoff and mmap_region,
// mm/mmap.c, Linux 2.6.32, reduced to the file's part: the vm_flags from
// prot and flags (a shared writable mapping needs a file open for
// writing), then ->mmap; the mapping holds a reference on the file. It
// returns the area, or nil and a negative errno.
func Mmap(t *sim.Task, f *File, prot, flags int) (*VMArea, int) {
	t.Enter("do_mmap_pgoff")
	defer t.Leave()
	var vmFlags uint64 = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
	if prot&PROT_READ != 0 {
		vmFlags |= VM_READ
	}
	if prot&PROT_WRITE != 0 {
		vmFlags |= VM_WRITE
	}
	switch flags & (MAP_SHARED | MAP_PRIVATE) {
	case MAP_SHARED:
		if prot&PROT_WRITE != 0 && f.Mode&FMODE_WRITE == 0 {
			return nil, errno.EACCES.Neg()
		}
		vmFlags |= VM_SHARED | VM_MAYSHARE
		if f.Mode&FMODE_WRITE == 0 {
			vmFlags &^= VM_MAYWRITE | VM_SHARED
		}
	case MAP_PRIVATE:
		if f.Mode&FMODE_READ == 0 {
			return nil, errno.EACCES.Neg()
		}
	default:
		return nil, errno.EINVAL.Neg()
	}
	op, ok := f.Op.(MmapOp)
	if !ok {
		return nil, ENODEV.Neg()
	}
	vma := &VMArea{File: Fget(f), Flags: vmFlags}
	if err := op.Mmap(t, f, vma); err != 0 {
		Fput(t, f)
		return nil, err
	}
	return vma, 0
}

// Munmap is munmap(2) of the whole area: zap_pte_range drops every mapped
// page's reference (in the 2.6.12 era after set_page_dirty of a page
// whose pte is dirty; in the later eras the page was dirtied at fault
// time, and page_mkclean would have cleaned the pte of any page writeback
// cleaned since, so there is nothing to transfer), then the file's
// reference.
func Munmap(t *sim.Task, vma *VMArea) {
	t.Enter("unmap_region")
	defer t.Leave()
	dirtyAtFault := vma.File.Mapping.Host.Kernel.Era().DirtyAtFault
	for _, p := range vma.ptes {
		if !dirtyAtFault && p.dirty {
			mm.SetPageDirty(t, p.page)
		}
		mm.PutPage(t, p.page) // page_remove_rmap, tlb_remove_page
	}
	vma.ptes = nil
	Fput(t, vma.File)
}

// MmapWrite is the model's "mmap-write at offset": map the file shared
// and writable, then for every page of [pos, pos+len(data)) take a write
// fault (the era's handler: filemap_fault and __do_fault with
// ->page_mkwrite and set_page_dirty; 2.6.12's filemap_nopage and
// do_no_page) and store the bytes into the page, retrying the fault when
// the handler says so, then unmap. It returns 0, -EFAULT where a fault
// ended in SIGBUS (the page lies past end of file, or could not be made
// writable: the process would get SIGBUS), -ENOMEM for VM_FAULT_OOM, or
// the mmap error. Pages before a failing one keep their stores.
func MmapWrite(t *sim.Task, f *File, pos int64, data content.Bytes) int {
	t.Enter("mmap_write")
	defer t.Leave()
	k := f.Mapping.Host.Kernel
	vma, err := Mmap(t, f, PROT_READ|PROT_WRITE, MAP_SHARED)
	if err != 0 {
		return err
	}
	ret := 0
	var done int64
	for done < data.Len() {
		offset := pos & (mm.PageCacheSize - 1)
		n := min(mm.PageCacheSize-offset, data.Len()-done)
		chunk := data.Slice(done, n)
		pgoff := k.ULong(uint64(pos) >> mm.PageCacheShift)
		stored := false
		at := pos
		store := func(p *mm.Page) {
			mm.CopyToPage(t, p, uint(offset), chunk) // the user's store through the pte
			stored = true
			if sb := f.Inode.SB; sb.OnWrite != nil {
				sb.OnWrite(f, at, chunk)
			}
		}
		for !stored {
			r := HandleMMFault(t, vma, pgoff, FAULT_FLAG_WRITE, store)
			switch {
			case r&VM_FAULT_OOM != 0:
				ret = errno.ENOMEM.Neg()
			case r&VM_FAULT_ERROR != 0:
				ret = EFAULT.Neg() // SIGBUS
			}
			if ret != 0 {
				break
			}
			// Not mapped (VM_FAULT_NOPAGE, or the page went away under
			// ->page_mkwrite): the store faults again.
		}
		if ret != 0 {
			break
		}
		pos += n
		done += n
	}
	Munmap(t, vma)
	return ret
}

// HandleMMFault is handle_mm_fault for a fault on a page of a file
// mapping with no pte (do_linear_fault, mm/memory.c, 2.6.32; do_no_page
// in the 2.6.12 era). store, if the fault maps the page for writing, is
// the user's store into it (see the package comment for where it runs).
func HandleMMFault(t *sim.Task, vma *VMArea, pgoff uint64, flags uint, store func(*mm.Page)) int {
	if !vma.File.Mapping.Host.Kernel.Era().DoLinearFault {
		return doNoPage2612(t, vma, pgoff, flags&FAULT_FLAG_WRITE != 0, store)
	}
	return doFault(t, vma, pgoff, flags, store)
}

// doFault is __do_fault(mm, vma, address, pmd, pgoff, flags, orig_pte),
// mm/memory.c, Linux 2.6.32, for a shared file mapping: ->fault gives the
// page (locked, or locked here); on a write fault ->page_mkwrite is told
// (with the page unlocked; it returns it locked, or it is relocked and
// rechecked here); the pte is installed (the fault's page reference
// becomes the mapping's); a write fault's page is set dirty, [the user's
// store], unlocked and released, then the dirtier is throttled
// (balance_dirty_pages_ratelimited). file_update_time is not modelled.
func doFault(t *sim.Task, vma *VMArea, pgoff uint64, flags uint, store func(*mm.Page)) int {
	t.Enter("__do_fault")
	defer t.Leave()
	var page, dirtyPage *mm.Page
	pageMkwrite := false
	vmf := VMFault{Pgoff: pgoff, Flags: flags}

	ret := vma.Ops.(FaultOp).Fault(t, vma, &vmf)
	if ret&(VM_FAULT_ERROR|VM_FAULT_NOPAGE) != 0 {
		return ret
	}

	// For consistency in subsequent calls, make the faulted page always
	// locked.
	if ret&VM_FAULT_LOCKED == 0 {
		mm.LockPage(t, vmf.Page)
	} else if !mm.PageLocked(vmf.Page) {
		t.BUG(vmf.Page.Obj(), "__do_fault: VM_FAULT_LOCKED but the page is not locked")
	}

	// Should we do an early C-O-W break?
	page = vmf.Page
	if flags&FAULT_FLAG_WRITE != 0 {
		if vma.Flags&VM_SHARED == 0 {
			t.BUG(page.Obj(), "__do_fault: a write fault on a private mapping (copy-on-write is not modelled)")
		} else if mk, ok := vma.Ops.(PageMkwriteOp); ok {
			// If the page will be shareable, see if the backing address
			// space wants to know that the page is about to become
			// writable
			mm.UnlockPage(t, page)
			vmf.Flags = FAULT_FLAG_WRITE | FAULT_FLAG_MKWRITE
			tmp := mk.PageMkwrite(t, vma, &vmf)
			if tmp&(VM_FAULT_ERROR|VM_FAULT_NOPAGE) != 0 {
				ret = tmp
				goto unwritablePage
			}
			if tmp&VM_FAULT_LOCKED == 0 {
				mm.LockPage(t, page)
				if page.Mapping == nil {
					ret = 0 // retry the fault
					mm.UnlockPage(t, page)
					goto unwritablePage
				}
			} else if !mm.PageLocked(page) {
				t.BUG(page.Obj(), "__do_fault: ->page_mkwrite returned VM_FAULT_LOCKED without the lock")
			}
			pageMkwrite = true
		}
	}

	// page_table_lock; the pte is none, so: install it. The fault's
	// reference on the page is the mapping's now (page_add_file_rmap).
	vma.ptes = append(vma.ptes, pte{page: page, dirty: flags&FAULT_FLAG_WRITE != 0})
	if flags&FAULT_FLAG_WRITE != 0 {
		dirtyPage = page
		mm.GetPage(t, dirtyPage)
	}

	// out:
	if dirtyPage != nil {
		mapping := page.Mapping
		if mm.SetPageDirty(t, dirtyPage) != 0 {
			pageMkwrite = true
		}
		if store != nil {
			store(dirtyPage)
		}
		mm.UnlockPage(t, dirtyPage)
		mm.PutPage(t, dirtyPage)
		if pageMkwrite && mapping != nil {
			// Some device drivers do not set page.mapping but still dirty
			// their pages
			mm.BalanceDirtyPagesRatelimited(t, mapping)
		}
		// file_update_time outside page_lock: not modelled
	} else {
		mm.UnlockPage(t, vmf.Page)
	}
	return ret

unwritablePage:
	mm.PageCacheRelease(t, page)
	return ret
}

// FilemapFault is filemap_fault(vma, vmf), mm/filemap.c, Linux 2.6.32
// (zybsyzlz/linux-2.6.32 ec78931d, read via the search tool; no divergence
// found):
// the page at vmf.Pgoff, locked and uptodate, with a reference
// (VM_FAULT_LOCKED), reading it in if needed (read-around: a fixed window
// centred on the page, as do_sync_mmap_readahead's); VM_FAULT_SIGBUS past
// end of file or after a read error.
func FilemapFault(t *sim.Task, vma *VMArea, vmf *VMFault) int {
	t.Enter("filemap_fault")
	defer t.Leave()
	var err int
	file := vma.File
	mapping := file.Mapping
	ra := &file.Ra
	inode := mapping.Host
	k := inode.Kernel
	offset := vmf.Pgoff
	var page *mm.Page
	ret := 0

	size := k.ULong(uint64(mm.ISizeRead(inode)+mm.PageCacheSize-1) >> mm.PageCacheShift)
	if offset >= size {
		return VM_FAULT_SIGBUS
	}

	// Do we have something in the page cache already?
	page = mm.FindGetPage(t, mapping, offset)
	if page == nil {
		goto noPage
	}
	// We found the page, so try async readahead before waiting for the
	// lock: do_async_mmap_readahead (no PG_readahead in the model)
	mm.LockPage(t, page)

	// Did it get truncated?
	if page.Mapping != mapping {
		mm.UnlockPage(t, page)
		mm.PutPage(t, page)
		goto noCachedPage
	}
	goto lockedPage

noPage:
	// No page in the page cache at all
	doSyncMmapReadahead(t, vma, ra, file, offset)
	ret = VM_FAULT_MAJOR
retryFind:
	page = mm.FindLockPage(t, mapping, offset)
	if page == nil {
		goto noCachedPage
	}

lockedPage:
	// We have a locked page in the page cache, now we need to check that
	// it's up-to-date. If not, it is going to be due to an error.
	if !mm.PageUptodate(page) {
		goto pageNotUptodate
	}

	// Found the page and have a reference on it. We must recheck i_size
	// under page lock.
	size = k.ULong(uint64(mm.ISizeRead(inode)+mm.PageCacheSize-1) >> mm.PageCacheShift)
	if offset >= size {
		mm.UnlockPage(t, page)
		mm.PageCacheRelease(t, page)
		return VM_FAULT_SIGBUS
	}

	ra.PrevPos = int64(offset) << mm.PageCacheShift
	vmf.Page = page
	return ret | VM_FAULT_LOCKED

noCachedPage:
	// We're only likely to ever get here if MADV_RANDOM is in effect.
	err = pageCacheRead(t, file, offset)

	// The page we want has now been added to the page cache. In the
	// unlikely event that someone removed it in the meantime, we'll just
	// come back here and read it again.
	if err >= 0 {
		goto retryFind
	}

	// An error return from page_cache_read can result if the system is
	// low on memory, or a problem occurs while trying to schedule I/O.
	if err == errno.ENOMEM.Neg() {
		return VM_FAULT_OOM
	}
	return VM_FAULT_SIGBUS

pageNotUptodate:
	// Umm, take care of errors if the page isn't up-to-date. Try to
	// re-read it _once_. We do this synchronously, because there really
	// aren't any performance issues here and we need to check for errors.
	mm.ClearPageError(t, page)
	err = mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(file), page)
	if err == 0 {
		mm.WaitOnPageLocked(t, page)
		if !mm.PageUptodate(page) {
			err = errno.EIO.Neg()
		}
	}
	mm.PageCacheRelease(t, page)

	if err == 0 || err == AOP_TRUNCATED_PAGE {
		goto retryFind
	}

	// Things didn't work out. Return zero to tell the mm layer so.
	shrinkReadaheadSizeEIO(file, ra)
	return VM_FAULT_SIGBUS
}

// doSyncMmapReadahead is do_sync_mmap_readahead(vma, ra, file, offset),
// mm/filemap.c, Linux 2.6.32, reduced to its read-around: a window of
// ra_pages centred on the faulting page (no MADV hints, no mmap_miss
// accounting).
func doSyncMmapReadahead(t *sim.Task, vma *VMArea, ra *FileRaState, file *File, offset uint64) {
	mapping := file.Mapping
	raPages := ra.RaPages
	if raPages == 0 {
		return
	}
	start := uint64(0)
	if offset > raPages/2 {
		start = offset - raPages/2
	}
	doPageCacheReadahead(t, mapping, file, start, raPages, 0) // ra_submit
}

// pageCacheRead is page_cache_read(file, offset), mm/filemap.c, Linux
// 2.6.32: add a new page at offset and start reading it (->readpage);
// losing the race to add it is fine.
func pageCacheRead(t *sim.Task, file *File, offset uint64) int {
	mapping := file.Mapping
	var ret int
	for {
		page := mm.PageCacheAllocCold(t, mapping)
		ret = mm.AddToPageCacheLRU(t, page, mapping, offset)
		if ret == 0 {
			ret = mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(file), page)
		} else if ret == errno.EEXIST.Neg() {
			ret = 0 // losing race to add is OK
		}
		mm.PageCacheRelease(t, page)
		if ret != AOP_TRUNCATED_PAGE {
			return ret
		}
	}
}

// doNoPage2612 is do_no_page(mm, vma, address, write_access, page_table,
// pmd) of the 2.6.12 era for a shared file mapping: ->nopage
// (filemap_nopage) gives the page, unlocked, with a reference, which
// becomes the pte's; a write fault makes the pte dirty and writable, and
// the page is not dirtied now (only when the pte is zapped, see Munmap).
// The user's store follows, without the page lock.
func doNoPage2612(t *sim.Task, vma *VMArea, pgoff uint64, writeAccess bool, store func(*mm.Page)) int {
	t.Enter("do_no_page")
	defer t.Leave()
	page, ret := filemapNopage2612(t, vma, pgoff)
	if page == nil {
		return ret // NOPAGE_SIGBUS or NOPAGE_OOM
	}
	// Should we do an early C-O-W break? (write_access on a private
	// mapping: not modelled)
	if writeAccess && vma.Flags&VM_SHARED == 0 {
		t.BUG(page.Obj(), "do_no_page: a write fault on a private mapping (copy-on-write is not modelled)")
	}
	// The pte was none: install it, dirty if writing
	vma.ptes = append(vma.ptes, pte{page: page, dirty: writeAccess})
	if writeAccess && store != nil {
		store(page)
	}
	return ret
}

// filemapNopage2612 is filemap_nopage(area, address, type) of the 2.6.12
// era (mm/filemap.c): the page at pgoff, uptodate and unlocked, with a
// reference; nil and VM_FAULT_SIGBUS past end of file or after a read
// error (tried twice), nil and VM_FAULT_OOM when no page could be had.
// Readahead is the fixed read-around window.
func filemapNopage2612(t *sim.Task, vma *VMArea, pgoff uint64) (*mm.Page, int) {
	t.Enter("filemap_nopage")
	defer t.Leave()
	file := vma.File
	mapping := file.Mapping
	inode := mapping.Host
	k := inode.Kernel
	ra := &file.Ra
	var page *mm.Page
	var err int
	var size uint64
	majmin := 0
	didReadaround := false

retryAll:
	size = k.ULong(uint64(mm.ISizeRead(inode)+mm.PageCacheSize-1) >> mm.PageCacheShift)
	if pgoff >= size {
		goto outsideDataContent
	}
	// The "size" of the file, as far as mmap is concerned, isn't bigger
	// than the mapping: the model maps the whole file.

	// Do we have something in the page cache already?
retryFind:
	page = mm.FindGetPage(t, mapping, pgoff)
	if page == nil {
		// page_cache_readaround, the fixed window
		if !didReadaround {
			didReadaround = true
			majmin = VM_FAULT_MAJOR
			doSyncMmapReadahead(t, vma, ra, file, pgoff)
		}
		page = mm.FindGetPage(t, mapping, pgoff)
		if page == nil {
			goto noCachedPage
		}
	}

	// Ok, found a page in the page cache, now we need to check that it's
	// up-to-date.
	if !mm.PageUptodate(page) {
		goto pageNotUptodate
	}

success:
	// Found the page and have a reference on it.
	mm.MarkPageAccessed(t, page)
	return page, majmin

outsideDataContent:
	// An external ptracer can access pages that normally aren't
	// accessible..
	return nil, VM_FAULT_SIGBUS

noCachedPage:
	// We're only likely to ever get here if MADV_RANDOM is in effect.
	err = pageCacheRead(t, file, pgoff)
	// The page we want has now been added to the page cache. In the
	// unlikely event that someone removed it in the meantime, we'll just
	// come back here and read it again.
	if err >= 0 {
		goto retryFind
	}
	// An error return from page_cache_read can result if the system is
	// low on memory, or a problem occurs while trying to schedule I/O.
	if err == errno.ENOMEM.Neg() {
		return nil, VM_FAULT_OOM
	}
	return nil, VM_FAULT_SIGBUS

pageNotUptodate:
	if !didReadaround {
		majmin = VM_FAULT_MAJOR
	}
	mm.LockPage(t, page)

	// Did it get unhashed while we waited for it?
	if page.Mapping == nil {
		mm.UnlockPage(t, page)
		mm.PageCacheRelease(t, page)
		goto retryAll
	}

	// Did somebody else get it up-to-date?
	if mm.PageUptodate(page) {
		mm.UnlockPage(t, page)
		goto success
	}

	if mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(file), page) == 0 {
		mm.WaitOnPageLocked(t, page)
		if mm.PageUptodate(page) {
			goto success
		}
	}

	// Umm, take care of errors if the page isn't up-to-date. Try to
	// re-read it _once_. We do this synchronously, because there really
	// aren't any performance issues here and we need to check for errors.
	mm.LockPage(t, page)

	// Somebody truncated the page on us?
	if page.Mapping == nil {
		mm.UnlockPage(t, page)
		mm.PageCacheRelease(t, page)
		goto retryAll
	}

	// Somebody else successfully read it in?
	if mm.PageUptodate(page) {
		mm.UnlockPage(t, page)
		goto success
	}
	mm.ClearPageError(t, page)
	if mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(file), page) == 0 {
		mm.WaitOnPageLocked(t, page)
		if mm.PageUptodate(page) {
			goto success
		}
	}

	// Things didn't work out. Return zero to tell the mm layer so,
	// possibly freeing the page cache page first.
	mm.PageCacheRelease(t, page)
	return nil, VM_FAULT_SIGBUS
}
