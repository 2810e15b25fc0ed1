package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/model/vfs/ext2"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// InvExpect is the id of a failed per-operation expectation ("fsync f
// expect EIO" returned 0): the registry's scenarios.InvExpect, which a
// scenario cannot select or deselect, and which always fails the run.
const InvExpect = string(scenarios.InvExpect)

// machine is one simulated machine built from a scenario in one world: the
// kernel, its VFS with the file system mounted (blockfs as ext2, or the
// AFS volume), the oracle, and the scenario's file descriptors and labels
// as the run goes.
type machine struct {
	s      *scenarios.Scenario
	w      *sim.World
	k      *mm.Kernel
	v      *vfs.VFS
	sb     *vfs.SuperBlock // the one mounted file system
	inv    map[string]bool
	oracle *check.Oracle
	files  map[string]*mfile
	order  []*mfile // creation order
	labels map[string]label
	fds    map[string]*mfd // fd name -> open description (setup's are shared)
	tasks  map[string]*sim.Task
	// current is the op each scenario task is running, for failure positions.
	current map[string]*scenarios.Op
	// loops are the repeats each task is in, innermost last (ops.go).
	loops map[string][]*loop
	// done are the scenario tasks that have run all their operations.
	done    map[string]bool
	crashed bool
	armed   bool // the scenario has a fault plan
	// blockfs
	disk    *faultdisk.Disk
	bdev    *block.BlockDevice
	fs      *blockfs.Fs
	nextIno uint64
	// afs
	srv    *afs.Server
	afs    *afs.FS
	keys   map[string]*afs.Key
	nextID uint64
	afsWP  *check.Writepages // the ->writepages checks of every vnode (nil: none)
	// afsInner is the ->writepages afsWP checks: afs_fs_aops's (nil), or
	// a test's mutant.
	afsInner mm.WritepagesOp
	// writeback errors already told to the oracle
	seenErr map[any]bool
	// inDaemon counts the kernel functions the daemons (the flusher) are
	// in (entered, not left): the closer waits until they are out.
	// activity counts the events of tasks other than the closer meanwhile.
	inDaemon, activity int
	closerTask         *sim.Task
	// syncs are the sync(2) calls in flight, by task: the oracle's
	// in-flight sync of each file (see sync and observe).
	syncs map[int32]map[*mfile]*check.Fsync
	// truncs are the truncations in flight, by task, that the oracle has
	// not yet been told of (see truncate and observe).
	truncs map[int32]*pendingTrunc
	// fresh are the disk blocks (blockfs) allocated since a write of them
	// last completed: see mfile.onDisk.
	fresh map[uint64]bool
	// damaged are the disk's sector ranges [from, to) that injected
	// faults hit (fs-consistent excuses the metadata behind them).
	damaged [][2]int64
	// post gives the writes of an after crash block their data (crash.go).
	post  *check.File
	stats *Stats
}

// Stats is what one world did, for diff-versions.
type Stats struct {
	Bios        int
	BioSizes    []int64 // bytes of each write request, in dispatch order
	GetBlock    int
	FsyncReturn []string // "pos: ret"
	Final       map[string]content.Bytes
}

type label struct {
	data content.Bytes
	off  int64
}

type mfile struct {
	path  string
	of    *check.File
	vi    *vfs.Inode // the VFS inode (ext2 or AFS)
	ino   *mm.Inode
	ei    *blockfs.Inode // blockfs: EXT2_I
	v     *afs.Vnode     // afs: AFS_FS_I
	id    uint64
	owner *machine
}

// mfd is a scenario file descriptor: the open file description (the
// VFS's struct file, f_pos included) and the oracle's.
type mfd struct {
	f     *mfile
	od    *check.FD
	file  *vfs.File
	flags scenarios.OpenFlags
}

// pendingTrunc is a truncation the oracle learns of as it begins.
type pendingTrunc struct {
	f    *mfile
	size int64
}

func (m *machine) checks(id string) bool { return m.inv[id] }

func version(v scenarios.KernelVersion) mm.Version {
	switch v {
	case scenarios.Kernel2_6_12:
		return mm.V2_6_12
	case scenarios.Kernel2_6_2x:
		return mm.V2_6_2x
	case scenarios.Kernel3x:
		return mm.V3x
	}
	return mm.VAFS
}

