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
