package scenarios

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The builder's repeats print as indented blocks and parse back equal; a
// validation error inside a block names its field path.
func TestRepeatBuilder(t *testing.T) {
	s := New("r", Kernel3x).OnBlockFS(BlockFS{})
	s.AddTask("w").Open("f", "/a", 0).
		RepeatUntil("x", func(b *Task) {
			b.Write("f", AtPos, 4096, "A").Repeat(2, func(b *Task) { b.Fsync("f") })
		}).Close("f")
	s.AddTask("x").Sync()
	text := s.String()
	want := "task w\n    open f /a\n    repeat until x done\n        write f 4KiB as A\n        repeat 2\n            fsync f\n    close f\n"
	if !strings.Contains(text, want) {
		t.Fatalf("printed:\n%s\nwant it to contain:\n%s", text, want)
	}
	got, err := Parse("r.wbs", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got); d != "" {
		t.Fatalf("(-built +parsed):\n%s", d)
	}
	s.Tasks[0].Ops[1].Body[1].Body[0].FD = "g"
	err = s.Validate()
	if err == nil || !strings.Contains(err.Error(), "tasks[0].ops[1].body[1].body[0].fd: fsync uses fd g, which is not open") {
		t.Fatalf("got %v", err)
	}
	if !s.HasOp(OpFsync) || s.HasOp(OpCrash) {
		t.Fatalf("HasOp does not look into blocks")
	}
}
