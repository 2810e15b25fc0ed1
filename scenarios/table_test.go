package scenarios

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim/errno"
)

// The builder's device and server ops print as their tables and parse
// back equal; a server table on blockfs is a validation error at its path.
func TestTableBuilder(t *testing.T) {
	s := New("d", Kernel3x).OnBlockFS(BlockFS{})
	s.AddTask("w").Open("f", "/a", 0).
		Device(faultdisk.Table{Kind: faultdisk.TableFlakey, Flakey: faultdisk.Flakey{Up: 1e6, Down: 2e6}}).
		Device(faultdisk.Table{Kind: faultdisk.TableOK}).Close("f")
	text := s.String()
	if want := "    device flakey up 1ms down 2ms\n    device ok\n"; !strings.Contains(text, want) {
		t.Fatalf("printed:\n%s\nwant it to contain:\n%s", text, want)
	}
	got, err := Parse("d.wbs", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got); d != "" {
		t.Fatalf("(-built +parsed):\n%s", d)
	}
	s.Tasks[0].Server(faultdisk.Table{Kind: faultdisk.TableFail, Ops: faultdisk.Ops(faultdisk.OpStore), Errno: errno.EIO})
	err = s.Validate()
	if err == nil || !strings.Contains(err.Error(), "tasks[0].ops[4]: server loads an AFS server table, and the file system is blockfs") {
		t.Fatalf("got %v", err)
	}
	s.Tasks[0].Ops[4] = Op{Kind: OpDevice, Table: faultdisk.Table{Kind: faultdisk.TableFlakey}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "tasks[0].ops[4].table: device flakey up 0s down 0s: flakey needs up and down intervals longer than 0") {
		t.Fatalf("got %v", err)
	}
}
