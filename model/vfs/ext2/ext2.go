// Package ext2 mounts a blockfs file system on model/vfs as ext2: the
// super block's VFS part (ext2_fill_super: s_maxbytes, s_op), the inode
// and file operations of a regular file (ext2_file_inode_operations,
// ext2_file_operations), the address-space operations of the era where
// they differ from blockfs's and mpage's (2.6.12's ->prepare_write and
// ->commit_write; the trimming of blocks a failed write instantiated past
// i_size), and a shared mapping's vm_operations with block_page_mkwrite.
//
// Versions: fs/ext2/file.c, inode.c and super.c of Linux 2.6.12, 2.6.32
// and 3.2 as the kernel's era table row says (mm.Kernel.Era); fs/buffer.c's
// block_page_mkwrite of 2.6.32 and 3.2.
//
// Where the model departs from ext2:
//
//   - ext2 of the modelled eras maps files with generic_file_mmap, whose
//     vm_ops have no ->page_mkwrite. The brief for model/vfs asks for
//     block_page_mkwrite (as ext4 and other block file systems of the era
//     wire it), so the 2.6.2x and 3.x eras get it unless
//     Options.NoPageMkwrite; 2.6.12 has no ->page_mkwrite at all.
//   - ->fsync: ext2 never flushed the disk's volatile cache. blockfs models
//     barriers (Options.NoBarrier off): the super block's Barrier flushes
//     it, after the era's fsync and in ->sync_fs(sb, 1).
//   - The on-disk inode is not modelled (blockfs keeps it in memory), so
//     write_inode is nothing, and sync_inode(inode, {WB_SYNC_ALL,
//     nr_to_write = 0}) of ext2_sync_file, simple_fsync and
//     generic_file_fsync is reduced to what it does to data: its
//     filemap_fdatawait. The inode's I_DIRTY_SYNC/DATASYNC bits are left
//     as they are.
//   - A nobh file system of the 2.6.12 era writes through 2.6.32's
//     nobh_write_begin/nobh_write_end (2.6.12's nobh_prepare_write and
//     nobh_commit_write are not modelled), so model/vfs takes the
//     write_begin path for it.
package ext2

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Options are the mount's choices beyond blockfs.Options.
type Options struct {
	// NoPageMkwrite maps files with ext2's own generic_file_vm_ops (no
	// ->page_mkwrite) in every era (see the package comment).
	NoPageMkwrite bool
}

// EOVERFLOW is the errno generic_file_open returns (x86 value).
const EOVERFLOW errno.Errno = 75

// sbInfo is the super block's s_fs_info.
type sbInfo struct {
	fs   *blockfs.Fs
	opts Options
}

// Mount mounts fs on v as ext2: the VFS half of ext2_fill_super
// (s_maxbytes from ext2_max_size, or MAX_LFS_FILESIZE for the extent
// layout; s_op; the block device), and the era's address-space operations
// for the files created from now on. Call mpage.UseMpage(fs) first for the
// mpage a_ops.
func Mount(v *vfs.VFS, fs *blockfs.Fs, opts Options) *vfs.SuperBlock {
	k := fs.K
	info := &sbInfo{fs: fs, opts: opts}
	sb := &vfs.SuperBlock{Type: "ext2", Op: superOps{}, FsInfo: info, BdevMapping: fs.Bdev.Inode.Mapping}
	sb.MaxBytes = SMaxbytes(fs)
	if !fs.Opts.NoBarrier {
		bdev := fs.Bdev
		sb.Barrier = func(t *sim.Task) int {
			err := block.BlkdevIssueFlush(t, bdev)
			if err == vfs.EOPNOTSUPP.Neg() {
				err = 0
			}
			return err
		}
	}
	fs.AOps = wrapAOps(k, fs)
	return v.Mount(sb)
}

// SMaxbytes is the s_maxbytes Mount gives fs's super block: ext2_max_size
// for the indirect layout, MAX_LFS_FILESIZE for the extent layout.
func SMaxbytes(fs *blockfs.Fs) int64 {
	if fs.Opts.Layout == blockfs.LayoutExtent {
		return vfs.MaxLFSFilesize(fs.K)
	}
	return ext2MaxSize(fs.K, fs.Blkbits)
}

