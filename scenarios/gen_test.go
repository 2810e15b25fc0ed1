package scenarios

import (
	"fmt"
	"strings"

	"pgregory.net/rapid"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Generators of valid scenarios, built through the Go API. They cover every
// statement, value and comment position the text form has; the round-trip
// property (roundtrip_test.go) prints and parses what they make.

var (
	genIdent = rapid.Custom(func(t *rapid.T) string {
		first := rapid.SampledFrom([]byte("abcxyzABZ019_")).Draw(t, "first")
		rest := rapid.SliceOfN(rapid.SampledFrom([]byte("abz09_-.XY")), 0, 8).Draw(t, "rest")
		return string(first) + string(rest)
	})
	// genLine is one line of free text: no control characters but tab, no
	// trailing white space; it may start with white space or "#".
	genLine = rapid.Custom(func(t *rapid.T) string {
		runes := rapid.SliceOfN(rapid.SampledFrom([]rune("ab #\"\\:é世\tq.{}")), 0, 12).Draw(t, "runes")
		return strings.TrimRight(string(runes), " \t")
	})
	genComment = rapid.SliceOfN(genLine, 1, 3)
	genName    = rapid.Custom(func(t *rapid.T) string { // a key name: anything
		return rapid.SampledFrom([]string{"alice", "bob", "afs@EXAMPLE.COM", "with space", "q\"uote", "\xff\x00", "#hash", "é"}).Draw(t, "name")
	})
	genPath = rapid.Custom(func(t *rapid.T) string {
		comps := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "data", "vol", "x y", "é", "#h", "q\"", "f.1", "..."}), 1, 3).Draw(t, "comps")
		return "/" + strings.Join(comps, "/")
	})
	genSize  = rapid.SampledFrom([]int64{0, 1, 511, 512, 4096, 6144, 1 << 20, 3 << 30, 2 << 40})
	genDur   = rapid.SampledFrom([]sim.Time{1, 999, sim.Microsecond, 1500 * sim.Microsecond, sim.Second, 3600 * sim.Second, MaxDuration})
	genErrno = rapid.SampledFrom([]errno.Errno{errno.EIO, errno.ENOSPC, errno.EDQUOT, errno.EKEYEXPIRED, errno.EINTR, errno.EACCES})
)

// genText is a block of text (a description).
var genText = rapid.Custom(func(t *rapid.T) string {
	lines := rapid.SliceOfN(genLine, 1, 4).Draw(t, "lines")
	first := strings.TrimLeft(lines[0], " \t")
	if first == "" {
		first = "text"
	}
	lines[0] = first
	if lines[len(lines)-1] == "" {
		lines[len(lines)-1] = "end"
	}
	return strings.Join(lines, "\n")
})

func maybe[T any](t *rapid.T, label string, g *rapid.Generator[T]) T {
	var zero T
	if rapid.Bool().Draw(t, label+"?") {
		return g.Draw(t, label)
	}
	return zero
}

func genMeta(t *rapid.T, label string) Meta {
	var m Meta
	if rapid.IntRange(0, 3).Draw(t, label+".c?") == 0 {
		m.Comment = genComment.Draw(t, label+".comment")
	}
	if rapid.IntRange(0, 3).Draw(t, label+".t?") == 0 {
		if tr := genLine.Draw(t, label+".trailing"); tr != "" {
			m.Trailing = tr
		}
	}
	return m
}

var blockRules = []string{
	"write sectors 0..8: fail EIO",
	"read: corrupt",
	"any from 1ms until 2ms: latency 5ms",
	"flush: fail EIO once",
	"alloc site bio_alloc nth 2: fail ENOMEM",
	"write prob 0.5: misdirect +8",
	"offline from 10ms until 20ms",
	"read sectors 0+64: latent EIO",
	"write after 2: fail EIO times 2",
}

var afsRules = []string{
	"store file 1: fail EIO",
	"fetch: corrupt",
	"store bytes 0..4096 after 1: fail ENOSPC times 2",
	"alloc site afs_writeback nth 1: fail ENOMEM",
	"store: partial 512 EREMOTEIO",
}

