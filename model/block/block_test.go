package block

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// tenv is a world with a kernel, a faultdisk disk behind DiskDevice (the
// product's device), a block device, and one file (inode 5) whose byte x
// lives at sector fileBase + x/512, except where moved says otherwise
// (page index -> sector of its first byte).
type tenv struct {
	w     *sim.World
	k     *mm.Kernel
	dev   *logDevice
	bdev  *BlockDevice
	file  *mm.Inode
	moved map[uint64]int64
}

const fileBase = 8192

// logDevice is DiskDevice with the list of requests it was given, in
// dispatch order (block/blocktest has more, but imports this package).
type logDevice struct {
	DiskDevice
	Log []*Request
}

func (d *logDevice) Submit(t *sim.Task, rq *Request) {
	d.Log = append(d.Log, rq)
	d.DiskDevice.Submit(t, rq)
}

// newTenv builds the machine; plan (nil: none) is the disk's fault plan.
func newTenv(seed uint64, v mm.Version, plan *faultdisk.Plan) *tenv {
	w := sim.New(sim.Config{Seed: seed, TraceKeep: 64})
	k := mm.NewKernel(w, v)
	disk, err := faultdisk.New(w, faultdisk.Config{Sectors: 1 << 20, Plan: plan})
	if err != nil {
		panic(err)
	}
	dev := &logDevice{DiskDevice: NewDiskDevice(Init(k), disk)}
	bdev := NewBlockDevice(k, "sda", dev, 1<<20, 1024)
	e := &tenv{w: w, k: k, dev: dev, bdev: bdev, moved: map[uint64]int64{}}
	e.file = k.NewInode(5, 12, nil, nil)
	e.file.SetISize(1 << 30)
	bdev.Where = func(p *mm.Page, off uint) (int64, Placement) {
		if p.Mapping != e.file.Mapping {
			return 0, PlaceUnknown
		}
		if s, ok := e.moved[p.Index]; ok {
			return s + int64(off)/SectorSize, PlaceMapped
		}
		return fileBase + (int64(p.Index)*mm.PageSize+int64(off))/SectorSize, PlaceMapped
	}
	return e
}

func (e *tenv) page(t *sim.Task, index uint64) *mm.Page {
	p := mm.FindOrCreatePage(t, e.file.Mapping, index)
	return p
}

// readBio builds a read bio of whole pages first..first+n-1 at the
// sector where page first belongs.
func (e *tenv) readBio(t *sim.Task, pages []*mm.Page) *Bio {
	bio := BioAlloc(t, GFP_KERNEL, len(pages))
	bio.Bdev = e.bdev
	bio.Sector = uint64(fileBase + int64(pages[0].Index)*mm.PageSize/SectorSize)
	for _, p := range pages {
		if BioAddPage(t, bio, p, mm.PageSize, 0) != mm.PageSize {
			panic("bio_add_page refused")
		}
	}
	return bio
}

// preload writes data at byte off of the disk (into its volatile cache)
// before the test's own I/O, from t.
func (e *tenv) preload(t *sim.Task, off int64, data content.Bytes) {
	var done sim.Completion
	e.dev.Disk.Submit(t, &faultdisk.IO{Op: faultdisk.OpWrite, Sector: off / SectorSize,
		Count: data.Len() / SectorSize, Data: data, Done: func(it *sim.Task, _ *faultdisk.IO) { done.Complete(it) }})
	done.Wait(t)
}

// failReadsAfterPage is a plan that fails every read with EIO after its
// first page.
var failReadsAfterPage = &faultdisk.Plan{Rules: []faultdisk.Rule{{
	Match:  faultdisk.Match{Ops: faultdisk.Ops(faultdisk.OpRead)},
	Action: faultdisk.Partial{Bytes: mm.PageSize, Errno: errno.EIO},
}}}

func runOne(e *tenv, body func(t *sim.Task)) *sim.Result {
	e.w.Spawn("test", body)
	return e.w.Run()
}

func endPagesRead(t *sim.Task, bio *Bio, err int) {
	for _, bv := range bio.Vecs() {
		if err == 0 {
			mm.SetPageUptodate(t, bv.Page)
		} else {
			mm.SetPageError(t, bv.Page)
		}
		mm.UnlockPage(t, bv.Page)
	}
	BioPut(t, bio)
}