// ext2MaxSize is ext2_max_size(bits), fs/ext2/super.c: the largest file
// the indirect tree and i_blocks (2^32 - 1 sectors) allow. 2.6.12 caps it
// at a constant (0x1ff7fffd000, "a dense, 4k-blocksize file" whose
// sectors fit in 32 bits); 2.6.32 and 3.2 compute the cap from the block
// size and clamp to MAX_LFS_FILESIZE.
func ext2MaxSize(k *mm.Kernel, bits uint) int64 {
	res := int64(blockfs.EXT2_NDIR_BLOCKS)
	if !k.Era().Ext2MaxSizeComputed {
		// This constant is calculated to be the largest file size for a
		// dense, 4k-blocksize file such that the total number of sectors
		// in the file, including data and all indirect blocks, does not
		// exceed 2^32.
		const upperLimit = 0x1ff7fffd000
		res += 1 << (bits - 2)
		res += 1 << (2 * (bits - 2))
		res += 1 << (3 * (bits - 2))
		res <<= bits
		return min(res, upperLimit)
	}
	// This is calculated to be the largest file size for a dense, file
	// such that the total number of sectors in the file, including data
	// and all indirect blocks, does not exceed 2^32 -1: __u32 i_blocks
	// representing the total number of 512 bytes blocks of the file
	upperLimit := int64(1)<<32 - 1
	// total blocks in file system block size
	upperLimit >>= bits - 9
	// indirect blocks
	metaBlocks := int64(1)
	// double indirect blocks
	metaBlocks += 1 + 1<<(bits-2)
	// tripple indirect blocks
	metaBlocks += 1 + 1<<(bits-2) + 1<<(2*(bits-2))
	upperLimit -= metaBlocks
	upperLimit <<= bits

	res += 1 << (bits - 2)
	res += 1 << (2 * (bits - 2))
	res += 1 << (3 * (bits - 2))
	res <<= bits
	res = min(res, upperLimit)
	return min(res, vfs.MaxLFSFilesize(k))
}

// Create makes a new, empty regular file with inode number ino on the
// super block (ext2_create: ext2_new_inode with ext2_file_inode_operations,
// ext2_file_operations and the file system's a_ops).
func Create(sb *vfs.SuperBlock, ino uint64) *vfs.Inode {
	info := sb.FsInfo.(*sbInfo)
	ei := info.fs.NewInode(ino)
	blockfs.InstallTruncate(ei.VFS) // i_op->truncate = ext2_truncate (2.6.x)
	return sb.AddInode(ei.VFS, inodeOps{info}, fileOps{info}, ei)
}

// EXT2_I is the blockfs inode behind a VFS inode of an ext2 mount.
//
//nolint:revive // kernel name
func EXT2_I(ino *vfs.Inode) *blockfs.Inode { return ino.Private.(*blockfs.Inode) }

// DiskReader returns a reader of file bytes [off, off+n) as the device
// holds them, read with read (byte offsets on the device), through the
// file's block map as it is now (holes read as zeros): with the disk's
// durable view it is what check.File.CheckDurable takes, with its cached
// view what a read from the disk would see. Model-level: it reads the
// in-memory block map.
func DiskReader(ino *vfs.Inode, read func(off, n int64) content.Bytes) func(off, n int64) content.Bytes {
	ei := EXT2_I(ino)
	bs := int64(ino.SB.FsInfo.(*sbInfo).fs.BlockSize())
	return func(off, n int64) content.Bytes {
		var out content.Bytes
		pos, end := off, off+n
		for _, x := range ei.Mapped() {
			xs, xe := int64(x.Logical)*bs, int64(x.Logical+x.Len)*bs
			if xe <= pos {
				continue
			}
			if xs >= end {
				break
			}
			if xs > pos {
				out = out.Append(content.Zeros(xs - pos))
				pos = xs
			}
			m := min(xe, end) - pos
			out = out.Append(read(int64(x.Phys)*bs+(pos-xs), m))
			pos += m
		}
		if pos < end {
			out = out.Append(content.Zeros(end - pos))
		}
		return out
	}
}

// superOps is ext2_sops, the part the model has: ->sync_fs.
type superOps struct{}

