package vfs_test

import (
	"fmt"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/block/blocktest"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/model/vfs/ext2"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// config is one simulated machine: a kernel era and architecture, and
// either a blockfs file system on a faultdisk disk mounted as ext2, or an AFS
// volume on a simulated server.
type config struct {
	afs       bool
	version   mm.Version
	bits32    bool
	bs        uint
	layout    blockfs.Layout
	nobh      bool
	mpage     bool
	noMkwrite bool
	noBarrier bool
	mpageFix  mpage.Fixes
	sectors   int64 // device capacity (default 1<<16: 32 MiB)
}

func (c config) String() string {
	if c.afs {
		return "afs"
	}
	s := fmt.Sprintf("%s/%s/bs%d", c.version, c.layout, c.bs)
	if c.bits32 {
		s += "/32bit"
	}
	if c.nobh {
		s += "/nobh"
	}
	if c.mpage {
		s += "/mpage"
	}
	if c.noMkwrite {
		s += "/no-mkwrite"
	}
	return s
}

// machine is the kernel, the VFS, the mounted file system and the oracle.
type machine struct {
	c       config
	w       *sim.World
	k       *mm.Kernel
	v       *vfs.VFS
	sb      *vfs.SuperBlock
	dev     *blocktest.Device
	fs      *blockfs.Fs
	srv     *afs.Server
	afs     *afs.FS
	key     *afs.Key
	o       *check.Oracle
	files   []*mfile
	nextIno uint64
	free0   uint64 // free blocks right after the mount
}

// mfile is one file: its VFS inode and the oracle's view of it.
type mfile struct {
	m   *machine
	ino *vfs.Inode
	of  *check.File
	id  uint64
}

func newMachine(w *sim.World, c config) *machine {
	k := mm.NewKernel(w, c.version)
	k.Bits32 = c.bits32
	m := &machine{c: c, w: w, k: k, v: vfs.New(k), o: check.NewOracle(check.Linux26)}
	if c.afs {
		srv, err := afs.NewServer(w, nil)
		if err != nil {
			panic(err)
		}
		m.srv = srv
		m.afs = afs.NewFS(k, srv, afs.AllFixes()) // the vfs is under test, not the seed's bugs
		m.key = m.afs.NewKey("k0")
		m.sb = afs.Mount(m.v, m.afs)
		return m
	}
	mpage.Setup(k, mpage.Config{Fixes: c.mpageFix})
	if c.sectors == 0 {
		c.sectors = 1 << 16
	}
	m.dev = blocktest.New(w, k, c.sectors, faultdisk.Config{})
	if c.bs == 0 {
		c.bs = 4096
	}
	bdev := block.NewBlockDevice(k, "sda", m.dev, c.sectors, 512)
	m.fs = blockfs.NewFs(k, bdev, blockfs.Options{BlockSize: c.bs, Layout: c.layout, Nobh: c.nobh,
		NoBarrier: c.noBarrier})
	if c.mpage {
		mpage.UseMpage(m.fs)
	}
	m.sb = ext2.Mount(m.v, m.fs, ext2.Options{NoPageMkwrite: c.noMkwrite})
	m.free0 = m.fs.FreeBlocks()
	return m
}

// create makes an empty file.
func (m *machine) create(name string) *mfile {
	m.nextIno++
	var ino *vfs.Inode
	if m.afs != nil {
		m.srv.AddFile(m.nextIno, "k0")
		ino = m.afs.Iget(uint32(m.nextIno)).Inode
	} else {
		ino = ext2.Create(m.sb, 10+m.nextIno)
	}
	f := &mfile{m: m, ino: ino, of: m.o.NewFile(name), id: m.nextIno}
	m.files = append(m.files, f)
	return f
}

// open opens f for reading and writing, with the machine's key on AFS.
func (f *mfile) open(t *sim.Task) (*vfs.File, *check.FD) {
	var cred any
	if f.m.key != nil {
		cred = f.m.key
	}
	vf, err := vfs.Open(t, f.ino, vfs.FMODE_READ|vfs.FMODE_WRITE, cred)
	if err != 0 {
		t.World().Failf("open", f.ino.Obj(), "open returned %d", err)
		return nil, nil
	}
	return vf, f.of.Open()
}

// stable reads the file's bytes on stable storage: the device's durable
// store through the file's block map, or the server's copy.
func (f *mfile) stable(off, n int64) content.Bytes {
	if f.m.srv != nil {
		return f.m.srv.File(f.id).Data.Read(off, n)
	}
	return ext2.DiskReader(f.ino, f.m.dev.Stable)(off, n)
}

// disk reads the file's bytes as the disk (or server) holds them now,
// volatile cache included.
func (f *mfile) disk(off, n int64) content.Bytes {
	if f.m.srv != nil {
		return f.m.srv.File(f.id).Data.Read(off, n)
	}
	return ext2.DiskReader(f.ino, f.m.dev.Read)(off, n)
}

// fail fails the run with a check's failure, if there is one.
func fail(t *sim.Task, fl *sim.Failure) bool {
	if fl != nil {
		t.World().Fail(fl)
		return true
	}
	return false
}

// failf fails the run.
func failf(t *sim.Task, inv string, format string, args ...any) {
	t.World().Failf(inv, sim.Obj{Class: "test"}, format, args...)
}

// readAll reads the whole file through the VFS and checks it against the
// oracle (read-correct), past the end of file too.
func (f *mfile) readAll(t *sim.Task, vf *vfs.File) bool {
	size := f.of.Size()
	got, n := vfs.Pread(t, vf, 0, size+3*mm.PageSize)
	if n != got.Len() {
		failf(t, check.InvReadCorrect, "pread returned %d with %d bytes", n, got.Len())
		return false
	}
	return !fail(t, f.of.CheckRead(0, size+3*mm.PageSize, got))
}

// fsync is fsync(2) with the fsync-error and fsync-durable checks; with no
// faults it must return 0.
func (f *mfile) fsync(t *sim.Task, vf *vfs.File, fd *check.FD, data bool) bool {
	s := fd.BeginFsync(fmt.Sprintf("at %v", t.World().Now()))
	var ret int
	if data {
		ret = vfs.Fdatasync(t, vf)
	} else {
		ret = vfs.Fsync(t, vf)
	}
	if fail(t, s.End(ret)) {
		return false
	}
	if ret != 0 {
		failf(t, check.InvFsyncError, "fsync returned %d with no fault injected", ret)
		return false
	}
	return !fail(t, f.of.CheckDurable(check.InvFsyncDurable, f.stable))
}

// quiescent adds the end-of-run checks: every page reference dropped and
// no page locked or under writeback (mm.CheckQuiescent, and AFS's record
// and page checks), and a consistent file system. Call it after the files
// are made.
func (m *machine) quiescent() {
	var ms []*mm.AddressSpace
	for _, f := range m.files {
		ms = append(ms, f.ino.I.Mapping)
	}
	if m.afs != nil {
		m.k.CheckQuiescent(ms...)
		m.w.AtEnd(func() { afs.Fail(m.w, append(m.afs.CheckRecords(), m.afs.CheckPages()...)) })
		return
	}
	m.k.CheckQuiescent(append(ms, m.fs.Bdev.Inode.Mapping)...)
	m.w.AtEnd(func() {
		if err := m.fs.Fsck(m.dev.Read); err != nil {
			m.w.Failf("fsck", sim.Obj{Class: "fs"}, "%v", err)
		}
	})
}
