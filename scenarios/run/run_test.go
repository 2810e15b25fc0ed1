package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// An O_APPEND write lands at i_size, not at the descriptor's position, and
// a read's expected data follows its label there.
func TestAppendLabelsWhereTheWriteWent(t *testing.T) {
	src := `wbsim-scenario v1
name append
kernel 3.x
fs blockfs
task t
    open f /a
    write f 0+4KiB as A
    open g /a append
    write g 100 as B
    read f 4KiB+100 expect B:100
    read f 0+4KiB expect A:4KiB
expect ok
`
	s, err := scenarios.Parse("append.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(s); !v.Pass {
		t.Fatalf("%s", v.Msg)
	}
}