// SyncFs is ext2_sync_fs(sb, wait): the super block it would write is not
// modelled; with wait, the model's barrier flushes the device's cache.
func (superOps) SyncFs(t *sim.Task, sb *vfs.SuperBlock, wait int) int {
	if wait != 0 && sb.Barrier != nil {
		return sb.Barrier(t)
	}
	return 0
}

// inodeOps is ext2_file_inode_operations: ->setattr (and ->truncate,
// which is mm.Inode.IOpTruncate).
type inodeOps struct{ info *sbInfo }

// Setattr is ext2_setattr(dentry, iattr), fs/ext2/inode.c: in 2.6.12 and
// 2.6.32 inode_setattr (a size change is vmtruncate, and then
// ext2_truncate); in 3.2 ext2_setsize for a size change, then
// mark_inode_dirty. Quota and ACLs are not modelled.
func (o inodeOps) Setattr(t *sim.Task, ino *vfs.Inode, attr *vfs.Iattr) int {
	t.Enter("ext2_setattr")
	defer t.Leave()
	inode := ino.I
	// inode_change_ok: always allowed
	if !inode.Kernel.Era().NewTruncateSequence {
		return vfs.InodeSetattr(t, ino, attr)
	}
	if attr.Valid&vfs.ATTR_SIZE != 0 && attr.Size != mm.ISizeRead(inode) {
		if err := blockfs.Ext2Setsize(t, inode, attr.Size); err != 0 {
			return err
		}
	}
	// setattr_copy: nothing to copy
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	return 0
}

// fileOps is ext2_file_operations: generic_file_aio_read and
// generic_file_aio_write, generic_file_open, ext2_release_file, the
// era's ->fsync and (see the package comment) ->mmap.
type fileOps struct{ info *sbInfo }

// Open is generic_file_open(inode, filp), fs/open.c: a file larger than
// MAX_NON_LFS needs O_LARGEFILE.
func (fileOps) Open(t *sim.Task, ino *vfs.Inode, f *vfs.File) int {
	if f.Flags&vfs.O_LARGEFILE == 0 && mm.ISizeRead(ino.I) > vfs.MAX_NON_LFS {
		return EOVERFLOW.Neg()
	}
	return 0
}

// Release is ext2_release_file(inode, filp), fs/ext2/file.c: a writer
// drops the inode's block reservation (2.6.32, 3.2: under truncate_mutex;
// 2.6.12: ext2_discard_prealloc). The model's allocator keeps neither, so
// only the locking remains.
func (o fileOps) Release(t *sim.Task, ino *vfs.Inode, f *vfs.File) int {
	if f.Mode&vfs.FMODE_WRITE != 0 && ino.I.Kernel.Era().ReleaseTruncateMutex {
		ei := EXT2_I(ino)
		ei.TruncateMutex.Lock(t)
		// ext2_discard_reservation(inode)
		ei.TruncateMutex.Unlock(t)
	}
	return 0
}

// AioRead is ext2_file_operations.aio_read: generic_file_aio_read.
func (fileOps) AioRead(t *sim.Task, iocb *vfs.Kiocb, count int64) (content.Bytes, int64) {
	return vfs.GenericFileAioRead(t, iocb, count)
}

// AioWrite is ext2_file_operations.aio_write: generic_file_aio_write.
func (fileOps) AioWrite(t *sim.Task, iocb *vfs.Kiocb, data content.Bytes) int64 {
	return vfs.GenericFileAioWrite(t, iocb, data)
}

// Mmap is ext2_file_operations.mmap, generic_file_mmap, with
// block_page_mkwrite added in 2.6.2x and 3.x unless the mount says
// NoPageMkwrite (see the package comment).
func (o fileOps) Mmap(t *sim.Task, f *vfs.File, vma *vfs.VMArea) int {
	if err := vfs.GenericFileMmap(t, f, vma); err != 0 {
		return err
	}
	if !o.info.opts.NoPageMkwrite && f.Mapping.Host.Kernel.Era().PageMkwrite {
		vma.Ops = mkwriteVMOps{fs: o.info.fs}
	}
	return 0
}

