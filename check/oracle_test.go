package check

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

func params() *gopter.TestParameters {
	p := gopter.DefaultTestParametersWithSeed(1) // deterministic, like everything else in wbsim
	p.MinSuccessfulTests = 300
	return p
}

// op is a write (Len > 0) or a truncate (Len == 0) in a small file.
type op struct{ Off, Len int64 }

func genOps() gopter.Gen {
	return gen.SliceOf(gen.Struct(reflectOp, map[string]gopter.Gen{
		"Off": gen.Int64Range(0, 64),
		"Len": gen.Int64Range(0, 24),
	}))
}

// label is one byte of the naive reference: which write, which byte of it.
type label struct {
	Stamp content.Stamp
	Src   int64
}

func naive(ops []op) []label {
	var ref []label
	var stamp content.Stamp
	for _, o := range ops {
		if o.Len == 0 {
			ref = append(ref[:min(int64(len(ref)), o.Off)], make([]label, max(0, o.Off-int64(len(ref))))...)
			continue
		}
		stamp++
		for int64(len(ref)) < o.Off+o.Len {
			ref = append(ref, label{})
		}
		for i := range o.Len {
			ref[o.Off+i] = label{stamp, i}
		}
	}
	return ref
}

func expand(b content.Bytes) []label {
	var out []label
	for r := range b.Runs() {
		for i := range r.Len {
			l := label{Stamp: r.Stamp}
			if r.Stamp != content.Zero {
				l.Src = r.Src + i
			}
			out = append(out, l)
		}
	}
	return out
}

// The oracle's expected contents equal a byte-by-byte reference after any
// sequence of writes and truncates: the checker is checked.
func TestOracleExpectedMatchesReference(t *testing.T) {
	props := gopter.NewProperties(params())
	props.Property("expected == naive", prop.ForAll(func(ops []op) string {
		f := NewOracle(Linux26).NewFile("f")
		for _, o := range ops {
			if o.Len == 0 {
				f.Truncate(o.Off)
			} else {
				f.Write(o.Off, o.Len)
			}
		}
		return cmp.Diff(naive(ops), expand(f.Expected(0, f.Size())), cmpopts.EquateEmpty())
	}, genOps()))
	props.TestingRun(t)
}

// A stable view that equals what fsync saw satisfies the promise; one that
// lacks any single written byte breaks it; newer data is fine.
func TestOracleDurability(t *testing.T) {
	props := gopter.NewProperties(params())
	props.Property("durable iff every promised byte is there or newer", prop.ForAll(func(ops []op, after []op, hole int64) bool {
		f := NewOracle(Linux26).NewFile("f")
		for _, o := range ops {
			if o.Len > 0 {
				f.Write(o.Off, o.Len)
			}
		}
		fs := f.Open().BeginFsync("test")
		if fs.End(0) != nil {
			return false
		}
		snapshot := f.Expected(0, f.Size())
		stable := func(off, n int64) content.Bytes { return snapshot.Slice(off, min(n, snapshot.Len()-off)) }
		if f.CheckDurable(InvFsyncDurable, stable) != nil {
			return false
		}
		// Later writes may land on top: still durable.
		for _, o := range after {
			if o.Len > 0 {
				f.Write(o.Off, o.Len)
			}
		}
		now := f.Expected(0, f.Size())
		if f.CheckDurable(InvFsyncDurable, func(off, n int64) content.Bytes {
			return now.Slice(off, max(0, min(n, now.Len()-off)))
		}) != nil {
			return false
		}
		// Knock out one promised non-zero byte: must be caught.
		if snapshot.Len() == 0 {
			return true
		}
		hole %= snapshot.Len()
		if expand(snapshot.Slice(hole, 1))[0].Stamp == content.Zero {
			return true
		}
		lost := snapshot.Overwrite(hole, content.Zeros(1))
		f2 := f.CheckDurable(InvCrash, func(off, n int64) content.Bytes { return lost.Slice(off, min(n, lost.Len()-off)) })
		return f2 != nil && f2.Invariant == InvCrash && f2.Obj.A == hole
	}, genOps(), genOps(), gen.Int64Range(0, 1000)))
	props.TestingRun(t)
}

// linuxModel is a faithful Linux 2.6 error reporter: one AS_EIO bit per
// mapping, test-and-cleared by whichever fsync comes first.
type linuxModel struct{ asEIO bool }