func genScenario(t *rapid.T) *Scenario {
	isAFS := rapid.Bool().Draw(t, "afs")
	kernel := KernelAFS
	if !isAFS {
		kernel = rapid.SampledFrom([]KernelVersion{Kernel2_6_12, Kernel2_6_2x, Kernel3x}).Draw(t, "kernel")
	}
	s := New(genIdent.Draw(t, "name"), kernel)
	s.Meta = genMeta(t, "header")
	s.Tags = rapid.SliceOfNDistinct(genIdent, 0, 3, func(x string) string { return x }).Draw(t, "tags")
	if len(s.Tags) == 0 {
		s.Tags = nil
	}
	s.Description = maybe(t, "description", genText)
	if rapid.Bool().Draw(t, "bug?") {
		b := &Bug{ID: genIdent.Draw(t, "bug.id")}
		b.Fix = maybe(t, "bug.fix", rapid.SampledFrom([]string{"afs: Fix afs_kill_pages()", "tab\there ", "é \"quoted\""}))
		b.Commit = maybe(t, "bug.commit", rapid.SampledFrom([]string{"1234567", "0123456789abcdef0123456789abcdef01234567"}))
		b.Switch = maybe(t, "bug.switch", rapid.SampledFrom(FixesFor(kernel)))
		b.Description = maybe(t, "bug.description", genText)
		s.Bug = b
	}
	s.Arch = maybe(t, "arch", rapid.SampledFrom([]Arch{Arch32, Arch64}))
	if fx := rapid.SliceOfNDistinct(rapid.SampledFrom(FixesFor(kernel)), 0, 3, func(x string) string { return x }).Draw(t, "fixes"); len(fx) > 0 {
		s.Fixes = fx
	}

	// The file system.
	var keys []string
	if isAFS {
		a := AFS{Latency: maybe(t, "afs.latency", genDur)}
		keys = rapid.SliceOfNDistinct(genName, 0, 3, func(x string) string { return x }).Draw(t, "keys")
		for i, k := range keys {
			a.Keys = append(a.Keys, Key{Meta: genMeta(t, fmt.Sprint("key", i)), Name: k,
				State: maybe(t, "state", rapid.SampledFrom([]KeyState{KeyValid, KeyExpired, KeyRevoked, KeyRejected}))})
		}
		s.OnAFS(a)
	} else {
		s.OnBlockFS(BlockFS{
			BlockSize:  maybe(t, "bs", rapid.SampledFrom([]int{512, 1024, 2048, 4096})),
			Layout:     maybe(t, "layout", rapid.SampledFrom([]Layout{LayoutIndirect, LayoutExtent})),
			Allocator:  maybe(t, "alloc", rapid.SampledFrom([]Allocator{AllocContiguous, AllocFragmented, AllocInterleaved})),
			NoBH:       maybe(t, "nobh", rapid.SampledFrom([]Switch{On, Off})),
			FsyncFlush: maybe(t, "flush", rapid.SampledFrom([]Switch{On, Off})),
			Capacity:   maybe(t, "cap", rapid.SampledFrom([]int64{MinCapacity, 64 << 20, 1 << 40, MaxCapacity})),
			Latency:    maybe(t, "lat", genDur),
		})
	}
	paths := rapid.SliceOfNDistinct(genPath, 0, 3, func(x string) string { return x }).Draw(t, "files")
	for i, p := range paths {
		s.FS.Files = append(s.FS.Files, File{Meta: genMeta(t, fmt.Sprint("file", i)), Path: p, Size: genSize.Draw(t, "size")})
	}
	if isAFS && len(paths) > 0 && len(keys) > 0 {
		type pk struct{ p, k string }
		seen := map[pk]bool{}
		for i := range rapid.IntRange(0, 3).Draw(t, "acls") {
			e := ACL{Meta: genMeta(t, fmt.Sprint("acl", i)), Path: rapid.SampledFrom(paths).Draw(t, "acl.path"),
				Key: rapid.SampledFrom(keys).Draw(t, "acl.key"), Rights: rapid.SampledFrom([]Rights{RightsNone, RightsRead, RightsWrite}).Draw(t, "rights")}
			if !seen[pk{e.Path, e.Key}] {
				seen[pk{e.Path, e.Key}] = true
				s.FS.AFS.ACL = append(s.FS.AFS.ACL, e)
			}
		}
	}

	// The fault plan.
	if rapid.Bool().Draw(t, "faults?") {
		pool := blockRules
		if isAFS {
			pool = append([]string(nil), afsRules...)
			for _, k := range keys {
				pool = append(pool, "store key "+fdQuote(k)+": fail EKEYEXPIRED")
			}
		}
		rules := rapid.SliceOfN(rapid.SampledFrom(pool), 0, 4).Draw(t, "rules")
		plan, err := faultdisk.Parse("faultplan v1\n" + strings.Join(rules, "\n"))
		if err != nil {
			t.Fatalf("bad rule pool: %v", err)
		}
		fp := &FaultPlan{Plan: plan}
		for i := range plan.Rules {
			if rapid.Bool().Draw(t, "rulemeta?") {
				for len(fp.RuleMeta) < i {
					fp.RuleMeta = append(fp.RuleMeta, Meta{})
				}
				fp.RuleMeta = append(fp.RuleMeta, genMeta(t, "rule"))
			}
		}
		s.Faults = fp
	}

	// VM.
	vm := VM{MemoryPages: maybe(t, "mem", rapid.Int64Range(4096, MaxMemoryPages))}
	vm.ReclaimLimit = maybe(t, "reclaim", rapid.Int64Range(1, 4096))
	switch rapid.IntRange(0, 2).Draw(t, "dirty") {
	case 1:
		vm.DirtyRatio = rapid.IntRange(2, 100).Draw(t, "ratio")
		vm.DirtyBackgroundRatio = maybe(t, "bgratio", rapid.IntRange(1, vm.DirtyRatio-1))
	case 2:
		vm.DirtyPages = rapid.Int64Range(2, 4096).Draw(t, "dpages")
		vm.DirtyBackgroundPages = maybe(t, "bgpages", rapid.Int64Range(1, vm.DirtyPages-1))
	}
	if rapid.Bool().Draw(t, "flusher off") {
		vm.Flusher.Off = true
	} else {
		vm.Flusher.Interval = maybe(t, "interval", genDur)
		vm.Flusher.Expire = maybe(t, "expire", genDur)
	}
	s.VM = vm

	// Tasks.
	names := rapid.SliceOfNDistinct(genIdent.Filter(func(x string) bool { return x != "setup" }), 1, 4, func(x string) string { return x }).Draw(t, "tasks")
	g := &opGen{s: s, keys: keys, names: names}
	if rapid.Bool().Draw(t, "setup?") {
		s.Setup = &Task{Meta: genMeta(t, "setup")}
		g.task(t, s.Setup, nil)
	}
	for _, n := range names {
		task := s.AddTask(n)
		task.Meta = genMeta(t, "task")
		g.task(t, task, g.setupOpen)
	}

	// Checks, contract, explore, expect.
	applicable := s.Invariants()
	switch rapid.IntRange(0, 2).Draw(t, "checks") {
	case 1:
		s.Checks.Only = rapid.SliceOfNDistinct(rapid.SampledFrom(applicable), 1, 4, func(x Invariant) Invariant { return x }).Draw(t, "only")
	case 2:
		s.Checks.Except = rapid.SliceOfNDistinct(rapid.SampledFrom(AllInvariants()), 1, 3, func(x Invariant) Invariant { return x }).Draw(t, "except")
	}
	s.Contract = maybe(t, "contract", rapid.SampledFrom(Contracts()))
	e := Explore{}
	switch rapid.IntRange(0, 4).Draw(t, "strategy") {
	case 1:
		e.Strategy = Random()
	case 2:
		e.Strategy = PCT(rapid.IntRange(1, MaxDepth).Draw(t, "depth"))
	case 3:
		e.Strategy = DFS(rapid.IntRange(0, MaxBound).Draw(t, "bound"))
	case 4:
		e.Strategy = RR(rapid.IntRange(0, 3).Draw(t, "quantum"))
	}
	e.Schedules = maybe(t, "schedules", rapid.IntRange(1, MaxSchedules))
	e.Steps = maybe(t, "steps", rapid.Int64Range(1, MaxSteps))
	e.Time = maybe(t, "time", genDur)
	e.Seed = maybe(t, "seed", rapid.Uint64())
	e.Memory = maybe(t, "memory", rapid.SampledFrom([]int64{MinMemoryBudget, 64 << 20, 3 << 30, 1<<30 + 4096, MaxMemoryBudget}))
	s.Explore = e
	checked := s.Invariants()
	switch rapid.IntRange(0, 2).Draw(t, "expect") {
	case 1:
		s.ExpectOK()
	case 2:
		var ids []string
		for _, id := range checked {
			ids = append(ids, string(id))
			if id == InvProgress {
				ids = append(ids, "deadlock", "livelock", "time-budget")
			}
		}
		ids = append(ids, "bug")
		s.ExpectFailure(rapid.SampledFrom(ids).Draw(t, "failure"))
	}
	s.Expect.Trace = maybe(t, "trace", rapid.SampledFrom([]string{"golden/a.trace", "x y/é.trace", "t"}))

	// Comments on settings: only where the statement is printed.
	for _, k := range settingKeys {
		_, set, zeroOK := settingText(s, k)
		if (set || zeroOK || k == "fs") && rapid.IntRange(0, 4).Draw(t, "setting "+k) == 0 {
			if s.Settings == nil {
				s.Settings = Settings{}
			}
			s.Settings[k] = genMeta(t, k)
		}
	}
	s.EndComment = maybe(t, "end", genComment)
	return s
}

