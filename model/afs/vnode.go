package afs

import (
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// The store and fetch operations write.c calls: fs/afs/vnode.c and
// fs/afs/fsclient.c, read from a Linux 3.0.x tree, where these functions
// are as in 2.6.35 (afs_vnode_store_data, afs_vnode_fetch_data,
// afs_fs_store_data, afs_fs_fetch_data, afs_deliver_fs_store_data,
// afs_deliver_fs_fetch_data).
//
// Simplified: the volume has one file server, so afs_volume_pick_fileserver
// always returns it and afs_volume_release_fileserver ends the loop with
// the call's result (with one server, the kernel's "try the next server"
// for ETIMEDOUT/EREMOTEIO/ENOMEDIUM finds none and returns the same error;
// the ten-second dead-server mark is not modelled). vnode->lock and
// update_cnt, which only order status fetches, are left out.

// Errnos the model needs that sim/errno does not name (x86 values).
const (
	EBADMSG errno.Errno = 74  // Bad message (afs_deliver_fs_fetch_data: reply too long)
	ESTALE  errno.Errno = 116 // Stale file handle (afs_fill_page, afs_page_filler)
)

// AfsVnodeStoreData is afs_vnode_store_data(wb, first, last, offset, to),
// fs/afs/vnode.c (2.6.35/3.0): store pages [first, last] of the record's
// file, from byte offset of the first page to byte to of the last, under
// the record's key; the caller sleeps until the server answers. On
// -ENOENT the vnode is marked deleted (afs_vnode_status_update_failed).
func AfsVnodeStoreData(t *sim.Task, wb *Writeback, first, last uint64, offset, to uint) int {
	t.Enter("afs_vnode_store_data")
	defer t.Leave()
	wbLive(t, wb, "afs_vnode_store_data")
	return afsVnodeServerLoop(t, wb.Vnode, func(server *Server) int {
		return AfsFsStoreData(t, server, wb, first, last, offset, to)
	})
}

// afsVnodeServerLoop is the body that fs/afs/vnode.c's afs_vnode_*
// operations (2.6.35/3.0) share around their afs_fs_* call: pick a file
// server, make the call, and go round again while
// afs_volume_release_fileserver says to try another (never, with the one
// server: see the file comment); then, on an error, "adjust the flags"
// (afs_vnode_status_update_failed). The stores use it (afs_vnode_store_data,
// afs_vnode_setattr): with Fixes.StoreIOLock the call holds
// vnode->io_lock, as v4.15's afs_begin_vnode_operation does.
// afs_vnode_fetch_data has the same loop without the lock (the switch is
// about stores passing each other).
func afsVnodeServerLoop(t *sim.Task, vnode *Vnode, call func(server *Server) int) int {
	var ret int
	if vnode.fs.Fixes.StoreIOLock {
		vnode.IOLock.Lock(t) // later kernels' afs_begin_vnode_operation
	}
	for {
		// pick a server to query
		server := vnode.fs.Server
		ret = call(server)
		if afsVolumeReleaseFileserver(ret) {
			break
		}
	}
	if vnode.fs.Fixes.StoreIOLock {
		vnode.IOLock.Unlock(t)
	}
	// adjust the flags
	if ret != 0 {
		afsVnodeStatusUpdateFailed(t, vnode, ret)
	}
	return ret
}

// afsVolumeReleaseFileserver is afs_volume_release_fileserver reduced to
// one server: every result ends the loop (see the file comment).
func afsVolumeReleaseFileserver(result int) bool { return true }

// afsVnodeStatusUpdateFailed is afs_vnode_status_update_failed: on -ENOENT
// the file was deleted on the server.
func afsVnodeStatusUpdateFailed(t *sim.Task, vnode *Vnode, ret int) {
	if ret == errno.ENOENT.Neg() {
		vnode.setBit(t, AFS_VNODE_DELETED) // afs_vnode_deleted_remotely
	}
}

// AfsFsStoreData is afs_fs_store_data(server, wb, first, last, offset, to,
// wait_mode), fs/afs/fsclient.c of 2.6.32-3.0 (read from 2.6.32's
// fsclient.c; the arithmetic is the same through 3.0): the byte range
// and the new file length (i_size, or the end of the write if further)
// go in the request, the pages' bytes follow it, and the reply is
// delivered by afs_deliver_fs_store_data. The types are the kernel's:
// first and last are pgoff_t, offset and to unsigned int, size, pos and
// i_size loff_t; "size = to - offset" subtracts in unsigned int before
// it widens (Fixes.StoreDataMaths: the v4.11 cast). A request whose
// fields all fit in 32 bits goes out as FS.StoreData (htonl of each),
// any other as FS.StoreData64 (afs_fs_store_data64: each field as two
// 32-bit halves).
func AfsFsStoreData(t *sim.Task, server *Server, wb *Writeback, first, last uint64, offset, to uint) int {
	vnode := wb.Vnode
	var size int64
	if vnode.fs.Fixes.StoreDataMaths {
		size = int64(to) - int64(offset) // (loff_t)to - (loff_t)offset
	} else {
		size = int64(uint32(to) - uint32(offset)) // to - offset, in unsigned int
	}
	if first != last {
		size += int64(last-first) << mm.PageCacheShift
	}
	pos := int64(first) << mm.PageCacheShift
	pos += int64(offset)
	iSize := mm.ISizeRead(vnode.VFSInode)
	if pos+size > iSize {
		iSize = size + pos
	}
	op64 := pos>>32 != 0 || iSize>>32 != 0 || size>>32 != 0 || (pos+size)>>32 != 0
	keyUse(t, wb.Key, "afs_fs_store_data")
	call := &afsCall{typ: &afsRXFSStoreData, wb: wb, key: wb.Key, reply: vnode,
		mapping: vnode.Mapping(), first: first, last: last, firstOffset: offset, lastTo: to,
		sendPages: true, storeVersion: vnode.DataVersion + 1}
	call.req = request{op: faultdisk.OpStore, file: vnode.FileID(), key: keyName(wb.Key), op64: op64,
		off: pos, len: size, iSize: iSize}
	if !op64 {
		// htonl(pos), htonl(size), htonl(i_size)
		call.req.off, call.req.len, call.req.iSize = int64(uint32(pos)), int64(uint32(size)), int64(uint32(iSize))
	}
	call.req.sent = sentStore(first, last, offset, to, mm.ISizeRead(vnode.VFSInode))
	return afsMakeCall(t, server, call)
}

func keyName(k *Key) string {
	if k == nil {
		return ""
	}
	return k.Name
}

// afsRXFSStoreData is the FS.StoreData operation type.
var afsRXFSStoreData = afsCallType{name: "FS.StoreData", deliver: afsDeliverFsStoreData}

// afsDeliverFsStoreData is afs_deliver_fs_store_data(call, skb, last):
// decode the status (data version) and complete the written pages with
// afs_pages_written_back.
func afsDeliverFsStoreData(t *sim.Task, call *afsCall, s *skb, last bool) int {
	vnode := call.reply
	vnode.DataVersion = s.dataVersion // xdr_decode_AFSFetchStatus
	AfsPagesWrittenBack(t, vnode, call)
	return 0
}

// AfsVnodeFetchData is afs_vnode_fetch_data(vnode, key, offset, length,
// page), fs/afs/vnode.c (2.6.35/3.0): read bytes [offset, offset+length)
// of the file into page, under key; the caller sleeps until the server
// answers.
func AfsVnodeFetchData(t *sim.Task, vnode *Vnode, key *Key, offset, length int64, page *mm.Page) int {
	t.Enter("afs_vnode_fetch_data")
	defer t.Leave()
	var ret int
	for {
		server := vnode.fs.Server
		ret = AfsFsFetchData(t, server, key, vnode, offset, length, page)
		if afsVolumeReleaseFileserver(ret) {
			break
		}
	}
	if ret != 0 {
		afsVnodeStatusUpdateFailed(t, vnode, ret)
	}
	return ret
}

// AfsFsFetchData is afs_fs_fetch_data(server, key, vnode, offset, length,
// buffer, wait_mode), fs/afs/fsclient.c.
func AfsFsFetchData(t *sim.Task, server *Server, key *Key, vnode *Vnode, offset, length int64, page *mm.Page) int {
	keyUse(t, key, "afs_fs_fetch_data")
	call := &afsCall{typ: &afsRXFSFetchData, key: key, reply: vnode, page: page}
	call.req = request{op: faultdisk.OpFetch, file: vnode.FileID(), key: keyName(key), off: offset, len: length}
	call.req.sent = sentFetch(page)
	return afsMakeCall(t, server, call)
}

var afsRXFSFetchData = afsCallType{name: "FS.FetchData", deliver: afsDeliverFsFetchData}

// afsDeliverFsFetchData is afs_deliver_fs_fetch_data(call, skb, last): the
// reply says how many bytes follow; more than a page is -EBADMSG; the
// bytes go to the start of the page and the rest of the page is cleared.
func afsDeliverFsFetchData(t *sim.Task, call *afsCall, s *skb, last bool) int {
	count := s.data.Len()
	if count > mm.PageSize {
		return EBADMSG.Neg()
	}
	call.reply.DataVersion = s.dataVersion
	page := call.page
	// the data, then "clear": memset(buffer + call->count, 0, PAGE_SIZE - call->count)
	mm.CopyToPage(t, page, 0, s.data.Append(content.Zeros(mm.PageSize-count)))
	return 0
}
