package afs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// A stateful test of the AFS write path with gopter's commands package.
//
// The system under test is a simulated kernel, which runs only inside a
// world's Run; so the SUT keeps the command sequence and each command
// replays the sequence so far in a fresh world (one driver task under
// round-robin, with the RPC reply tasks) and observes the state after the
// last command. The worlds are deterministic, so replaying is exact.
//
// After every command the post-condition checks, at that quiescent point,
// wb-record, page-ref and page-state (CheckRecords, CheckPages), and
// compares with go-cmp what the model expects against what the kernel
// did: return values, i_size, and the server's contents against the
// oracle whenever everything must have reached the server.
//
// The kernel under test has every fix on. Two behaviours of the era that
// no fix covers shape the commands: after a store fails in the EIO group
// the killed pages are gone, and fsync reports AS_EIO once and then
// returns 0 without the data (without fsync-marker-wait it waited behind
// the killed record for ever), so fsync is not issued after one
// ("poisoned"); and afs_writepage
// BUG()s when reclaim calls it (pageout cleans the page first), which
// the reclaim command expects.

// sfState is the model.
type sfState struct {
	oracle   *content.Store
	isize    int64
	pending  bool // a store failed since the last fsync: fsync must fail
	poisoned bool // a store failed with the EIO group: pages were killed
	crashed  bool // the kernel BUG()ed
	clean    bool // nothing is dirty: the server holds every byte
}

func (s *sfState) String() string {
	return fmt.Sprintf("isize=%d pending=%v poisoned=%v crashed=%v clean=%v", s.isize, s.pending, s.poisoned,
		s.crashed, s.clean)
}

func (s *sfState) copy() *sfState {
	c := *s
	c.oracle = s.oracle.Clone()
	return &c
}

// sfObs is what a command observed.
type sfObs struct {
	Ret        int64
	ISize      int64
	Server     string // the server's file, if the model can predict it
	Violations []string
	Failure    string // the run's failure invariant and message head
}

// sfCmd is one command.
type sfCmd struct {
	name string
	// run is the driver task's action; it returns the command's result.
	run func(r *rig, t *sim.Task, files []*File) int64
	// next updates the model.
	next func(s *sfState)
	// expect is what the command should observe, given the state after it.
	expect func(s *sfState) sfObs
	pre    func(s *sfState) bool
}

func (c *sfCmd) String() string { return c.name }

// sfSUT replays the command sequence.
type sfSUT struct {
	fixes Fixes
	cmds  []*sfCmd
}

func (c *sfCmd) Run(sut commands.SystemUnderTest) commands.Result {
	s := sut.(*sfSUT)
	s.cmds = append(s.cmds, c)
	return replay(s.fixes, s.cmds)
}

func (c *sfCmd) NextState(state commands.State) commands.State {
	s := state.(*sfState).copy()
	c.next(s)
	return s
}

func (c *sfCmd) PreCondition(state commands.State) bool {
	s := state.(*sfState)
	if c == nopCmd {
		return s.crashed
	}
	return !s.crashed && (c.pre == nil || c.pre(s))
}

func (c *sfCmd) PostCondition(state commands.State, result commands.Result) *gopter.PropResult {
	s := state.(*sfState)
	got := result.(sfObs)
	if c == nopCmd {
		return &gopter.PropResult{Status: gopter.PropTrue}
	}
	want := c.expect(s)
	if want.Server == "" {
		got.Server = ""
	}
	if d := cmp.Diff(want, got); d != "" {
		return &gopter.PropResult{Status: gopter.PropFalse, Error: fmt.Errorf("%s (-want +got):\n%s", c.name, d)}
	}
	return &gopter.PropResult{Status: gopter.PropTrue}
}

// replay runs cmds in a fresh world and observes the last one.
func replay(fixes Fixes, cmds []*sfCmd) sfObs {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 500_000})
	tb := &testing.T{}
	r := newRig(tb, w, fixes, nil, 3)
	files := []*File{r.v.OpenNoTask(r.keys[0]), r.v.OpenNoTask(r.keys[1]), r.v.OpenNoTask(r.keys[2])}
	var obs sfObs
	w.Spawn("driver", func(t *sim.Task) {
		for i, c := range cmds {
			ret := c.run(r, t, files)
			if i == len(cmds)-1 {
				obs.Ret = ret
			}
		}
	})
	res := w.Run()
	obs.ISize = mm.ISizeRead(r.v.VFSInode)
	obs.Server = r.srv.File(1).Data.String()
	if res.Failure != nil {
		obs.Failure = res.Failure.Invariant + ": " + res.Failure.Msg
		if i := strings.Index(obs.Failure, " on page"); i > 0 {
			obs.Failure = obs.Failure[:i]
		}
		return obs
	}
	for _, v := range append(r.fs.CheckRecords(), r.fs.CheckPages()...) {
		obs.Violations = append(obs.Violations, v.String())
	}
	return obs
}

