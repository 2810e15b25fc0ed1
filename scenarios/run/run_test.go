package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestBuiltins: every built-in scenario meets its expectation.
func TestBuiltins(t *testing.T) {
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			v := Check(s)
			t.Logf("%s: pass=%v schedules=%d found=%q in %v: %s", s.Name, v.Pass, v.Schedules, v.Found, v.Elapsed, v.Msg)
			if !v.Pass {
				if v.Failure != nil {
					t.Logf("%s", v.Failure.Report())
				}
				t.Errorf("%s: %s", s.Name, v.Msg)
			}
		})
	}
}

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
