package run

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// BenchmarkCrashEnumerate64 is one schedule of 64 files, each written
// (one 4 KiB block) and fsynced with the flush ignored, then crash
// enumerate: 10,000 crash states (the cap), each repaired by fsck and
// judged by the crash contract.
func BenchmarkCrashEnumerate64(b *testing.B) {
	var ops strings.Builder
	for i := range 64 {
		fmt.Fprintf(&ops, "    open f%d /f%d\n    pwrite f%d 0+4KiB as W%d\n    fsync f%d\n", i, i, i, i, i)
	}
	s, err := scenarios.Parse("bench.wbs", []byte(`wbsim-scenario v1
name crash-enumerate-64
kernel 3.x
fs blockfs
    fsync-flush off
vm
    flusher off
task db
`+ops.String()+`    crash enumerate
check crash
`))
	if err != nil {
		b.Fatal(err)
	}
	setup, cfg, err := Build(s)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		w := sim.New(cfg)
		setup(w)
		if r := w.Run(); r.OK() || !strings.Contains(r.Failure.Msg, "of 10000 (capped") {
			b.Fatalf("%v", r.Failure)
		}
	}
}
