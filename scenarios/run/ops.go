package run

import (
	"fmt"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// The system calls of the scenario language, driven through the model.
// TODO(vfs): model/vfs (open files, generic_perform_write, the read path,
// mmap writes, the fsync/sync/truncate/drop_caches entry points) is being
// written; until it lands these are modelled here from the mm, block,
// blockfs, mpage and afs entry points (and afs's own vfs.go), with the
// simplifications their comments name.

// initTask creates the pre-existing files, runs setup, starts the
// flusher, then spawns the scenario's tasks and the closer. On blockfs the
// fault plan is the disk's from power-on, so a pre-existing file's data
// (written and synced here) goes through it too: count rules (nth, after)
// count those requests. That fsync is one of setup's: an error it returns
// is reported there, and no scenario fsync is owed it.
func (m *machine) initTask(t *sim.Task) {
	if m.fs != nil {
		for _, fl := range m.s.FS.Files {
			f := m.blockFile(fl.Path)
			if fl.Size > 0 {
				data := f.of.NewData(fl.Size)
				m.blockWrite(t, f, 0, data)
				f.of.WriteDone(data)
				fs := f.of.Open().BeginFsync("setup")
				fs.End(m.fs.Fsync(t, f.ei, 0, mm.LLONG_MAX, 0)) // nothing was owed before it
				mm.InvalidateMappingPages(t, f.ino.Mapping, 0, m.k.PgoffMax())
			}
		}
	} else {
		for _, fl := range m.s.FS.Files {
			if m.files[fl.Path] == nil {
				m.afsFile(fl.Path)
			}
		}
	}
	if m.s.Setup != nil {
		m.runOps(t, "", m.s.Setup.Ops)
		if m.crashed {
			return
		}
	}
	if !m.s.VM.Flusher.Off {
		mm.StartFlusher(m.k, mm.FlusherOptions{})
	}
	done := 0
	var doneQ sim.WaitQueue
	doneQ.Name = "scenario tasks done"
	for _, st := range m.s.Tasks {
		st := st
		m.tasks[st.Name] = m.w.Spawn(st.Name, func(t *sim.Task) {
			m.runOps(t, st.Name, st.Ops)
			delete(m.current, st.Name)
			done++
			doneQ.WakeUpAll(t)
		})
	}
	m.closerTask = m.w.Spawn("closer", func(t *sim.Task) {
		doneQ.WaitEvent(t, func() bool { return done == len(m.s.Tasks) })
		m.closer(t)
	})
}

// closer runs when every task is done: with no faults and no crash, a
// final sync and the no-lost-write check; then, once no daemon is in the
// middle of a pass, the quiescence checks.
func (m *machine) closer(t *sim.Task) {
	if !m.faults && !m.crashed && m.checks(check.InvNoLostWrite) {
		m.sync(t)
		for _, f := range m.order {
			if fl := f.of.CheckNoLostWrite(f.stable); fl != nil {
				m.w.Fail(fl)
			}
		}
	}
	if m.stats != nil {
		m.stats.Final = map[string]content.Bytes{}
		for _, f := range m.order {
			m.stats.Final[f.path] = f.stable(0, f.of.Size())
		}
	}
	// The run ends when the foreground tasks do: a flusher pass still
	// under way then holds pagevec references, page locks, pages under
	// writeback, buffer heads or a store in flight, which the quiescence
	// checks would read as leaked. Let it finish its pass first, unless
	// it is stuck (nothing but the closer has run for a virtual second: a
	// lock or writeback nobody will end, which the checks are there to
	// report).
	for idle := sim.Time(0); m.inDaemon > 0 && idle < sim.Second; idle += sim.Millisecond {
		if m.activity > 0 {
			idle, m.activity = 0, 0
		}
		t.Sleep(sim.Millisecond)
	}
	var maps []*mm.AddressSpace
	for _, f := range m.order {
		maps = append(maps, f.ino.Mapping)
	}
	if m.fs != nil {
		if m.checks(mm.InvPageRef) || m.checks(mm.InvPageState) {
			// The block device's page cache holds the metadata (indirect
			// blocks): its pages are allocated too.
			m.k.CheckQuiescent(append(maps, m.bdev.Inode.Mapping)...)
		}
		return
	}
	m.w.AtEnd(func() {
		var vs []afs.Violation
		for _, v := range append(m.afs.CheckRecords(), m.afs.CheckPages()...) {
			if m.checks(v.Invariant) {
				vs = append(vs, v)
			}
		}
		afs.Fail(m.w, vs)
	})
}

func (m *machine) runOps(t *sim.Task, task string, ops []scenarios.Op) {
	for i := range ops {
		op := &ops[i]
		m.current[t.Name()] = op
		m.runOp(t, op)
		if m.crashed {
			return // the machine is gone: the run ends at the crash
		}
	}
}

// expectFail fails the run: op returned got, its expect says otherwise.
func (m *machine) expectFail(op *scenarios.Op, got string) {
	m.w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvExpect,
		Msg:     fmt.Sprintf("%s at %s returned %s, expected %s", opText(op), op.Meta.Pos, got, resultText(op.Expect)),
		Explain: "The scenario says what this call must return, and it returned something else."})
}

