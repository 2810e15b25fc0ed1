// Package afs models fs/afs/write.c of the Linux 2.6.3x era (about 2.6.35
// to 3.0; the seed is ../../shared/seeds/afs-write-2.6.3x.c) with the parts
// of the AFS client it calls, and a simulated AFS file server.
//
// Every seed function is the Go function of the same name (afs_write_begin
// is AfsWriteBegin), takes the running task first, keeps the seed's control
// flow (each goto label is a visible block), and starts with a comment
// naming the kernel function, the file, the era and the seed's lines. Code
// the seed calls but does not contain (afs_vnode_store_data,
// afs_fs_store_data, afs_make_call, afs_page_filler, afs_invalidatepage,
// ...) is modelled from the same era's fs/afs/{vnode,fsclient,rxrpc,file}.c
// and says which version was read. The seed's bugs are kept; each later fix
// is a switch in Fixes, off by default.
//
// The objects are the kernel's: Vnode is struct afs_vnode, Writeback is
// struct afs_writeback with its list_head (ListHead, with the kernel's
// poisoning), Key is struct key with key_get/key_put counts. The invariant
// this package raises itself is wb-record (InvWbRecord); page-state and
// page-ref come from model/mm.
package afs

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// InvWbRecord is the registry's wb-record invariant: an AFS writeback
// record's usage equals the pages (page->private) and fsync markers that
// point to it; it is freed exactly once and never used after free; its list
// membership is consistent.
const InvWbRecord = "wb-record"

