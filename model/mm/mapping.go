package mm

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
)

// Page-cache radix-tree tags, include/linux/fs.h.
const (
	PAGECACHE_TAG_DIRTY     = 0
	PAGECACHE_TAG_WRITEBACK = 1
	PAGECACHE_TAG_TOWRITE   = 2 // 2.6.35+; the 3.x era's write_cache_pages uses it
)

// Address-space flag bits, include/linux/pagemap.h: the first writeback
// error seen on the mapping, kept until someone test_and_clears it.
const (
	AS_EIO    = 20 // IO error on async write
	AS_ENOSPC = 21 // ENOSPC on async write
)

// AOP_WRITEPAGE_ACTIVATE is the ->writepage return that says "I did not
// write it; activate the page, and it is still locked" (include/linux/fs.h).
const AOP_WRITEPAGE_ACTIVATE = 0x80000

// AddressSpace is struct address_space: a file's page cache.
type AddressSpace struct {
	Host *Inode
	// TreeLock is mapping->tree_lock. It is an rwlock before 2.6.27 and a
	// spinlock after; the model uses a spinlock for every era (readers are
	// serialised, which loses no interleaving that matters here) and takes
	// it also where the kernel reads the tree under RCU.
	TreeLock sim.SpinLock
	// PageTree is mapping->page_tree, with its tags.
	PageTree RadixTree[Page]
	// PrivateLock is mapping->private_lock (buffer rings, AFS records).
	PrivateLock sim.SpinLock
	NrPages     int
	// WritebackIndex is mapping->writeback_index: where range_cyclic
	// writeback resumes.
	WritebackIndex uint64
	// Flags holds AS_EIO and AS_ENOSPC (and the gfp mask bits the model
	// does not use).
	Flags uint64
	// AOps is mapping->a_ops (see AddressSpaceOperations).
	AOps AddressSpaceOperations
	// BDI is mapping->backing_dev_info.
	BDI *BackingDevInfo
}

// AddressSpaceOperations is struct address_space_operations. In C it is
// a table of function pointers, any of which may be NULL, and mm tests
// them: do_writepages calls ->writepages if set, else
// generic_writepages; set_page_dirty falls back to
// __set_page_dirty_buffers; and so on. In Go each operation is its own
// one-method interface below (WritepageOp, WritepagesOp, ...), and an
// a_ops value is any value: the operations it implements are the
// non-NULL pointers, the ones it lacks are NULL. A file system declares
//
//	type ext2AOps struct{ mm.NoAOps }
//	func (ext2AOps) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int { ... }
//
// and mm finds Writepage and not, say, Writepages. Other packages may add
// their own operation interfaces (write_begin/write_end, prepare_write/
// commit_write for 2.6.12) the same way.
type AddressSpaceOperations any

// NoAOps is an embeddable empty a_ops: every operation NULL. Embedding it
// documents that a type is an a_ops table; it adds no methods, so it hides
// nothing from the checks.
type NoAOps struct{}

// WritepageOp is ->writepage(page, wbc). Called with the page locked; the
// op unlocks it (or returns AOP_WRITEPAGE_ACTIVATE with it still locked).
type WritepageOp interface {
	Writepage(t *sim.Task, p *Page, wbc *WritebackControl) int
}

// WritepagesOp is ->writepages(mapping, wbc).
type WritepagesOp interface {
	Writepages(t *sim.Task, m *AddressSpace, wbc *WritebackControl) int
}

// ReadpageOp is ->readpage(file, page). Called with the page locked; the
// op (or its I/O completion) unlocks it.
type ReadpageOp interface {
	Readpage(t *sim.Task, f any, p *Page) int
}

// ReadpagesOp is ->readpages(file, mapping, pages, nr_pages). pages are
// not yet in the page cache; each holds the caller's reference.
type ReadpagesOp interface {
	Readpages(t *sim.Task, f any, m *AddressSpace, pages []*Page, nr int) int
}

// SetPageDirtyOp is ->set_page_dirty(page).
type SetPageDirtyOp interface {
	SetPageDirty(t *sim.Task, p *Page) int
}

// InvalidatePageOp is ->invalidatepage(page, offset).
type InvalidatePageOp interface {
	InvalidatePage(t *sim.Task, p *Page, offset uint)
}

// ReleasePageOp is ->releasepage(page, gfp): nonzero if the private data
// was released.
type ReleasePageOp interface {
	ReleasePage(t *sim.Task, p *Page, gfp int) int
}

// WriteBeginOp is ->write_begin (2.6.24+).
type WriteBeginOp interface {
	WriteBegin(t *sim.Task, f any, m *AddressSpace, pos int64, length, flags uint, pagep **Page, fsdata *any) int
}

// WriteEndOp is ->write_end (2.6.24+).
type WriteEndOp interface {
	WriteEnd(t *sim.Task, f any, m *AddressSpace, pos int64, length, copied uint, p *Page, fsdata any) int
}

