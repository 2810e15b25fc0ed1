package run

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// Caps of one step's state, so that a large file or a bio storm keeps the
// explorer's page small. What a cap leaves out is said in the table.
const (
	SnapshotMaxPages = 256 // pages shown per file (the first ones by index)
	SnapshotMaxBios  = 32  // bios shown (the newest)
	snapshotDataLen  = 60  // characters of a page's symbolic contents
)

// BuildRecording returns a setup for s, built as BuildWith builds it with
// o, that also records the model's state into rec at every trace event
// (and, through rec.Finish, at the end): the pages of every file of the
// scenario, their mappings and inodes, the bios, the disk or the AFS
// writeback records and server. It is for the traced replay of a report
// only; exploring never records. Recording only reads the model: the
// replay's trace is the same with or without it (a test checks the hash).
func BuildRecording(s *scenarios.Scenario, o Options, rec *snapshot.Recorder) func(*sim.World) {
	s = s.WithDefaults()
	return func(w *sim.World) {
		m, err := build(s, o.Fixes, o.Off, w, nil)
		if err != nil {
			panic(err)
		}
		sn := &snapshotter{m: m}
		if m.bdev != nil {
			m.bdev.Layer().OnSubmit = sn.submitted
		}
		rec.Capture = sn.capture
		w.Observe(func(w *sim.World, ev *sim.Event) {
			sn.step = w.Trace().Total() - 1
			rec.Step(int(sn.step))
		})
	}
}

// snapshotter turns a machine's state into tables.
type snapshotter struct {
	m    *machine
	bios []submittedBio // in submission order
	step int64          // the event being recorded
}

type submittedBio struct {
	bio  *block.Bio
	step int64
	size uint // bi_size at submission
}

func (sn *snapshotter) submitted(bio *block.Bio) {
	sn.bios = append(sn.bios, submittedBio{bio: bio, step: sn.step + 1, size: bio.Size})
}

func flag(on bool) string {
	if on {
		return "1"
	}
	return ""
}

func short(b content.Bytes) string {
	s := b.String()
	if len(s) > snapshotDataLen {
		s = s[:snapshotDataLen] + "…"
	}
	return s
}

var pageCols = []snapshot.Col{
	col("index", "page->index: which page of the file (page N holds bytes N*4096 to N*4096+4095)"),
	col("PG_locked", "locked (lock_page): one task owns the page, e.g. while it starts writeback or reads it"),
	col("PG_dirty", "the page cache copy is newer than the disk's: it must be written back"),
	col("PG_writeback", "a write of the page to the disk (or server) is in flight; end_page_writeback clears it when the I/O completes"),
	col("PG_uptodate", "the page's contents are valid (read from disk or fully written)"),
	col("PG_error", "an I/O error happened on this page"),
	col("PG_reclaim", "reclaim wants the page freed as soon as its writeback ends"),
	col("DIRTY", "radix-tree tag PAGECACHE_TAG_DIRTY: how writeback finds dirty pages quickly"),
	col("WRITEBACK", "radix-tree tag PAGECACHE_TAG_WRITEBACK: how fsync finds pages to wait on"),
	col("TOWRITE", "radix-tree tag PAGECACHE_TAG_TOWRITE (2.6.35+): pages a data-integrity sync must write, tagged before it starts"),
	col("_count", "page_count: references held (page cache, a pagevec, a bio, ...)"),
	col("private", "page_private: its buffer heads' states (U uptodate, D dirty, L locked, R req, M mapped, N new, W async_write, A async_read, B boundary, E write_eio; - none), or its AFS writeback record"),
	col("contents", "the page's bytes in symbolic form: [from,to)=wN@off is data of write N, 0 is zeros"),
	col("disk", "blockfs: the file's bytes on the disk as a read sees them (volatile cache included); AFS: the server's copy. '= page' when equal"),
	col("stable", "blockfs: the bytes on stable storage, what survives a power cut; '= disk' when equal"),
}

var kvCols = []snapshot.Col{col("field", ""), col("value", "")}

func col(name, help string) snapshot.Col { return snapshot.Col{Name: name, Help: help} }

// kv is a row of a two-column table; the key keeps the given order.
func kv(i int, name, value string) snapshot.Row {
	return snapshot.Row{Key: fmt.Sprintf("%02d", i), Cells: []string{name, value}}
}

func (sn *snapshotter) capture() snapshot.State {
	m := sn.m
	st := snapshot.State{sn.scenarioTasks()}
	for _, f := range m.order {
		st = append(st, sn.pages(f), sn.mapping(f))
		if f.v != nil {
			st = append(st, sn.records(f))
		}
	}
	if m.bdev != nil {
		st = append(st, sn.bioTable(), sn.diskTable())
	}
	return st
}