// build makes the machine in w and spawns the init task, which creates the
// pre-existing files, runs setup, then spawns the scenario's tasks and the
// closer.
func build(s *scenarios.Scenario, fixes, off []string, w *sim.World, stats *Stats) (*machine, error) {
	m := &machine{s: s, w: w, inv: map[string]bool{}, files: map[string]*mfile{}, labels: map[string]label{},
		fds: map[string]*mfd{}, tasks: map[string]*sim.Task{}, current: map[string]*scenarios.Op{},
		loops: map[string][]*loop{}, done: map[string]bool{},
		seenErr: map[any]bool{}, syncs: map[int32]map[*mfile]*check.Fsync{}, truncs: map[int32]*pendingTrunc{},
		stats: stats, nextIno: 11, nextID: 1}
	for _, id := range s.Invariants() {
		m.inv[string(id)] = true
	}
	c := check.Linux26
	if s.Contract != "" {
		c = check.Contract(s.Contract) // the validator admits only check's names
	}
	m.oracle = check.NewOracle(c)
	m.armed = s.Faults != nil && s.Faults.Plan != nil && len(s.Faults.Plan.Rules) > 0
	m.k = mm.NewKernel(w, version(s.Kernel))
	m.k.Bits32 = s.Arch == scenarios.Arch32
	vm := s.VM
	if vm.MemoryPages > 0 {
		m.k.TotalRAMPages = vm.MemoryPages
	}
	m.k.MemLimit = vm.ReclaimLimit
	m.v = vfs.New(m.k)
	if vm.DirtyRatio > 0 {
		m.k.DirtyRatio = vm.DirtyRatio
		m.k.DirtyBackgroundRatio = vm.DirtyBackgroundRatio
	}
	if vm.DirtyPages > 0 && m.k.TotalRAMPages > 0 {
		// dirty_bytes as a page count: the model has ratios only, so the
		// ratio that gives at least that many pages (rounded up).
		m.k.DirtyRatio = int(min(100, max(1, (vm.DirtyPages*100+m.k.TotalRAMPages-1)/m.k.TotalRAMPages)))
		m.k.DirtyBackgroundRatio = int(min(int64(m.k.DirtyRatio-1), max(1, (vm.DirtyBackgroundPages*100+m.k.TotalRAMPages-1)/m.k.TotalRAMPages)))
	}
	if vm.Flusher.Interval > 0 {
		m.k.DirtyWritebackInterval = vm.Flusher.Interval
	}
	if vm.Flusher.Expire > 0 {
		m.k.DirtyExpireInterval = vm.Flusher.Expire
	}
	on := append(onFixes(s, off), fixes...)
	var err error
	if s.FS.AFS != nil {
		err = m.buildAFS(on)
	} else {
		err = m.buildBlockFS(on)
	}
	if err != nil {
		return nil, err
	}
	m.watchContracts()
	w.Observe(m.observe)
	w.Spawn("init", m.initTask)
	return m, nil
}