// Inode state bits (include/linux/fs.h, 2.6.32).
const (
	I_DIRTY_SYNC     = 1 << 0
	I_DIRTY_DATASYNC = 1 << 1
	I_DIRTY_PAGES    = 1 << 2
	I_NEW            = 1 << 3
	I_WILL_FREE      = 1 << 4
	I_FREEING        = 1 << 5
	I_CLEAR          = 1 << 6
	I_SYNC           = 1 << 7 // I_LOCK's writeback half before 2.6.27

	I_DIRTY = I_DIRTY_SYNC | I_DIRTY_DATASYNC | I_DIRTY_PAGES
)

// Inode is struct inode, the parts writeback uses.
type Inode struct {
	Ino     uint64
	Blkbits uint
	Mapping *AddressSpace
	Kernel  *Kernel
	// Private is the file system's per-inode state (ext2 inode info, the
	// AFS vnode).
	Private any
	// IMutex is inode->i_mutex (i_sem before 2.6.16).
	IMutex sim.Mutex
	// State is i_state (I_DIRTY_*, I_SYNC, ...), under the kernel's
	// inode_lock.
	State uint64
	// DirtiedWhen is inode->dirtied_when: when the inode first became
	// dirty (virtual time).
	DirtiedWhen sim.Time
	// IOpTruncate is inode->i_op->truncate, called by vmtruncate after
	// the page cache is cut (nil: none).
	IOpTruncate func(t *sim.Task, ino *Inode)

	size    int64
	onDirty bool
}

// NewInode makes an inode with an empty page cache on the kernel. bdi may
// be nil (a default, never-congested one is made).
func (k *Kernel) NewInode(ino uint64, blkbits uint, aops AddressSpaceOperations, bdi *BackingDevInfo) *Inode {
	if bdi == nil {
		bdi = NewBackingDevInfo("default")
	}
	in := &Inode{Ino: ino, Blkbits: blkbits, Kernel: k}
	in.Mapping = &AddressSpace{Host: in, AOps: aops, BDI: bdi}
	in.SetName(fmt.Sprintf("inode %d", ino))
	return in
}

// SetName names the inode's locks in traces and failure messages by what
// the inode is to people ("i_mutex of /db", "tree_lock of /db's
// mapping"): a file's path, a device's name. Set-up code only: a lock is
// known by its name while held.
func (ino *Inode) SetName(name string) {
	ino.IMutex.Name = "i_mutex of " + name
	ino.Mapping.TreeLock.Name = "tree_lock of " + name + "'s mapping"
	ino.Mapping.PrivateLock.Name = "private_lock of " + name + "'s mapping"
}

// Obj names the inode in traces.
func (ino *Inode) Obj() sim.Obj { return sim.Obj{Class: "inode", A: int64(ino.Ino)} }

// Obj names the mapping in traces (by its inode).
func (m *AddressSpace) Obj() sim.Obj { return sim.Obj{Class: "mapping", A: int64(m.Host.Ino)} }

// ISizeRead is i_size_read(inode). On 32-bit SMP the kernel reads i_size
// under a seqcount; the model has no torn reads, so it is a plain load.
func ISizeRead(ino *Inode) int64 { return ino.size }

// ISizeWrite is i_size_write(inode, size): a scheduling point (a racing
// reader sees the old or the new size, never a torn one). The kernel
// requires i_mutex (or an equivalent) held.
func ISizeWrite(t *sim.Task, ino *Inode, n int64) {
	t.Point("i_size_write", ino.Obj(), n)
	ino.size = n
}

// SetISize sets i_size outside any task (set-up code and tests).
func (ino *Inode) SetISize(n int64) { ino.size = n }

// MappingSetError is mapping_set_error(mapping, error),
// include/linux/pagemap.h, 2.6.2x: record an asynchronous write error on
// the mapping for the next fsync/fdatawait to report: AS_ENOSPC for
// -ENOSPC, AS_EIO for anything else; 0 records nothing.
func MappingSetError(t *sim.Task, m *AddressSpace, err int) {
	if err == 0 {
		return
	}
	if err == -28 { // -ENOSPC
		MappingSetFlag(t, m, AS_ENOSPC)
	} else {
		MappingSetFlag(t, m, AS_EIO)
	}
}

// MappingSetFlag is set_bit(bit, &mapping->flags), as mpage_end_io_write
// does with AS_EIO directly.
func MappingSetFlag(t *sim.Task, m *AddressSpace, bit uint) {
	t.Point("set_bit", m.Obj(), int64(bit))
	m.Flags |= 1 << bit
}

// MappingTestAndClearFlag is test_and_clear_bit(bit, &mapping->flags).
func MappingTestAndClearFlag(t *sim.Task, m *AddressSpace, bit uint) bool {
	t.Point("test_and_clear_bit", m.Obj(), int64(bit))
	old := m.Flags&(1<<bit) != 0
	m.Flags &^= 1 << bit
	return old
}

// MappingTagged is mapping_tagged(mapping, tag).
func MappingTagged(m *AddressSpace, tag int) bool { return m.PageTree.Tagged(tag) }

// MappingCapWritebackDirty is mapping_cap_writeback_dirty(mapping).
func MappingCapWritebackDirty(m *AddressSpace) bool { return !m.BDI.NoWriteback }

// MappingCapAccountDirty is mapping_cap_account_dirty(mapping).
func MappingCapAccountDirty(m *AddressSpace) bool { return !m.BDI.NoAccountDirty }
