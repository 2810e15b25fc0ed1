package run

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// The system calls of the scenario language, driven through model/vfs
// on the mounted file system (blockfs as ext2, or the AFS volume), each
// bracketed by what the oracle must learn:
//
//   - open: vfs.Open (__dentry_open and the file system's ->open; on
//     afs the op's key is the file's credentials), after may_open's
//     O_TRUNC truncation (do_truncate) of an existing file;
//   - write, pwrite: vfs.Write (an lseek first when the op names an
//     offset) and vfs.Pwrite: vfs_write, ->aio_write (generic_file_aio_write,
//     or afs_file_write), generic_write_checks (O_APPEND, s_maxbytes:
//     EFBIG), generic_perform_write (2.6.12: generic_file_buffered_write
//     with ->prepare_write and ->commit_write). The oracle learns each
//     page's copy right after ->write_end, under i_mutex (the super
//     block's OnWrite hook). O_SYNC is not modelled by vfs: the runner
//     keeps its own (an fsync after the write, whose error the write
//     returns);
//   - read: vfs.Read or vfs.Pread: do_generic_file_read (2.6.12:
//     do_generic_mapping_read) with readahead through ->readpages
//     (mpage_readpages) or ->readpage;
//   - mmap-write: vfs.MmapWrite, a store through a shared writable
//     mapping: the era's write fault (filemap_fault and __do_fault with
//     ->page_mkwrite, block_page_mkwrite on ext2 of 2.6.2x and 3.x, and
//     set_page_dirty; 2.6.12's do_no_page, the page dirtied at munmap).
//     The oracle learns each store right after it is made. A store past
//     end of file is SIGBUS (EFAULT); afs maps files read-only (EINVAL);
//   - fsync, fdatasync: vfs.Fsync, vfs.Fdatasync (do_fsync of the era);
//   - msync: vfs.Msync, msync(2) of a shared mapping of the whole file
//     (2.6.12's msync_interval: filemap_fdatawrite, ->fsync and
//     filemap_fdatawait without i_sem; vfs_fsync later). MS_SYNC is
//     judged like fsync (fsync-error, fsync-durable); MS_ASYNC starts no
//     I/O and reports nothing, and afs refuses the shared mapping
//     (EINVAL) before any sync: neither is an fsync to the oracle;
//   - sync: vfs.Sync (sys_sync of the era; 2.6.12's do_sync);
//   - truncate: vfs.Ftruncate (do_truncate, notify_change, ->setattr:
//     ext2_setattr, or afs_setattr, which flushes the file and sends
//     FS.StoreData with the new length);
//   - close: vfs.Close (filp_close, fput, ->release);
//   - stat: fstat's st_size, i_size as generic_fillattr reads it
//     (expectSize);
//   - drop-caches: vfs.DropCaches (drop_pagecache_sb of the mount).

func (m *machine) initTask(t *sim.Task) {
	if m.fs != nil {
		// The declared files were there before this boot: no fault of
		// the run touches their writing (faultdisk.Disk.Unfaulted).
		m.disk.Unfaulted(true)
		for _, fl := range m.s.FS.Files {
			f := m.blockFile(fl.Path)
			if fl.Size > 0 {
				// open, pwrite, fsync, close, then its pages are dropped.
				file, _ := vfs.Open(t, f.vi, vfs.FMODE_READ|vfs.FMODE_WRITE, nil)
				data := f.of.NewData(fl.Size)
				vfs.Pwrite(t, file, data, 0)
				f.of.WriteDone(data)
				fs := f.of.Open().BeginFsync("setup")
				fs.End(vfs.Fsync(t, file)) // nothing was owed before it
				vfs.Close(t, file)
				mm.InvalidateMappingPages(t, f.ino.Mapping, 0, m.k.PgoffMax())
			}
		}
		m.durableSetup(t)
		m.disk.Unfaulted(false)
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
			m.done[st.Name] = true
			done++
			doneQ.WakeUpAll(t)
		})
	}
	m.closerTask = m.w.Spawn("closer", func(t *sim.Task) {
		doneQ.WaitEvent(t, func() bool { return done == len(m.s.Tasks) })
		m.closer(t)
	})
}