func (m *machine) buildBlockFS(on []string) error {
	var fx mpage.Fixes
	if len(on) > 0 {
		var err error
		if fx, err = mpage.ParseFixes(strings.Join(on, ",")); err != nil {
			return err
		}
	}
	mpage.Setup(m.k, mpage.Config{Fixes: fx})
	b := m.s.FS.BlockFS
	capacity := b.Capacity
	if capacity == 0 {
		capacity = 64 << 20
	}
	// The fault-injecting disk: the scenario's plan is the disk's, so its
	// alloc rules reach bio_alloc (NewDiskDevice routes the block layer's
	// allocation sites to it) and its I/O rules fire at dispatch.
	dcfg := faultdisk.Config{Name: "sda", Sectors: capacity / block.SectorSize}
	if b.Latency > 0 {
		dcfg.Read, dcfg.Write, dcfg.Flush = faultdisk.Fixed(b.Latency), faultdisk.Fixed(b.Latency), faultdisk.Fixed(b.Latency)
	}
	if m.armed {
		dcfg.Plan = m.s.Faults.Plan
	}
	disk, err := faultdisk.New(m.w, dcfg)
	if err != nil {
		return err
	}
	m.disk = disk
	dd := block.NewDiskDevice(block.Init(m.k), disk)
	m.bdev = block.NewBlockDevice(m.k, "sda", device{dd: dd, m: m}, capacity/block.SectorSize, 512)
	// bdi_write_congested: the disk's write queue (the files share the
	// block device's backing_dev_info).
	m.bdev.Inode.Mapping.BDI.WriteCongestedFn = dd.Congested
	opts := blockfs.Options{BlockSize: uint(b.BlockSize)}
	if opts.BlockSize == 0 {
		opts.BlockSize = 4096
	}
	if b.Layout == scenarios.LayoutExtent {
		opts.Layout = blockfs.LayoutExtent
	}
	switch b.Allocator {
	case scenarios.AllocFragmented:
		opts.Policy = blockfs.AllocFragmented
	case scenarios.AllocInterleaved:
		opts.Policy = blockfs.AllocInterleaved
	}
	opts.Nobh = b.NoBH == scenarios.On
	opts.NoBarrier = b.FsyncFlush == scenarios.Off
	m.fs = blockfs.NewFs(m.k, m.bdev, opts)
	m.fresh = map[uint64]bool{}
	m.fs.OnNewBlocks = func(first, n uint64) {
		for b := first; b < first+n; b++ {
			m.fresh[b] = true
		}
	}
	mpage.UseMpage(m.fs)
	// Mounted as ext2 (ext2_fill_super's VFS half: s_maxbytes, the
	// barrier, the era's a_ops around mpage's ext2_aops, and
	// block_page_mkwrite for shared mappings in 2.6.2x and 3.x).
	m.sb = ext2.Mount(m.v, m.fs, ext2.Options{})
	// The oracle learns each page's copy right after ->write_end (or
	// ->commit_write), under i_mutex, and each store through a mapping
	// right after it is made.
	m.sb.OnWrite = func(f *vfs.File, pos int64, data content.Bytes) { m.wrote(f.Mapping, pos, data) }
	if wp := m.writepagesChecks(!m.k.Era().WriteCachePages && fx.CyclicWrap && fx.CyclicWrapDeadlock); wp != nil {
		// Wrapped after the mount, around the era's a_ops that ext2.Mount
		// made of mpage's ext2_aops: every era-specific operation
		// (2.6.12's ->prepare_write and ->commit_write, ext2_write_begin's
		// trimming) stays in place.
		m.fs.AOps = wrapWritepages(m.fs.AOps, wp, m.w)
	}
	return nil
}

// writepagesChecks makes the checker of the ->writepages contracts the
// scenario checks (cyclic-complete, sync-complete, writepages-error,
// writeback-index), or returns nil if it checks none. noWrap says the
// kernel's cyclic passes do not wrap (check.CyclicComplete.NoWrap).
func (m *machine) writepagesChecks(noWrap bool) *check.Writepages {
	sync, errs, idx := m.checks(check.InvSyncComplete), m.checks(check.InvWritepagesError), m.checks(check.InvWritebackIndex)
	cyc := m.checks(check.InvCyclicComplete)
	if !sync && !errs && !idx && !cyc {
		return nil
	}
	wp := check.NewWritepages(m.w)
	wp.Sync, wp.Errors, wp.Index = sync, errs, idx
	if cyc {
		wp.Cyclic = check.NewCyclicComplete(m.w)
		wp.Cyclic.NoWrap = noWrap
	}
	return wp
}

// checkWritepages brackets one ->writepages call with the checks of wp.
func checkWritepages(wp *check.Writepages, w *sim.World, t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl,
	writepages func() int) int {
	call := wp.Begin(t, m, wbc)
	ret := writepages()
	if fl := wp.End(call, wbc, ret); fl != nil {
		w.Fail(fl)
	}
	return ret
}

// wrapWritepages puts the ->writepages checks of wp around ->writepages
// of a (the era's ext2 a_ops), and reports each error ->writepage returns
// (mm.TraceWritepageError), forwarding every other operation a has, and
// only those: the wrapper has exactly a's operations (a_ops methods are
// looked up by interface, so a missing one is a NULL pointer).
func wrapWritepages(a mm.AddressSpaceOperations, wp *check.Writepages, w *sim.World) mm.AddressSpaceOperations {
	c := checkedAOps{era: a, wp: wp, w: w}
	if _, ok := a.(vfs.PrepareWriteOp); ok {
		return checkedAOps2612{c}
	}
	return c
}