func resultText(r scenarios.Result) string {
	switch r.Kind {
	case scenarios.ResultOK:
		return "ok"
	case scenarios.ResultErrno:
		return r.Errno.String()
	case scenarios.ResultData:
		if len(r.Data) == 0 {
			return "eof"
		}
		s := ""
		for i, d := range r.Data {
			if i > 0 {
				s += " "
			}
			l := d.Label
			if l == "" {
				l = "zero"
			}
			s += fmt.Sprintf("%s:%d", l, d.Len)
		}
		return s
	}
	return "anything"
}

func retText(ret int) string {
	if ret < 0 {
		return errno.Errno(-ret).String()
	}
	return fmt.Sprint(ret)
}

// expectRet checks a call's return (0 or bytes, or a negative errno)
// against op's expectation.
func (m *machine) expectRet(op *scenarios.Op, ret int) {
	switch op.Expect.Kind {
	case scenarios.ResultOK:
		if ret < 0 {
			m.expectFail(op, retText(ret))
		}
	case scenarios.ResultErrno:
		if ret != -int(op.Expect.Errno) {
			m.expectFail(op, retText(ret))
		}
	}
}

func (m *machine) fd(name string) *mfd { return m.fds[name] }

func (m *machine) runOp(t *sim.Task, op *scenarios.Op) {
	switch op.Kind {
	case scenarios.OpOpen:
		f := m.files[op.Path]
		if f == nil {
			if m.fs != nil {
				f = m.blockFile(op.Path)
			} else {
				f = m.afsFile(op.Path)
			}
		}
		d := &mfd{f: f, od: f.of.Open(), flags: op.Flags}
		if f.v != nil {
			d.af = afs.AfsOpen(t, f.v, m.keys[op.Key])
		}
		if op.Flags&scenarios.Trunc != 0 && op.Flags&scenarios.RdOnly == 0 {
			m.truncate(t, f, 0)
		}
		m.fds[op.FD] = d
		m.expectRet(op, 0)
	case scenarios.OpWrite, scenarios.OpPWrite, scenarios.OpMmapWrite:
		d := m.fd(op.FD)
		off := op.Offset
		if off == scenarios.AtPos {
			off = d.pos
		}
		if d.flags&scenarios.Append != 0 && op.Kind == scenarios.OpWrite {
			off = mm.ISizeRead(d.f.ino)
		}
		data := d.f.of.NewData(op.Len)
		m.labels[op.Label] = label{data: data, off: off}
		var ret int
		if d.flags&scenarios.RdOnly != 0 {
			ret = -int(errno.EINVAL)
		} else if d.af != nil {
			ret = int(afs.AfsFileWrite(t, d.af, data, off))
		} else {
			ret = m.blockWrite(t, d.f, off, data)
		}
		d.f.of.WriteDone(data)
		if ret > 0 && op.Kind != scenarios.OpPWrite {
			d.pos = off + int64(ret)
		}
		if ret >= 0 && d.flags&scenarios.OSync != 0 {
			if r := m.fsync(t, op, d); r < 0 {
				ret = r
			}
		}
		m.expectRet(op, ret)
	case scenarios.OpRead:
		d := m.fd(op.FD)
		off := op.Offset
		if off == scenarios.AtPos {
			off = d.pos
		}
		got, ret := m.read(t, d, off, op.Len)
		if ret >= 0 {
			if op.Offset == scenarios.AtPos {
				d.pos = off + got.Len()
			}
			if !m.crashed && m.checks(check.InvReadCorrect) {
				if fl := d.f.of.CheckRead(off, op.Len, got); fl != nil {
					fl.Msg += fmt.Sprintf(" [at %s: read %s]", op.Meta.Pos, op.FD)
					m.w.Fail(fl)
				}
			}
		}
		switch op.Expect.Kind {
		case scenarios.ResultData:
			want := m.expected(op, off)
			if ret < 0 || !want.Equal(got) {
				g := retText(ret)
				if ret >= 0 {
					g = fmt.Sprintf("%d bytes %v", got.Len(), got)
				}
				m.expectFail(op, g)
			}
		default:
			m.expectRet(op, ret)
		}
	case scenarios.OpFsync, scenarios.OpFdatasync:
		d := m.fd(op.FD)
		ret := m.fsync(t, op, d)
		m.expectRet(op, ret)
	case scenarios.OpSync:
		m.sync(t)
	case scenarios.OpTruncate:
		d := m.fd(op.FD)
		m.truncate(t, d.f, op.Size)
		m.expectRet(op, 0)
	case scenarios.OpClose:
		d := m.fd(op.FD)
		ret := 0
		if d.af != nil {
			ret = afs.AfsRelease(t, d.af)
		}
		delete(m.fds, op.FD)
		m.expectRet(op, ret)
	case scenarios.OpSleep:
		t.Sleep(op.Dur)
	case scenarios.OpCrash:
		m.crash(t, op)
	case scenarios.OpDropCaches:
		for _, f := range m.order {
			mm.InvalidateMappingPages(t, f.ino.Mapping, 0, m.k.PgoffMax())
		}
	case scenarios.OpSignal:
		if tk := m.tasks[op.Task]; tk != nil {
			m.w.Signal(tk)
		}
	case scenarios.OpRevokeKey, scenarios.OpExpireKey:
		// keyctl: the server refuses the key from now on. The model's
		// server has no key states, so this takes the key's rights away
		// (EACCES, the same "key or permission" errno group as
		// EKEYEXPIRED and EKEYREVOKED in afs_write_back_from_locked_page).
		for _, f := range m.order {
			m.srv.Revoke(f.id, op.Key)
			if sf := m.srv.File(f.id); len(sf.Readers) > 0 {
				sf.Readers = deleteString(sf.Readers, op.Key)
				if len(sf.Readers) == 0 {
					sf.Readers = []string{"\x00nobody"}
				}
			}
		}
	default:
		panic(fmt.Sprintf("run: op %s not supported", op.Kind))
	}
}