// Fixes selects later kernels' fixes of the seed's bugs. The zero value is
// the seed as it is. Each field names its fix id (the string Set and Names
// use), what the later kernel did and, where found, the commit title.
type Fixes struct {
	// KillPagesLoop ("kill-pages-loop"): afs_kill_pages never advances
	// first and tests first < last, so a failed store of more than one page
	// repeats the same pagevec: the second pass ends writeback on pages no
	// longer under writeback (end_page_writeback BUG()s: page-state), and
	// without that BUG it would loop forever (progress). Fixed in v4.11 by
	// "afs: Fix afs_kill_pages()": end writeback only if PageWriteback(page),
	// set first to page->index + 1, loop while first <= last.
	KillPagesLoop bool
	// WritepagesMissingPut ("writepages-missing-put"): afs_writepages_region
	// skips a page that is under writeback or clean without
	// page_cache_release: the find_get_pages_tag reference leaks (page-ref).
	// Fixed in v4.11 by "afs: Fix missing put_page()".
	WritepagesMissingPut bool
	// WriteBeginLeak ("write-begin-leak"): when afs_fill_page fails,
	// afs_write_begin returns with the page still locked and referenced; the
	// next lock_page of it sleeps forever (progress) and the reference leaks
	// (page-ref). Fixed in v4.11 by "afs: Fix page leak in
	// afs_write_begin()": unlock_page and put_page before returning.
	WriteBeginLeak bool
	// EnospcStuckWriteback ("enospc-stuck-writeback"): on EDQUOT/ENOSPC, and
	// on an errno of the switch's default branch (ETIMEDOUT, EINTR, ...),
	// afs_write_back_from_locked_page leaves the pages with PG_writeback set
	// and PG_dirty clear forever: the data is never written and a later
	// fsync or truncate waits for ever (progress). v4.15's rewrite ("afs: Get
	// rid of the afs_writeback record", 4343d00872e1) handles both with
	// afs_redirty_pages (redirty_page_for_writepage + end_page_writeback)
	// and mapping_set_error (-ENOSPC, or the error); the fix switch models
	// exactly that.
	EnospcStuckWriteback bool
	// KeyErrorSilentLoss ("key-error-silent-loss"): on EACCES, EPERM, ENOKEY,
	// EKEYEXPIRED, EKEYREJECTED or EKEYREVOKED the seed calls
	// afs_kill_pages(error=false): the pages are cleaned (and made
	// !Uptodate) and nothing is recorded on the mapping, so a later fsync can
	// return 0 although the data never reached the server (fsync-durable,
	// fsync-error). Since v4.15 ("afs: Get rid of the afs_writeback record")
	// these errors redirty the pages (afs_redirty_pages) and call
	// mapping_set_error(mapping, ret).
	KeyErrorSilentLoss bool
	// FillPageOffset ("fill-page-offset"): the seed's afs_fill_page fetches
	// afs_vnode_fetch_data(vnode, key, 0, eof, page): the file's first bytes
	// land in whatever page is being filled, and a file over a page long
	// gives -EBADMSG (more than PAGE_SIZE returned). Later kernels (v4.9's
	// afs_fetch_data rework, and v4.11's afs_write_begin calling
	// afs_fill_page(vnode, key, index << PAGE_SHIFT, page)) fetch the page's
	// own range; the commit title was not identified. Not one of the five
	// bugs in the brief: found while modelling.
	FillPageOffset bool
	// CandidateListInit ("candidate-list-init"): afs_write_begin's candidate
	// record comes from kzalloc with a NULL link; when
	// afs_write_back_from_locked_page fails on the flush_conflicting_wb path,
	// afs_put_writeback(candidate) drops its only reference and
	// afs_unlink_writeback does list_del_init on the never-linked NULL
	// link: an oops (wb-record). Later kernels of the record era (4.x
	// before 4.15) INIT_LIST_HEAD(&candidate->link) right after allocating
	// it, which makes that list_del_init harmless; the commit title was not
	// identified. Found while modelling.
	CandidateListInit bool
	// FlushConflictDoublePut ("flush-conflict-double-put"): on the
	// flush_conflicting_wb path afs_write_begin writes the dirty page back
	// synchronously; the store's completion, afs_pages_written_back,
	// already clears page->private and drops the page's usage on the
	// record, and then afs_write_begin drops it again ("the page holds a
	// ref on the writeback record"). The record's usage falls one below the
	// pages that use it: it is freed early (use after free) or goes
	// negative (wb-record). No kernel of the record era fixed it that we
	// found; v4.15 ("afs: Get rid of the afs_writeback record") removed
	// the records. The switch models the minimal fix: drop the page's
	// reference only if page->private still points to the record. Found
	// while modelling.
	FlushConflictDoublePut bool
	// FlushConflictWaitWriteback ("flush-conflict-wait-writeback"): the
	// flush_conflicting_wb path writes the page back if it is dirty, but a
	// page can be dirty and under writeback at once (a store of its old
	// contents is in flight while a writer redirtied it under a new
	// record); afs_write_back_from_locked_page then finds PG_writeback
	// already set and BUG()s (page-state). Nothing in the era waits:
	// grab_cache_page_write_begin does not wait for writeback before 3.9's
	// stable pages. v4.15 ("afs: Get rid of the afs_writeback record")
	// flushes with write_one_page, which first does
	// wait_on_page_writeback, dirty or not; the switch models that wait
	// (which also keeps a store in flight from losing the page's old range
	// when it fails and the page has meanwhile moved to a new record).
	// Found while modelling.
	FlushConflictWaitWriteback bool
	// StoreIOLock ("store-io-lock"): afs_fs_store_data sends the file's
	// i_size as the new file length (FS.StoreData's FileLength), read
	// before the request goes out; two stores of one file from two tasks
	// (background writeback and an fsync, or two fsyncs) can pass each
	// other, and the server applies FileLength as it comes: the later
	// request with the older, smaller i_size truncates bytes the other
	// store just wrote (fsync-durable, no-lost-write). v4.15's FS client
	// overhaul ("afs: Overhaul volume and server record caching and
	// fileserver rotation", which added afs_begin_vnode_operation and
	// vnode->io_lock) serialises every file server operation on a vnode
	// under vnode->io_lock, so i_size is read and the stores are sent in
	// order; the switch takes such a mutex around afs_vnode_store_data's
	// call. Found while modelling.
	StoreIOLock bool
	// SecondaryPageWriteback ("secondary-page-writeback"): when
	// afs_write_back_from_locked_page gathers the pages after the primary
	// one it checks that each is dirty and bound to the record, not that
	// it is free of writeback; a page redirtied into the record while an
	// older store of it is still in flight is taken, and
	// test_set_page_writeback finds PG_writeback set: BUG() (page-state).
	// Later kernels (the check is there by v4.15) skip such a page:
	// "if (!PageDirty(page) || PageWriteback(page))"; the commit title was
	// not identified. Found while modelling.
	SecondaryPageWriteback bool
	// FsyncMarkerWait ("fsync-marker-wait"): afs_fsync queues a marker
	// record at the tail of vnode->writebacks and sleeps until the marker
	// reaches the head (seed 697-731); only afs_unlink_writeback (seed
	// 40-51, called when a record's usage reaches 0, 74-75 and 609-611)
	// moves it there. A failed store never drops its record's usage:
	// afs_kill_pages (276-311, the EIO group, 413) only changes page flags
	// and leaves page->private pointing at the record, and
	// afs_pages_written_back, the only code that releases pages from a
	// record after a store, runs only on success. So after an EIO-group
	// failure the killed record sits ahead of every later marker and fsync
	// sleeps for ever (progress), until the pages are rewritten, truncated
	// or reclaimed; the same happens to a record whose pages the later
	// kernels' afs_redirty_pages put back to dirty (the key group with
	// KeyErrorSilentLoss, ENOSPC and the default branch with
	// EnospcStuckWriteback) when nobody stores them again. v4.15 ("afs:
	// Get rid of the afs_writeback record", 4343d00872e1) removed the
	// records and the marker: afs_fsync is file_write_and_wait_range(file,
	// start, end), which writes the dirty pages, waits on PG_writeback and
	// returns the mapping's error. The switch models that: afs_fsync is
	// filemap_write_and_wait_range over the whole file (the seed's
	// ->fsync has no range), with the era's AS_EIO/AS_ENOSPC reporting.
	// Found by the scenario runner.
	FsyncMarkerWait bool
	// FlushConflictPageLeak ("flush-conflict-page-leak"): when
	// afs_write_begin's flush_conflicting_wb store fails (seed 227-233) it
	// returns the error with the page still locked and referenced (only
	// the afs_fill_page return has WriteBeginLeak's fix), and
	// generic_perform_write gives up without unlocking it: the next
	// lock_page of the page (writeback, fsync, another write) sleeps for
	// ever (progress). A store that fails with an errno that leaves the
	// page dirty (the key group with KeyErrorSilentLoss, ENOSPC and the
	// default branch with EnospcStuckWriteback) meets it on the next write
	// to the page under another key. v4.15 flushes with write_one_page,
	// which unlocks the page whatever the outcome; "afs: Fix page leak on
	// afs_write_begin() failure" (David Howells, posted 2020-10-28,
	// "Fixes: 15b4650e55e0") added the put_page. The switch does both.
	// Found by the scenario runner.
	FlushConflictPageLeak bool
	// SetattrTruncatePagecache ("setattr-truncate-pagecache"): the era's
	// afs_setattr sends the new length to the server and takes i_size from
	// the reply, but truncates no page cache (it has its own ->setattr,
	// so notify_change calls no inode_setattr/vmtruncate, and it calls
	// neither): after a shrinking truncate the pages past the new EOF, and
	// the tail of the page that straddles it, keep their old bytes, clean
	// and uptodate. When the file grows again over them (a growing
	// truncate, or a write past them: afs_write_begin fills no uptodate
	// page) a read returns the old bytes where the server has zeros
	// (read-correct). Later kernels truncate the page cache after a
	// successful setattr: afs_setattr_edit_file (the afs_operation
	// rework, v5.8 or later) calls truncate_pagecache(inode, size) when
	// size < the old i_size; the commit that first did so was not
	// identified. The switch models that call. Found while modelling.
	SetattrTruncatePagecache bool
	// WritepagesSyncError ("writepages-sync-error"): afs_writepages_region
	// returns at the first failed store (seed 521-523) whatever the sync
	// mode, and afs_writepages then skips its wrapped region (seed
	// 551-552: only if ret == 0): a WB_SYNC_ALL sweep (afs_fsync,
	// sync(2)) leaves the rest of its range dirty and unwritten
	// (sync-complete). write_cache_pages had the same break until Linux
	// 4.20 ("mm/page-writeback.c: don't break integrity writeback on
	// ->writepage() error", Brian Foster, 3fa750dcf29e): integrity
	// writeback goes on through the whole range and returns the first
	// error; background writeback still stops. AFS's own loop kept the
	// early return until it moved onto the generic writeback iterator
	// (the netfs write helpers); the commit that first changed AFS was not
	// identified. The switch applies the 4.20 rule to both loops. Found
	// by the sync-complete check. The region goes on after the failed
	// store's last page, as write_cache_pages goes on past a failed page
	// or folio: a store gathers the pages after the one the lookup found,
	// and resuming just past that one would meet the pages
	// afs_redirty_pages redirtied and store them again in the same sweep
	// (fsync-bounded; TestWritepagesSyncErrorGoesOnPastTheStore).
	WritepagesSyncError bool
	// StoreDataMaths ("store-data-maths"): afs_fs_store_data computes the
	// store's length as "size = to - offset" with to and offset unsigned
	// int, before it widens to loff_t: for a store of several pages whose
	// last page ends before the first one's start offset (to < offset)
	// the subtraction wraps to nearly 4 GiB, the request goes out as
	// FS.StoreData64 with a length 4 GiB beyond the bytes that follow it,
	// and a FileLength as far past the file's end (rpc-shape). v4.11's
	// "afs: Fix the maths in afs_fs_store_data()" (David Howells, with
	// the kill-pages-loop, writepages-missing-put and write-begin-leak
	// fixes) casts first: size = (loff_t)to - (loff_t)offset. Found by
	// the rpc-shape check.
	StoreDataMaths bool
	// WritepagesTowrite ("writepages-towrite"): afs_writepages_region walks
	// the PAGECACHE_TAG_DIRTY pages (seed 462-534) and, for WB_SYNC_ALL
	// (afs_writeback_all and filemap_write_and_wait_range ask for
	// LLONG_MAX pages), goes on while it finds any;
	// afs_write_back_from_locked_page gathers every dirty page of the
	// record that follows. A task that keeps dirtying pages ahead of the
	// sweep keeps an fsync going for as long as it writes: the sync
	// livelock that write_cache_pages lost in 2.6.35 ("mm: implement
	// writeback livelock avoidance using page tagging", f446daaea9d4)
	// (fsync-bounded). afs kept its own loop until its writeback moved to
	// netfs ("afs: Use the netfs write helpers", David Howells, Linux
	// 6.9: netfs_writepages, whose iteration over the mapping tags the
	// dirty folios PAGECACHE_TAG_TOWRITE for WB_SYNC_ALL and writes only
	// those; the commit hash was not identified). The switch does that
	// in the era's code: a WB_SYNC_ALL region is tagged first and walked
	// by TOWRITE, a store started from a tagged page gathers only tagged
	// pages, and the walk goes on after the store's last page (netfs's
	// iterator, writeback_iter, yields each folio once per sweep; the
	// seed's lookup resumes just past the store's first page, and would
	// store again a gathered page that a writer redirtied and another
	// sweep tagged meanwhile: TestFsyncBoundedAFSStoredPageRetagged).
	// Found by the fsync-bounded check.
	WritepagesTowrite bool
}

