package mpage_test

import (
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/block/blocktest"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

var versions = []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x}

// envOpts describes one simulated machine: kernel, disk, file system.
type envOpts struct {
	version  mm.Version
	bits32   bool
	cfg      mpage.Config
	fs       blockfs.Options
	sectors  int64    // device capacity (default 1<<22: 2 GiB)
	latency  sim.Time // device latency (default 100us)
	seed     uint64
	strategy sim.Strategy
	maxSteps int64
}

// env is one world with a kernel, a faultdisk disk (block/blocktest), a
// block device, a blockfs file system using mpage, and the files made on
// it with their oracles.
type env struct {
	w     *sim.World
	k     *mm.Kernel
	dev   *blocktest.Device
	bdev  *block.BlockDevice
	fs    *blockfs.Fs
	files []*file
}

// file is one file and its oracle: the bytes it must hold (content.Fill
// with the file offset as source position, as blockfs's tests do).
type file struct {
	e      *env
	ei     *blockfs.Inode
	ino    *mm.Inode
	oracle content.Bytes
}

func newEnv(o envOpts) *env {
	return newEnvOn(sim.New(sim.Config{Seed: o.seed, Strategy: o.strategy, MaxSteps: o.maxSteps, TraceKeep: 32}), o)
}

// newEnvOn builds the machine on an existing world (sim.Explore's).
func newEnvOn(w *sim.World, o envOpts) *env {
	k := mm.NewKernel(w, o.version)
	k.Bits32 = o.bits32
	mpage.Setup(k, o.cfg)
	var cfg faultdisk.Config
	if o.latency != 0 {
		cfg = blocktest.Latency(o.latency)
	}
	if o.sectors == 0 {
		o.sectors = 1 << 22
	}
	dev := blocktest.New(w, k, o.sectors, cfg)
	bdev := block.NewBlockDevice(k, "sda", dev, o.sectors, 512)
	if o.fs.BlockSize == 0 {
		o.fs.BlockSize = 4096
	}
	fs := blockfs.NewFs(k, bdev, o.fs)
	mpage.UseMpage(fs)
	return &env{w: w, k: k, dev: dev, bdev: bdev, fs: fs}
}

func (e *env) newFile(ino uint64) *file {
	ei := e.fs.NewInode(ino)
	f := &file{e: e, ei: ei, ino: ei.VFS}
	e.files = append(e.files, f)
	return f
}

// run runs body as the only task and fails the test on a failed run.
func (e *env) run(tb testing.TB, body func(t *sim.Task)) *sim.Result {
	tb.Helper()
	e.w.Spawn("test", body)
	res := e.w.Run()
	if res.Failure != nil {
		tb.Fatalf("%s: run failed: %s", e.k.Version, res.Failure.Report())
	}
	return res
}

// write is write(2) of n bytes of stamp at off, under i_mutex: generic_perform_write
// reduced to ->write_begin, the copy and ->write_end, page by page. The
// oracle follows.
func (f *file) write(t *sim.Task, off, n int64, stamp content.Stamp) int {
	f.ino.IMutex.Lock(t)
	defer f.ino.IMutex.Unlock(t)
	m := f.ino.Mapping
	aops := m.AOps
	for pos := off; pos < off+n; {
		offset := pos & (mm.PageSize - 1)
		bytes := min(mm.PageSize-offset, off+n-pos)
		var page *mm.Page
		var fsdata any
		if ret := aops.(mm.WriteBeginOp).WriteBegin(t, nil, m, pos, uint(bytes), 0, &page, &fsdata); ret != 0 {
			return ret
		}
		mm.CopyToPage(t, page, uint(offset), content.Fill(bytes, stamp, pos))
		copied := aops.(mm.WriteEndOp).WriteEnd(t, nil, m, pos, uint(bytes), uint(bytes), page, fsdata)
		if copied <= 0 {
			return copied
		}
		pos += int64(copied)
	}
	if end := off + n; end > f.oracle.Len() {
		f.oracle = f.oracle.Truncate(end)
	}
	f.oracle = f.oracle.Overwrite(off, content.Fill(n, stamp, off))
	return 0
}

// setSize is truncate(2) under i_mutex: vmtruncate (2.6.x) or truncate_setsize (3.x).
// The file system frees no blocks (blockfs has no ->truncate), so the
// tests only grow files this way, or shrink them where data is not checked.
func (f *file) setSize(t *sim.Task, size int64) {
	f.ino.IMutex.Lock(t)
	defer f.ino.IMutex.Unlock(t)
	if f.e.k.Version == mm.V3x {
		mm.TruncateSetsize(t, f.ino, size)
	} else {
		mm.VMTruncate(t, f.ino, size)
	}
	f.oracle = f.oracle.Truncate(size)
}