// Fsync is ext2's ->fsync of the era (without the barrier, which
// model/vfs adds): 2.6.12's ext2_sync_file and 2.6.32's simple_fsync
// write the inode's dirty indirect blocks (sync_mapping_buffers) and, if
// the inode is dirty, sync it; 3.2's ext2_fsync is generic_file_fsync
// (write and wait on the range, then the same under i_mutex) and reports
// a failed metadata write (AS_EIO on the block device's mapping) as -EIO.
func (o fileOps) Fsync(t *sim.Task, f *vfs.File, start, end int64, datasync int) int {
	inode := f.Mapping.Host
	fs := o.info.fs
	switch era := inode.Kernel.Era(); {
	case !era.VfsFsync:
		return ext2SyncFile(t, inode, fs, datasync)
	case era.FsyncRange:
		return ext2Fsync3x(t, f, fs, start, end, datasync)
	}
	return simpleFsync(t, inode, fs, datasync)
}

// syncInodeData is what sync_inode(inode, {WB_SYNC_ALL, nr_to_write 0})
// does to data: writeback_single_inode writes no page (nr_to_write is 0)
// and waits on the pages under writeback (filemap_fdatawait). write_inode
// has no on-disk inode to write in the model.
func syncInodeData(t *sim.Task, inode *mm.Inode) int {
	return mm.FilemapFdatawait(t, inode.Mapping)
}

// ext2SyncFile is ext2_sync_file(file, dentry, datasync), fs/ext2/fsync.c,
// 2.6.12.
func ext2SyncFile(t *sim.Task, inode *mm.Inode, fs *blockfs.Fs, datasync int) int {
	t.Enter("ext2_sync_file")
	defer t.Leave()
	ret := block.SyncMappingBuffers(t, inode.Mapping, fs.Bdev)
	if inode.State&mm.I_DIRTY == 0 {
		return ret
	}
	if datasync != 0 && inode.State&mm.I_DIRTY_DATASYNC == 0 {
		return ret
	}
	err := syncInodeData(t, inode) // ext2_sync_inode(inode)
	if ret == 0 {
		ret = err
	}
	return ret
}

// simpleFsync is simple_fsync(file, dentry, datasync), fs/libfs.c, 2.6.32
// (ext2_file_operations.fsync in 2.6.32): metadata only; the caller took
// care of data.
func simpleFsync(t *sim.Task, inode *mm.Inode, fs *blockfs.Fs, datasync int) int {
	t.Enter("simple_fsync")
	defer t.Leave()
	ret := block.SyncMappingBuffers(t, inode.Mapping, fs.Bdev)
	if inode.State&mm.I_DIRTY == 0 {
		return ret
	}
	if datasync != 0 && inode.State&mm.I_DIRTY_DATASYNC == 0 {
		return ret
	}
	err := syncInodeData(t, inode) // sync_inode(inode, &wbc)
	if ret == 0 {
		ret = err
	}
	return ret
}

// ext2Fsync3x is ext2_fsync(file, start, end, datasync), fs/ext2/file.c,
// 3.2: generic_file_fsync, then a metadata write error recorded on the
// block device's mapping (AS_EIO) is reported as -EIO.
func ext2Fsync3x(t *sim.Task, f *vfs.File, fs *blockfs.Fs, start, end int64, datasync int) int {
	t.Enter("ext2_fsync")
	defer t.Leave()
	bdMapping := fs.Bdev.Inode.Mapping
	ret := genericFileFsync(t, f, fs, start, end, datasync)
	if ret == errno.EIO.Neg() || mm.MappingTestAndClearFlag(t, bdMapping, mm.AS_EIO) {
		// We don't really know where the IO error happened...
		// ext2_error(sb, __func__, "detected IO error when writing metadata buffers")
		ret = errno.EIO.Neg()
	}
	return ret
}