// fixNames lists the fixes in a fixed order with their ids.
var fixNames = []struct {
	id  string
	get func(*Fixes) *bool
}{
	{"kill-pages-loop", func(f *Fixes) *bool { return &f.KillPagesLoop }},
	{"writepages-missing-put", func(f *Fixes) *bool { return &f.WritepagesMissingPut }},
	{"write-begin-leak", func(f *Fixes) *bool { return &f.WriteBeginLeak }},
	{"enospc-stuck-writeback", func(f *Fixes) *bool { return &f.EnospcStuckWriteback }},
	{"key-error-silent-loss", func(f *Fixes) *bool { return &f.KeyErrorSilentLoss }},
	{"fill-page-offset", func(f *Fixes) *bool { return &f.FillPageOffset }},
	{"candidate-list-init", func(f *Fixes) *bool { return &f.CandidateListInit }},
	{"flush-conflict-double-put", func(f *Fixes) *bool { return &f.FlushConflictDoublePut }},
	{"flush-conflict-wait-writeback", func(f *Fixes) *bool { return &f.FlushConflictWaitWriteback }},
	{"store-io-lock", func(f *Fixes) *bool { return &f.StoreIOLock }},
	{"secondary-page-writeback", func(f *Fixes) *bool { return &f.SecondaryPageWriteback }},
	{"fsync-marker-wait", func(f *Fixes) *bool { return &f.FsyncMarkerWait }},
	{"flush-conflict-page-leak", func(f *Fixes) *bool { return &f.FlushConflictPageLeak }},
	{"setattr-truncate-pagecache", func(f *Fixes) *bool { return &f.SetattrTruncatePagecache }},
	{"writepages-sync-error", func(f *Fixes) *bool { return &f.WritepagesSyncError }},
	{"store-data-maths", func(f *Fixes) *bool { return &f.StoreDataMaths }},
	{"writepages-towrite", func(f *Fixes) *bool { return &f.WritepagesTowrite }},
}