// checkedAOps is ext2_aops of the era with the ->writepages checks
// around ->writepages.
type checkedAOps struct {
	era mm.AddressSpaceOperations
	wp  *check.Writepages
	w   *sim.World
}

// Writepages is ext2_writepages, checked.
func (a checkedAOps) Writepages(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return checkWritepages(a.wp, a.w, t, m, wbc, func() int { return a.era.(mm.WritepagesOp).Writepages(t, m, wbc) })
}

// Readpage is ext2_readpage.
func (a checkedAOps) Readpage(t *sim.Task, f any, p *mm.Page) int {
	return a.era.(mm.ReadpageOp).Readpage(t, f, p)
}

// Readpages is ext2_readpages.
func (a checkedAOps) Readpages(t *sim.Task, f any, m *mm.AddressSpace, pages []*mm.Page, nr int) int {
	return a.era.(mm.ReadpagesOp).Readpages(t, f, m, pages, nr)
}

// Writepage is ext2_writepage (or nobh_writepage); an error it returns is
// recorded for the writepages-error check (p's Obj is taken first: a
// failed ->writepage may leave the page truncated).
func (a checkedAOps) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	obj := p.Obj()
	ret := a.era.(mm.WritepageOp).Writepage(t, p, wbc)
	if ret < 0 {
		// Not kernel code: a trace record, not a scheduling point.
		a.w.Record(sim.KindPoint, mm.TraceWritepageError, obj, int64(-ret), "")
	}
	return ret
}

// WriteBegin is ext2_write_begin (or ext2_nobh_write_begin).
func (a checkedAOps) WriteBegin(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any) int {
	return a.era.(mm.WriteBeginOp).WriteBegin(t, f, m, pos, length, flags, pagep, fsdata)
}

// WriteEnd is generic_write_end (or nobh_write_end).
func (a checkedAOps) WriteEnd(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, copied uint,
	p *mm.Page, fsdata any) int {
	return a.era.(mm.WriteEndOp).WriteEnd(t, f, m, pos, length, copied, p, fsdata)
}

// checkedAOps2612 is checkedAOps for 2.6.12's ext2_aops, which have
// ->prepare_write and ->commit_write.
type checkedAOps2612 struct{ checkedAOps }

// PrepareWrite is ext2_prepare_write.
func (a checkedAOps2612) PrepareWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int {
	return a.era.(vfs.PrepareWriteOp).PrepareWrite(t, f, p, from, to)
}

// CommitWrite is generic_commit_write.
func (a checkedAOps2612) CommitWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int {
	return a.era.(vfs.CommitWriteOp).CommitWrite(t, f, p, from, to)
}

// afsCheckedAOps is afs_fs_aops with the ->writepages checks around
// ->writepages (inner: afs_writepages; a failed store inside it records
// mm.TraceWritepageError itself).
type afsCheckedAOps struct {
	afs.AfsFsAops
	inner mm.WritepagesOp
	wp    *check.Writepages
	w     *sim.World
}

// Writepages is afs_fs_aops.writepages, checked.
func (a afsCheckedAOps) Writepages(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return checkWritepages(a.wp, a.w, t, m, wbc, func() int { return a.inner.Writepages(t, m, wbc) })
}

// device is the block layer's request_fn: block.DiskDevice over the
// faultdisk, counting write requests for Stats and telling the oracle of
// failed data writes when they complete.
type device struct {
	dd block.DiskDevice
	m  *machine
}

// Submit implements block.Device.
func (d device) Submit(t *sim.Task, rq *block.Request) {
	m := d.m
	if m.crashed {
		return // the old machine's I/O, after the power loss: lost
	}
	if rq.Op == block.ReqWrite {
		if m.stats != nil {
			m.stats.Bios += len(rq.Bios())
			m.stats.BioSizes = append(m.stats.BioSizes, rq.Len)
		}
		orig := rq.Complete
		rq.Complete = func(t *sim.Task, rq *block.Request) {
			if rq.Err != 0 {
				m.writeFailed(rq)
			}
			m.written(rq)
			orig(t, rq)
		}
	}
	d.dd.Submit(t, rq)
}