// The expected observation for the common case.
func okObs(s *sfState, ret int64, withServer bool) sfObs {
	o := sfObs{Ret: ret, ISize: s.isize}
	if withServer && !s.poisoned {
		o.Server = s.oracle.String()
	}
	return o
}

func genWrite() gopter.Gen {
	return gopter.CombineGens(gen.IntRange(0, 2), gen.Int64Range(0, 4*mm.PageSize-1), gen.Int64Range(1, 6000)).
		Map(func(v []any) commands.Command {
			key, pos, n := v[0].(int), v[1].(int64), v[2].(int64)
			n = min(n, 5*mm.PageSize-pos)
			return &sfCmd{
				name: fmt.Sprintf("write(k%d, %d+%d)", key, pos, n),
				run: func(r *rig, t *sim.Task, files []*File) int64 {
					return afsPwrite(t, files[key], content.Fill(n, content.Stamp(pos*7+n+1), 0), pos)
				},
				next: func(s *sfState) {
					s.oracle.Write(pos, content.Fill(n, content.Stamp(pos*7+n+1), 0))
					s.isize = max(s.isize, pos+n)
					s.clean = false
				},
				expect: func(s *sfState) sfObs { return okObs(s, n, false) },
			}
		})
}

// writepages modes: sync mode x range kind.
func genWritepages() gopter.Gen {
	return gopter.CombineGens(gen.Bool(), gen.IntRange(0, 2), gen.Int64Range(0, 4), gen.Int64Range(0, 4)).
		Map(func(v []any) commands.Command {
			syncAll, kind, a, b := v[0].(bool), v[1].(int), v[2].(int64), v[3].(int64)
			a, b = min(a, b), max(a, b)
			mode := mm.WB_SYNC_NONE
			if syncAll {
				mode = mm.WB_SYNC_ALL
			}
			kinds := []string{"cyclic", "whole", fmt.Sprintf("bytes %d..%d", a*mm.PageSize, (b+1)*mm.PageSize-1)}
			full := syncAll && kind < 2
			return &sfCmd{
				name: fmt.Sprintf("writepages(%s, %s)", mode, kinds[kind]),
				run: func(r *rig, t *sim.Task, files []*File) int64 {
					wbc := &mm.WritebackControl{SyncMode: mode, NrToWrite: 1024}
					switch kind {
					case 0:
						wbc.RangeCyclic = true
					case 1:
						wbc.RangeEnd = mm.LLONG_MAX
					default:
						wbc.RangeStart, wbc.RangeEnd = a*mm.PageSize, (b+1)*mm.PageSize-1
					}
					return int64(mm.DoWritepages(t, r.v.Mapping(), wbc))
				},
				next: func(s *sfState) {
					if full {
						s.clean = true
					}
				},
				expect: func(s *sfState) sfObs { return okObs(s, 0, full) },
			}
		})
}

var errnoGroups = []errno.Errno{
	errno.ENOSPC, errno.EDQUOT, // AS_ENOSPC group
	errno.EIO, errno.EROFS, errno.EREMOTEIO, errno.EFBIG, errno.ENOENT, errno.ENOMEDIUM, errno.ENXIO, // kill, AS_EIO
	errno.EACCES, errno.EPERM, errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREJECTED, errno.EKEYREVOKED, // key group
	errno.ETIMEDOUT, errno.EINTR, // default branch
}

func eioGroup(e errno.Errno) bool {
	switch e {
	case errno.EIO, errno.EROFS, errno.EREMOTEIO, errno.EFBIG, errno.ENOENT, errno.ENOMEDIUM, errno.ENXIO:
		return true
	}
	return false
}

// failingStore writes a page, arms a one-shot store failure and runs a
// WB_SYNC_ALL writepages of the whole file: the store fails with e.
func genFailingStore() gopter.Gen {
	return gopter.CombineGens(gen.IntRange(0, len(errnoGroups)-1), gen.Int64Range(0, 3)).
		Map(func(v []any) commands.Command {
			e, page := errnoGroups[v[0].(int)], v[1].(int64)
			pos := page * mm.PageSize
			return &sfCmd{
				name: fmt.Sprintf("write(k0, %d+100) then store fails %s", pos, e),
				run: func(r *rig, t *sim.Task, files []*File) int64 {
					afsPwrite(t, files[0], content.Fill(100, content.Stamp(pos+100000), 0), pos)
					r.srv.FailNextStore(e)
					wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: 1024, RangeEnd: mm.LLONG_MAX}
					ret := mm.DoWritepages(t, r.v.Mapping(), wbc)
					return int64(ret)
				},
				next: func(s *sfState) {
					s.oracle.Write(pos, content.Fill(100, content.Stamp(pos+100000), 0))
					s.isize = max(s.isize, pos+100)
					s.clean = false
					if eioGroup(e) {
						s.poisoned = true
					} else {
						s.pending = true
					}
				},
				expect: func(s *sfState) sfObs { return okObs(s, int64(e.Neg()), false) },
			}
		})
}

