package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// An O_APPEND write lands at i_size, not at the descriptor's position, and
// a read's expected data follows its label there; f_pos ends past it, so
// the next write on the descriptor follows it (on AFS too: afs_file_write
// writes on the caller's kiocb).
func TestAppendLabelsWhereTheWriteWent(t *testing.T) {
	for _, fs := range []struct{ kernel, fs, file, as string }{
		{"3.x", "fs blockfs", "/a", ""},
		{"afs-2.6.3x", "fixes writepages-missing-put\nfs afs\n    key alice", "/vol/a", " as alice"},
	} {
		src := `wbsim-scenario v1
name append
kernel ` + fs.kernel + `
` + fs.fs + `
task t
    open f ` + fs.file + fs.as + `
    write f 0+4KiB as A
    open g ` + fs.file + ` append` + fs.as + `
    write g 100 as B
    write g 50 as C
    read f 4KiB+100 expect B:100
    read f 4196+50 expect C:50
    read f 0+4KiB expect A:4KiB
expect ok
`
		s, err := scenarios.Parse("append.wbs", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if v := Check(s); !v.Pass {
			t.Errorf("%s: %s", fs.kernel, v.Msg)
		}
	}
}

// TestDeclaredFilesMeetNoFaults: a file declared with a size was written
// before this boot, so a fault window that starts at time 0 does not
// touch its contents: a page no task writes reads back its initial bytes
// (read-correct judges the read).
// (The plan once failed the setup's own writes, and read-correct blamed
// the kernel for the zeros.)
func TestDeclaredFilesMeetNoFaults(t *testing.T) {
	s, err := scenarios.Parse("declared.wbs", []byte(`wbsim-scenario v1
name declared-files
kernel 3.x
fs blockfs
    file /data size 16KiB
faults
    write sectors 0..100000 from 0ms until 3ms: fail EIO
task a
    open f /data
    pwrite f 0+4KiB as A
    fsync f expect EIO
    read f 12KiB+4KiB
`))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := runOne(t, s); !r.OK() {
		t.Fatalf("%s", r.Failure.Report())
	}
}
