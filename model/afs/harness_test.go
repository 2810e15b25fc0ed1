package afs

import (
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// rig is one simulated client and server: a kernel of the afs-2.6.3x era,
// a server with file 1, the volume with the fixes under test, a vnode,
// keys and an oracle of the file's expected contents.
type rig struct {
	w      *sim.World
	k      *mm.Kernel
	srv    *Server
	fs     *FS
	v      *Vnode
	keys   []*Key
	oracle *content.Store
	// writes is every copy into the page cache in order, for fsync-durable.
	writes []writeRec
	stamp  content.Stamp
}

type writeRec struct {
	seq      int
	pos, len int64
}

// newRig builds the rig on w. nkeys keys ("k0", "k1", ...) all may write
// file 1.
func newRig(tb testing.TB, w *sim.World, fixes Fixes, plan *faultdisk.Plan, nkeys int) *rig {
	srv, err := NewServer(w, plan)
	if err != nil {
		tb.Fatal(err)
	}
	r := &rig{w: w, srv: srv, oracle: &content.Store{}}
	names := make([]string, nkeys)
	for i := range names {
		names[i] = fmt.Sprintf("k%d", i)
	}
	srv.AddFile(1, names...)
	r.k = mm.NewKernel(w, mm.VAFS)
	r.fs = NewFS(r.k, srv, fixes)
	r.v = r.fs.Iget(1)
	for _, n := range names {
		r.keys = append(r.keys, r.fs.NewKey(n))
	}
	r.fs.OnWrite = func(v *Vnode, pos int64, data content.Bytes) {
		r.oracle.Write(pos, data)
		r.writes = append(r.writes, writeRec{seq: len(r.writes), pos: pos, len: data.Len()})
	}
	return r
}

// nextData returns n bytes of a fresh write stamp.
func (r *rig) nextData(n int64) content.Bytes {
	r.stamp++
	return content.Fill(n, r.stamp, 0)
}

// write writes n fresh bytes at pos through file f and fails the run if
// the write returned less.
func (r *rig) write(t *sim.Task, f *File, pos, n int64) int64 {
	return afsPwrite(t, f, r.nextData(n), pos)
}

// afsPwrite is afs_file_write at pos, as do_sync_write calls it for a
// pwrite: on a kiocb of its own, so f_pos stays.
func afsPwrite(t *sim.Task, f *File, data content.Bytes, pos int64) int64 {
	return AfsFileWrite(t, &vfs.Kiocb{Filp: f.VFS, Pos: pos}, data)
}

// fsyncChecked runs vfs_fsync and checks fsync-durable: when it returns
// 0, every byte copied into the page cache before it began and not
// overwritten since is on the server.
func (r *rig) fsyncChecked(t *sim.Task, f *File) int {
	before := len(r.writes)
	snap := r.oracle.Clone()
	ret := VfsFsync(t, f, 0)
	if ret == 0 {
		r.checkDurable(t, snap, before)
	}
	return ret
}

// checkDurable compares the server's file with snap (the oracle when the
// fsync began) outside the ranges written after it began: both copies get
// zeros over those ranges, then must be equal up to snap's size.
func (r *rig) checkDurable(t *sim.Task, snap *content.Store, before int) {
	want := snap.Clone()
	got := r.srv.File(r.v.FileID()).Data.Clone()
	for _, wr := range r.writes[before:] {
		want.Write(wr.pos, content.Zeros(wr.len))
		got.Write(wr.pos, content.Zeros(wr.len))
	}
	size := snap.Size()
	wb, gb := want.Read(0, size), got.Read(0, size)
	if !wb.Equal(gb) {
		d := wb.FirstDiff(gb)
		t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: "fsync-durable", Obj: r.v.Obj(),
			Msg: fmt.Sprintf("fsync returned 0 but byte %d is %s on the server, want %s (written before the fsync began)",
				d, gb.Slice(d, 1), wb.Slice(d, 1)),
			Explain: "fsync must not return 0 unless every byte written before it began is on the " +
				"server. Here a write's bytes never reached the server, and fsync said all was well: " +
				"the data is silently lost."})
	}
}

// quiescentChecks adds the end-of-run checks: wb-record, page-ref and
// page-state at quiescence.
func (r *rig) quiescentChecks() {
	r.w.AtEnd(func() {
		vs := r.fs.CheckRecords()
		vs = append(vs, r.fs.CheckPages()...)
		Fail(r.w, vs)
	})
}

// noLostWrite adds the end-of-run oracle check: the server's file equals
// the oracle (after everything was synced).
func (r *rig) noLostWrite() {
	r.w.AtEnd(func() {
		got := r.srv.File(r.v.FileID()).Data
		if !got.Equal(r.oracle) {
			want := r.oracle.Read(0, max(r.oracle.Size(), got.Size()))
			have := got.Read(0, max(r.oracle.Size(), got.Size()))
			d := want.FirstDiff(have)
			r.w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: "no-lost-write", Obj: r.v.Obj(),
				Msg: fmt.Sprintf("server file differs from the oracle at byte %d (size %d, want %d): got %s want %s",
					d, got.Size(), r.oracle.Size(), have.Slice(d, min(16, have.Len()-d)), want.Slice(d, min(16, want.Len()-d)))})
		}
	})
}

// runOne runs body as one task under round-robin and returns the result.
func runOne(tb testing.TB, fixes Fixes, plan *faultdisk.Plan, nkeys int, body func(r *rig, t *sim.Task)) (*rig, *sim.Result) {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 200_000})
	r := newRig(tb, w, fixes, plan, nkeys)
	w.Spawn("test", func(t *sim.Task) { body(r, t) })
	return r, w.Run()
}

func mustPlan(tb testing.TB, text string) *faultdisk.Plan {
	p, err := faultdisk.Parse("faultplan v1\n" + text)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