// fsync is ->fsync of the whole file.
func (f *file) fsync(t *sim.Task) int {
	return f.e.fs.Fsync(t, f.ei, 0, mm.LLONG_MAX, 0)
}

// dropCache is invalidate_mapping_pages over the whole file (echo 1 >
// drop_caches): clean, unused pages leave the page cache.
func (f *file) dropCache(t *sim.Task) {
	mm.InvalidateMappingPages(t, f.ino.Mapping, 0, f.e.k.PgoffMax())
}

// readahead is read_pages(): allocate the pages [start, start+n) that are
// not cached and hand them to ->readpages in one call.
func (f *file) readahead(t *sim.Task, start, n uint64) {
	m := f.ino.Mapping
	var pages []*mm.Page
	for i := start; i < start+n; i++ {
		if p := mm.FindGetPage(t, m, i); p != nil {
			mm.PageCacheRelease(t, p)
			continue
		}
		p := mm.PageCacheAlloc(t, m)
		p.Index = i
		pages = append(pages, p)
	}
	if len(pages) > 0 {
		m.AOps.(mm.ReadpagesOp).Readpages(t, nil, m, pages, len(pages))
	}
}

// readPage returns the contents of page index after reading it (through
// ->readpage if readahead did not bring it in), and whether it is uptodate.
func (f *file) readPage(t *sim.Task, index uint64) (content.Bytes, bool) {
	m := f.ino.Mapping
	p := mm.FindGetPage(t, m, index)
	if p == nil {
		p = mm.FindOrCreatePage(t, m, index)
		if !mm.PageUptodate(p) {
			m.AOps.(mm.ReadpageOp).Readpage(t, nil, p)
		} else {
			mm.UnlockPage(t, p)
		}
	}
	mm.WaitOnPageLocked(t, p)
	d, ok := p.Data, mm.PageUptodate(p)
	mm.PageCacheRelease(t, p)
	return d, ok
}

// readAll reads the whole file through readahead windows of ra pages and
// returns its pages' contents, whole pages (past EOF included).
func (f *file) readAll(t *sim.Task, ra uint64) (content.Bytes, error) {
	size := mm.ISizeRead(f.ino)
	npages := uint64((size + mm.PageSize - 1) >> mm.PageCacheShift)
	var got content.Bytes
	for i := uint64(0); i < npages; i += ra {
		f.readahead(t, i, min(ra, npages-i))
		for j := i; j < min(i+ra, npages); j++ {
			d, ok := f.readPage(t, j)
			if !ok {
				return got, fmt.Errorf("page %d not uptodate after read", j)
			}
			got = got.Append(d)
		}
	}
	return got, nil
}

// want is the oracle over whole pages: zeros past EOF.
func (f *file) want() content.Bytes {
	n := (f.oracle.Len() + mm.PageSize - 1) &^ (mm.PageSize - 1)
	return f.oracle.Truncate(n)
}

// diskImage is the file as the disk holds it, block by block through the
// file system's own map (no I/O): unmapped blocks read as zeros. It
// covers the file's blocks up to i_size, rounded up to a block.
func (f *file) diskImage() content.Bytes {
	bs := int64(f.e.fs.BlockSize())
	size := mm.ISizeRead(f.ino)
	nblocks := (size + bs - 1) / bs
	var img content.Bytes
	for b := int64(0); b < nblocks; {
		phys, n, ok := f.ei.Lookup(uint64(b))
		if !ok {
			// a hole: find where it ends
			e := b + 1
			for e < nblocks {
				if _, _, ok := f.ei.Lookup(uint64(e)); ok {
					break
				}
				e++
			}
			img = img.Append(content.Zeros((e - b) * bs))
			b = e
			continue
		}
		cnt := min(int64(n), nblocks-b)
		img = img.Append(f.e.dev.Read(int64(phys)*bs, cnt*bs))
		b += cnt
	}
	return img
}

// wantBlocks is the oracle over whole blocks: zeros past EOF.
func (f *file) wantBlocks() content.Bytes {
	bs := int64(f.e.fs.BlockSize())
	return f.oracle.Truncate((f.oracle.Len() + bs - 1) / bs * bs)
}

// diff describes where two contents differ.
func diff(got, want content.Bytes) string {
	at := got.FirstDiff(want)
	if at < 0 {
		return ""
	}
	lo := max(at-8, 0)
	return fmt.Sprintf("first difference at byte %d (block-aligned %d): got %v ... want %v ...", at, lo,
		got.Slice(lo, min(got.Len()-lo, 64)), want.Slice(lo, min(want.Len()-lo, 64)))
}