// FixIDs lists every fix id, in a fixed order.
func FixIDs() []string {
	ids := make([]string, len(fixNames))
	for i, f := range fixNames {
		ids[i] = f.id
	}
	return ids
}

// AllFixes returns Fixes with every fix on.
func AllFixes() Fixes {
	var f Fixes
	for _, n := range fixNames {
		*n.get(&f) = true
	}
	return f
}

// Set turns the fix with the given id on or off.
func (f *Fixes) Set(id string, on bool) error {
	for _, n := range fixNames {
		if n.id == id {
			*n.get(f) = on
			return nil
		}
	}
	return fmt.Errorf("afs: unknown fix %q (known: %s)", id, strings.Join(FixIDs(), ", "))
}

// Has reports whether the fix with the given id is on.
func (f Fixes) Has(id string) bool {
	for _, n := range fixNames {
		if n.id == id {
			return *n.get(&f)
		}
	}
	return false
}

// Names lists the ids of the fixes that are on.
func (f Fixes) Names() []string {
	var on []string
	for _, n := range fixNames {
		if *n.get(&f) {
			on = append(on, n.id)
		}
	}
	return on
}

// Fid is struct afs_fid. Vnode is the file's number in its volume and, in
// the model, the file id of the server and of fault plans (faultdisk's
// Match.File), so it starts at 1.
type Fid struct {
	Vid, Vnode, Unique uint32
}