// written marks the blocks that rq's completed bytes covered as no
// longer fresh: their data is the file's now.
func (m *machine) written(rq *block.Request) {
	if len(m.fresh) == 0 || rq.Bytes <= 0 {
		return
	}
	bs := int64(m.fs.BlockSize())
	start := rq.Sector * block.SectorSize
	for b := start / bs; b*bs < start+rq.Bytes; b++ {
		if b*bs >= start && (b+1)*bs <= start+rq.Bytes {
			delete(m.fresh, uint64(b))
		}
	}
}

// writeFailed tells the oracle which files lost a write.
func (m *machine) writeFailed(rq *block.Request) {
	for _, bio := range rq.Bios() {
		for _, v := range bio.Vecs() {
			p := v.Page
			if p == nil || p.Mapping == nil {
				continue
			}
			for _, f := range m.order {
				if f.ino != nil && f.ino.Mapping == p.Mapping {
					f.of.WritebackError(rq.Err)
				}
			}
		}
	}
}

func (m *machine) buildAFS(on []string) error {
	var fx afs.Fixes
	for _, id := range on {
		if err := fx.Set(id, true); err != nil {
			return err
		}
	}
	a := m.s.FS.AFS
	plan := &faultdisk.Plan{}
	if m.armed {
		plan.Rules = slices.Clone(m.s.Faults.Plan.Rules)
	}
	// Keys that start expired, revoked or rejected: the server refuses
	// them with the matching error.
	for _, k := range a.Keys {
		var e errno.Errno
		switch k.State {
		case scenarios.KeyExpired:
			e = errno.EKEYEXPIRED
		case scenarios.KeyRevoked:
			e = errno.EKEYREVOKED
		case scenarios.KeyRejected:
			e = errno.EKEYREJECTED
		default:
			continue
		}
		plan.Rules = append(plan.Rules, faultdisk.Rule{Match: faultdisk.Match{Ops: faultdisk.Ops(faultdisk.OpStore, faultdisk.OpFetch), Key: k.Name},
			Action: faultdisk.Fail{Errno: e}})
	}
	srv, err := afs.NewServer(m.w, plan)
	if err != nil {
		return err
	}
	if a.Latency > 0 {
		srv.StoreLatency, srv.FetchLatency = a.Latency, a.Latency
	}
	srv.NoShapeCheck = !m.checks(afs.InvRPCShape)
	m.srv = srv
	m.afs = afs.NewFS(m.k, srv, fx)
	m.afsWP = m.writepagesChecks(false)
	m.sb = afs.Mount(m.v, m.afs)
	m.keys = map[string]*afs.Key{}
	for _, k := range a.Keys {
		m.keys[k.Name] = m.afs.NewKey(k.Name)
	}
	// model/vfs's write hook, through the volume's: each page's copy,
	// right after ->write_end, under i_mutex.
	m.afs.OnWrite = func(v *afs.Vnode, pos int64, data content.Bytes) { m.wrote(v.Mapping(), pos, data) }
	for _, fl := range m.s.FS.Files {
		f := m.afsFile(fl.Path)
		if fl.Size > 0 {
			data := f.of.NewData(fl.Size)
			srv.File(f.id).Data.Write(0, data)
			f.of.Wrote(0, data)
			f.v.VFSInode.SetISize(fl.Size)
		}
	}
	return nil
}

// afsFile creates the server file, its vnode and its oracle file.
func (m *machine) afsFile(path string) *mfile {
	id := m.nextID
	m.nextID++
	var writers, readers []string
	acl := false
	for _, e := range m.s.FS.AFS.ACL {
		if e.Path != path {
			continue
		}
		acl = true
		switch e.Rights {
		case scenarios.RightsWrite:
			writers = append(writers, e.Key)
			readers = append(readers, e.Key)
		case scenarios.RightsRead:
			readers = append(readers, e.Key)
		}
	}
	if !acl {
		for _, k := range m.s.FS.AFS.Keys {
			writers = append(writers, k.Name)
		}
	}
	sf := m.srv.AddFile(id, writers...)
	if acl {
		sf.Readers = readers
		if len(readers) == 0 {
			sf.Readers = []string{"\x00nobody"}
		}
	}
	v := m.afs.Iget(uint32(id))
	if m.afsWP != nil {
		inner := m.afsInner
		if inner == nil {
			inner = afs.AfsFsAops{}
		}
		v.VFSInode.Mapping.AOps = afsCheckedAOps{inner: inner, wp: m.afsWP, w: m.w}
	}
	v.SetName(path) // locks print as "io_lock of /db's vnode"
	f := &mfile{path: path, of: m.oracle.NewFile(path), vi: v.Inode, ino: v.VFSInode, v: v, id: id, owner: m}
	m.files[path] = f
	m.order = append(m.order, f)
	return f
}