// fsync: vfs_fsync; 0 unless a store failed since the last one; then the
// server holds everything.
var fsyncCmd = &sfCmd{
	name: "fsync",
	run: func(r *rig, t *sim.Task, files []*File) int64 {
		ret := VfsFsync(t, files[0], 0)
		if ret < 0 {
			return -1
		}
		return int64(ret)
	},
	pre: func(s *sfState) bool { return !s.poisoned && !s.pending },
	next: func(s *sfState) {
		s.clean = true
	},
	expect: func(s *sfState) sfObs { return okObs(s, 0, true) },
}

// fsyncAfterError is fsync when a store failed before: it must report it.
var fsyncAfterErrorCmd = &sfCmd{
	name: "fsync after a failed store",
	run:  fsyncCmd.run,
	pre:  func(s *sfState) bool { return !s.poisoned && s.pending },
	next: func(s *sfState) {
		s.pending = false
		s.clean = true
	},
	expect: func(s *sfState) sfObs { return okObs(s, -1, true) },
}

// reclaimWritepage writes a page, then does what pageout does to it:
// lock, clear_page_dirty_for_io, ->writepage. afs_writepage's
// afs_write_back_from_locked_page finds the page clean and BUG()s.
func genReclaimWritepage() gopter.Gen {
	return gen.Int64Range(0, 3).Map(func(page int64) commands.Command {
		pos := page * mm.PageSize
		return &sfCmd{
			name: fmt.Sprintf("write(k0, %d+10) then pageout's ->writepage", pos),
			run: func(r *rig, t *sim.Task, files []*File) int64 {
				afsPwrite(t, files[0], content.Fill(10, content.Stamp(pos+200000), 0), pos)
				p := mm.FindLockPage(t, r.v.Mapping(), uint64(page))
				if mm.ClearPageDirtyForIO(t, p) != 0 {
					wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 32, RangeEnd: mm.LLONG_MAX,
						ForReclaim: true}
					mm.SetPageReclaim(t, p)
					return int64(AfsWritepage(t, p, wbc))
				}
				mm.UnlockPage(t, p)
				return 0
			},
			next: func(s *sfState) {
				s.oracle.Write(pos, content.Fill(10, content.Stamp(pos+200000), 0))
				s.isize = max(s.isize, pos+10)
				s.crashed = true
			},
			expect: func(s *sfState) sfObs {
				return sfObs{ISize: s.isize, Failure: "page-state: kernel BUG: afs_write_back_from_locked_page: primary page not dirty"}
			},
		}
	})
}

func afsCommands(fixes Fixes) commands.Commands {
	return &commands.ProtoCommands{
		NewSystemUnderTestFunc: func(commands.State) commands.SystemUnderTest { return &sfSUT{fixes: fixes} },
		InitialStateGen:        gen.Const(&sfState{oracle: &content.Store{}, clean: true}),
		GenCommandFunc: func(state commands.State) gopter.Gen {
			s := state.(*sfState)
			if s.crashed {
				return gen.Const(nopCmd)
			}
			gens := []gen.WeightedGen{
				{Weight: 10, Gen: genWrite()},
				{Weight: 5, Gen: genWritepages()},
				{Weight: 3, Gen: genFailingStore()},
				{Weight: 1, Gen: genReclaimWritepage()},
			}
			switch {
			case s.poisoned:
			case s.pending:
				gens = append(gens, gen.WeightedGen{Weight: 4, Gen: gen.Const(fsyncAfterErrorCmd)})
			default:
				gens = append(gens, gen.WeightedGen{Weight: 4, Gen: gen.Const(fsyncCmd)})
			}
			return gen.Weighted(gens)
		},
	}
}

// nopCmd follows a kernel BUG: nothing more can run.
var nopCmd = &sfCmd{
	name:   "nothing (after the BUG)",
	run:    func(r *rig, t *sim.Task, files []*File) int64 { return 0 },
	next:   func(s *sfState) {},
	expect: nil,
}

// TestStatefulWritePath runs random command sequences against the model.
func TestStatefulWritePath(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(1)
	params.MinSuccessfulTests = 200
	params.MaxSize = 24
	props := gopter.NewProperties(params)
	props.Property("afs write path keeps wb-record, page-ref and page-state", commands.Prop(afsCommands(AllFixes())))
	props.TestingRun(t)
}

// TestStatefulSeedFails: the same property against the seed as it is (no
// fix) must fail: the test can fail.
func TestStatefulSeedFails(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(1)
	params.MinSuccessfulTests = 60
	params.MaxSize = 14
	props := gopter.NewProperties(params)
	props.Property("seed", commands.Prop(afsCommands(Fixes{})))
	var out strings.Builder
	if props.Run(gopter.NewFormatedReporter(true, 100, &out)) {
		t.Fatalf("the stateful property passed against the unfixed seed")
	}
	t.Logf("seed fails as expected:\n%s", out.String())
}