func deleteString(l []string, s string) []string {
	var out []string
	for _, x := range l {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// expected is what a read op's "expect RUNS" describes, at file offset off.
func (m *machine) expected(op *scenarios.Op, off int64) content.Bytes {
	var b content.Bytes
	pos := off
	for _, r := range op.Expect.Data {
		if r.Label == "" {
			b = b.Append(content.Zeros(r.Len))
		} else {
			l := m.labels[r.Label]
			src := l.data.Truncate(max(l.data.Len(), pos-l.off+r.Len))
			b = b.Append(src.Slice(pos-l.off, r.Len))
		}
		pos += r.Len
	}
	return b
}

// blockWrite is the buffered write path on blockfs under i_mutex:
// generic_write_checks (s_maxbytes: a write starting at or past it is
// -EFBIG, one crossing it is shortened), then generic_perform_write: page
// by page ->write_begin, the copy, ->write_end, then
// balance_dirty_pages_ratelimited. The oracle learns each page's copy. It
// returns the bytes written, or the error if none were.
func (m *machine) blockWrite(t *sim.Task, f *mfile, off int64, data content.Bytes) int {
	t.Enter("generic_perform_write")
	defer t.Leave()
	ino := f.ino
	ino.IMutex.Lock(t)
	defer ino.IMutex.Unlock(t)
	// The runner's files are opened O_LARGEFILE (as by a 64-bit or
	// _FILE_OFFSET_BITS=64 program); O_APPEND is already applied.
	count := data.Len()
	file := &vfs.File{Mapping: ino.Mapping, Flags: vfs.O_LARGEFILE,
		Inode: &vfs.Inode{I: ino, SB: &vfs.SuperBlock{MaxBytes: m.maxBytes}}}
	if ret := vfs.GenericWriteChecks(file, &off, &count, false); ret != 0 {
		return ret
	}
	data = data.Slice(0, count)
	mp := ino.Mapping
	aops := mp.AOps
	var written int64
	for written < data.Len() {
		pos := off + written
		offset := pos & (mm.PageSize - 1)
		n := min(mm.PageSize-offset, data.Len()-written)
		var page *mm.Page
		var fsdata any
		if ret := aops.(mm.WriteBeginOp).WriteBegin(t, nil, mp, pos, uint(n), 0, &page, &fsdata); ret != 0 {
			if written > 0 {
				return int(written)
			}
			return ret
		}
		chunk := data.Slice(written, n)
		mm.CopyToPage(t, page, uint(offset), chunk)
		mm.MarkPageAccessed(t, page)
		copied := aops.(mm.WriteEndOp).WriteEnd(t, nil, mp, pos, uint(n), uint(n), page, fsdata)
		if copied <= 0 {
			if written > 0 {
				return int(written)
			}
			return copied
		}
		f.of.Wrote(pos, chunk.Slice(0, int64(copied)))
		written += int64(copied)
		mm.BalanceDirtyPagesRatelimited(t, mp)
	}
	return int(written)
}

// read is the read path (do_generic_file_read, without readahead): page
// by page, find the page or add one and ->readpage it, wait for the lock,
// copy up to i_size. A page that is not uptodate after its read is -EIO.
func (m *machine) read(t *sim.Task, d *mfd, off, n int64) (content.Bytes, int) {
	t.Enter("do_generic_file_read")
	defer t.Leave()
	ino := d.f.ino
	mp := ino.Mapping
	var got content.Bytes
	var file any
	if d.af != nil {
		file = d.af
	}
	for pos := off; pos < off+n; {
		size := mm.ISizeRead(ino)
		if pos >= size {
			break
		}
		index := uint64(pos >> mm.PageCacheShift)
		p := mm.FindGetPage(t, mp, index)
		if p == nil || !mm.PageUptodate(p) {
			if p == nil {
				p = mm.FindOrCreatePage(t, mp, index)
			} else {
				mm.LockPage(t, p)
			}
			if p.Mapping == nil {
				mm.UnlockPage(t, p)
				mm.PageCacheRelease(t, p)
				continue // truncated under us: look again
			}
			if mm.PageUptodate(p) {
				mm.UnlockPage(t, p)
			} else if ret := mp.AOps.(mm.ReadpageOp).Readpage(t, file, p); ret < 0 {
				mm.PageCacheRelease(t, p)
				if got.Len() > 0 {
					return got, int(got.Len())
				}
				return got, ret
			}
			mm.WaitOnPageLocked(t, p)
			if !mm.PageUptodate(p) {
				mm.PageCacheRelease(t, p)
				if got.Len() > 0 {
					return got, int(got.Len())
				}
				return got, -int(errno.EIO)
			}
		}
		size = mm.ISizeRead(ino)
		poff := pos & (mm.PageSize - 1)
		cnt := min(mm.PageSize-poff, off+n-pos, size-pos)
		if cnt <= 0 {
			mm.PageCacheRelease(t, p)
			break
		}
		data := p.Data.Truncate(max(p.Data.Len(), poff+cnt)).Slice(poff, cnt)
		mm.MarkPageAccessed(t, p)
		mm.PageCacheRelease(t, p)
		got = got.Append(data)
		pos += cnt
	}
	return got, int(got.Len())
}

// noteErrors tells the oracle of the AFS stores the server refused. The
// observer calls it as each afs_vnode_store_data returns, when the
// client learns the result: before any fsync can report it.
func (m *machine) noteErrors() {
	if m.srv == nil {
		return
	}
	for i, o := range m.srv.Log() {
		if o.Err == 0 || o.Op.String() != "store" || m.seenErr[i] {
			continue
		}
		m.seenErr[i] = true
		for _, f := range m.order {
			if f.id == o.File {
				f.of.WritebackError(o.Err)
			}
		}
	}
}

// fsync is fsync(2) with the fsync-error and fsync-durable checks.
func (m *machine) fsync(t *sim.Task, op *scenarios.Op, d *mfd) int {
	where := fmt.Sprintf("at %s", op.Meta.Pos)
	fs := d.od.BeginFsync(where)
	var ret int
	if d.af != nil {
		ret = afs.VfsFsync(t, d.af, 0)
	} else {
		ret = m.fs.Fsync(t, d.f.ei, 0, mm.LLONG_MAX, 0)
	}
	if m.stats != nil {
		m.stats.FsyncReturn = append(m.stats.FsyncReturn, fmt.Sprintf("%s: %s", op.Meta.Pos, retText(ret)))
	}
	fl := fs.End(ret)
	if fl != nil && m.checks(check.InvFsyncError) {
		m.w.Fail(fl)
	}
	if ret == 0 && !m.crashed && m.checks(check.InvFsyncDurable) {
		if fl := d.f.of.CheckDurable(check.InvFsyncDurable, d.f.stable); fl != nil {
			m.w.Fail(fl)
		}
	}
	return ret
}

// sync is sync(2): write and wait on every file, then flush the disk's
// cache (blockfs). Errors are not reported, as in 2.6, but they are
// consumed: filemap_fdatawait (from __sync_single_inode) tests and clears
// AS_EIO/AS_ENOSPC, which the oracle learns (BeginSync).
func (m *machine) sync(t *sim.Task) {
	t.Enter("sys_sync")
	defer t.Leave()
	for _, f := range m.order {
		s := f.of.BeginSync()
		if fl := s.End(mm.FilemapWriteAndWait(t, f.ino.Mapping)); fl != nil && m.checks(check.InvFsyncError) {
			m.w.Fail(fl) // an fsync judged when this sync, in flight with it, ended
		}
	}
	if m.fs != nil {
		block.SyncMappingBuffers(t, m.bdev.Inode.Mapping, m.bdev)
		mm.FilemapWriteAndWait(t, m.bdev.Inode.Mapping)
		block.BlkdevIssueFlush(t, m.fs.Bdev)
	}
}

// truncate is ftruncate(2) under i_mutex: vmtruncate (2.6.x) or
// truncate_setsize (3.x). blockfs has no ->truncate, so blocks past the
// new size stay allocated (and keep their old data on disk); AFS sends
// no StoreStatus. Scenarios only shrink files where that does not show.
// The oracle learns of the truncate as it begins (under i_mutex, so no
// write comes between): the new i_size shows at once (an AFS store sends
// it as the file's length), so a crash in the middle may find the bytes
// past it gone.
func (m *machine) truncate(t *sim.Task, f *mfile, size int64) {
	f.ino.IMutex.Lock(t)
	defer f.ino.IMutex.Unlock(t)
	f.of.Truncate(size)
	if m.k.Version == mm.V3x {
		mm.TruncateSetsize(t, f.ino, size)
	} else {
		mm.VMTruncate(t, f.ino, size)
	}
}

// crash is power loss and a remount. Every other task stops where it is
// (World.Kill: the flusher, the interrupt handlers, the other scenario
// tasks; the locks they held stay held, their I/O never completes); the
// disk crashes and loses every write not yet durable (faultdisk's
// CrashDropAll: the scenario language names no crash mode, so the worst
// case of a volatile write cache) and is powered on again. The crash
// invariant is then checked on the remounted medium, through each file's
// block map (the block maps are kept, as if the metadata were journalled),
// against what every fsync that returned 0 promised. On afs, the server's
// copy is stable storage and survives as it is.
//
// The run ends at the crash: the old kernel's page cache, locks and
// requests are gone with it, and the runner builds no second kernel, so
// the crashing task runs no further operation (see the crash section of
// docs/scenario-language.md).
func (m *machine) crash(t *sim.Task, op *scenarios.Op) {
	t.Enter("power_loss")
	defer t.Leave()
	m.noteErrors()
	m.crashed = true
	for _, tk := range m.w.Tasks() {
		if tk != t {
			m.w.Kill(tk)
		}
	}
	if m.disk != nil {
		m.disk.Crash(faultdisk.CrashDropAll)
		m.disk.Remount()
	}
	if m.checks(check.InvCrash) {
		for _, f := range m.order {
			if fl := f.of.CheckDurable(check.InvCrash, f.stable); fl != nil {
				fl.Msg += fmt.Sprintf(" [at %s: crash]", op.Meta.Pos)
				m.w.Fail(fl)
				return
			}
		}
	}
	clear(m.fds)
}