// genericFileFsync is generic_file_fsync(file, start, end, datasync),
// fs/libfs.c, 3.2: write and wait on the range, then under i_mutex write
// the inode's dirty indirect blocks and, if it is dirty, sync it.
func genericFileFsync(t *sim.Task, f *vfs.File, fs *blockfs.Fs, start, end int64, datasync int) int {
	t.Enter("generic_file_fsync")
	defer t.Leave()
	inode := f.Mapping.Host
	err := mm.FilemapWriteAndWaitRange(t, inode.Mapping, start, end)
	if err != 0 {
		return err
	}
	inode.IMutex.Lock(t)
	ret := 0
	// mutant: the indirect blocks stay unwritten ("fs: always sync metadata in __generic_file_fsync")
	if !mutant.On("fsync-skips-buffers") {
		ret = block.SyncMappingBuffers(t, inode.Mapping, fs.Bdev)
	}
	if inode.State&mm.I_DIRTY != 0 && !(datasync != 0 && inode.State&mm.I_DIRTY_DATASYNC == 0) {
		err = syncInodeData(t, inode) // sync_inode_metadata(inode, 1)
		if ret == 0 {
			ret = err
		}
	}
	inode.IMutex.Unlock(t)
	return ret
}

// mkwriteVMOps is generic_file_vm_ops with ->page_mkwrite =
// block_page_mkwrite(vma, vmf, ext2_get_block) (see the package comment).
type mkwriteVMOps struct {
	vfs.GenericFileVMOps
	fs *blockfs.Fs
}

// PageMkwrite is ->page_mkwrite: block_page_mkwrite with the file
// system's get_block.
func (o mkwriteVMOps) PageMkwrite(t *sim.Task, vma *vfs.VMArea, vmf *vfs.VMFault) int {
	return BlockPageMkwrite(t, vma, vmf, o.fs.GetBlock)
}

// BlockPageMkwrite is block_page_mkwrite(vma, vmf, get_block), fs/buffer.c:
// lock the page; if it was truncated meanwhile, have the fault retried;
// otherwise map (allocating) and dirty the buffers of the part of the page
// inside i_size (block_prepare_write and block_commit_write) and return
// the page locked (VM_FAULT_LOCKED). 2.6.32's returns VM_FAULT_SIGBUS on
// an error (VM_FAULT_OOM for -ENOMEM); 3.2's (__block_page_mkwrite and
// block_page_mkwrite_return) also sets the page dirty and waits for its
// writeback before returning (stable pages), and calls
// __block_write_begin, which the model stands in for with
// block_prepare_write (the same but for ClearPageUptodate on an error).
// The page's end is computed as the kernel does, ((page->index + 1) <<
// PAGE_CACHE_SHIFT) in unsigned long, which wraps on a 32-bit kernel for
// files past 4 GiB.
func BlockPageMkwrite(t *sim.Task, vma *vfs.VMArea, vmf *vfs.VMFault, getBlock block.GetBlockFunc) int {
	t.Enter("block_page_mkwrite")
	defer t.Leave()
	page := vmf.Page
	inode := vma.File.Inode.I
	k := inode.Kernel
	waitsWriteback := k.Era().MkwriteWaitsWriteback
	ret := vfs.VM_FAULT_NOPAGE // make the VM retry the fault
	var end uint
	var err int

	// 3.2: vfs_check_frozen(sb, SB_FREEZE_WRITE): no freezing
	mm.LockPage(t, page)
	size := mm.ISizeRead(inode)
	if page.Mapping != inode.Mapping || mm.PageOffset(page) > size {
		// page got truncated out from underneath us (3.2: "We overload
		// EFAULT to mean page got truncated")
		mm.UnlockPage(t, page)
		return ret
	}

	// page is wholly or partially inside EOF
	if int64(k.ULong((page.Index+1)<<mm.PageCacheShift)) > size {
		end = uint(size & (mm.PageCacheSize - 1))
	} else {
		end = mm.PageCacheSize
	}

	err = block.BlockPrepareWrite(t, page, 0, end, getBlock)
	if err == 0 {
		err = block.BlockCommitWrite(t, page, 0, end)
	}
	if err != 0 {
		mm.UnlockPage(t, page)
		if err == errno.ENOMEM.Neg() {
			return vfs.VM_FAULT_OOM
		}
		return vfs.VM_FAULT_SIGBUS // -ENOSPC, -EIO, etc
	}
	if waitsWriteback {
		// Freezing in progress? We check after the page is marked dirty
		// and with page lock held so if the test here fails, we are sure
		// freezing code will wait during syncfs for all pages to be marked
		// dirty: no freezing in the model.
		mm.SetPageDirty(t, page)
		// mutant: d76ee18a8551 "fs: block_page_mkwrite should wait for writeback to finish" undone
		if !mutant.On("mkwrite-no-wait") {
			mm.WaitOnPageWriteback(t, page)
		}
	}
	return vfs.VM_FAULT_LOCKED
}