// pages is the table of f's page cache: every page in its radix tree.
func (sn *snapshotter) pages(f *mfile) snapshot.Table {
	t := snapshot.Table{Name: fmt.Sprintf("pages of %s (inode %d)", f.path, f.ino.Ino), Cols: pageCols,
		Help: "Every page of " + f.path + " in the page cache (struct page and its radix-tree tags)."}
	mapping := f.ino.Mapping
	n := 0
	var pages []*mm.Page
	mapping.PageTree.Range(0, -1, func(_ uint64, p *mm.Page) bool {
		if n < SnapshotMaxPages {
			pages = append(pages, p)
		}
		n++
		return true
	})
	if n > SnapshotMaxPages {
		t.Omitted = fmt.Sprintf("%d more pages (beyond index %d) are not shown", n-SnapshotMaxPages, pages[len(pages)-1].Index)
	}
	var disk, stable content.Bytes
	if len(pages) > 0 {
		end := int64(pages[len(pages)-1].Index+1) * mm.PageSize
		disk, stable = sn.backing(f, end)
	}
	for _, p := range pages {
		fl := func(bit uint) string { return flag(p.Flags&(1<<bit) != 0) }
		tag := func(tag int) string { return flag(mapping.PageTree.TagGet(p.Index, tag)) }
		off := int64(p.Index) * mm.PageSize
		d, s := "", ""
		if disk.Len() >= off+mm.PageSize {
			dd := disk.Slice(off, mm.PageSize)
			d = short(dd)
			if dd.Equal(p.Data) {
				d = "= page"
			}
			if stable.Len() >= off+mm.PageSize {
				ss := stable.Slice(off, mm.PageSize)
				s = short(ss)
				if ss.Equal(dd) {
					s = "= disk"
				}
			}
		}
		t.Rows = append(t.Rows, snapshot.Row{Key: fmt.Sprintf("%010d", p.Index), Cells: []string{
			fmt.Sprint(p.Index), fl(mm.PG_locked), fl(mm.PG_dirty), fl(mm.PG_writeback), fl(mm.PG_uptodate),
			fl(mm.PG_error), fl(mm.PG_reclaim), tag(mm.PAGECACHE_TAG_DIRTY), tag(mm.PAGECACHE_TAG_WRITEBACK),
			tag(mm.PAGECACHE_TAG_TOWRITE), fmt.Sprint(mm.PageCount(p)), private(p), short(p.Data), d, s}})
	}
	return t
}

// backing is f's bytes [0, end) on the disk (cache included) and on
// stable storage, or on the AFS server (stable left empty).
func (sn *snapshotter) backing(f *mfile, end int64) (disk, stable content.Bytes) {
	m := sn.m
	if f.v != nil {
		sf := m.srv.File(f.id)
		if sf == nil {
			return
		}
		return sf.Data.Read(0, sf.Data.Size()).Truncate(max(sf.Data.Size(), end)).Slice(0, end), content.Bytes{}
	}
	if m.disk == nil || f.ei == nil {
		return
	}
	peek := func(stable bool) func(off, n int64) content.Bytes {
		return func(off, n int64) content.Bytes {
			// Whole sectors around [off, off+n), then the bytes asked for.
			lo := off / faultdisk.SectorSize
			hi := (off + n + faultdisk.SectorSize - 1) / faultdisk.SectorSize
			c, s := m.disk.Peek(lo, hi-lo)
			b := c
			if stable {
				b = s
			}
			return b.Slice(off-lo*faultdisk.SectorSize, n)
		}
	}
	return f.onDiskVia(peek(false), f.ei.Mapped(), 0, end), f.onDiskVia(peek(true), f.ei.Mapped(), 0, end)
}

// private renders page_private: buffer states, or the AFS record.
func private(p *mm.Page) string {
	if p.Flags&(1<<mm.PG_private) == 0 {
		return ""
	}
	switch v := p.Private.(type) {
	case *block.BufferHead:
		var parts []string
		bh := v
		for i := 0; bh != nil && i < block.MAX_BUF_PER_PAGE; i++ {
			parts = append(parts, bhLetters(bh.State))
			bh = bh.ThisPage
			if bh == v {
				break
			}
		}
		return strings.Join(parts, " ")
	case *afs.Writeback:
		return fmt.Sprintf("wb %d", v.ID())
	}
	return "private"
}