func TestBioShapeGoodBioPasses(t *testing.T) {
	e := newTenv(1, mm.V2_6_2x, nil)
	res := runOne(e, func(tk *sim.Task) {
		e.preload(tk, fileBase*SectorSize, content.Fill(3*mm.PageSize, 9, 0))
		pages := []*mm.Page{e.page(tk, 0), e.page(tk, 1), e.page(tk, 2)}
		bio := e.readBio(tk, pages)
		bio.EndIO = endPagesRead
		SubmitBio(tk, READ, bio)
		for i, p := range pages {
			mm.WaitOnPageLocked(tk, p)
			if !mm.PageUptodate(p) {
				t.Errorf("page %d not uptodate", i)
			}
			if d := cmp.Diff(content.Fill(mm.PageSize, 9, int64(i)*mm.PageSize).String(), p.Data.String()); d != "" {
				t.Errorf("page %d data (-want +got):\n%s", i, d)
			}
		}
		if !bio.Freed() {
			t.Errorf("bio not freed after completion")
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
}

func TestBioShapeViolations(t *testing.T) {
	cases := []struct {
		name string
		want string // substring of the failure message
		make func(e *tenv, tk *sim.Task) *Bio
	}{
		{"non-contiguous", "not contiguous on disk", func(e *tenv, tk *sim.Task) *Bio {
			e.moved[1] = 1 << 18 // page 1's blocks are elsewhere
			return e.readBio(tk, []*mm.Page{e.page(tk, 0), e.page(tk, 1)})
		}},
		{"wrong order", "not contiguous on disk", func(e *tenv, tk *sim.Task) *Bio {
			p0, p1 := e.page(tk, 0), e.page(tk, 1)
			bio := e.readBio(tk, []*mm.Page{p1})
			BioAddPage(tk, bio, p0, mm.PageSize, 0)
			return bio
		}},
		{"gap in pages, blocks apart", "not contiguous on disk", func(e *tenv, tk *sim.Task) *Bio {
			return e.readBio(tk, []*mm.Page{e.page(tk, 0), e.page(tk, 2)})
		}},
		{"partial middle page", "partial page in the middle", func(e *tenv, tk *sim.Task) *Bio {
			p0, p1 := e.page(tk, 0), e.page(tk, 1)
			bio := BioAlloc(tk, GFP_KERNEL, 2)
			bio.Bdev = e.bdev
			bio.Sector = fileBase
			BioAddPage(tk, bio, p0, 2048, 0)
			BioAddPage(tk, bio, p1, mm.PageSize, 0)
			return bio
		}},
		{"partial last page over data", "partial last page", func(e *tenv, tk *sim.Task) *Bio {
			p0, p1 := e.page(tk, 0), e.page(tk, 1)
			bio := BioAlloc(tk, GFP_KERNEL, 2)
			bio.Bdev = e.bdev
			bio.Sector = fileBase
			BioAddPage(tk, bio, p0, mm.PageSize, 0)
			BioAddPage(tk, bio, p1, 1024, 0)
			return bio
		}},
		{"too many segments", "segments", func(e *tenv, tk *sim.Task) *Bio {
			e.bdev.Limits.MaxSegments = 2
			bio := BioAlloc(tk, GFP_KERNEL, 3)
			bio.Bdev = e.bdev
			bio.Sector = fileBase
			for i := uint64(0); i < 3; i++ { // bypass bio_add_page's limit
				bio.IoVec[i] = BioVec{Page: e.page(tk, i), Len: mm.PageSize}
				bio.Vcnt++
				bio.Size += mm.PageSize
			}
			return bio
		}},
		{"too many sectors", "max_sectors", func(e *tenv, tk *sim.Task) *Bio {
			e.bdev.Limits.MaxSectors = 8
			bio := BioAlloc(tk, GFP_KERNEL, 2)
			bio.Bdev = e.bdev
			bio.Sector = fileBase
			for i := uint64(0); i < 2; i++ {
				bio.IoVec[i] = BioVec{Page: e.page(tk, i), Len: mm.PageSize}
				bio.Vcnt++
				bio.Size += mm.PageSize
			}
			return bio
		}},
		{"size mismatch", "bi_size", func(e *tenv, tk *sim.Task) *Bio {
			bio := e.readBio(tk, []*mm.Page{e.page(tk, 0)})
			bio.Size += 512
			return bio
		}},
		{"hole", "in a hole", func(e *tenv, tk *sim.Task) *Bio {
			bio := e.readBio(tk, []*mm.Page{e.page(tk, 3)})
			where := e.bdev.Where
			e.bdev.Where = func(p *mm.Page, off uint) (int64, Placement) {
				if p.Index == 3 {
					return 0, PlaceHole
				}
				return where(p, off)
			}
			return bio
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTenv(2, mm.V2_6_2x, nil)
			res := runOne(e, func(tk *sim.Task) {
				bio := c.make(e, tk)
				bio.EndIO = endPagesRead
				SubmitBio(tk, READ, bio)
				t.Errorf("submit_bio returned for a bad bio")
			})
			f := res.Failure
			if f == nil || f.Invariant != InvBioShape {
				t.Fatalf("want a bio-shape failure, got %v", f)
			}
			if !strings.Contains(f.Msg, c.want) {
				t.Errorf("message %q does not say %q", f.Msg, c.want)
			}
			if f.Explain == "" {
				t.Errorf("no explanation")
			}
			if len(e.dev.Log) != 0 {
				t.Errorf("a bad bio reached the device")
			}
		})
	}
}

func TestBioAddPageLimits(t *testing.T) {
	e := newTenv(3, mm.V2_6_2x, nil)
	e.bdev.Limits = QueueLimits{MaxSectors: 32, MaxHWSectors: 64, MaxSegments: 128}
	res := runOne(e, func(tk *sim.Task) {
		if n := BioGetNrVecs(e.bdev); n != 4 {
			t.Errorf("bio_get_nr_vecs = %d, want 4 (16 KiB of 4 KiB pages)", n)
		}
		bio := BioAlloc(tk, GFP_KERNEL, 16)
		bio.Bdev = e.bdev
		added := 0
		for i := uint64(0); i < 8; i++ {
			if BioAddPage(tk, bio, e.page(tk, i), mm.PageSize, 0) == 0 {
				break
			}
			added++
		}
		if added != 4 || bio.Size != 4*mm.PageSize {
			t.Errorf("added %d pages (%d bytes), want 4 pages: max_sectors 32", added, bio.Size)
		}
		// Sub-page pieces of one page merge into one io_vec.
		bio2 := BioAlloc(tk, GFP_KERNEL, 1)
		bio2.Bdev = e.bdev
		p := e.page(tk, 9)
		for off := uint(0); off < mm.PageSize; off += 1024 {
			BioAddPage(tk, bio2, p, 1024, off)
		}
		if bio2.Vcnt != 1 || bio2.Size != mm.PageSize {
			t.Errorf("vcnt %d size %d, want one merged io_vec of a page", bio2.Vcnt, bio2.Size)
		}
		if bio2.MaxVecs != BIO_INLINE_VECS {
			t.Errorf("bi_max_vecs = %d, want %d", bio2.MaxVecs, BIO_INLINE_VECS)
		}
		if b := BioAlloc(tk, GFP_KERNEL, BIO_MAX_PAGES+1); b != nil {
			t.Errorf("bio_alloc of %d vecs succeeded", BIO_MAX_PAGES+1)
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
}

func TestBioAllocFault(t *testing.T) {
	e := newTenv(4, mm.V2_6_2x, nil)
	var sites []string
	e.bdev.Layer().AllocFault = func(site string) bool { sites = append(sites, site); return len(sites) == 2 }
	res := runOne(e, func(tk *sim.Task) {
		got := []bool{BioAlloc(tk, GFP_KERNEL, 1) != nil, BioAlloc(tk, GFP_KERNEL, 1) != nil,
			BioAlloc(tk, GFP_KERNEL, 1) != nil}
		if d := cmp.Diff([]bool{true, false, true}, got); d != "" {
			t.Errorf("allocations (-want +got):\n%s", d)
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
	if d := cmp.Diff([]string{"bio_alloc", "bio_alloc", "bio_alloc"}, sites); d != "" {
		t.Errorf("sites (-want +got):\n%s", d)
	}
}

// The 2.6.12 bi_end_io form: a request that fails half way calls the
// handler twice, first for the good bytes (handler returns 1: not done),
// then for the rest with -EIO.
func TestEndIO2612PartialCompletion(t *testing.T) {
	e := newTenv(5, mm.V2_6_12, failReadsAfterPage)
	type call struct {
		BytesDone, SizeLeft uint
		Err, Ret            int
		Uptodate            bool
	}
	var calls []call
	res := runOne(e, func(tk *sim.Task) {
		pages := []*mm.Page{e.page(tk, 0), e.page(tk, 1)}
		bio := e.readBio(tk, pages)
		var done sim.Completion
		bio.EndIO2612 = func(t *sim.Task, bio *Bio, bytesDone uint, err int) int {
			c := call{BytesDone: bytesDone, SizeLeft: bio.Size, Err: err, Uptodate: BioFlagged(bio, BIO_UPTODATE)}
			if bio.Size != 0 {
				c.Ret = 1
				calls = append(calls, c)
				return 1
			}
			calls = append(calls, c)
			BioPut(t, bio)
			done.Complete(t)
			return 0
		}
		SubmitBio(tk, READ, bio)
		done.Wait(tk)
		for _, p := range pages {
			mm.UnlockPage(tk, p)
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
	want := []call{{BytesDone: mm.PageSize, SizeLeft: mm.PageSize, Err: 0, Ret: 1, Uptodate: true},
		{BytesDone: mm.PageSize, SizeLeft: 0, Err: -5, Ret: 0, Uptodate: false}}
	if d := cmp.Diff(want, calls); d != "" {
		t.Errorf("bi_end_io calls (-want +got):\n%s", d)
	}
}

// The 2.6.24+ form: one call, when the whole bio is done, with the error.
func TestEndIOPartialCompletionModern(t *testing.T) {
	e := newTenv(6, mm.V2_6_2x, failReadsAfterPage)
	var errs []int
	res := runOne(e, func(tk *sim.Task) {
		e.preload(tk, fileBase*SectorSize, content.Fill(2*mm.PageSize, 4, 0))
		pages := []*mm.Page{e.page(tk, 0), e.page(tk, 1)}
		bio := e.readBio(tk, pages)
		bio.EndIO = func(t *sim.Task, bio *Bio, err int) {
			errs = append(errs, err)
			endPagesRead(t, bio, err)
		}
		SubmitBio(tk, READ, bio)
		mm.WaitOnPageLocked(tk, pages[1])
		if !pages[0].Data.Equal(content.Fill(mm.PageSize, 4, 0)) {
			t.Errorf("the good half was not read: %v", pages[0].Data)
		}
		if !pages[1].Data.Equal(content.Zeros(mm.PageSize)) {
			t.Errorf("the failed half got data: %v", pages[1].Data)
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
	if d := cmp.Diff([]int{-5}, errs); d != "" {
		t.Errorf("bi_end_io errors (-want +got):\n%s", d)
	}
}

func TestBioBeyondEndOfDevice(t *testing.T) {
	e := newTenv(7, mm.V2_6_2x, nil)
	var errs []int
	res := runOne(e, func(tk *sim.Task) {
		e.moved[0] = e.bdev.Capacity - 4
		p := e.page(tk, 0)
		bio := e.readBio(tk, []*mm.Page{p})
		bio.Sector = uint64(e.bdev.Capacity - 4)
		bio.EndIO = func(t *sim.Task, bio *Bio, err int) { errs = append(errs, err); endPagesRead(t, bio, err) }
		SubmitBio(tk, READ, bio)
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
	if d := cmp.Diff([]int{-5}, errs); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if len(e.dev.Log) != 0 {
		t.Errorf("a bio past the end reached the device")
	}
}

// 3.x plugging: bios collect and merge in the plug until blk_finish_plug.
func TestPlugMergesAndFlushesAtFinish(t *testing.T) {
	e := newTenv(8, mm.V3x, nil)
	res := runOne(e, func(tk *sim.Task) {
		var plug BlkPlug
		BlkStartPlug(tk, &plug)
		var pages []*mm.Page
		for i := uint64(0); i < 3; i++ {
			p := e.page(tk, i)
			pages = append(pages, p)
			bio := e.readBio(tk, []*mm.Page{p})
			bio.EndIO = endPagesRead
			SubmitBio(tk, READ, bio)
		}
		if len(e.dev.Log) != 0 || plug.Pending() != 1 {
			t.Errorf("before finish: %d requests at the device, %d in the plug; want 0 and 1 merged",
				len(e.dev.Log), plug.Pending())
		}
		BlkFinishPlug(tk, &plug)
		if len(e.dev.Log) != 1 || e.dev.Log[0].Len != 3*mm.PageSize {
			t.Errorf("after finish: %d requests; want one of 3 pages", len(e.dev.Log))
		} else if n := len(e.dev.Log[0].Bios()); n != 3 {
			t.Errorf("merged request has %d bios, want 3", n)
		}
		for _, p := range pages {
			mm.WaitOnPageLocked(tk, p)
			if !mm.PageUptodate(p) {
				t.Errorf("page %d not uptodate", p.Index)
			}
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
}

// A task that sleeps with I/O in its plug must not wait for itself:
// schedule() flushes the plug (sched_submit_work) and kblockd sends it.
func TestPlugFlushedWhenTaskSleeps(t *testing.T) {
	e := newTenv(9, mm.V3x, nil)
	res := runOne(e, func(tk *sim.Task) {
		var plug BlkPlug
		BlkStartPlug(tk, &plug)
		p := e.page(tk, 0)
		bio := e.readBio(tk, []*mm.Page{p})
		bio.EndIO = endPagesRead
		SubmitBio(tk, READ, bio)
		mm.LockPage(tk, p) // sleeps until the read completes
		if !mm.PageUptodate(p) {
			t.Errorf("page not uptodate")
		}
		mm.UnlockPage(tk, p)
		BlkFinishPlug(tk, &plug)
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
	if len(e.dev.Log) != 1 {
		t.Errorf("%d requests, want 1", len(e.dev.Log))
	}
}

func TestBlkdevIssueFlush(t *testing.T) {
	e := newTenv(10, mm.V2_6_2x, nil)
	data := content.Fill(512, 3, 0)
	res := runOne(e, func(tk *sim.Task) {
		e.preload(tk, 0, data)
		if e.dev.Disk.Stable(0, 1).Equal(data) {
			t.Errorf("the write is stable before the flush")
		}
		if r := BlkdevIssueFlush(tk, e.bdev); r != 0 {
			t.Errorf("blkdev_issue_flush = %d", r)
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
	if !e.dev.Disk.Stable(0, 1).Equal(data) {
		t.Errorf("flush did not make the cache stable")
	}
	if len(e.dev.Log) != 1 || e.dev.Log[0].Op != ReqFlush {
		t.Errorf("requests %v, want one flush", e.dev.Log)
	}
}

func TestBioPutTwiceIsABug(t *testing.T) {
	e := newTenv(11, mm.V2_6_2x, nil)
	res := runOne(e, func(tk *sim.Task) {
		bio := BioAlloc(tk, GFP_KERNEL, 1)
		BioPut(tk, bio)
		BioPut(tk, bio)
	})
	if res.Failure == nil || res.Failure.Kind != sim.FailBug {
		t.Fatalf("want a bug, got %v", res.Failure)
	}
}

// Worlds run side by side on the explorer's goroutines: each has its own
// Layer, and the registry forgets a world once it is collected.
func TestLayersPerWorld(t *testing.T) {
	done := make(chan error)
	for i := range 8 {
		go func() {
			e := newTenv(uint64(100+i), mm.V3x, nil)
			e.bdev.Layer().BufferHeadsOverLimit = i%2 == 0
			res := runOne(e, func(tk *sim.Task) {
				if BufferHeadsOverLimit(tk) != (i%2 == 0) {
					t.Errorf("world %d sees another world's knob", i)
				}
				var plug BlkPlug
				BlkStartPlug(tk, &plug)
				p := e.page(tk, 0)
				bio := e.readBio(tk, []*mm.Page{p})
				bio.EndIO = endPagesRead
				SubmitBio(tk, READ, bio)
				BlkFinishPlug(tk, &plug)
				mm.WaitOnPageLocked(tk, p)
			})
			if res.Failure != nil {
				done <- res.Failure
				return
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	countLayers := func() int {
		n := 0
		layers.Range(func(k, v any) bool { n++; return true })
		return n
	}
	before := countLayers()
	for range 50 {
		e := newTenv(1, mm.V2_6_2x, nil)
		runOne(e, func(tk *sim.Task) {})
	}
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	t.Logf("registered: %d before, %d after", before, countLayers())
	if n := countLayers(); n > before+5 {
		t.Errorf("%d worlds still registered after 50 were dropped (%d before)", n, before)
	}
}