func (m *linuxModel) fsync() int {
	if m.asEIO {
		m.asEIO = false
		return errno.EIO.Neg()
	}
	return 0
}

// event is a writeback error (FD < 0) or an fsync on description FD.
type event struct{ FD int }

func genEvents() gopter.Gen {
	return gen.SliceOf(gen.Struct(reflectEvent, map[string]gopter.Gen{"FD": gen.IntRange(-1, 2)}))
}

func runContract(c Contract, evs []event) (violations int) {
	f := NewOracle(c).NewFile("f")
	fds := []*FD{f.Open(), f.Open(), f.Open()}
	var m linuxModel
	for _, e := range evs {
		if e.FD < 0 {
			f.WritebackError(errno.EIO)
			m.asEIO = true
			continue
		}
		s := fds[e.FD].BeginFsync("test")
		if s.End(m.fsync()) != nil {
			violations++
		}
	}
	return violations
}

// The Linux 2.6 AS_EIO behaviour passes the linux-2.6 contract always, and
// fails errseq exactly when, after an error, a second description fsyncs
// before anyone else reports it to that description: fsyncgate.
func TestOracleErrorContracts(t *testing.T) {
	props := gopter.NewProperties(params())
	props.Property("AS_EIO satisfies linux-2.6", prop.ForAll(func(evs []event) bool {
		return runContract(Linux26, evs) == 0
	}, genEvents()))
	props.Property("AS_EIO fails errseq iff two descriptions fsync after an error", prop.ForAll(func(evs []event) bool {
		// Naive errseq spec: each description must see each error once.
		owed := [3]bool{}
		var asEIO, want bool
		for _, e := range evs {
			if e.FD < 0 {
				owed = [3]bool{true, true, true}
				asEIO = true
				continue
			}
			reported := asEIO
			asEIO = false
			if owed[e.FD] && !reported {
				want = true
			}
			owed[e.FD] = false
		}
		return (runContract(Errseq, evs) > 0) == want
	}, genEvents()))
	props.TestingRun(t)
}

func TestFsyncgateExample(t *testing.T) {
	evs := []event{{FD: -1}, {FD: 0}, {FD: 1}}
	if n := runContract(Linux26, evs); n != 0 {
		t.Fatalf("linux-2.6: AS_EIO reported to the first fsync only is the contract; got %d violations", n)
	}
	if n := runContract(Errseq, evs); n != 1 {
		t.Fatalf("errseq: the second description's fsync returned 0 after the error: want 1 violation, got %d", n)
	}
}

func TestReadCorrect(t *testing.T) {
	f := NewOracle(Linux26).NewFile("f")
	data := f.Write(4096, 100)
	f.Truncate(4150)
	want := content.Zeros(4096).Append(data.Slice(0, 54))
	if v := f.CheckRead(0, 8192, want); v != nil {
		t.Fatalf("correct read flagged: %v", v.Report())
	}
	bad := want.Overwrite(4100, content.Zeros(1))
	v := f.CheckRead(0, 8192, bad)
	if v == nil || v.Invariant != InvReadCorrect || v.Obj.A != 4100 {
		t.Fatalf("wrong byte at 4100 not caught: %v", v)
	}
	if v := f.CheckRead(0, 8192, want.Append(content.Zeros(10))); v == nil {
		t.Fatal("a read past EOF returned bytes and was not caught")
	}
}

// A truncate while an fsync is in flight takes the truncated bytes out of
// what that fsync promises (they may read back as zeros), but a byte below
// the new size that stable storage lacks is still caught.
func TestOracleTruncateDuringFsync(t *testing.T) {
	props := gopter.NewProperties(params())
	props.Property("truncate after fsync began drops the promise past it", prop.ForAll(func(ops []op, size, hole int64) bool {
		f := NewOracle(Linux26).NewFile("f")
		for _, o := range ops {
			if o.Len > 0 {
				f.Write(o.Off, o.Len)
			}
		}
		fs := f.Open().BeginFsync("test")
		f.Truncate(size)
		if fs.End(0) != nil {
			return false
		}
		// Stable storage holds the truncated file: zeros past size.
		now := f.Expected(0, f.Size())
		read := func(b content.Bytes) Stable {
			return func(off, n int64) content.Bytes {
				return b.Truncate(max(b.Len(), off+n)).Slice(off, n)
			}
		}
		if f.CheckDurable(InvFsyncDurable, read(now)) != nil {
			return false
		}
		if now.Len() == 0 {
			return true
		}
		hole %= now.Len()
		if expand(now.Slice(hole, 1))[0].Stamp == content.Zero {
			return true
		}
		v := f.CheckDurable(InvFsyncDurable, read(now.Overwrite(hole, content.Zeros(1))))
		return v != nil && v.Obj.A == hole
	}, genOps(), gen.Int64Range(0, 96), gen.Int64Range(0, 1000)))
	props.TestingRun(t)
}

