package run

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// crashModes are the disk's crash modes of the language's.
var crashModes = map[scenarios.CrashMode]faultdisk.CrashMode{
	"": faultdisk.CrashDropAll, scenarios.CrashDropAll: faultdisk.CrashDropAll,
	scenarios.CrashKeepAll: faultdisk.CrashKeepAll, scenarios.CrashKeepRandom: faultdisk.CrashKeepRandom,
	scenarios.CrashTear: faultdisk.CrashTear,
}

// crash is power loss and a remount. Every other task stops where it is
// (World.Kill: the flusher, the interrupt handlers, the other scenario
// tasks; the locks they held stay held, their I/O never completes), and
// the disk crashes: in the op's mode (faultdisk's; drop-all when it names
// none, the worst case of a volatile write cache; keep-random and tear
// draw from the world's random source, so a seed replays them), or, for
// "crash enumerate", in every crash state the disk's ordering rules allow
// (faultdisk.CrashStates), each checked in turn, in the enumeration's
// deterministic order, so that a replay of the schedule checks the same
// states under the same indexes.
//
// Each state is mounted again (crashState): the model's e2fsck -p repairs
// the image (blockfs.Repair), the crash invariant judges every byte an
// fsync, fdatasync, sync or msync that returned 0 promised, through each
// file's repaired block map, and the after crash block runs on it. The
// trace says how many states were checked and how many failed; the
// failure is the first failed state's, and names it and the others.
//
// The run ends there: the old kernel's page cache, locks and requests
// are gone with it, and the runner builds no second kernel, so nothing
// but the after crash block runs after the crash (see the crash section
// of docs/scenario-language.md).
func (m *machine) crash(t *sim.Task, op *scenarios.Op, after []scenarios.Op) {
	t.Enter("power_loss")
	defer t.Leave()
	m.noteErrors()
	m.crashed = true
	for _, tk := range m.w.Tasks() {
		if tk != t {
			m.w.Kill(tk)
		}
	}
	clear(m.fds)
	// fs-consistent: the metadata as it stood at the crash, with the
	// device's contents before the power loss, which is what a journalled
	// recovery replays (the runner takes the block maps as journalled).
	m.fsck(true)
	var n int
	var image func(i int) *content.Store
	capped := ""
	if op.Crash == scenarios.CrashEnumerate {
		limit := op.Max
		if limit == 0 {
			limit = scenarios.DefaultCrashStates
		}
		cs := m.disk.CrashStates(op.Torn, int(limit))
		n, image = cs.Len(), cs.Image
		if cs.Capped {
			capped = fmt.Sprintf(" (capped at %d: there are more)", limit)
		}
		m.disk.Crash(faultdisk.CrashDropAll) // the old machine's I/O ends
	} else {
		m.disk.Crash(crashModes[op.Crash])
		n, image = 1, func(int) *content.Store { return m.disk.Durable() }
	}
	m.disk.Remount()
	var failed []int
	var first *sim.Failure
	repairs := 0
	for i := range n {
		fl, repaired := m.crashState(image(i), after, n == 1)
		if repaired {
			repairs++
		}
		if fl != nil {
			failed = append(failed, i)
			if first == nil {
				first = fl
			}
		}
	}
	note := fmt.Sprintf("%d crash states checked, %d failed, %d repaired by fsck", n, len(failed), repairs)
	if n == 1 {
		note = fmt.Sprintf("1 crash state checked, %d failed, %d repaired by fsck", len(failed), repairs)
	}
	if op.Crash == scenarios.CrashEnumerate {
		note = "crash enumerate: " + note + capped + "; the disk then drops its cache"
	}
	m.w.Record(sim.KindNote, "crash_states", sim.Obj{}, int64(n), note)
	if first == nil {
		return
	}
	what := "crash"
	if op.Crash != "" {
		what += " " + string(op.Crash)
	}
	if op.Crash == scenarios.CrashEnumerate {
		what = fmt.Sprintf("crash state %d of %d%s; %d failed: %s", failed[0], n, capped, len(failed), stateList(failed))
	}
	first.Msg += fmt.Sprintf(" [at %s: %s]", op.Meta.Pos, what)
	m.w.Fail(first)
}

// stateList names failed states: "3, 5, 7" (the first 10, then "...").
func stateList(l []int) string {
	var w []string
	for i, s := range l {
		if i == 10 {
			w = append(w, "...")
			break
		}
		w = append(w, fmt.Sprint(s))
	}
	return strings.Join(w, ", ")
}

// crashState mounts the file system again on a crashed image and judges
// it: fsck's repair (when only one state is checked, the trace records
// what it repaired; a failure says it), the crash invariant, then the
// after crash block, whose failed expectation fails the state. It
// returns the state's failure and whether fsck repaired anything. The inodes
// and their sizes are the ones at the crash (the checks take the metadata
// as journalled); the indirect blocks are the image's.
func (m *machine) crashState(img *content.Store, after []scenarios.Op, record bool) (*sim.Failure, bool) {
	rep := m.fs.Repair(img.Read)
	repaired := append(append([]string(nil), rep.Fixed...), rep.Unexpected...)
	if record && len(repaired) > 0 {
		m.w.Record(sim.KindNote, "fsck_repair", sim.Obj{}, int64(len(repaired)), strings.Join(repaired, " "))
	}
	stable := func(f *mfile) check.Stable {
		return func(off, n int64) content.Bytes { return f.onDiskVia(img.Read, rep.Maps[f.ino.Ino], off, n) }
	}
	fl := m.crashContract(stable)
	if fl == nil {
		fl = m.afterCrash(after, stable)
	}
	if fl != nil && len(repaired) > 0 {
		fl.Explain += " fsck repaired the crashed image before the remount: " + strings.Join(repaired, " ")
	}
	return fl, len(repaired) > 0
}

