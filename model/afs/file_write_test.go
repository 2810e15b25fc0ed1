package afs

import (
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// TestFileWriteAppendPos: afs_file_write runs generic_file_aio_write on
// the caller's kiocb (afs-write-2.6.3x.c:649), whose generic_write_checks
// puts an O_APPEND write at i_size and whose ki_pos do_sync_write copies
// to f_pos. After a 3000-byte file gets 100 appended bytes, f_pos is 3100
// (not 0 + 100), and a plain write then lands right after them.
func TestFileWriteAppendPos(t *testing.T) {
	a, b := content.Fill(100, 77, 0), content.Fill(50, 78, 0)
	var afterAppend, afterWrite, size int64
	var got content.Bytes
	_, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 0, 3000) // a pwrite: f_pos stays 0
		f.VFS.Flags |= vfs.O_APPEND
		vfs.Write(st, f.VFS, a)
		afterAppend = f.VFS.Pos
		f.VFS.Flags &^= vfs.O_APPEND
		vfs.Write(st, f.VFS, b)
		afterWrite = f.VFS.Pos
		size = mm.ISizeRead(f.Mapping.Host)
		got, _ = vfs.Pread(st, f.VFS, 3000, 150)
		AfsRelease(st, f)
	})
	mustOK(t, res)
	if afterAppend != 3100 || afterWrite != 3150 || size != 3150 {
		t.Errorf("f_pos %d after the append, %d after the write, i_size %d; want 3100, 3150, 3150",
			afterAppend, afterWrite, size)
	}
	if want := a.Append(b); !got.Equal(want) {
		t.Errorf("bytes 3000-3149 are %s, want %s", got, want)
	}
}