var bhLetter = []struct {
	bit    uint
	letter string
}{{block.BH_Uptodate, "U"}, {block.BH_Dirty, "D"}, {block.BH_Lock, "L"}, {block.BH_Req, "R"},
	{block.BH_Mapped, "M"}, {block.BH_New, "N"}, {block.BH_Async_Write, "W"}, {block.BH_Async_Read, "A"},
	{block.BH_Boundary, "B"}, {block.BH_Write_EIO, "E"}}

func bhLetters(state uint64) string {
	s := ""
	for _, l := range bhLetter {
		if state&(1<<l.bit) != 0 {
			s += l.letter
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

// mapping is the table of f's address_space and inode.
func (sn *snapshotter) mapping(f *mfile) snapshot.Table {
	k := sn.m.k
	mp := f.ino.Mapping
	pos, n := k.DirtyListPos(f.ino)
	list := "none (clean, or being written back)"
	if pos >= 0 {
		list = fmt.Sprintf("the dirty-inode list (s_dirty, b_dirty from 2.6.32): %d of %d, oldest first", pos+1, n)
	}
	as := func(bit uint) string { return flag(mp.Flags&(1<<bit) != 0) }
	return snapshot.Table{Name: "mapping and inode of " + f.path, Cols: kvCols,
		Help: "struct address_space (the file's page cache) and struct inode of " + f.path + ".",
		Rows: []snapshot.Row{
			kv(0, "nrpages", fmt.Sprint(mp.NrPages)),
			kv(1, "writeback_index", fmt.Sprint(mp.WritebackIndex)),
			kv(2, "AS_EIO", as(mm.AS_EIO)),
			kv(3, "AS_ENOSPC", as(mm.AS_ENOSPC)),
			kv(4, "i_size", fmt.Sprint(mm.ISizeRead(f.ino))),
			kv(5, "i_state", inodeState(f.ino.State)),
			kv(6, "writeback list", list),
		}}
}

func inodeState(s uint64) string {
	var parts []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{{mm.I_DIRTY_SYNC, "I_DIRTY_SYNC"}, {mm.I_DIRTY_DATASYNC, "I_DIRTY_DATASYNC"}, {mm.I_DIRTY_PAGES, "I_DIRTY_PAGES"},
		{mm.I_NEW, "I_NEW"}, {mm.I_WILL_FREE, "I_WILL_FREE"}, {mm.I_FREEING, "I_FREEING"}, {mm.I_CLEAR, "I_CLEAR"},
		{mm.I_SYNC, "I_SYNC"}} {
		if s&b.bit != 0 {
			parts = append(parts, b.name)
		}
	}
	if len(parts) == 0 {
		return "0 (clean)"
	}
	return strings.Join(parts, "|")
}

var bioCols = []snapshot.Col{
	col("bio", "the bio's allocation number"),
	col("dir", "READ or WRITE"),
	col("sectors", "the 512-byte sectors it covers on the disk"),
	col("pages", "the pages it carries, as inode:index (the device's name for its buffer cache: metadata such as indirect blocks)"),
	col("submitted", "the step at which submit_bio sent it"),
	col("state", "in flight until the disk completes it (bio_endio); then done, or the error it ended with"),
}

// bioTable lists the newest bios and whether they are still in flight.
func (sn *snapshotter) bioTable() snapshot.Table {
	t := snapshot.Table{Name: "bios", Cols: bioCols,
		Help: "struct bio: a block I/O request of contiguous sectors, built by mpage or the buffer layer and sent with submit_bio."}
	bios := sn.bios
	if len(bios) > SnapshotMaxBios {
		t.Omitted = fmt.Sprintf("%d older bios are not shown", len(bios)-SnapshotMaxBios)
		bios = bios[len(bios)-SnapshotMaxBios:]
	}
	for _, b := range bios {
		bio := b.bio
		dir := "READ"
		if bio.Rw&block.WRITE != 0 {
			dir = "WRITE"
		}
		lo := bio.Obj().B
		sectors := fmt.Sprintf("%d-%d", lo, lo+int64(b.size>>9)-1)
		if b.size == 0 {
			sectors = "none (a flush)"
		}
		var pages []string
		for _, v := range bio.Vecs() {
			switch {
			case v.Page == nil:
			case sn.m.bdev.Inode != nil && v.Page.Ino() == sn.m.bdev.Inode.Ino:
				pages = append(pages, fmt.Sprintf("%s:%d", sn.m.bdev.Name, v.Page.Index)) // the buffer cache (metadata)
			default:
				pages = append(pages, fmt.Sprintf("%d:%d", v.Page.Ino(), v.Page.Index))
			}
		}
		state := "in flight"
		switch {
		case bio.Size == 0 && b.size > 0 || bio.Freed():
			state = "done"
			if bio.Flags&(1<<block.BIO_UPTODATE) == 0 {
				state = "done, error"
			}
		case bio.Size < b.size:
			state = fmt.Sprintf("in flight, %d of %d bytes done", b.size-bio.Size, b.size)
		}
		t.Rows = append(t.Rows, snapshot.Row{Key: fmt.Sprintf("%010d", bio.ID()), Cells: []string{
			fmt.Sprint(bio.ID()), dir, sectors, strings.Join(pages, " "), fmt.Sprint(b.step), state}})
	}
	return t
}

// diskTable is the disk's queue and counters.
func (sn *snapshotter) diskTable() snapshot.Table {
	d := sn.m.disk
	st := d.Stats()
	return snapshot.Table{Name: "disk " + d.Name(), Cols: kvCols,
		Help: "The simulated disk: a write completes into its volatile cache; only a cache flush (or a FUA write) makes it stable. The pages table shows, per page, the disk's bytes and the stable ones.",
		Rows: []snapshot.Row{
			kv(0, "requests at the device", fmt.Sprint(d.InFlight())),
			kv(1, "writes (FUA) / flushes submitted", fmt.Sprintf("%d (%d) / %d", st.Writes, st.FUAWrites, st.Flushes)),
			kv(2, "completions run", fmt.Sprint(st.Completed)),
			kv(5, "writes in the volatile cache", fmt.Sprint(d.Volatile())),
			kv(3, "errors", fmt.Sprint(st.Errors)),
			kv(4, "powered off", flag(d.PoweredOff())),
		}}
}

var recordCols = []snapshot.Col{
	col("record", "struct afs_writeback: the allocation number (pages point to it through page_private)"),
	col("usage", "usage: references to the record (pages, writers, the writeback in progress)"),
	col("state", "PENDING: collecting dirty pages; WRITING: being stored to the server; CONFLICTING: a write with another key came; COMPLETE: unlinked"),
	col("key", "the key (user credential) the data will be stored with"),
	col("pages", "first to last page index it covers, with the byte offsets within the first and last"),
}

// records is the table of f's AFS writeback records and the server's
// copy.
func (sn *snapshotter) records(f *mfile) snapshot.Table {
	t := snapshot.Table{Name: "AFS writeback records of " + f.path, Cols: recordCols,
		Help: "vnode->writebacks: each record gathers dirty pages written with one key, to be stored to the server together. The pages table's disk column is the server's copy."}
	recs, err := f.v.ListRecords()
	for _, wb := range recs {
		key := ""
		if wb.Key != nil {
			key = wb.Key.Name
		}
		if wb.Marker() {
			key += " (fsync marker)"
		}
		t.Rows = append(t.Rows, snapshot.Row{Key: fmt.Sprintf("%010d", wb.ID()), Cells: []string{
			fmt.Sprint(wb.ID()), fmt.Sprint(wb.Usage), wb.State.String(), key,
			fmt.Sprintf("%d-%d [%d, %d)", wb.First, wb.Last, wb.OffsetFirst, wb.ToLast)}})
	}
	if err != nil {
		t.Omitted = "the list is broken: " + err.Error()
	}
	if sf := sn.m.srv.File(f.id); sf != nil {
		t.Rows = append(t.Rows, snapshot.Row{Key: "server", Cells: []string{"server", "", fmt.Sprintf("data version %d", sf.DataVersion), "",
			fmt.Sprintf("%d bytes", sf.Data.Size())}})
	}
	return t
}

// ScenarioTable is the name of the table of what each scenario task is
// doing; its rows are [task, "file:line:col: op"]. diff-versions aligns
// eras by it.
const ScenarioTable = "scenario tasks"

// scenarioTasks is the table of the scenario operation each task (init
// for the setup block) is running.
func (sn *snapshotter) scenarioTasks() snapshot.Table {
	m := sn.m
	t := snapshot.Table{Name: ScenarioTable, Cols: []snapshot.Col{col("task", "a task of the scenario (init runs its setup block)"),
		col("operation", "the scenario operation it is running, with its place in the scenario file")},
		Help: "Where each task of the scenario is in the scenario's text."}
	names := []string{"init"}
	for _, st := range m.s.Tasks {
		names = append(names, st.Name)
	}
	for i, name := range names {
		if op := m.current[name]; op != nil {
			t.Rows = append(t.Rows, snapshot.Row{Key: fmt.Sprintf("%04d", i), Cells: []string{name, fmt.Sprintf("%s: %s", op.Meta.Pos, opText(op))}})
		}
	}
	return t
}
