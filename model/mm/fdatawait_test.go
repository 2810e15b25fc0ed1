package mm

import (
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// runTask runs body as the only task of a fresh world and fails the test
// on a simulation failure.
func runTask(t *testing.T, v Version, fs *testFS, body func(st *sim.Task, k *Kernel, ino *Inode)) {
	t.Helper()
	w := sim.New(sim.Config{Seed: 1})
	k, ino := newTestKernel(w, v, fs)
	w.Spawn("task", func(st *sim.Task) { body(st, k, ino) })
	if r := w.Run(); r.Failure != nil {
		t.Fatalf("%v\n%s", r.Failure, r.Failure.Report())
	}
}

func TestFdatawaitASEIOReportedOnce(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x, V3x} {
		var first, second int
		runTask(t, v, &testFS{}, func(st *sim.Task, k *Kernel, ino *Inode) {
			m := ino.Mapping
			ino.SetISize(PageSize)
			MappingSetError(st, m, errno.EIO.Neg())
			first = FilemapFdatawait(st, m)
			second = FilemapFdatawait(st, m)
		})
		if first != errno.EIO.Neg() || second != 0 {
			t.Errorf("%s: fdatawait after mapping_set_error(-EIO) = %d then %d, want -EIO then 0", v, first, second)
		}
	}
}

func TestFdatawaitENOSPCAndEIO(t *testing.T) {
	var a, b, c int
	runTask(t, V2_6_2x, &testFS{}, func(st *sim.Task, k *Kernel, ino *Inode) {
		m := ino.Mapping
		ino.SetISize(PageSize)
		MappingSetError(st, m, errno.ENOSPC.Neg())
		a = FilemapFdatawait(st, m)
		MappingSetError(st, m, errno.ENOSPC.Neg())
		MappingSetError(st, m, errno.EIO.Neg())
		b = FilemapFdatawait(st, m) // -EIO wins, both consumed
		c = FilemapFdatawait(st, m)
	})
	if a != errno.ENOSPC.Neg() || b != errno.EIO.Neg() || c != 0 {
		t.Errorf("got %d %d %d, want -ENOSPC -EIO 0", a, b, c)
	}
}

// A failed write whose writeback ended before fdatawait walked the tree
// is not found by the walk (it is no longer tagged WRITEBACK): its
// PG_error alone reports nothing. Only AS_EIO would.
func TestFdatawaitMissesEndedPageError(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x, V3x} {
		var got int
		var stillError bool
		runTask(t, v, &testFS{}, func(st *sim.Task, k *Kernel, ino *Inode) {
			m := ino.Mapping
			writePage(st, m, 0, 1)
			p := FindLockPage(st, m, 0)
			ClearPageDirtyForIO(st, p)
			SetPageWriteback(st, p)
			UnlockPage(st, p)
			SetPageError(st, p) // a buffer-head style completion: PG_error, no AS_EIO
			EndPageWriteback(st, p)
			got = FilemapFdatawait(st, m)
			stillError = PageError(p)
			PageCacheRelease(st, p)
		})
		if got != 0 || !stillError {
			t.Errorf("%s: fdatawait=%d PageError=%v, want 0 and true", v, got, stillError)
		}
	}
}

// A failure completing while the waiter sleeps on the page is found and
// reported. Whether a later wait on the rewritten (now successful) page
// reports it again depends on the era: 2.6.12 and 2.6.2x (2.6.32) test
// PageError and leave it set, so the stale error comes back; 3.x
// TestClearPageError.
func TestFdatawaitPageErrorDuringWait(t *testing.T) {
	for _, tc := range []struct {
		v      Version
		second int
	}{{V2_6_12, errno.EIO.Neg()}, {V2_6_2x, errno.EIO.Neg()}, {V3x, 0}} {
		w := sim.New(sim.Config{Seed: 1})
		fs := &testFS{Latency: 10 * sim.Millisecond}
		_, ino := newTestKernel(w, tc.v, fs)
		m := ino.Mapping
		var first, second int
		w.Spawn("fsync", func(st *sim.Task) {
			writePage(st, m, 0, 1)
			p := FindLockPage(st, m, 0)
			ClearPageDirtyForIO(st, p)
			// Complete with PG_error only (no AS_EIO), as a buffer-head
			// completion does.
			SetPageWriteback(st, p)
			UnlockPage(st, p)
			st.World().AfterIRQ(5*sim.Millisecond, "end_io", func(it *sim.Task) {
				SetPageError(it, p)
				EndPageWriteback(it, p)
			})
			first = FilemapFdatawait(st, m)
			// Rewrite the page; this time the write succeeds. 2.6.12's
			// PageError test still sees the old PG_error.
			LockPage(st, p)
			SetPageDirty(st, p)
			ClearPageDirtyForIO(st, p)
			SetPageWriteback(st, p)
			UnlockPage(st, p)
			st.World().AfterIRQ(5*sim.Millisecond, "end_io", func(it *sim.Task) { EndPageWriteback(it, p) })
			second = FilemapFdatawait(st, m)
			PageCacheRelease(st, p)
		})
		if r := w.Run(); r.Failure != nil {
			t.Fatalf("%s: %v", tc.v, r.Failure.Report())
		}
		if first != errno.EIO.Neg() || second != tc.second {
			t.Errorf("%s: fdatawait = %d then %d, want -EIO then %d", tc.v, first, second, tc.second)
		}
	}
}

// filemap_write_and_wait: AS_EIO from an earlier asynchronous writeback
// is returned by the first fsync only.
func TestWriteAndWaitConsumesASEIO(t *testing.T) {
	for _, v := range []Version{V2_6_2x, V3x} {
		var r1, r2 int
		fs := &testFS{Latency: sim.Millisecond, FailIndex: map[uint64]bool{0: true}}
		runTask(t, v, fs, func(st *sim.Task, k *Kernel, ino *Inode) {
			m := ino.Mapping
			writePage(st, m, 0, 1)
			FilemapFlush(st, m) // background-style writeback
			st.Sleep(10 * sim.Millisecond)
			writePage(st, m, 1, 2)
			r1 = FilemapWriteAndWait(st, m)
			r2 = FilemapWriteAndWait(st, m)
		})
		if r1 != errno.EIO.Neg() || r2 != 0 {
			t.Errorf("%s: fsync after failed background write = %d then %d, want -EIO then 0", v, r1, r2)
		}
	}
}
