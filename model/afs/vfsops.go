package afs

import (
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// The volume on model/vfs: its super block and the VFS operations of a
// regular AFS file, fs/afs/file.c and fs/afs/inode.c of the 2.6.3x era
// (2.6.35 read): afs_file_operations (afs_open, afs_release,
// generic_file_aio_read, afs_file_write, generic_file_readonly_mmap,
// afs_fsync) and afs_file_inode_operations. generic_perform_write,
// generic_file_aio_write and vfs_fsync_range are model/vfs's.

// newSuperBlock makes the volume's super block (afs_fill_super's VFS
// part: s_maxbytes = MAX_LFS_FILESIZE, no s_op the model uses), with
// model/vfs's write hook feeding FS.OnWrite.
func newSuperBlock(fs *FS) *vfs.SuperBlock {
	sb := &vfs.SuperBlock{Type: "afs", MaxBytes: vfs.MaxLFSFilesize(fs.K), FsInfo: fs}
	sb.OnWrite = func(f *vfs.File, pos int64, data content.Bytes) {
		if fs.OnWrite != nil {
			fs.OnWrite(AFS_FS_I(f.Mapping.Host), pos, data)
		}
	}
	return sb
}

// Mount puts the volume's super block on v (the end of afs_get_sb).
func Mount(v *vfs.VFS, fs *FS) *vfs.SuperBlock { return v.Mount(fs.SB) }

// afsFile is the AFS file an address-space or file operation was given:
// the struct file's private part (a *vfs.File's PrivateData), or an *File
// itself; nil for a NULL file.
func afsFile(f any) *File {
	switch f := f.(type) {
	case *File:
		return f
	case *vfs.File:
		af, _ := f.PrivateData.(*File)
		return af
	}
	return nil
}

// attach links the AFS file and its struct file.
func (f *File) attach(vf *vfs.File) {
	f.VFS = vf
	vf.PrivateData = f
}

// VfsFsync is vfs_fsync(file, datasync) of the AFS file's struct file
// (model/vfs's VfsFsync: 2.6.35's vfs_fsync_range, then afs_fsync), for
// callers that hold an *File.
func VfsFsync(t *sim.Task, file *File, datasync int) int {
	return vfs.VfsFsync(t, file.VFS, datasync)
}

// afsFileOps is afs_file_operations, fs/afs/file.c (2.6.35).
type afsFileOps struct{}

// Open is afs_open(inode, file), fs/afs/file.c (2.6.35), without
// afs_validate: afs_request_key gives a new reference on the opener's key
// (the file's credentials, an *Key), which becomes private_data.
func (afsFileOps) Open(t *sim.Task, ino *vfs.Inode, f *vfs.File) int {
	vnode := ino.Private.(*Vnode)
	key, _ := f.Cred.(*Key)
	if key == nil {
		return errno.ENOKEY.Neg() // afs_request_key found no key
	}
	af := &File{Vnode: vnode, Mapping: vnode.Mapping(), Key: KeyGet(t, key)}
	vnode.fs.files = append(vnode.fs.files, af)
	af.attach(f)
	return 0
}

// Release is afs_release(inode, file).
func (afsFileOps) Release(t *sim.Task, ino *vfs.Inode, f *vfs.File) int {
	return AfsRelease(t, afsFile(f))
}

// AioRead is afs_file_operations.aio_read: generic_file_aio_read (pages
// come in through afs_readpage: afs_fs_aops has no ->readpages).
func (afsFileOps) AioRead(t *sim.Task, iocb *vfs.Kiocb, count int64) (content.Bytes, int64) {
	return vfs.GenericFileAioRead(t, iocb, count)
}

// AioWrite is afs_file_operations.aio_write: afs_file_write.
func (afsFileOps) AioWrite(t *sim.Task, iocb *vfs.Kiocb, data content.Bytes) int64 {
	return AfsFileWrite(t, iocb, data)
}

// Mmap is afs_file_operations.mmap: generic_file_readonly_mmap. The era's
// AFS refuses shared writable mappings (-EINVAL), so afs_page_mkwrite is
// never reached.
func (afsFileOps) Mmap(t *sim.Task, f *vfs.File, vma *vfs.VMArea) int {
	return vfs.GenericFileReadonlyMmap(t, f, vma)
}

// Fsync is afs_file_operations.fsync: afs_fsync.
func (afsFileOps) Fsync(t *sim.Task, f *vfs.File, start, end int64, datasync int) int {
	return AfsFsync(t, afsFile(f), datasync)
}

// afsFileInodeOps is afs_file_inode_operations (2.6.35).
type afsFileInodeOps struct{}

// Setattr is afs_file_inode_operations.setattr: afs_setattr (setattr.go).
func (afsFileInodeOps) Setattr(t *sim.Task, ino *vfs.Inode, attr *vfs.Iattr) int {
	return AfsSetattr(t, ino.Private.(*Vnode), attr)
}
