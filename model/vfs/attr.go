package vfs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Truncation from the VFS down: fs/open.c's do_truncate and fs/attr.c's
// notify_change and inode_setattr, Linux 2.6.32 and 2.6.12; 3.2's
// notify_change falls back to fs/libfs.c's simple_setattr. Permission
// checks (inode_change_ok), suid removal, times, leases, mandatory locks
// and i_alloc_sem are not modelled.

// iattr ia_valid bits, include/linux/fs.h.
const (
	ATTR_MODE  = 1 << 0
	ATTR_UID   = 1 << 1
	ATTR_GID   = 1 << 2
	ATTR_SIZE  = 1 << 3
	ATTR_ATIME = 1 << 4
	ATTR_MTIME = 1 << 5
	ATTR_CTIME = 1 << 6
	ATTR_FORCE = 1 << 9
	ATTR_FILE  = 1 << 13
)

// Iattr is struct iattr, the parts modelled.
type Iattr struct {
	Valid uint
	Size  int64
	// File is ia_file (with ATTR_FILE): the file an ftruncate came
	// through.
	File *File
}

// Truncate is truncate(2), do_sys_truncate(path, length), fs/open.c: a
// negative length is -EINVAL; the rest (permission, write access, leases,
// mandatory locks) is not modelled; then do_truncate without a file.
func Truncate(t *sim.Task, ino *Inode, length int64) int {
	if length < 0 {
		return errno.EINVAL.Neg()
	}
	return DoTruncate(t, ino, length, 0, nil)
}

// Ftruncate is ftruncate(2), do_sys_ftruncate(fd, length, small),
// fs/open.c, Linux 2.6.32: the file must be open for writing (else
// -EINVAL); do_truncate with ATTR_MTIME|ATTR_CTIME and the file (2.6.12:
// do_truncate(dentry, length), no file).
func Ftruncate(t *sim.Task, f *File, length int64) int {
	if length < 0 || f.Mode&FMODE_WRITE == 0 {
		return errno.EINVAL.Neg()
	}
	return DoTruncate(t, f.Inode, length, ATTR_MTIME|ATTR_CTIME, f)
}

// DoTruncate is do_truncate(dentry, length, time_attrs, filp), fs/open.c,
// Linux 2.6.32 (2.6.12's do_truncate(dentry, length) passes ATTR_SIZE |
// ATTR_CTIME and no file): notify_change with ATTR_SIZE under i_mutex.
func DoTruncate(t *sim.Task, ino *Inode, length int64, timeAttrs uint, filp *File) int {
	t.Enter("do_truncate")
	defer t.Leave()
	// Not pretty: "inode->i_size" shouldn't really be signed. But it is.
	if length < 0 {
		return errno.EINVAL.Neg()
	}
	newattrs := Iattr{Size: length, Valid: ATTR_SIZE | timeAttrs}
	if !ino.I.Kernel.Era().TruncateAttrFile {
		newattrs.Valid = ATTR_SIZE | ATTR_CTIME
	} else if filp != nil {
		newattrs.File = filp
		newattrs.Valid |= ATTR_FILE
	}
	// Remove suid/sgid on truncate too: no modes in the model.
	ino.I.IMutex.Lock(t)
	ret := NotifyChange(t, ino, &newattrs)
	ino.I.IMutex.Unlock(t)
	return ret
}

// NotifyChange is notify_change(dentry, attr), fs/attr.c, Linux 2.6.32
// (2.6.12 and 3.2 alike in what is modelled): the inode's ->setattr, or
// without one inode_setattr (2.6.x) or simple_setattr (3.x). The caller
// holds i_mutex.
func NotifyChange(t *sim.Task, ino *Inode, attr *Iattr) int {
	t.Enter("notify_change")
	defer t.Leave()
	// ia_ctime, ia_mtime: no times in the model
	if op, ok := ino.Op.(SetattrOp); ok {
		return op.Setattr(t, ino, attr)
	}
	if ino.I.Kernel.Era().NewTruncateSequence {
		return SimpleSetattr(t, ino, attr)
	}
	// inode_change_ok: always allowed
	return InodeSetattr(t, ino, attr)
}

// InodeSetattr is inode_setattr(inode, attr), fs/attr.c, Linux 2.6.32
// (and 2.6.12): a size change is vmtruncate (which cuts the page cache and
// calls i_op->truncate), then mark_inode_dirty.
func InodeSetattr(t *sim.Task, ino *Inode, attr *Iattr) int {
	inode := ino.I
	if attr.Valid&ATTR_SIZE != 0 && attr.Size != mm.ISizeRead(inode) {
		if err := mm.VMTruncate(t, inode, attr.Size); err != 0 {
			return err
		}
	}
	// uid, gid, times, mode: nothing to copy in the model
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	return 0
}

// SimpleSetattr is simple_setattr(dentry, iattr), fs/libfs.c, Linux 3.2:
// a size change is truncate_setsize; then mark_inode_dirty.
func SimpleSetattr(t *sim.Task, ino *Inode, attr *Iattr) int {
	inode := ino.I
	// WARN_ON_ONCE(inode->i_op->truncate); inode_change_ok
	if attr.Valid&ATTR_SIZE != 0 {
		mm.TruncateSetsize(t, inode, attr.Size)
	}
	// setattr_copy: nothing to copy in the model
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	return 0
}