// blockFile creates an empty regular file on the ext2 mount (ext2_create)
// and its oracle file.
func (m *machine) blockFile(path string) *mfile {
	vi := ext2.Create(m.sb, m.nextIno)
	m.nextIno++
	ext2.EXT2_I(vi).SetName(path) // locks print as "tree_lock of /db's mapping"
	f := &mfile{path: path, of: m.oracle.NewFile(path), vi: vi, ino: vi.I, ei: ext2.EXT2_I(vi), owner: m}
	m.files[path] = f
	m.order = append(m.order, f)
	return f
}

// fileOf is the file whose page cache mapping is, or nil (the block
// device's buffer cache).
func (m *machine) fileOf(mapping *mm.AddressSpace) *mfile {
	for _, f := range m.order {
		if f.ino.Mapping == mapping {
			return f
		}
	}
	return nil
}

// wrote tells the oracle that data (a write's, from NewData) now sits at
// pos in the page cache of mapping.
func (m *machine) wrote(mapping *mm.AddressSpace, pos int64, data content.Bytes) {
	if f := m.fileOf(mapping); f != nil {
		f.of.Wrote(pos, data)
	}
}

// stable is the file's bytes on stable storage: the disk's media through
// the file's block map, or the server's copy.
func (f *mfile) stable(off, n int64) content.Bytes {
	m := f.owner
	if f.v != nil {
		sf := m.srv.File(f.id)
		return sf.Data.Read(0, sf.Data.Size()).Truncate(max(sf.Data.Size(), off+n)).Slice(off, n)
	}
	return f.onDisk(m.disk.Durable(), off, n)
}

// stableSize is the file's length on stable storage: the server's, or
// i_size (the inode is taken as journalled, like the block map).
func (f *mfile) stableSize() int64 {
	if f.v != nil {
		return f.owner.srv.File(f.id).Data.Size()
	}
	return mm.ISizeRead(f.ino)
}

// onDisk maps [off, off+n) of the file through its blocks onto store:
// holes read as zeros.
//
// The block map is read as a journalling file system in ordered mode
// would commit it: a block counts as mapped only once a write of its data
// has completed since it was allocated (m.fresh). Before that it reads as
// the hole it was. Without this, a block that a truncate freed and a
// later write allocated again would show the other file's old data until
// the new page is written back: ext2's real stale-data exposure, which
// the checks here do not judge (they take the block maps as journalled).
func (f *mfile) onDisk(store *content.Store, off, n int64) content.Bytes {
	return f.onDiskVia(store.Read, f.ei.Mapped(), off, n)
}

// onDiskVia is onDisk reading the device's bytes through read (a store's,
// or the explorer's look at the disk's cache and media without catching
// it up) and the block map mapped: the file system's record, or the tree
// fsck repaired on a crashed image.
func (f *mfile) onDiskVia(read func(off, n int64) content.Bytes, mapped []blockfs.Extent, off, n int64) content.Bytes {
	m := f.owner
	bs := int64(m.fs.BlockSize())
	out := content.Zeros(n)
	for _, e := range mapped {
		lo, hi := int64(e.Logical)*bs, int64(e.Logical+e.Len)*bs
		lo, hi = max(lo, off), min(hi, off+n)
		if lo >= hi {
			continue
		}
		phys := int64(e.Phys)*bs + lo - int64(e.Logical)*bs
		data := read(phys, hi-lo)
		if len(m.fresh) > 0 {
			for b := phys / bs; b*bs < phys+hi-lo; b++ {
				if m.fresh[uint64(b)] {
					from := max(b*bs, phys)
					to := min((b+1)*bs, phys+hi-lo)
					data = data.Overwrite(from-phys, content.Zeros(to-from))
				}
			}
		}
		out = out.Overwrite(lo-off, data)
	}
	return out
}

