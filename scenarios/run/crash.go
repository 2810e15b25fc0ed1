package run

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
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
	for i := range n {
		if fl := m.crashState(image(i), after, n == 1); fl != nil {
			failed = append(failed, i)
			if first == nil {
				first = fl
			}
		}
	}
	note := fmt.Sprintf("%d crash states checked, %d failed", n, len(failed))
	if n == 1 {
		note = fmt.Sprintf("1 crash state checked, %d failed", len(failed))
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
// after crash block, whose failed expectation fails the state. The inodes
// and their sizes are the ones at the crash (the checks take the metadata
// as journalled); the indirect blocks are the image's.
func (m *machine) crashState(img *content.Store, after []scenarios.Op, record bool) *sim.Failure {
	rep := m.fs.Repair(img.Read)
	repaired := append(append([]string(nil), rep.Fixed...), rep.Unexpected...)
	if record && len(repaired) > 0 {
		m.w.Record(sim.KindNote, "fsck_repair", sim.Obj{}, int64(len(repaired)), strings.Join(repaired, " "))
	}
	stable := func(f *mfile) check.Stable {
		return func(off, n int64) content.Bytes { return f.onDiskMap(img, rep.Maps[f.ino.Ino], off, n) }
	}
	fl := m.crashContract(stable)
	if fl == nil {
		fl = m.afterCrash(after, stable)
	}
	if fl != nil && len(repaired) > 0 {
		fl.Explain += " fsck repaired the crashed image before the remount: " + strings.Join(repaired, " ")
	}
	return fl
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

// afterCrash runs an after crash block on a crash state: opens find the
// files the crash left (a new path is a new, empty file), reads read the
// remounted file through stable up to its size, fsync and close have
// nothing to write (the block writes nothing) and return 0. It returns the
// first failed expectation.
func (m *machine) afterCrash(ops []scenarios.Op, stable func(*mfile) check.Stable) *sim.Failure {
	type afd struct {
		f   *mfile // nil: created after the crash, empty
		pos int64
	}
	fds := map[string]*afd{}
	for i := range ops {
		op := &ops[i]
		ret := 0
		switch op.Kind {
		case scenarios.OpOpen:
			fds[op.FD] = &afd{f: m.files[op.Path]}
		case scenarios.OpRead:
			d := fds[op.FD]
			off := op.Offset
			if off == scenarios.AtPos {
				off = d.pos
			}
			var got content.Bytes
			if d.f != nil {
				if size := mm.ISizeRead(d.f.ino); off < size {
					got = stable(d.f)(off, min(op.Len, size-off))
				}
			}
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
		case scenarios.OpClose:
			delete(fds, op.FD)
		}
		if op.Expect.Kind == scenarios.ResultErrno {
			return m.expectFailure(op, retText(ret))
		}
	}
	return nil
}