// Vnode flag bits, fs/afs/internal.h (2.6.35).
const (
	AFS_VNODE_CB_BROKEN = 0 // set if vnode's callback was broken
	AFS_VNODE_UNSET     = 1 // set if vnode attributes not yet set
	AFS_VNODE_MODIFIED  = 2 // set if vnode's data modified
	AFS_VNODE_ZAP_DATA  = 3 // set if vnode's data should be invalidated
	AFS_VNODE_DELETED   = 4 // set if vnode deleted on server
)

// FS is the mounted AFS volume: the afs_super_info and afs_volume, with the
// volume's one file server. It holds the fixes in force, the keys handed
// out, and every vnode and writeback record, for the checkers.
type FS struct {
	K      *mm.Kernel
	Server *Server
	Fixes  Fixes
	Vid    uint32
	// OnWrite, if set, is told of every byte range generic_perform_write
	// copied into the page cache, in the order the copies happen (under
	// i_mutex): the hook an oracle of expected file contents uses.
	OnWrite func(v *Vnode, pos int64, data content.Bytes)
	// SB is the volume's VFS super block (model/vfs): Mount puts it on a
	// VFS; the vnodes' VFS inodes and the files are on it from the start.
	SB *vfs.SuperBlock
	// BDI is the volume's backing_dev_info (afs_volume->bdi, 2.6.3x
	// fs/afs/volume.c): afs_iget points every vnode's mapping at it, so
	// the flusher and balance_dirty_pages see the volume's files as one
	// queue.
	BDI *mm.BackingDevInfo

	keys    []*Key
	nextKey int32
	vnodes  []*Vnode
	records []*Writeback
	files   []*File
	nextWB  int64
}

// NewFS mounts a volume served by srv on kernel k with the given fixes.
func NewFS(k *mm.Kernel, srv *Server, fixes Fixes) *FS {
	fs := &FS{K: k, Server: srv, Fixes: fixes, Vid: 0x20000001, BDI: mm.NewBackingDevInfo("afs")}
	fs.SB = newSuperBlock(fs)
	return fs
}

// Vnode is struct afs_vnode, the parts write.c uses: the vfs inode (whose
// mapping is the page cache), the fid, the flags, the writeback_lock and
// the list of writeback records (vnode->writebacks), oldest first.
type Vnode struct {
	VFSInode      *mm.Inode
	Fid           Fid
	Flags         uint64
	WritebackLock sim.SpinLock
	Writebacks    ListHead
	// DataVersion is vnode->status.data_version, as the last reply said.
	DataVersion uint64
	// IOLock is the later kernels' vnode->io_lock (used only with
	// Fixes.StoreIOLock).
	IOLock sim.Mutex
	// Inode is the VFS's side of vfs_inode (model/vfs): the super block
	// and afs_file_inode_operations and afs_file_operations.
	Inode *vfs.Inode

	fs *FS
}