// closer runs when every task is done: with no crash, a final sync and
// the no-lost-write check (outside what faults touched: see touched);
// then, once no daemon is in the middle of a pass, the quiescence checks.
func (m *machine) closer(t *sim.Task) {
	if !m.crashed && m.checks(check.InvNoLostWrite) {
		m.sync(t)
		m.shutdown(t)
		for _, f := range m.order {
			touched, all := m.touched(f)
			if all {
				continue
			}
			fl := f.of.CheckNoLostWrite(f.stable, touched...)
			if fl == nil && len(touched) == 0 { // a fault that touched the file may change its length
				fl = f.of.CheckStableSize(f.stableSize())
			}
			if fl != nil {
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
		m.fsck(false)
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
		switch op.Kind {
		case scenarios.OpRepeat:
			m.repeat(t, task, op)
		case scenarios.OpCrash:
			var after []scenarios.Op
			if i+1 < len(ops) && ops[i+1].Kind == scenarios.OpAfterCrash {
				after = ops[i+1].Body
			}
			m.crash(t, op, after)
		default:
			m.runOp(t, op)
		}
		if m.crashed {
			return // the machine is gone: the run ends at the crash
		}
	}
}

// touched is what injected faults touched of file f, for no-lost-write:
// byte ranges rounded out to whole pages (a failed store kills its pages,
// a failed write leaves them clean with the data only in memory), or all
// when a fault cannot be placed. On afs: every request of the file a plan
// fault fired on (an error, a partial store, a corrupt fetch; a key's
// initial state is a plan rule), and every request refused with EACCES
// (a key the scenario revoked or expired). A request the server refused
// for another reason (a malformed one) touches nothing: losing its data
// is the client's doing. On blockfs: every
// block of the file whose sectors a disk fault hit (the request's, and a
// misdirected write's target); a fault that hit no sectors (a bio
// allocation, a flush) or hit an indirect block cannot be placed.
func (m *machine) touched(f *mfile) (ranges [][2]int64, all bool) {
	page := func(off, n int64) [2]int64 {
		return [2]int64{off &^ (mm.PageSize - 1), (off + n + mm.PageSize - 1) &^ (mm.PageSize - 1)}
	}
	if f.v != nil {
		for _, o := range m.srv.Log() {
			// refused for the key's rights (a revoked or expired key): the
			// scenario's doing, not the client's
			if o.File == f.id && o.Err == errno.EACCES {
				ranges = append(ranges, page(o.Off, o.Len))
			}
		}
		for _, fl := range m.srv.Faults() {
			if fl.Req.File == f.id {
				ranges = append(ranges, page(fl.Req.Off, fl.Req.Len))
			}
		}
		return ranges, false
	}
	if len(m.damaged) == 0 {
		return nil, false
	}
	bs := int64(m.fs.BlockSize())
	data := map[uint64]bool{}
	for _, g := range m.order {
		for _, e := range g.ei.Mapped() {
			for i := range e.Len {
				data[e.Phys+i] = true
				if g == f && m.damagedBlock(e.Phys+i) {
					ranges = append(ranges, page(int64(e.Logical+i)*bs, bs))
				}
			}
		}
	}
	for _, r := range m.damaged {
		if r[0] >= r[1] {
			return nil, true
		}
		for b := r[0] * block.SectorSize / bs; b*bs < r[1]*block.SectorSize; b++ {
			if m.fs.Used(uint64(b)) && !data[uint64(b)] {
				return nil, true // an indirect block
			}
		}
	}
	return ranges, false
}

// loop is a repeat a task is in: which, and its iteration (from 1).
type loop struct {
	op   *scenarios.Op
	iter int64
}

// repeat runs a repeat's block op.Count times, or, for "repeat until
// TASK done", until that task has run all its operations, testing after
// each iteration (at least one, as Pascal's repeat-until). Before the
// test the task steps aside, as a sched_yield() under a fair scheduler
// would: it sleeps 1ns, until another task has run a scheduling point, so
// that no strategy (PCT's fixed priorities included) can starve the task
// it waits for, and a block that never blocks still counts against the
// step budget, which with the time budget bounds a repeat whose task
// never ends (see explainLoops).
func (m *machine) repeat(t *sim.Task, task string, op *scenarios.Op) {
	l := &loop{op: op}
	m.loops[t.Name()] = append(m.loops[t.Name()], l)
	defer func() { m.loops[t.Name()] = m.loops[t.Name()][:len(m.loops[t.Name()])-1] }()
	for l.iter = 1; ; l.iter++ {
		m.runOps(t, task, op.Body)
		if m.crashed || op.Until == "" && l.iter >= op.Count {
			return
		}
		if op.Until != "" {
			t.Sleep(1)
			if m.done[op.Until] {
				return
			}
		}
	}
}

// opAt is where op, run by task, is in the scenario, for failure
// messages: its position and, inside repeats, each repeat's iteration
// ("x.wbs:12:9 (iteration 40 of the repeat at 10:5)").
func (m *machine) opAt(task string, op *scenarios.Op) string {
	s := op.Meta.Pos.String()
	ls := m.loops[task]
	for i := len(ls) - 1; i >= 0; i-- {
		if i == len(ls)-1 {
			s += " ("
		} else {
			s += ", "
		}
		p := ls[i].op.Meta.Pos
		s += fmt.Sprintf("iteration %d of the repeat at %d:%d", ls[i].iter, p.Line, p.Col)
		if i == 0 {
			s += ")"
		}
	}
	return s
}

// explainLoops adds to a failure that ran out of budget (livelock,
// time-budget) the "repeat until" loops still going: a task that repeats
// until another is done, while that one never ends (it repeats until the
// first is done, or waits for it), is bounded only by the budgets.
func (m *machine) explainLoops(f *sim.Failure) {
	if f.Kind != sim.FailLivelock && f.Kind != sim.FailTimeBudget {
		return
	}
	var w []string
	for _, st := range m.s.Tasks {
		for _, l := range m.loops[st.Name] {
			if l.op.Until != "" {
				w = append(w, fmt.Sprintf("%s repeats until %s is done (iteration %d of the repeat at %s)", st.Name, l.op.Until, l.iter, l.op.Meta.Pos))
			}
		}
	}
	if len(w) > 0 {
		f.Explain = strings.TrimSpace(f.Explain + " " + strings.Join(w, "; ") + ": the task it waits for never finished within the budget, so the repeat ran until the budget did.")
	}
}

// expectFail fails the run: op returned got, its expect says otherwise.
func (m *machine) expectFail(op *scenarios.Op, got string) { m.w.Fail(m.expectFailure(op, got)) }

// expectFailure is expectFail's failure.
func (m *machine) expectFailure(op *scenarios.Op, got string) *sim.Failure {
	return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvExpect,
		Msg:     fmt.Sprintf("%s at %s returned %s, expected %s", opText(op), m.opAt(m.taskName(), op), got, resultText(op.Expect)),
		Explain: "The scenario says what this call must return, and it returned something else."}
}

// taskName is the running task's name ("" in scheduler context).
func (m *machine) taskName() string {
	if t := m.w.Current(); t != nil {
		return t.Name()
	}
	return ""
}

func resultText(r scenarios.Result) string {
	switch r.Kind {
	case scenarios.ResultOK:
		return "ok"
	case scenarios.ResultErrno:
		return r.Errno.String()
	case scenarios.ResultSize:
		return fmt.Sprintf("size %d", r.Size)
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

// expectSize checks what a stat found, st_size, against op's
// expectation. fstat(2) is vfs_fstat, vfs_getattr and, with no
// ->getattr (ext2 of 2.6.x and 3.x) or afs_getattr (fs/afs/inode.c,
// 2.6.3x), generic_fillattr (fs/stat.c): i_size_read, no lock, no
// scheduling point.
func (m *machine) expectSize(op *scenarios.Op, size int64) {
	if fl := m.sizeFailure(op, size); fl != nil {
		m.w.Fail(fl)
	}
}

// sizeFailure is expectSize's failure, or nil.
func (m *machine) sizeFailure(op *scenarios.Op, size int64) *sim.Failure {
	if op.Expect.Kind == scenarios.ResultSize && size != op.Expect.Size {
		return m.expectFailure(op, fmt.Sprintf("size %d", size))
	}
	if op.Expect.Kind == scenarios.ResultErrno {
		return m.expectFailure(op, "0")
	}
	return nil
}

// fdOps are the ops that take a file descriptor.
var fdOps = map[scenarios.OpKind]bool{scenarios.OpWrite: true, scenarios.OpPWrite: true, scenarios.OpMmapWrite: true,
	scenarios.OpRead: true, scenarios.OpFsync: true, scenarios.OpFdatasync: true, scenarios.OpTruncate: true,
	scenarios.OpClose: true, scenarios.OpMsync: true, scenarios.OpStat: true}

func (m *machine) runOp(t *sim.Task, op *scenarios.Op) {
	if fdOps[op.Kind] && m.fd(op.FD) == nil {
		// Its open failed (an O_TRUNC that ->setattr refused): EBADF.
		m.expectRet(op, vfs.EBADF.Neg())
		return
	}
	switch op.Kind {
	case scenarios.OpOpen:
		m.open(t, op)
	case scenarios.OpWrite, scenarios.OpPWrite:
		d := m.fd(op.FD)
		off := op.Offset
		data := d.f.of.NewData(op.Len)
		var ret int64
		if op.Kind == scenarios.OpPWrite {
			m.labels[op.Label] = label{data: data, off: off}
			ret = vfs.Pwrite(t, d.file, data, off)
		} else {
			if off != scenarios.AtPos {
				d.file.Pos = off // lseek(fd, off, SEEK_SET)
			}
			off = d.file.Pos
			m.labels[op.Label] = label{data: data, off: off}
			ret = vfs.Write(t, d.file, data)
			if ret > 0 {
				// Where it went: with O_APPEND, at i_size, not at the
				// position it started from; f_pos is now just past it.
				m.labels[op.Label] = label{data: data, off: d.file.Pos - ret}
			}
		}
		d.f.of.WriteDone(data)
		r := int(ret)
		if ret >= 0 && d.flags&scenarios.OSync != 0 {
			// O_SYNC: generic_write_sync is not modelled by vfs; an fsync
			// of the file after the write, whose error the write returns.
			if e := m.fsync(t, op, d); e < 0 {
				r = e
			}
		}
		m.expectRet(op, r)
	case scenarios.OpMmapWrite:
		d := m.fd(op.FD)
		off := op.Offset
		if off == scenarios.AtPos {
			off = d.file.Pos
		}
		data := d.f.of.NewData(op.Len)
		m.labels[op.Label] = label{data: data, off: off}
		ret := vfs.MmapWrite(t, d.file, off, data)
		d.f.of.WriteDone(data)
		m.expectRet(op, ret)
	case scenarios.OpRead:
		d := m.fd(op.FD)
		off := op.Offset
		var got content.Bytes
		var n int64
		if off == scenarios.AtPos {
			off = d.file.Pos
			got, n = vfs.Read(t, d.file, op.Len)
		} else {
			got, n = vfs.Pread(t, d.file, off, op.Len)
		}
		ret := int(n)
		if ret >= 0 {
			if !m.crashed && m.checks(check.InvReadCorrect) {
				if fl := d.f.of.CheckRead(off, op.Len, got); fl != nil {
					fl.Msg += fmt.Sprintf(" [at %s: read %s]", m.opAt(t.Name(), op), op.FD)
					m.w.Fail(fl)
				}
			}
		}
		switch op.Expect.Kind {
		case scenarios.ResultData:
			want, why := m.expected(op, off)
			if ret < 0 || why != "" || !want.Equal(got) {
				g := retText(ret)
				if ret >= 0 {
					g = fmt.Sprintf("%d bytes %v", got.Len(), got)
				}
				if why != "" {
					g += "; the expectation names " + why
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
	case scenarios.OpMsync:
		d := m.fd(op.FD)
		if op.Async {
			m.expectRet(op, vfs.Msync(t, d.file, vfs.MS_ASYNC))
			break
		}
		if m.fs == nil {
			m.expectRet(op, vfs.Msync(t, d.file, vfs.MS_SYNC)) // EINVAL: no shared writable mapping
			break
		}
		m.expectRet(op, m.fsync(t, op, d))
	case scenarios.OpStat:
		m.expectSize(op, mm.ISizeRead(m.fd(op.FD).f.ino))
	case scenarios.OpSync:
		m.sync(t)
	case scenarios.OpTruncate:
		d := m.fd(op.FD)
		m.expectRet(op, m.truncate(t, d.f, op.Size, d.file))
	case scenarios.OpClose:
		d := m.fd(op.FD)
		delete(m.fds, op.FD)
		m.expectRet(op, vfs.Close(t, d.file))
	case scenarios.OpSleep:
		t.Sleep(op.Dur)
	case scenarios.OpDropCaches:
		vfs.DropCaches(t, m.v)
	case scenarios.OpDevice, scenarios.OpServer:
		m.loadTable(t, op)
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

// open is open(2) with O_CREAT: a new path is created (ext2_create, or
// the server file and afs_iget); an existing file opened O_TRUNC is
// truncated to 0 first, by may_open's do_truncate (fs/namei.c, 2.6.12 to
// 2.6.32: ATTR_MTIME|ATTR_CTIME, no file; a file the open creates is not
// truncated); then vfs.Open (__dentry_open, ->open: generic_file_open, or
// afs_open with the op's key). The runner keeps its O_TRUNC semantics of
// truncating only a file opened for writing. O_APPEND is f_flags'
// (generic_write_checks reads it); O_SYNC is the runner's (see runOp).
func (m *machine) open(t *sim.Task, op *scenarios.Op) {
	f := m.files[op.Path]
	created := f == nil
	if created {
		if m.fs != nil {
			f = m.blockFile(op.Path)
		} else {
			f = m.afsFile(op.Path)
		}
	}
	mode := vfs.FMODE_READ | vfs.FMODE_WRITE
	switch {
	case op.Flags&scenarios.RdOnly != 0:
		mode = vfs.FMODE_READ
	case op.Flags&scenarios.WrOnly != 0:
		mode = vfs.FMODE_WRITE
	}
	if op.Flags&scenarios.Trunc != 0 && mode&vfs.FMODE_WRITE != 0 && !created {
		if ret := m.truncate(t, f, 0, nil); ret < 0 {
			m.expectRet(op, ret)
			return
		}
	}
	var cred any
	if f.v != nil {
		cred = m.keys[op.Key]
	}
	file, ret := vfs.Open(t, f.vi, mode, cred)
	if ret != 0 {
		m.expectRet(op, ret)
		return
	}
	if op.Flags&scenarios.Append != 0 {
		file.Flags |= vfs.O_APPEND
	}
	m.fds[op.FD] = &mfd{f: f, od: f.of.Open(), file: file, flags: op.Flags}
	m.expectRet(op, 0)
}

// durableSetup makes the setup files' contents durable before the
// scenario begins, whatever fsync-flush says: they stand for a file system
// made and filled before this boot, whose last unmount flushed the disk's
// cache (sd_shutdown's cache sync). An fsync on a file system mounted
// without barriers leaves them in the volatile cache, where a crash of the
// scenario would lose what no task wrote.
func (m *machine) durableSetup(t *sim.Task) {
	if len(m.s.FS.Files) > 0 && m.fs.Opts.NoBarrier {
		block.BlkdevIssueFlush(t, m.fs.Bdev)
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

// expected is what a read op's "expect RUNS" describes, at file offset
// off, or why it cannot be: a run that starts before its label's write
// (whose offset the text may not give: a write at the file position, or
// the last iteration of a repeated one) names bytes that write never had.
func (m *machine) expected(op *scenarios.Op, off int64) (content.Bytes, string) {
	var b content.Bytes
	pos := off
	for _, r := range op.Expect.Data {
		if r.Label == "" {
			b = b.Append(content.Zeros(r.Len))
		} else {
			l := m.labels[r.Label]
			if pos < l.off {
				return content.Bytes{}, fmt.Sprintf("%s:%d at file offset %d, but write %s (the last, in a repeat) started at %d", r.Label, r.Len, pos, r.Label, l.off)
			}
			src := l.data.Truncate(max(l.data.Len(), pos-l.off+r.Len))
			b = b.Append(src.Slice(pos-l.off, r.Len))
		}
		pos += r.Len
	}
	return b, ""
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

// fsync is fsync(2) (fdatasync(2) for an fdatasync op, and the fsync
// after an O_SYNC write) through vfs, with the fsync-error and
// fsync-durable checks.
func (m *machine) fsync(t *sim.Task, op *scenarios.Op, d *mfd) int {
	where := "at " + m.opAt(t.Name(), op)
	fs := d.od.BeginFsync(where)
	var ret int
	if op.Kind == scenarios.OpFdatasync {
		ret = vfs.Fdatasync(t, d.file)
	} else if op.Kind == scenarios.OpMsync {
		ret = vfs.Msync(t, d.file, vfs.MS_SYNC)
	} else {
		ret = vfs.Fsync(t, d.file)
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

// sync is sync(2) through vfs (the era's sys_sync, or 2.6.12's do_sync).
// Errors are not reported, as in 2.6, but they are consumed: each
// filemap_fdatawait of the sync (wait_sb_inodes, or the WB_SYNC_ALL
// pass of sync_sb_inodes) tests and clears AS_EIO/AS_ENOSPC. The oracle
// has an in-flight sync of every file (BeginSync) from the start; as the
// syncing task's wait_on_page_writeback_range reports an error on a
// file's mapping (mm.TraceWritebackError, seen by observe) that sync
// ends with the error (consumed: no later fsync is owed it) and a new
// one begins; at the end they all end with 0.
func (m *machine) sync(t *sim.Task) {
	in := map[*mfile]*check.Fsync{}
	for _, f := range m.order {
		in[f] = f.of.BeginSync()
	}
	m.syncs[t.ID()] = in
	vfs.Sync(t, m.v)
	delete(m.syncs, t.ID())
	for _, f := range m.order {
		s := in[f]
		if s == nil {
			continue
		}
		if fl := s.End(0); fl != nil && m.checks(check.InvFsyncError) {
			m.w.Fail(fl) // an fsync judged when this sync, in flight with it, ended
		}
	}
}

// shutdown is the end of the run after the closer's sync(2), before
// no-lost-write reads stable storage: the clean shutdown's writeback of
// every file and of the block device's buffers (write and wait, as an
// unmount's final sync would; reduced to filemap_write_and_wait per
// mapping), then the disk's cache flush (sd_shutdown's cache sync). The
// model's sync(2) alone does not do: it runs the writeback the kernel
// hands to the flusher thread in the syncing task, so an inode the
// flusher is writing (I_SYNC, off the dirty list) is neither written nor
// waited on by it, where the kernel's flusher would have finished that
// pass first; 2.6.12's do_sync runs ->sync_fs before sync_inodes(1) has
// waited on the data; and a file system mounted without barriers never
// flushes the disk's cache. A page that writeback cleaned without writing
// it stays lost: this writes only dirty pages.
func (m *machine) shutdown(t *sim.Task) {
	t.Enter("kernel_power_off")
	defer t.Leave()
	for _, f := range m.order {
		mm.FilemapWriteAndWait(t, f.ino.Mapping)
	}
	if m.fs != nil {
		block.SyncMappingBuffers(t, m.bdev.Inode.Mapping, m.bdev)
		mm.FilemapWriteAndWait(t, m.bdev.Inode.Mapping)
		block.BlkdevIssueFlush(t, m.fs.Bdev)
	}
}

// syncConsumed is observe's part of sync: ev (mm.TraceWritebackError) is
// a wait that reported, and for AS_EIO/AS_ENOSPC consumed, a writeback
// error of a mapping; if the waiting task is in sync(2) and the mapping
// is a file's, the oracle learns that sync consumed it.
func (m *machine) syncConsumed(ev *sim.Event) {
	in := m.syncs[ev.Task]
	if in == nil {
		return
	}
	for _, f := range m.order {
		if f.ino.Mapping.Obj() != ev.Obj {
			continue
		}
		s := in[f]
		if s == nil {
			s = f.of.BeginSync() // a file created while the sync ran
		}
		s.End(-int(ev.Arg)) // an error return consumes; it never fails
		in[f] = f.of.BeginSync()
		return
	}
}

// truncate is ftruncate(2) through vfs (vfs.Ftruncate: do_truncate,
// notify_change under i_mutex, ext2_setattr: vmtruncate and ext2_truncate
// in 2.6.x, ext2_setsize in 3.x), or with no file the truncation of an
// open with O_TRUNC (vfs.DoTruncate). The oracle learns of the truncate
// as it begins, when notify_change is entered (observe): under i_mutex,
// so no write comes between, and before the new i_size shows (an AFS
// store sends it as the file's length, so a crash in the middle may find
// the bytes past it gone). On afs, afs_setattr (model/afs) flushes the
// file and sends FS.StoreData with the new length; an injected store
// error fails it after the oracle was told (a fault fired: the data
// checks are excused).
func (m *machine) truncate(t *sim.Task, f *mfile, size int64, file *vfs.File) int {
	if size >= 0 {
		m.truncs[t.ID()] = &pendingTrunc{f: f, size: size}
	}
	var ret int
	if file != nil {
		ret = vfs.Ftruncate(t, file, size)
	} else {
		ret = vfs.DoTruncate(t, f.vi, size, vfs.ATTR_MTIME|vfs.ATTR_CTIME, nil)
	}
	delete(m.truncs, t.ID())
	return ret
}

// fsck is the fs-consistent check (blockfs.Fs.Check, with the i_size
// rule): at the end of the run, once every task is done and no daemon is
// in a pass, or at a crash, with the excuses of an image taken mid-way
// (blockfs.FsckOptions.Crash). Indirect blocks not in the buffer cache
// are read from the device as it is now (its volatile cache included).
// An inode behind an indirect block that an injected fault hit is not
// judged (blockfs.FsckOptions.Damaged): the fault, not the kernel, made
// its tree what it is; nor, once any fault fired, are the blocks a
// truncate lost through such a block (blockfs.FsckOptions.Faulted).
func (m *machine) fsck(crash bool) {
	if !m.checks(blockfs.InvFsConsistent) {
		return
	}
	read := func(off, n int64) content.Bytes {
		return m.disk.Read(off/block.SectorSize, n/block.SectorSize)
	}
	err := m.fs.Check(blockfs.FsckOptions{Read: read, ISize: true, Crash: crash,
		Damaged: m.damagedBlock, Faulted: len(m.damaged) > 0})
	if err == nil {
		return
	}
	when := "once every task was done"
	if crash {
		when = "on the image the crash left"
	}
	m.w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: blockfs.InvFsConsistent,
		Obj: sim.Obj{Class: "fs", Name: "blockfs"},
		Msg: fmt.Sprintf("fsck %s: %v", when, err),
		Explain: "The file system's metadata must be consistent whenever nothing is half done, and after a crash " +
			"as recovery would see it: each block belongs to at most one file (or indirect block), every block " +
			"the bitmap says is in use belongs to something and every block a file uses is marked in use, the free " +
			"count matches the bitmap, a file maps no block past the one that holds its last byte (i_size), and " +
			"i_blocks counts the blocks the file owns. A failure means an allocation, a truncate or an error path " +
			"left the metadata wrong: a block handed out twice, one freed but still mapped, one allocated and " +
			"forgotten, or i_size and the block map out of step. (After a crash, what an operation caught " +
			"mid-way may leave is excused: see docs/scenario-language.md.)"})
}