// fdQuote quotes a key as fault-plan text does.
func fdQuote(k string) string {
	r := faultdisk.Rule{Match: faultdisk.Match{Ops: faultdisk.Ops(faultdisk.OpStore), Key: k}, Action: faultdisk.Corrupt{}}
	s := strings.TrimPrefix(r.String(), "store key ")
	return strings.TrimSuffix(s, ": corrupt")
}

type opGen struct {
	s         *Scenario
	keys      []string
	names     []string
	labels    int
	writes    []Op // writes with an explicit offset, for read expectations
	setupOpen []string
}

func (g *opGen) task(t *rapid.T, task *Task, inherited []string) {
	open := append([]string(nil), inherited...)
	isSetup := task == g.s.Setup
	n := rapid.IntRange(1, 8).Draw(t, "nops")
	for range n {
		var kinds []OpKind
		kinds = append(kinds, OpOpen, OpSync, OpSleep, OpDropCaches)
		if g.s.FS.AFS != nil {
			kinds = append(kinds, OpServer)
		} else {
			kinds = append(kinds, OpDevice, OpCrash)
		}
		if len(open) > 0 {
			kinds = append(kinds, OpWrite, OpPWrite, OpRead, OpMmapWrite, OpFsync, OpFdatasync, OpMsync, OpTruncate, OpClose, OpStat)
		}
		if !isSetup && len(g.names) > 1 {
			kinds = append(kinds, OpSignal)
		}
		if g.s.FS.AFS != nil && len(g.keys) > 0 {
			kinds = append(kinds, OpRevokeKey, OpExpireKey)
		}
		if g.s.FS.AFS != nil && len(g.keys) == 0 {
			kinds = kinds[1:] // no open without a key
		}
		if rapid.IntRange(0, 5).Draw(t, "repeat?") == 0 {
			task.Ops = append(task.Ops, g.repeat(t, task, open, isSetup, 0))
			continue
		}
		op := Op{Meta: genMeta(t, "op"), Kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
		fd := func() string { return rapid.SampledFrom(open).Draw(t, "fd") }
		rng := func(atPos bool) {
			op.Len = rapid.SampledFrom([]int64{1, 512, 4096, 8192, 1 << 20, MaxIOLen}).Draw(t, "len")
			if atPos && rapid.Bool().Draw(t, "atpos") {
				op.Offset = AtPos
			} else {
				op.Offset = rapid.SampledFrom([]int64{0, 1, 4096, 1 << 40, MaxFileSize - op.Len}).Draw(t, "off")
			}
		}
		label := func() {
			g.labels++
			op.Label = fmt.Sprintf("%s%d", rapid.SampledFrom([]string{"A", "w", "data_", "x.y-"}).Draw(t, "label"), g.labels)
		}
		status := func() {
			switch rapid.IntRange(0, 2).Draw(t, "status") {
			case 1:
				op.Expect = Result{Kind: ResultOK}
			case 2:
				op.Expect = Result{Kind: ResultErrno, Errno: genErrno.Draw(t, "errno")}
			}
		}
		switch op.Kind {
		case OpOpen:
			name := genIdent.Draw(t, "fdname")
			if contains(open, name) {
				continue
			}
			op.FD = name
			op.Path = genPath.Draw(t, "path")
			if g.s.FS.AFS != nil {
				op.Key = rapid.SampledFrom(g.keys).Draw(t, "key")
			}
			op.Flags = rapid.SampledFrom([]OpenFlags{0, RdOnly, WrOnly | Trunc, Append | OSync, Trunc | Append | OSync}).Draw(t, "flags")
			status()
			open = append(open, name)
		case OpWrite, OpPWrite, OpMmapWrite:
			op.FD = fd()
			rng(op.Kind == OpWrite)
			label()
			if op.Kind != OpMmapWrite {
				status()
			}
		case OpRead:
			op.FD = fd()
			rng(true)
			switch rapid.IntRange(0, 3).Draw(t, "readexp") {
			case 1:
				status()
			case 2:
				op.Expect = Result{Kind: ResultData}
				if rapid.Bool().Draw(t, "zeros") {
					op.Expect.Data = []Run{Zeros(op.Len)}
				}
			case 3:
				if len(g.writes) > 0 {
					w := rapid.SampledFrom(g.writes).Draw(t, "w")
					op.Offset, op.Len = w.Offset, w.Len
					op.Expect = Result{Kind: ResultData, Data: []Run{Data(w.Label, w.Len)}}
				}
			}
		case OpFsync, OpFdatasync:
			op.FD = fd()
			status()
		case OpStat:
			op.FD = fd()
			if rapid.Bool().Draw(t, "size?") {
				op.Expect = Result{Kind: ResultSize, Size: genSize.Draw(t, "ssize")}
			} else {
				status()
			}
		case OpMsync:
			op.FD = fd()
			op.Async = rapid.Bool().Draw(t, "async")
			status()
		case OpTruncate:
			op.FD = fd()
			op.Size = genSize.Draw(t, "size")
			status()
		case OpClose:
			op.FD = fd()
			status()
			open = remove(open, op.FD)
		case OpSleep:
			op.Dur = genDur.Draw(t, "dur")
		case OpCrash:
			open = nil
			g.crash(t, &op)
			task.Ops = append(task.Ops, op)
			if rapid.Bool().Draw(t, "after?") {
				task.Ops = append(task.Ops, g.afterCrash(t))
			}
			continue
		case OpSignal:
			others := remove(append([]string(nil), g.names...), task.Name)
			op.Task = rapid.SampledFrom(others).Draw(t, "target")
		case OpRevokeKey, OpExpireKey:
			op.Key = rapid.SampledFrom(g.keys).Draw(t, "key")
		case OpDevice:
			op.Table = genDiskTable(t)
		case OpServer:
			op.Table = genServerTable(t)
		}
		task.Ops = append(task.Ops, op)
		if op.Label != "" && op.Offset >= 0 {
			g.writes = append(g.writes, op)
		}
	}
	if len(task.Ops) == 0 {
		task.Ops = append(task.Ops, Op{Kind: OpSync})
	}
	if isSetup {
		g.setupOpen = open
	}
}

// crash gives a crash op a mode and, for enumerate, its options.
func (g *opGen) crash(t *rapid.T, op *Op) {
	op.Crash = rapid.SampledFrom(append([]CrashMode{""}, crashModes...)).Draw(t, "mode")
	if op.Crash == CrashEnumerate {
		op.Torn = rapid.Bool().Draw(t, "torn")
		op.Max = rapid.SampledFrom([]int64{0, 1, 100, MaxCrashStates}).Draw(t, "max")
	}
}

// afterCrash makes an after crash block: an open of a written path (or a
// new one), then reads (with and without expectations), writes, stats
// with a size, fsyncs, and maybe a close.
func (g *opGen) afterCrash(t *rapid.T) Op {
	op := Op{Meta: genMeta(t, "after"), Kind: OpAfterCrash}
	fd := genIdent.Draw(t, "afd")
	op.Body = append(op.Body, Op{Meta: genMeta(t, "aopen"), Kind: OpOpen, FD: fd, Path: genPath.Draw(t, "apath"),
		Flags: rapid.SampledFrom([]OpenFlags{0, RdOnly}).Draw(t, "aflags")})
	for range rapid.IntRange(0, 3).Draw(t, "nafter") {
		b := Op{Meta: genMeta(t, "aop"), Kind: rapid.SampledFrom([]OpKind{OpRead, OpWrite, OpPWrite, OpStat, OpFsync, OpFdatasync}).Draw(t, "akind"), FD: fd}
		switch b.Kind {
		case OpWrite, OpPWrite:
			g.labels++
			b.Offset, b.Len, b.Label = rapid.SampledFrom([]int64{0, 4096}).Draw(t, "aoff"), 4096, fmt.Sprintf("P%d", g.labels)
			if b.Kind == OpWrite && rapid.Bool().Draw(t, "aatpos") {
				b.Offset = AtPos
			}
		case OpStat:
			b.Expect = Result{Kind: ResultSize, Size: genSize.Draw(t, "asize")}
		case OpRead:
			b.Offset, b.Len = 0, 4096
			if len(g.writes) > 0 && rapid.Bool().Draw(t, "aexp") {
				w := rapid.SampledFrom(g.writes).Draw(t, "aw")
				b.Offset, b.Len = w.Offset, w.Len
				b.Expect = Result{Kind: ResultData, Data: []Run{Data(w.Label, w.Len)}}
			}
		}
		op.Body = append(op.Body, b)
	}
	if rapid.Bool().Draw(t, "aclose") {
		op.Body = append(op.Body, Op{Meta: genMeta(t, "aclose"), Kind: OpClose, FD: fd})
	}
	return op
}

// repeat makes a repeat op, depth repeats deep, whose block leaves the
// open fds as they are (it opens, closes and crashes nothing).
func (g *opGen) repeat(t *rapid.T, task *Task, open []string, isSetup bool, depth int) Op {
	op := Op{Meta: genMeta(t, "repeat"), Kind: OpRepeat}
	others := remove(append([]string(nil), g.names...), task.Name)
	if !isSetup && len(others) > 0 && rapid.Bool().Draw(t, "until?") {
		op.Until = rapid.SampledFrom(others).Draw(t, "until")
	} else {
		op.Count = rapid.SampledFrom([]int64{1, 2, 3, MaxRepeat}).Draw(t, "count")
	}
	n := rapid.IntRange(1, 3).Draw(t, "nbody")
	for range n {
		if depth+1 < MaxRepeatDepth && rapid.IntRange(0, 3).Draw(t, "nested?") == 0 {
			op.Body = append(op.Body, g.repeat(t, task, open, isSetup, depth+1))
			continue
		}
		b := Op{Meta: genMeta(t, "bop"), Kind: OpSync}
		if len(open) > 0 && rapid.Bool().Draw(t, "bwrite?") {
			g.labels++
			b = Op{Meta: b.Meta, Kind: OpWrite, FD: rapid.SampledFrom(open).Draw(t, "bfd"), Offset: AtPos,
				Len: rapid.SampledFrom([]int64{1, 4096}).Draw(t, "blen"), Label: fmt.Sprintf("R%d", g.labels)}
		} else if rapid.Bool().Draw(t, "bsleep?") {
			b = Op{Meta: b.Meta, Kind: OpSleep, Dur: genDur.Draw(t, "bdur")}
		}
		op.Body = append(op.Body, b)
	}
	return op
}

func contains(l []string, x string) bool {
	for _, y := range l {
		if y == x {
			return true
		}
	}
	return false
}

func remove(l []string, x string) []string {
	var r []string
	for _, y := range l {
		if y != x {
			r = append(r, y)
		}
	}
	return r
}

// genDiskTable draws a table a device op loads.
func genDiskTable(t *rapid.T) faultdisk.Table {
	k := rapid.SampledFrom([]faultdisk.TableKind{faultdisk.TableOK, faultdisk.TableError, faultdisk.TableOffline,
		faultdisk.TableFlakey, faultdisk.TableDropWrites}).Draw(t, "table")
	tab := faultdisk.Table{Kind: k}
	if k == faultdisk.TableFlakey {
		tab.Flakey = faultdisk.Flakey{Up: int64(genDur.Draw(t, "up")), Down: int64(genDur.Draw(t, "down"))}
	}
	return tab
}

// genServerTable draws a table a server op loads.
func genServerTable(t *rapid.T) faultdisk.Table {
	if rapid.Bool().Draw(t, "serverOK") {
		return faultdisk.Table{Kind: faultdisk.TableOK}
	}
	ops := rapid.SampledFrom([]faultdisk.OpSet{faultdisk.Ops(faultdisk.OpStore), faultdisk.Ops(faultdisk.OpFetch),
		faultdisk.Ops(faultdisk.OpStore, faultdisk.OpFetch)}).Draw(t, "serverOps")
	return faultdisk.Table{Kind: faultdisk.TableFail, Ops: ops, Errno: genErrno.Draw(t, "serverErrno")}
}
