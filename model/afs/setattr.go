package afs

import (
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Setting a file's attributes: afs_setattr (fs/afs/inode.c),
// afs_vnode_setattr (fs/afs/vnode.c), afs_fs_setattr,
// afs_fs_setattr_size and afs_deliver_fs_store_status
// (fs/afs/fsclient.c), of the 2.6.3x/3.0 era. Read with the search tool:
//   - afs_setattr: TALUAtGitHub/android_kernel_samsung_smdk4412 (a 3.0
//     tree: afs_evict_inode), fs/afs/inode.c at
//     0da0468fe63f105195f50b713ef5ee300e0e8ff8;
//   - afs_fs_setattr, afs_fs_setattr_size(64), afs_RXFSStoreData_as_Status,
//     afs_deliver_fs_store_status, xdr_decode_AFSFetchStatus:
//     planetcracker/android_kernel_samsung_msm7x27 (2.6.37.6), fs/afs/
//     fsclient.c at 20bb4492db36b9bff28b01e17c5c3ea7c3bb05a0;
//   - afs_vnode_setattr: the pre-4.15 fs/afs/vnode.c (afs_volume_pick_
//     fileserver / afs_volume_release_fileserver loop, the same shape as
//     afs_vnode_store_data in vnode.go), a 2.6.x-era copy found by
//     find_string (id 18838762).
// These functions did not change between 2.6.35 and 3.0.
//
// What the era does with the page cache: nothing. afs_setattr has its own
// ->setattr, so notify_change does not call inode_setattr (and so not
// vmtruncate), and afs_setattr calls neither vmtruncate nor
// truncate_pagecache: after a shrinking truncate the pages (and the bytes
// of the partial page) beyond the new i_size stay in the page cache,
// clean (they were flushed first) and uptodate. Only i_size changes, from
// the status the server returns (xdr_decode_AFSFetchStatus's
// i_size_write). A read stops at i_size, so they are not seen, until the
// file grows again over them (a write past them, or a growing truncate):
// then the old bytes show through where the server has zeros. Nor does
// the reply invalidate them: the store's data version is the one expected
// (call->store_version), so AFS_VNODE_ZAP_DATA is not set. The model keeps
// that (TestSetattrLeavesPagesBeyondEOF); Fixes.SetattrTruncatePagecache
// is the later kernels' truncate_pagecache.

// afsRequestKey is afs_request_key(vnode->volume->cell) for callers with
// no struct file: in the kernel the calling process's rxrpc key for the
// cell (or the cell's anonymous key). The model has no per-task keyring,
// so, as afs_readpage without a file does (file.go), it is a new reference
// on the volume's first key; with no key at all, -ENOKEY.
func afsRequestKey(t *sim.Task, vnode *Vnode) (*Key, int) {
	fs := vnode.fs
	if len(fs.keys) == 0 {
		return nil, errno.ENOKEY.Neg()
	}
	return KeyGet(t, fs.keys[0]), 0
}

// AfsSetattr is afs_setattr(dentry, attr), fs/afs/inode.c (2.6.35/3.0):
// nothing to do unless the size, mode, owner, group or mtime change; flush
// the file's dirty data (filemap_write_and_wait, then afs_writeback_all;
// both results are ignored, as in the kernel: an error the flush consumes
// from AS_EIO is not returned); take the key of the file the change came
// through (ATTR_FILE: ftruncate), else afs_request_key's; and have the
// server make the change (afs_vnode_setattr). The page cache is not
// truncated (see the file comment), unless Fixes.SetattrTruncatePagecache.
//
// Kernel function afs_setattr, fs/afs/inode.c, 2.6.35-3.0 (smdk4412 3.0
// tree, commit 0da0468f).
func AfsSetattr(t *sim.Task, vnode *Vnode, attr *vfs.Iattr) int {
	t.Enter("afs_setattr")
	defer t.Leave()
	var key *Key
	var ret int
	var oldISize int64

	if attr.Valid&(vfs.ATTR_SIZE|vfs.ATTR_MODE|vfs.ATTR_UID|vfs.ATTR_GID|vfs.ATTR_MTIME) == 0 {
		return 0 // [unsupported]
	}

	// flush any dirty data outstanding on a regular file (every vnode of
	// the model is one: S_ISREG)
	mm.FilemapWriteAndWait(t, vnode.Mapping())
	AfsWritebackAll(t, vnode)

	if attr.Valid&vfs.ATTR_FILE != 0 {
		key = afsFile(attr.File).Key // attr->ia_file->private_data
	} else {
		key, ret = afsRequestKey(t, vnode)
		if ret < 0 {
			goto error
		}
	}

	oldISize = mm.ISizeRead(vnode.VFSInode)
	ret = AfsVnodeSetattr(t, vnode, key, attr)
	if attr.Valid&vfs.ATTR_FILE == 0 {
		KeyPut(t, key)
	}
	if ret == 0 && vnode.fs.Fixes.SetattrTruncatePagecache && attr.Valid&vfs.ATTR_SIZE != 0 &&
		attr.Size < oldISize {
		// later kernels' afs_setattr_edit_file: truncate_pagecache
		// (growing: pagecache_isize_extended, which matters only for
		// mmapped pages, and AFS of the era maps files read-only)
		mm.TruncatePagecache(t, vnode.VFSInode, attr.Size)
	}

error:
	return ret
}

// AfsVnodeSetattr is afs_vnode_setattr(vnode, key, attr), fs/afs/vnode.c
// (2.6.35/3.0): the server loop (afsVnodeServerLoop) around
// afs_fs_setattr; on -ENOENT the vnode is marked deleted.
func AfsVnodeSetattr(t *sim.Task, vnode *Vnode, key *Key, attr *vfs.Iattr) int {
	t.Enter("afs_vnode_setattr")
	defer t.Leave()
	return afsVnodeServerLoop(t, vnode, func(server *Server) int {
		return AfsFsSetattr(t, server, key, vnode, attr)
	})
}

// AfsFsSetattr is afs_fs_setattr(server, key, vnode, attr, wait_mode),
// fs/afs/fsclient.c: FS.StoreData (afs_fs_setattr_size) if the size
// changes, else FS.StoreStatus. model/vfs only calls ->setattr for a
// truncate (ATTR_SIZE), so FS.StoreStatus is not modelled: without
// ATTR_SIZE the call is refused with -EOPNOTSUPP.
func AfsFsSetattr(t *sim.Task, server *Server, key *Key, vnode *Vnode, attr *vfs.Iattr) int {
	if attr.Valid&vfs.ATTR_SIZE != 0 {
		return afsFsSetattrSize(t, server, key, vnode, attr)
	}
	return vfs.EOPNOTSUPP.Neg() // FS.StoreStatus: not modelled
}

// afsFsSetattrSize is afs_fs_setattr_size(server, key, vnode, attr,
// wait_mode), fs/afs/fsclient.c: set the attributes with FS.StoreData
// rather than FS.StoreStatus so as to alter the file size too: a store of
// no bytes at position 0 whose new file length is attr->ia_size, and the
// StoreStatus block of attr (mtime with ATTR_MTIME: the model has no
// times, so the block carries nothing the server keeps). A size past 4 GiB
// goes as FS.StoreData64 (afs_fs_setattr_size64), the same request with
// wider fields. The reply is decoded by afs_deliver_fs_store_status.
func afsFsSetattrSize(t *sim.Task, server *Server, key *Key, vnode *Vnode, attr *vfs.Iattr) int {
	if attr.Valid&vfs.ATTR_SIZE == 0 {
		t.BUG(vnode.Obj(), "AFS: Assertion failed in afs_fs_setattr_size: attr->ia_valid & ATTR_SIZE")
	}
	// attr->ia_size >> 32: afs_fs_setattr_size64, the same call here
	keyUse(t, key, "afs_fs_setattr_size")
	call := &afsCall{typ: &afsRXFSStoreDataAsStatus, key: key, reply: vnode,
		storeVersion: vnode.DataVersion + 1, storeDataOp: true}
	// position of start of write 0, size of write 0, new file length
	call.req = request{op: faultdisk.OpStore, file: vnode.FileID(), key: keyName(key), off: 0, len: 0,
		iSize: attr.Size}
	return afsMakeCall(t, server, call)
}

// afsRXFSStoreDataAsStatus is afs_RXFSStoreData_as_Status: FS.StoreData
// whose reply is decoded as a status only.
var afsRXFSStoreDataAsStatus = afsCallType{name: "FS.StoreData", deliver: afsDeliverFsStoreStatus}

// afsDeliverFsStoreStatus is afs_deliver_fs_store_status(call, skb, last):
// decode the returned status; for FS.StoreData (call->operation_ID ==
// FSSTOREDATA) against the data version the store was expected to make.
func afsDeliverFsStoreStatus(t *sim.Task, call *afsCall, s *skb, last bool) int {
	var storeVersion *uint64
	if call.storeDataOp {
		storeVersion = &call.storeVersion
	}
	xdrDecodeAFSFetchStatus(t, call.reply, s, storeVersion)
	return 0
}

// xdrDecodeAFSFetchStatus is xdr_decode_AFSFetchStatus(&bp, &vnode->status,
// vnode, store_version), fs/afs/fsclient.c, for the two fields the model
// has: the file's size and data version. When the status changed, i_size
// becomes the server's size (i_size_write); a data version other than the
// expected one marks the vnode modified with its data to be zapped.
//
// Simplified: the kernel compares the reply with the last status it
// decoded (vnode->status.size, and owner, mode, ... which cannot change
// here); the model keeps no vnode->status (its other replies decode only
// the data version), so a size is "changed" when it differs from i_size.
// The two differ only if i_size moved away from the last status without a
// reply: a write that extended the file and whose store failed before the
// truncate; the kernel then leaves that i_size when the server's size
// equals the last status it saw, the model sets the server's.
func xdrDecodeAFSFetchStatus(t *sim.Task, vnode *Vnode, s *skb, storeVersion *uint64) {
	size := s.size
	if size != mm.ISizeRead(vnode.VFSInode) && !vnode.TestBit(AFS_VNODE_UNSET) {
		mm.ISizeWrite(t, vnode.VFSInode, size)
	}
	expected := vnode.DataVersion
	if storeVersion != nil {
		expected = *storeVersion
	}
	if expected != s.dataVersion {
		vnode.DataVersion = s.dataVersion
		if !vnode.TestBit(AFS_VNODE_UNSET) {
			vnode.setBit(t, AFS_VNODE_MODIFIED)
			vnode.setBit(t, AFS_VNODE_ZAP_DATA)
		}
	} else if storeVersion != nil {
		vnode.DataVersion = s.dataVersion
	}
}