// observe watches the trace: it counts the functions the daemons are in,
// tells the oracle of a refused AFS store as soon as the client learns of
// it, of a truncation as it begins (notify_change, under i_mutex), and of
// the writeback errors a sync(2) consumes as it consumes them; and it
// gives failures the scenario position of the op the failing task was
// running.
func (m *machine) observe(w *sim.World, ev *sim.Event) {
	if m.closerTask != nil && ev.Task >= 0 && ev.Task != m.closerTask.ID() {
		m.activity++
	}
	switch ev.Kind {
	case sim.KindFault:
		if ev.Obj.Class == "disk" {
			m.faultHit(ev)
		}
		return
	case sim.KindPoint:
		if ev.Op == mm.TraceWritebackError {
			m.syncConsumed(ev)
		}
		return
	case sim.KindEnter, sim.KindLeave:
		if ev.Kind == sim.KindEnter && ev.Op == "notify_change" {
			if p := m.truncs[ev.Task]; p != nil {
				delete(m.truncs, ev.Task)
				p.f.of.Truncate(p.size)
			}
		}
		if t := w.Current(); t != nil && t.Daemon() {
			if ev.Kind == sim.KindEnter {
				m.inDaemon++
			} else {
				m.inDaemon--
			}
		}
		if ev.Kind == sim.KindLeave && ev.Op == "afs_vnode_store_data" {
			m.noteErrors()
		}
		return
	case sim.KindFail:
	default:
		return
	}
	f := w.Failure()
	if f == nil || strings.Contains(f.Msg, "[at ") {
		return
	}
	if op := m.current[f.Task]; op != nil {
		f.Msg += fmt.Sprintf(" [at %s: %s]", m.opAt(f.Task, op), opText(op))
		m.explainLoops(f)
		return
	}
	// A world failure (deadlock, time budget): where each unfinished
	// scenario task is.
	var at []string
	for _, st := range m.s.Tasks {
		if op := m.current[st.Name]; op != nil {
			at = append(at, fmt.Sprintf("%s at %s: %s", st.Name, m.opAt(st.Name, op), opText(op)))
		}
	}
	if len(at) > 0 {
		f.Msg += " [unfinished: " + strings.Join(at, "; ") + "]"
	}
	m.explainLoops(f)
}

// faultHit records the sectors a disk fault hit: the request's, and a
// misdirected write's target (faultdisk.Fault.String: "-> sector N").
func (m *machine) faultHit(ev *sim.Event) {
	m.damaged = append(m.damaged, [2]int64{ev.Obj.A, ev.Obj.A + ev.Obj.B})
	if i := strings.LastIndex(ev.Msg, " -> sector "); i >= 0 {
		var to int64
		if _, err := fmt.Sscan(ev.Msg[i+len(" -> sector "):], &to); err == nil {
			m.damaged = append(m.damaged, [2]int64{to, to + ev.Obj.B})
		}
	}
}

// damagedBlock says whether a fault hit a sector of block b.
func (m *machine) damagedBlock(b uint64) bool {
	spb := int64(m.fs.BlockSize()) / block.SectorSize
	lo, hi := int64(b)*spb, int64(b+1)*spb
	for _, r := range m.damaged {
		if r[0] < hi && lo < r[1] {
			return true
		}
	}
	return false
}

func opText(op *scenarios.Op) string {
	s := string(op.Kind)
	if op.FD != "" {
		s += " " + op.FD
	}
	return s
}

// onFixes are the fix switches a run of s starts with: the scenario's
// fixes line and its kernel's baseline fixes (scenarios.Fix.Baseline),
// less the one its bug block names and those in off.
func onFixes(s *scenarios.Scenario, off []string) []string {
	on := slices.Clone(s.Fixes)
	for _, id := range scenarios.BaselineFixes(s.Kernel) {
		if s.Bug != nil && s.Bug.Switch == id || slices.Contains(off, id) || slices.Contains(on, id) {
			continue
		}
		on = append(on, id)
	}
	return on
}