// A sync(2) that consumed AS_EIO leaves no error owed under linux-2.6,
// and every description still owed it under errseq.
func TestOracleSyncConsumesError(t *testing.T) {
	for _, c := range []Contract{Linux26, Errseq} {
		f := NewOracle(c).NewFile("f")
		fd := f.Open()
		f.WritebackError(errno.EIO)
		if v := f.BeginSync().End(errno.EIO.Neg()); v != nil {
			t.Errorf("%s: a sync is never owed an error: %v", c, v)
		}
		v := fd.BeginFsync("test").End(0)
		if got := v != nil; got != (c == Errseq) {
			t.Errorf("%s: fsync returning 0 after a sync consumed the error: violation %v, want %v", c, got, c == Errseq)
		}
	}
}

// Under linux-2.6 an fsync that begins after an error and returns 0 while
// an earlier fsync is still in flight owes nothing if that one reports
// the error (it tested AS_EIO first), and is caught when it does not.
func TestOracleConcurrentFsyncTakesError(t *testing.T) {
	for _, firstRet := range []int{errno.EIO.Neg(), 0} {
		f := NewOracle(Linux26).NewFile("f")
		first := f.Open().BeginFsync("first")
		f.WritebackError(errno.EIO)
		second := f.Open().BeginFsync("second")
		if v := second.End(0); v != nil {
			t.Fatalf("judged while the first fsync is in flight: %v", v)
		}
		v := first.End(firstRet)
		if got := v != nil; got != (firstRet == 0) {
			t.Errorf("first fsync returned %d: violation %v, want %v", firstRet, got, firstRet == 0)
		}
	}
}

// TestNoLostWriteOutsideTouched: a byte missing from stable storage fails
// no-lost-write unless it lies in a range a fault touched; a wrong size
// fails it too.
func TestNoLostWriteOutsideTouched(t *testing.T) {
	o := NewOracle(Linux26)
	f := o.NewFile("f")
	data := f.Write(0, 8192)
	lost := func(off, n int64) content.Bytes { // page 1 never arrived
		return data.Truncate(4096).Truncate(8192).Slice(off, n)
	}
	if fl := f.CheckNoLostWrite(lost); fl == nil || fl.Obj.A != 4096 {
		t.Fatalf("a lost page passed: %v", fl)
	}
	if fl := f.CheckNoLostWrite(lost, [2]int64{4096, 8192}); fl != nil {
		t.Fatalf("a lost page a fault touched failed: %s", fl.Msg)
	}
	if fl := f.CheckNoLostWrite(lost, [2]int64{0, 4096}); fl == nil {
		t.Fatalf("a lost page next to the one a fault touched passed")
	}
	if fl := f.CheckStableSize(8192); fl != nil {
		t.Fatalf("the right size failed: %s", fl.Msg)
	}
	if fl := f.CheckStableSize(8193); fl == nil || fl.Invariant != InvNoLostWrite {
		t.Fatalf("a longer file passed: %v", fl)
	}
}

// TestDurableFailureAfterAnErrorSaysWhy: a durability failure of a file
// whose writeback failed explains Linux's no-retry behaviour and how a
// scenario accepts it; one without an error does not.
func TestDurableFailureAfterAnErrorSaysWhy(t *testing.T) {
	for _, failed := range []bool{false, true} {
		f := NewOracle(Linux26).NewFile("f")
		f.Write(0, 4096)
		if failed {
			f.WritebackError(errno.EIO)
		}
		fs := f.Open().BeginFsync("test")
		fs.End(0)
		fl := f.CheckDurable(InvFsyncDurable, func(off, n int64) content.Bytes { return content.Zeros(n) })
		if fl == nil {
			t.Fatalf("failed=%v: zeros on stable storage passed", failed)
		}
		if got := strings.Contains(fl.Explain, "check all except fsync-durable"); got != failed {
			t.Errorf("failed=%v: the explanation mentions the no-retry behaviour: %v\n%s", failed, got, fl.Explain)
		}
	}
}