// wrapAOps gives fs the era's address-space operations around blockfs's
// (or mpage's) a_ops.
func wrapAOps(k *mm.Kernel, fs *blockfs.Fs) mm.AddressSpaceOperations {
	legacy := k.Era().PrepareWrite && !fs.Opts.Nobh
	switch a := fs.AOps.(type) {
	case blockfs.BufferAOps:
		if legacy {
			return bufferAOps2612{a}
		}
		return bufferAOps{a}
	case mpage.Ext2AOps:
		if legacy {
			return mpageAOps2612{a}
		}
		return mpageAOps{a}
	}
	return fs.AOps // already wrapped, or someone else's
}

// writeFailed is what the era does when ->write_begin fails for a write
// that would have extended the file: blocks it instantiated past i_size
// are trimmed. 2.6.32's block_write_begin and nobh_write_begin call
// vmtruncate(inode, inode->i_size) (model/block leaves that out, so it
// is done here, as they would); 3.2's ext2_write_begin calls
// ext2_write_failed: truncate_pagecache and ext2_truncate_blocks.
func writeFailed(t *sim.Task, mapping *mm.AddressSpace, to int64) {
	inode := mapping.Host
	isize := mm.ISizeRead(inode)
	if to <= isize {
		return
	}
	if inode.Kernel.Era().NewTruncateSequence {
		// ext2_write_failed(mapping, pos + len)
		mm.TruncatePagecache(t, inode, isize)
		blockfs.Ext2TruncateBlocks(t, inode, isize)
		return
	}
	mm.VMTruncate(t, inode, isize)
}

// bufferAOps is ext2_aops (or ext2_nobh_aops) of 2.6.2x and 3.x over
// blockfs's buffer a_ops.
type bufferAOps struct{ blockfs.BufferAOps }

// WriteBegin is ext2_write_begin (or ext2_nobh_write_begin).
func (a bufferAOps) WriteBegin(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any) int {
	ret := a.BufferAOps.WriteBegin(t, f, m, pos, length, flags, pagep, fsdata)
	if ret < 0 {
		writeFailed(t, m, pos+int64(length))
	}
	return ret
}

// mpageAOps is ext2_aops of 2.6.2x and 3.x with mpage.
type mpageAOps struct{ mpage.Ext2AOps }

// WriteBegin is ext2_write_begin (or ext2_nobh_write_begin).
func (a mpageAOps) WriteBegin(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any) int {
	ret := a.Ext2AOps.WriteBegin(t, f, m, pos, length, flags, pagep, fsdata)
	if ret < 0 {
		writeFailed(t, m, pos+int64(length))
	}
	return ret
}

// bufferAOps2612 is ext2_aops of 2.6.12 over blockfs's buffer a_ops,
// with ->prepare_write and ->commit_write.
type bufferAOps2612 struct{ blockfs.BufferAOps }

// PrepareWrite is ext2_prepare_write(file, page, from, to):
// block_prepare_write(page, from, to, ext2_get_block).
func (a bufferAOps2612) PrepareWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int {
	return block.BlockPrepareWrite(t, p, from, to, a.Fs.GetBlock)
}

// CommitWrite is ext2_aops.commit_write: generic_commit_write.
func (a bufferAOps2612) CommitWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int {
	return block.GenericCommitWrite(t, f, p, from, to)
}

// mpageAOps2612 is ext2_aops of 2.6.12 with mpage, with ->prepare_write
// and ->commit_write.
type mpageAOps2612 struct{ mpage.Ext2AOps }

// PrepareWrite is ext2_prepare_write(file, page, from, to).
func (a mpageAOps2612) PrepareWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int {
	return block.BlockPrepareWrite(t, p, from, to, a.Fs.GetBlock)
}

// CommitWrite is ext2_aops.commit_write: generic_commit_write.
func (a mpageAOps2612) CommitWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int {
	return block.GenericCommitWrite(t, f, p, from, to)
}