// crashContract is the crash invariant on a crash state: what each
// file's fsyncs promised, read through stable.
func (m *machine) crashContract(stable func(*mfile) check.Stable) *sim.Failure {
	if !m.checks(check.InvCrash) {
		return nil
	}
	for _, f := range m.order {
		if fl := f.of.CheckDurable(check.InvCrash, stable(f)); fl != nil {
			return fl
		}
	}
	return nil
}

// afterCrash runs an after crash block on a crash state. It is the
// remounted file system as one task with nothing else running and no
// second crash sees it, not a second kernel: opens find the files the
// crash left (a new path is a new, empty file); reads read a file through
// stable up to its size, and stat finds that size; writes go to the
// state's own copy of the file, which later reads and stats of the block
// see (nothing after them crashes, so their durability is not in
// question); fsync, fdatasync and close return 0. It returns the first
// failed expectation.
func (m *machine) afterCrash(ops []scenarios.Op, stable func(*mfile) check.Stable) *sim.Failure {
	files := map[string]*postFile{}
	type afd struct {
		p     *postFile
		pos   int64
		flags scenarios.OpenFlags
	}
	fds := map[string]*afd{}
	for i := range ops {
		op := &ops[i]
		ret := 0
		switch op.Kind {
		case scenarios.OpOpen:
			p := files[op.Path]
			if p == nil {
				p = &postFile{f: m.files[op.Path], stable: stable}
				if p.f != nil {
					p.size = mm.ISizeRead(p.f.ino)
				}
				files[op.Path] = p
			}
			if op.Flags&scenarios.Trunc != 0 && op.Flags&scenarios.RdOnly == 0 {
				p.write(0, content.Bytes{}, 0)
			}
			fds[op.FD] = &afd{p: p, flags: op.Flags}
		case scenarios.OpRead:
			d := fds[op.FD]
			off := op.Offset
			if off == scenarios.AtPos {
				off = d.pos
			}
			got := d.p.read(off, op.Len)
			d.pos = off + got.Len()
			if op.Expect.Kind == scenarios.ResultData {
				want, why := m.expected(op, off)
				if why != "" || !want.Equal(got) {
					g := fmt.Sprintf("%d bytes %v", got.Len(), got)
					if why != "" {
						g += "; the expectation names " + why
					}
					return m.expectFailure(op, g)
				}
				continue
			}
			ret = int(got.Len())
		case scenarios.OpWrite, scenarios.OpPWrite:
			d := fds[op.FD]
			if d.flags&scenarios.RdOnly != 0 {
				ret = vfs.EBADF.Neg() // vfs_write: not FMODE_WRITE
				break
			}
			off := op.Offset
			switch {
			case d.flags&scenarios.Append != 0:
				off = d.p.size
			case off == scenarios.AtPos:
				off = d.pos
			}
			data := m.postData(op.Len)
			d.p.write(off, data, off+op.Len)
			m.labels[op.Label] = label{data: data, off: off}
			if op.Kind == scenarios.OpWrite {
				d.pos = off + op.Len
			}
			ret = int(op.Len)
		case scenarios.OpStat:
			if fl := m.sizeFailure(op, fds[op.FD].p.size); fl != nil {
				return fl
			}
			continue
		case scenarios.OpClose:
			delete(fds, op.FD)
		}
		switch {
		case op.Expect.Kind == scenarios.ResultErrno && ret != -int(op.Expect.Errno),
			op.Expect.Kind == scenarios.ResultOK && ret < 0:
			return m.expectFailure(op, retText(ret))
		}
	}
	return nil
}

// postData is the data of a write after a crash: fresh stamps from an
// oracle file of their own, so that no fsync of the old machine covers
// them.
func (m *machine) postData(n int64) content.Bytes {
	if m.post == nil {
		m.post = m.oracle.NewFile("(after crash)")
	}
	return m.post.NewData(n)
}

// postFile is a file on the remounted file system of one crash state:
// the crashed file read through stable, until a write of the after crash
// block gives the state its own copy.
type postFile struct {
	f      *mfile // nil: created after the crash
	stable func(*mfile) check.Stable
	size   int64
	copied bool
	data   content.Bytes // the copy, once copied
}

// read returns up to n bytes at off, stopping at the end of the file.
func (p *postFile) read(off, n int64) content.Bytes {
	if off >= p.size {
		return content.Bytes{}
	}
	n = min(n, p.size-off)
	if p.copied {
		return p.data.Slice(off, n)
	}
	if p.f == nil {
		return content.Zeros(n)
	}
	return p.stable(p.f)(off, n)
}

// write puts data at off and makes the file size bytes long if it was
// shorter; size 0 with no data truncates it (open's O_TRUNC).
func (p *postFile) write(off int64, data content.Bytes, size int64) {
	if !p.copied {
		p.data, p.copied = p.read(0, p.size), true
	}
	if size == 0 && data.Len() == 0 {
		p.data, p.size = content.Bytes{}, 0
		return
	}
	p.size = max(p.size, size)
	p.data = p.data.Truncate(p.size).Overwrite(off, data)
}
