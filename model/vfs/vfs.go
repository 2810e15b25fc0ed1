package vfs

import (
	"fmt"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Errnos the package needs that sim/errno does not name (x86 values).
const (
	EBADF      errno.Errno = 9
	EFAULT     errno.Errno = 14
	ENODEV     errno.Errno = 19
	ENOEXEC    errno.Errno = 8
	ENOSYS     errno.Errno = 38
	EOPNOTSUPP errno.Errno = 95
)

// VFS is the kernel's VFS-wide state: the list of mounted super blocks
// (super_blocks) of one simulated kernel.
type VFS struct {
	K         *mm.Kernel
	supers    []*SuperBlock
	syncMutex *sim.Mutex
}

// New makes the VFS of kernel k, with nothing mounted.
func New(k *mm.Kernel) *VFS { return &VFS{K: k} }

// Supers lists the mounted super blocks in mount order.
func (v *VFS) Supers() []*SuperBlock { return append([]*SuperBlock(nil), v.supers...) }

// SuperBlock is struct super_block: one mounted file system.
type SuperBlock struct {
	V *VFS
	// Type is s_type->name ("ext2", "afs").
	Type string
	// Op is s_op (see SuperOperations).
	Op SuperOperations
	// MaxBytes is s_maxbytes, the largest file generic_write_checks
	// allows.
	MaxBytes int64
	// BdevMapping is s_bdev->bd_inode->i_mapping, the buffer cache of the
	// file system's block device, which __sync_blockdev writes; nil for a
	// network file system.
	BdevMapping *mm.AddressSpace
	// FsInfo is s_fs_info: the file system's own super block.
	FsInfo any
	// OnWrite, if set, is told of every byte range generic_perform_write
	// (or 2.6.12's generic_file_buffered_write) copied into the page cache
	// of a file of this super block, right after ->write_end, under
	// i_mutex, and of every store MmapWrite makes, right after it: a hook
	// for an oracle of expected contents. Not kernel code.
	OnWrite func(f *File, pos int64, data content.Bytes)
	// Barrier, if set, flushes the device's volatile write cache: the
	// model's stand-in for a barrier mount (see the package comment). The
	// fsync entry points call it after the era's fsync sequence; a file
	// system's ->sync_fs may call it. Not kernel code.
	Barrier func(t *sim.Task) int

	inodes []*Inode
	files  []*File
	nextID int
}

// Mount adds sb to the VFS's super blocks (the end of a successful
// mount: the super block goes on super_blocks) and returns it.
func (v *VFS) Mount(sb *SuperBlock) *SuperBlock {
	sb.V = v
	v.supers = append(v.supers, sb)
	return sb
}

// Inodes lists the super block's inodes (s_inodes) in creation order.
func (sb *SuperBlock) Inodes() []*Inode { return append([]*Inode(nil), sb.inodes...) }

// Files lists the super block's open files (s_files) in open order.
func (sb *SuperBlock) Files() []*File { return append([]*File(nil), sb.files...) }

// MaxLFSFilesize is MAX_LFS_FILESIZE, include/linux/fs.h of every
// modelled era: (PAGE_CACHE_SIZE << (BITS_PER_LONG-1)) - 1 on a 32-bit
// kernel (page indexes must fit an unsigned long), LLONG_MAX on a 64-bit
// one.
func MaxLFSFilesize(k *mm.Kernel) int64 {
	if k.Bits32 {
		return int64(mm.PageCacheSize)<<31 - 1
	}
	return mm.LLONG_MAX
}

// MAX_NON_LFS is ((1UL<<31) - 1): the largest offset a file opened
// without O_LARGEFILE may write.
const MAX_NON_LFS = 1<<31 - 1

// Inode is the VFS's part of struct inode: the super block and the
// operation tables. The inode proper (i_mapping, i_size, i_mutex,
// i_state) is the mm.Inode.
type Inode struct {
	I  *mm.Inode
	SB *SuperBlock
	// Op is i_op (see InodeOperations).
	Op InodeOperations
	// Fop is i_fop, the file_operations its files get.
	Fop FileOperations
	// Private is the file system's inode (EXT2_I, AFS_FS_I).
	Private any
}

// AddInode puts a file system's new inode on the super block (the end of
// iget or new_inode: the inode joins s_inodes) with its operations.
func (sb *SuperBlock) AddInode(i *mm.Inode, iop InodeOperations, fop FileOperations, private any) *Inode {
	ino := &Inode{I: i, SB: sb, Op: iop, Fop: fop, Private: private}
	sb.inodes = append(sb.inodes, ino)
	return ino
}

// Obj names the inode in traces.
func (ino *Inode) Obj() sim.Obj { return ino.I.Obj() }

// FMode is fmode_t: how a file was opened.
type FMode uint

// File modes.
const (
	FMODE_READ  FMode = 1
	FMODE_WRITE FMode = 2
)

// Open flags (x86 values) that the model looks at.
const (
	O_APPEND    = 0o2000
	O_LARGEFILE = 0o100000
)

// FileRaState is struct file_ra_state, the parts the fixed-window
// readahead uses.
type FileRaState struct {
	// RaPages is the readahead window in pages (ra_pages).
	RaPages uint64
	// PrevPos is the last byte read (prev_pos, 2.6.2x/3.x; -1 at open).
	PrevPos int64
}

// VM_MAX_READAHEAD is the default readahead window, 128 KiB, in pages:
// the backing device's ra_pages that file_ra_state_init copies.
const VM_MAX_READAHEAD = 128 << 10 / mm.PageCacheSize

// File is struct file: one open file description.
type File struct {
	// Inode is f_path.dentry->d_inode.
	Inode *Inode
	// Mapping is f_mapping.
	Mapping *mm.AddressSpace
	// Op is f_op (see FileOperations).
	Op FileOperations
	// Pos is f_pos.
	Pos   int64
	Flags int
	Mode  FMode
	// Cred is the opener's credentials (f_cred), an opaque value the file
	// system interprets: an AFS key (*afs.Key) for AFS.
	Cred any
	// PrivateData is private_data, the file system's per-file state (AFS:
	// the file's key, in an *afs.File).
	PrivateData any
	// Ra is f_ra.
	Ra FileRaState

	count int // f_count
	id    int
}

// ID is the file's number: 1, 2, ... in open order per super block.
func (f *File) ID() int { return f.id }

// Count is file_count(f).
func (f *File) Count() int { return f.count }

// Obj names the file in traces.
func (f *File) Obj() sim.Obj {
	return sim.Obj{Class: "file", A: int64(f.id), B: int64(f.Inode.I.Ino)}
}

func (f *File) String() string { return fmt.Sprintf("file %d of inode %d", f.id, f.Inode.I.Ino) }

// NewFile is get_empty_filp plus the part of __dentry_open that fills the
// file in, without calling ->open: a file on ino with one reference. File
// systems whose open makes the struct file themselves (and set-up code)
// use it; Open is the whole open.
func (ino *Inode) NewFile(mode FMode, cred any) *File {
	sb := ino.SB
	sb.nextID++
	f := &File{Inode: ino, Mapping: ino.I.Mapping, Op: ino.Fop, Mode: mode, Flags: O_LARGEFILE, Cred: cred,
		count: 1, id: sb.nextID}
	FileRaStateInit(&f.Ra, f.Mapping)
	ino.SB.files = append(ino.SB.files, f) // file_move(f, &inode->i_sb->s_files)
	return f
}

// FileRaStateInit is file_ra_state_init(ra, mapping), mm/readahead.c,
// Linux 2.6.32: the window is the backing device's ra_pages (the default,
// VM_MAX_READAHEAD, in the model), and nothing was read yet.
func FileRaStateInit(ra *FileRaState, mapping *mm.AddressSpace) {
	ra.RaPages = VM_MAX_READAHEAD
	ra.PrevPos = -1
}

// Open is dentry_open(dentry, mnt, flags, cred) and __dentry_open,
// fs/open.c, Linux 2.6.32: a new file description on ino, opened for
// mode, with the caller's credentials, and the file system's ->open. It
// returns the file, or nil and the error ->open gave. In 2.6.12
// dentry_open did this itself: __dentry_open was split out of it in 2.6.14
// (Peter Staubach, "open returns ENFILE but creates file anyway", read
// as the patch against linux-2.6.12/fs/open.c via the search tool), so a
// 2.6.12 trace names dentry_open.
func Open(t *sim.Task, ino *Inode, mode FMode, cred any) (*File, int) {
	if !ino.I.Kernel.Era().DunderDentryOpen {
		t.Enter("dentry_open")
	} else {
		t.Enter("__dentry_open")
	}
	defer t.Leave()
	f := ino.NewFile(mode, cred)
	if op, ok := f.Op.(OpenOp); ok {
		if err := op.Open(t, ino, f); err != 0 {
			fileKill(f)
			return nil, err
		}
	}
	return f, 0
}

// fileKill is file_kill(file): off s_files.
func fileKill(f *File) {
	sb := f.Inode.SB
	for i, x := range sb.files {
		if x == f {
			sb.files = append(sb.files[:i], sb.files[i+1:]...)
			return
		}
	}
}

// Fget takes a reference on f (fget's atomic_long_inc).
func Fget(f *File) *File {
	f.count++
	return f
}

// Fput is fput(file), fs/file_table.c, Linux 2.6.32: drop a reference;
// the last one runs __fput.
func Fput(t *sim.Task, f *File) {
	t.Point("fput", f.Obj(), int64(f.count))
	f.count--
	if f.count < 0 {
		t.BUG(f.Obj(), "fput: file count below zero")
	}
	if f.count == 0 {
		fputInner(t, f)
	}
}

// fputInner is __fput(file), fs/file_table.c, Linux 2.6.32: the last
// reference is gone; ->release, then the file leaves s_files. (fsnotify,
// eventpoll, flock, fasync, security and the write-access count have no
// model.)
func fputInner(t *sim.Task, f *File) {
	t.Enter("__fput")
	defer t.Leave()
	if op, ok := f.Op.(ReleaseOp); ok {
		op.Release(t, f.Inode, f)
	}
	fileKill(f)
}

// FilpClose is filp_close(filp, id), fs/open.c, Linux 2.6.32 (2.6.12 is
// the same): ->flush if the file system has one (neither ext2 nor AFS of
// the modelled eras does), then fput. It returns ->flush's result.
func FilpClose(t *sim.Task, f *File) int {
	t.Enter("filp_close")
	defer t.Leave()
	retval := 0
	if f.count == 0 {
		t.World().Record(sim.KindNote, "filp_close", f.Obj(), 0, "VFS: Close: file count is 0")
		return 0
	}
	if op, ok := f.Op.(FlushOp); ok {
		retval = op.Flush(t, f)
	}
	// dnotify_flush, locks_remove_posix: no model
	Fput(t, f)
	return retval
}

// Close is close(2): filp_close of the descriptor's file.
func Close(t *sim.Task, f *File) int { return FilpClose(t, f) }

// Operation tables. As with mm's address_space_operations, a table is any
// value, and each operation is a one-method interface it may implement: a
// missing method is a NULL pointer.

// FileOperations is struct file_operations.
type FileOperations any

// OpenOp is ->open(inode, file).
type OpenOp interface {
	Open(t *sim.Task, inode *Inode, f *File) int
}

// ReleaseOp is ->release(inode, file).
type ReleaseOp interface {
	Release(t *sim.Task, inode *Inode, f *File) int
}

// FlushOp is ->flush(file, id).
type FlushOp interface {
	Flush(t *sim.Task, f *File) int
}

// Kiocb is struct kiocb for a synchronous request: the file and the
// position (ki_pos), which the operation advances.
type Kiocb struct {
	Filp *File
	Pos  int64
}

// AioReadOp is ->aio_read(iocb, iov, nr_segs, pos): read up to count
// bytes at iocb.Pos; it returns the bytes read (symbolic content) and
// their number, or a negative errno.
type AioReadOp interface {
	AioRead(t *sim.Task, iocb *Kiocb, count int64) (content.Bytes, int64)
}

// AioWriteOp is ->aio_write(iocb, iov, nr_segs, pos): write data at
// iocb.Pos; it returns the bytes written or a negative errno.
type AioWriteOp interface {
	AioWrite(t *sim.Task, iocb *Kiocb, data content.Bytes) int64
}

// FsyncOp is ->fsync. Its arguments changed with the eras: (file, dentry,
// datasync) until 2.6.34, (file, datasync) in 2.6.35 to 3.0, (file,
// start, end, datasync) from 3.1; the model passes the 3.1 set, and the
// older eras' handlers ignore the range.
type FsyncOp interface {
	Fsync(t *sim.Task, f *File, start, end int64, datasync int) int
}

// MmapOp is ->mmap(file, vma): set the mapping up (vma.Ops) or refuse it.
type MmapOp interface {
	Mmap(t *sim.Task, f *File, vma *VMArea) int
}

// InodeOperations is struct inode_operations.
type InodeOperations any

// SetattrOp is ->setattr(dentry, attr).
type SetattrOp interface {
	Setattr(t *sim.Task, inode *Inode, attr *Iattr) int
}

// SuperOperations is struct super_operations.
type SuperOperations any

// SyncFsOp is ->sync_fs(sb, wait).
type SyncFsOp interface {
	SyncFs(t *sim.Task, sb *SuperBlock, wait int) int
}
