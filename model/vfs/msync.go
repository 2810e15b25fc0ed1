package vfs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// msync(2): mm/msync.c.
//
//   - 2.6.12: sys_msync and msync_interval as in Linux 2.6.11
//     (Antonio-Zhou/Linux-2.6.11 e9db0960, and fzqing/linux-2.6 685d19f0,
//     a 2.6.10, read via the search tool) with Hugh Dickins' "ptwalk:
//     sync_page_range" (March 2005, merged for 2.6.12: filemap_sync
//     returns nothing and MS_SYNC no longer tests its result), checked
//     against 2.6.14 (jasonactions/2.6.14-comment 87615918,
//     2.6.14/mm/msync.c), whose msync_interval is the same. For MS_SYNC
//     on a shared file mapping: filemap_fdatawrite, then ->fsync(file,
//     dentry, 1), then filemap_fdatawait, all WITHOUT i_sem ("We don't
//     take i_sem here because mmap_sem is already held"): unlike
//     sys_fsync, whose ->fsync runs under i_sem, an msync's whole sync
//     runs beside a task holding i_sem. (sys_fsync's own
//     filemap_fdatawrite is outside i_sem too, fs/buffer.c of 2.6.11.)
//   - 2.6.2x and afs-2.6.3x (2.6.32, its msync read via the search tool
//     in an mmotm-2.6.32 patch of mm/msync.c; 2.6.35, columbia/linux-2.6-
//     racepro 98439b70, is the same but for vfs_fsync's arguments) and
//     3.x (3.2, the same text): MS_SYNC on a shared file mapping drops
//     mmap_sem and calls vfs_fsync(file, 0); MS_ASYNC does nothing ("Now
//     it doesn't do anything, since dirty pages are properly tracked").
//
// Simplifications: the model's msync covers one mapping of the whole
// file (Msync maps it, msyncs it and unmaps it), so the walk over the
// vmas of [start, end) and its -ENOMEM for unmapped ranges are not
// modelled; mmap_sem (no other task uses the model's mm) and
// PF_SYNCWRITE have no model. VM_LOCKED is never set (no mlock), so
// MS_INVALIDATE never gets -EBUSY.

// msync(2) flags, include/asm-generic/mman.h (x86 values).
const (
	MS_ASYNC      = 1 // sync memory asynchronously
	MS_INVALIDATE = 2 // invalidate the caches
	MS_SYNC       = 4 // synchronous memory sync
)

// Msync is the model's "msync of a file": map the whole file shared
// (readable, and writable when the file is open for writing), msync(2)
// the mapping with flags, and unmap it. A fresh mapping has no dirty
// ptes, so 2.6.12's filemap_sync finds nothing to transfer: every store
// made through an earlier MmapWrite dirtied its page when that mapping
// went away (see Munmap), and the later eras dirty pages at fault time.
// When the call syncs (MS_SYNC on a file with ->fsync), the super
// block's barrier follows, as after fsync (doFsync); its error is
// reported if the msync had none. It returns 0, a negative errno, or the
// mmap error (afs maps its files read-only: -EINVAL).
func Msync(t *sim.Task, f *File, flags int) int {
	t.Enter("msync")
	defer t.Leave()
	prot := PROT_READ
	if f.Mode&FMODE_WRITE != 0 {
		prot |= PROT_WRITE
	}
	vma, err := Mmap(t, f, prot, MAP_SHARED)
	if err != 0 {
		return err
	}
	ret := SysMsync(t, vma, flags)
	if flags&MS_SYNC != 0 && vma.Flags&VM_SHARED != 0 {
		ret = barrierAfterSync(t, f, ret)
	}
	Munmap(t, vma)
	return ret
}

// SysMsync is sys_msync(start, len, flags) over all of vma, in the era's
// form: 2.6.12's (msyncInterval2612), or 2.6.32's and 3.2's (vfs_fsync
// for MS_SYNC). Flags other than MS_ASYNC, MS_INVALIDATE and MS_SYNC, or
// MS_ASYNC with MS_SYNC: -EINVAL.
func SysMsync(t *sim.Task, vma *VMArea, flags int) int {
	t.Enter("sys_msync")
	defer t.Leave()
	if flags&^(MS_ASYNC|MS_INVALIDATE|MS_SYNC) != 0 {
		return errno.EINVAL.Neg()
	}
	if flags&MS_ASYNC != 0 && flags&MS_SYNC != 0 {
		return errno.EINVAL.Neg()
	}
	// len = PAGE_ALIGN(len); the model's interval is the whole vma, never
	// empty. down_read(&mm->mmap_sem); find_vma: the one vma.
	file := vma.File
	if !file.Mapping.Host.Kernel.Era().MsyncFsyncs {
		return msyncInterval2612(t, vma, flags)
	}
	// MS_INVALIDATE with VM_LOCKED: -EBUSY (no VM_LOCKED in the model).
	if flags&MS_SYNC != 0 && vma.Flags&VM_SHARED != 0 {
		Fget(file) // get_file(file)
		// up_read(&mm->mmap_sem)
		err := VfsFsync(t, file, 0)
		Fput(t, file)
		return err
	}
	// MS_ASYNC, or a private mapping: nothing to do.
	return 0
}

// msyncInterval2612 is msync_interval(vma, addr, end, flags),
// mm/msync.c, 2.6.12 (see the file comment): on a shared file mapping,
// filemap_sync moves the ptes' dirty bits to the pages; with MS_SYNC,
// filemap_fdatawrite, ->fsync with datasync 1, and filemap_fdatawait,
// none of it under i_sem; the first error wins.
func msyncInterval2612(t *sim.Task, vma *VMArea, flags int) int {
	t.Enter("msync_interval")
	defer t.Leave()
	ret := 0
	file := vma.File

	// MS_INVALIDATE with VM_LOCKED: -EBUSY (no VM_LOCKED in the model).
	if vma.Flags&VM_SHARED != 0 {
		filemapSync2612(t, vma)

		if flags&MS_SYNC != 0 {
			mapping := file.Mapping
			ret = mm.FilemapFdatawrite(t, mapping)
			if op, ok := file.Op.(FsyncOp); ok {
				// We don't take i_sem here because mmap_sem is already
				// held.
				err := op.Fsync(t, file, 0, mm.LLONG_MAX, 1)
				if err != 0 && ret == 0 {
					ret = err
				}
			}
			err := mm.FilemapFdatawait(t, mapping)
			if ret == 0 {
				ret = err
			}
		}
	}
	return ret
}

// filemapSync2612 is filemap_sync(vma, addr, end) of 2.6.12
// (sync_page_range and its pte walk, sync_pte_range): every pte whose
// dirty bit is set has it cleared (ptep_clear_flush_dirty) and its page
// set dirty (set_page_dirty), under page_table_lock. The model's ptes are
// the vma's list.
func filemapSync2612(t *sim.Task, vma *VMArea) {
	t.Enter("filemap_sync")
	defer t.Leave()
	for i := range vma.ptes {
		p := &vma.ptes[i]
		if p.dirty {
			p.dirty = false
			mm.SetPageDirty(t, p.page)
		}
	}
	t.CondResched()
}
