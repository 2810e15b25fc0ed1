package vfs_test

import (
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// msyncSync is msync(MS_SYNC) of the whole file with the fsync-error and
// fsync-durable checks, as fsync's helper; with no faults it must return 0.
func (f *mfile) msyncSync(t *sim.Task, vf *vfs.File, fd *check.FD) bool {
	s := fd.BeginFsync(fmt.Sprintf("msync at %v", t.World().Now()))
	ret := vfs.Msync(t, vf, vfs.MS_SYNC)
	if fail(t, s.End(ret)) {
		return false
	}
	if ret != 0 {
		failf(t, check.InvFsyncError, "msync returned %d with no fault injected", ret)
		return false
	}
	return !fail(t, f.of.CheckDurable(check.InvFsyncDurable, f.stable))
}

// TestMsyncIMutex: a task holds i_mutex (i_sem) for 10ms while another
// dirties the file, by write and through a shared mapping, and calls
// msync(MS_SYNC), which must leave the data on stable storage. In
// 2.6.12, msync_interval runs filemap_fdatawrite, ->fsync and
// filemap_fdatawait without i_sem: the msync returns while the holder
// still has it. In 2.6.32 and 3.2 it is vfs_fsync, whose ->fsync part
// runs under i_mutex: it returns only after the holder lets go. The
// 2.6.12 fsync, whose ->fsync runs under i_sem, waits too (a control for
// the harness: the holder really blocks a taker of i_mutex).
func TestMsyncIMutex(t *testing.T) {
	const hold = 10 * sim.Millisecond
	for _, tc := range []struct {
		v          mm.Version
		fsync      bool // fsync instead of msync
		waitsMutex bool
	}{
		{mm.V2_6_12, false, false},
		{mm.V2_6_12, true, true},
		{mm.V2_6_2x, false, true},
		{mm.V3x, false, true},
	} {
		name := fmt.Sprintf("%s/msync", tc.v)
		if tc.fsync {
			name = fmt.Sprintf("%s/fsync", tc.v)
		}
		t.Run(name, func(t *testing.T) {
			c := config{version: tc.v, bs: 4096, layout: blockfs.LayoutExtent, mpage: true}
			var returned, released sim.Time = -1, -1
			res := runOne(c, func(t *sim.Task, m *machine, f *mfile) {
				inode := f.ino.I
				vf, fd := f.open(t)
				f.pwrite(t, vf, 0, 3*mm.PageSize)
				f.mmapWrite(t, vf, mm.PageSize+100, 200)
				t.World().Spawn("holder", func(t *sim.Task) {
					inode.IMutex.Lock(t)
					t.Sleep(hold)
					released = t.World().Now()
					inode.IMutex.Unlock(t)
				})
				t.Sleep(sim.Millisecond) // the holder has i_mutex
				ok := false
				if tc.fsync {
					ok = f.fsync(t, vf, fd, false)
				} else {
					ok = f.msyncSync(t, vf, fd)
				}
				returned = t.World().Now()
				if !ok {
					return
				}
				if ret := vfs.Msync(t, vf, vfs.MS_ASYNC); ret != 0 {
					failf(t, "msync", "msync(MS_ASYNC) returned %d", ret)
				}
				if ret := vfs.Msync(t, vf, vfs.MS_ASYNC|vfs.MS_SYNC); ret != errno.EINVAL.Neg() {
					failf(t, "msync", "msync(MS_ASYNC|MS_SYNC) returned %d, want -EINVAL", ret)
				}
				vfs.Close(t, vf)
			})
			if res.Failure != nil {
				t.Fatal(res.Failure.Report())
			}
			if returned < 0 || released < 0 {
				t.Fatalf("the call returned at %v, the holder released i_mutex at %v", returned, released)
			}
			if waited := returned > released; waited != tc.waitsMutex {
				t.Errorf("returned at %v, i_mutex released at %v: waited for i_mutex = %v, want %v",
					returned, released, waited, tc.waitsMutex)
			}
		})
	}
}