// Iget makes the vnode (and vfs inode) for file vnodeID of the volume,
// with its size from the server: afs_iget in short. The inode's a_ops are
// afs_fs_aops and its mapping's backing_dev_info is the volume's
// (inode->i_mapping->backing_dev_info = &vnode->volume->bdi, fs/afs/inode.c,
// 2.6.3x).
func (fs *FS) Iget(vnodeID uint32) *Vnode {
	v := &Vnode{Fid: Fid{Vid: fs.Vid, Vnode: vnodeID, Unique: 1}, fs: fs}
	INIT_LIST_HEAD(&v.Writebacks)
	v.VFSInode = fs.K.NewInode(uint64(vnodeID), 12, AfsFsAops{}, fs.BDI)
	v.SetName(fmt.Sprintf("vnode %d", vnodeID))
	v.VFSInode.Private = v
	v.Inode = fs.SB.AddInode(v.VFSInode, afsFileInodeOps{}, afsFileOps{}, v)
	if f := fs.Server.File(uint64(vnodeID)); f != nil {
		v.VFSInode.SetISize(f.Data.Size())
		v.DataVersion = f.DataVersion
	}
	fs.vnodes = append(fs.vnodes, v)
	return v
}

// SetName names the vnode's locks, its VFS inode's included, by what the
// file is to people (its path; see mm.Inode.SetName).
func (v *Vnode) SetName(name string) {
	v.VFSInode.SetName(name)
	v.WritebackLock.Name = "writeback_lock of " + name + "'s vnode"
	v.IOLock.Name = "io_lock of " + name + "'s vnode"
}

// FS is the volume the vnode belongs to.
func (v *Vnode) FS() *FS { return v.fs }

// Mapping is vnode->vfs_inode.i_mapping.
func (v *Vnode) Mapping() *mm.AddressSpace { return v.VFSInode.Mapping }

// FileID is the server's and the fault plans' id of the file.
func (v *Vnode) FileID() uint64 { return uint64(v.Fid.Vnode) }

// Obj names the vnode in traces.
func (v *Vnode) Obj() sim.Obj { return sim.Obj{Class: "afs_vnode", A: int64(v.Fid.Vnode)} }

// TestBit is test_bit(nr, &vnode->flags).
func (v *Vnode) TestBit(nr uint) bool { return v.Flags&(1<<nr) != 0 }

func (v *Vnode) setBit(t *sim.Task, nr uint) {
	t.Point("set_bit", v.Obj(), int64(nr))
	v.Flags |= 1 << nr
}

// AFS_FS_I is AFS_FS_I(inode): the vnode around a vfs inode.
//
//nolint:revive // kernel name
func AFS_FS_I(inode *mm.Inode) *Vnode { return inode.Private.(*Vnode) }

// WbState is the afs_writeback state enum, fs/afs/internal.h (2.6.35), in
// the kernel's order.
type WbState uint8

// Writeback record states.
const (
	AFS_WBACK_SYNCING     WbState = iota // synchronisation being performed
	AFS_WBACK_PENDING                    // write pending
	AFS_WBACK_CONFLICTING                // conflicting writes posted
	AFS_WBACK_WRITING                    // writing back
	AFS_WBACK_COMPLETE                   // the writeback record has been unlinked
)

func (s WbState) String() string {
	switch s {
	case AFS_WBACK_SYNCING:
		return "SYNCING"
	case AFS_WBACK_PENDING:
		return "PENDING"
	case AFS_WBACK_CONFLICTING:
		return "CONFLICTING"
	case AFS_WBACK_WRITING:
		return "WRITING"
	case AFS_WBACK_COMPLETE:
		return "COMPLETE"
	}
	return fmt.Sprintf("WbState(%d)", uint8(s))
}

// Writeback is struct afs_writeback (fs/afs/internal.h, 2.6.35): a run of
// pages [First, Last] dirtied under one key, from byte OffsetFirst of the
// first page to byte ToLast of the last, with a usage count (one per page
// whose page->private points here, or one for an fsync marker), a state,
// a wait queue and its link in vnode->writebacks. The fields point (last
// page of the current store), num_conflicts and conflicts exist in the
// kernel struct but write.c of this era never uses them.
type Writeback struct {
	Link        ListHead
	Vnode       *Vnode
	Key         *Key
	Waitq       sim.WaitQueue
	First, Last uint64
	OffsetFirst uint
	ToLast      uint
	Usage       int
	State       WbState

	id     int64
	freed  bool
	marker bool // allocated by afs_fsync as a queue marker
}

// ID is the record's allocation number (1, 2, ...), for traces.
func (wb *Writeback) ID() int64 { return wb.id }

// Freed reports whether kfree released the record.
func (wb *Writeback) Freed() bool { return wb.freed }

// Marker reports whether the record is an fsync marker.
func (wb *Writeback) Marker() bool { return wb.marker }

// Obj names the record in traces.
func (wb *Writeback) Obj() sim.Obj { return sim.Obj{Class: "afs_writeback", A: wb.id} }

func (wb *Writeback) String() string {
	return fmt.Sprintf("afs_writeback#%d{%d-%d [%d..%d] usage=%d %s %s}", wb.id, wb.First, wb.Last,
		wb.OffsetFirst, wb.ToLast, wb.Usage, wb.State, wb.Key)
}

// kzallocWriteback is kzalloc(sizeof(struct afs_writeback)): a zeroed
// record (NULL link pointers, NULL key) registered for the checkers.
func (fs *FS) kzallocWriteback(v *Vnode) *Writeback {
	fs.nextWB++
	wb := &Writeback{id: fs.nextWB}
	wb.Link.wb = wb
	fs.records = append(fs.records, wb)
	_ = v
	return wb
}

// kfreeWriteback is kfree(wb): a second kfree of one record is a double
// free (wb-record).
func kfreeWriteback(t *sim.Task, wb *Writeback) {
	wbLive(t, wb, "kfree")
	wb.freed = true
	t.World().Record(sim.KindPoint, "kfree", wb.Obj(), 0, "")
}

func wbFail(t *sim.Task, wb *Writeback, msg, explain string) {
	obj := sim.Obj{Class: "afs_writeback"}
	if wb != nil {
		obj = wb.Obj()
	}
	t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvWbRecord, Obj: obj, Msg: msg,
		Explain: explain, Stack: string(debug.Stack())})
}

// wbLive checks that wb may be dereferenced: not NULL and not freed.
func wbLive(t *sim.Task, wb *Writeback, op string) {
	if wb == nil {
		wbFail(t, nil, "BUG: unable to handle kernel NULL pointer dereference of struct afs_writeback in "+op,
			"A NULL writeback record was dereferenced: the code expected page->private (or the call's "+
				"wb) to hold a record and it did not.")
	}
	if wb.freed {
		wbFail(t, wb, fmt.Sprintf("%s: use of %s after kfree", op, wb),
			"A writeback record was used after afs_free_writeback (or kfree) released it: someone kept "+
				"a pointer to it (page->private, an fsync's marker, a store call's wb) without a usage "+
				"reference, or dropped one reference too many.")
	}
}

// pagePrivateWb is (struct afs_writeback *) page_private(page).
func pagePrivateWb(p *mm.Page) *Writeback {
	wb, _ := mm.PagePrivateData(p).(*Writeback)
	return wb
}

// File is struct file, the parts AFS uses: the vnode (f_dentry->d_inode),
// the mapping (f_mapping) and the key (private_data, from afs_open). VFS
// is the struct file itself as model/vfs has it, whose PrivateData is
// this File.
type File struct {
	Vnode   *Vnode
	Mapping *mm.AddressSpace
	Key     *Key
	VFS     *vfs.File
	closed  bool
}

// AfsOpen is afs_open(inode, file), fs/afs/file.c (2.6.35), without
// afs_validate: the file takes its own reference on key (afs_request_key
// returns a new reference; here the caller's key gets one more).
func AfsOpen(t *sim.Task, v *Vnode, key *Key) *File {
	f := &File{Vnode: v, Mapping: v.Mapping(), Key: KeyGet(t, key)}
	v.fs.files = append(v.fs.files, f)
	f.attach(v.Inode.NewFile(vfs.FMODE_READ|vfs.FMODE_WRITE, key))
	return f
}

// OpenNoTask is AfsOpen for set-up code outside any task.
func (v *Vnode) OpenNoTask(key *Key) *File {
	key.usage++
	f := &File{Vnode: v, Mapping: v.Mapping(), Key: key}
	v.fs.files = append(v.fs.files, f)
	f.attach(v.Inode.NewFile(vfs.FMODE_READ|vfs.FMODE_WRITE, key))
	return f
}

// AfsRelease is afs_release(inode, file), fs/afs/file.c (2.6.35): drop the
// file's key.
func AfsRelease(t *sim.Task, f *File) int {
	if !f.closed {
		f.closed = true
		KeyPut(t, f.Key)
	}
	return 0
}
