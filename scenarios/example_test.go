package scenarios_test

import (
	"fmt"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

func ExampleParse() {
	src := `wbsim-scenario v1
name two-writers
kernel 2.6.2x
fs blockfs
    block-size 1024
task a
    open f /data
    write f 0+4KiB as A
    fsync f expect ok
task b
    open g /data
    write g 4KiB+4KiB as B
expect ok
`
	s, err := scenarios.Parse("two-writers.wbs", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range s.Tasks {
		for _, op := range t.Ops {
			fmt.Printf("%s: task %s: %s\n", op.Meta.Pos, t.Name, op)
		}
	}
	// Output:
	// two-writers.wbs:7:5: task a: open f /data
	// two-writers.wbs:8:5: task a: write f 0+4KiB as A
	// two-writers.wbs:9:5: task a: fsync f expect ok
	// two-writers.wbs:11:5: task b: open g /data
	// two-writers.wbs:12:5: task b: write g 4KiB+4KiB as B
}

func ExampleParse_error() {
	_, err := scenarios.Parse("bad.wbs", []byte("wbsim-scenario v1\nname bad\nkernel 2.6.99\nfs blockfs\ntask t\n    fsync f\n"))
	fmt.Println(err)
	// Output:
	// bad.wbs:3:8: unknown kernel version "2.6.99"; expected one of 2.6.12, 2.6.2x, 3.x, afs-2.6.3x
	// bad.wbs:6:11: fsync uses fd f, which is not open: it was never opened in this task or in setup
}

func ExampleNew() {
	s := scenarios.New("key-expiry", scenarios.KernelAFS).
		OnAFS(scenarios.AFS{Latency: 2 * sim.Millisecond}).
		AddKey("alice", "").
		AddFile("/vol/a", 0).
		Grant("/vol/a", "alice", scenarios.RightsWrite).
		WithExplore(scenarios.Explore{Strategy: scenarios.PCT(2), Schedules: 200}).
		ExpectFailure("fsync-error")
	s.AddTask("writer").
		OpenAs("f", "/vol/a", "alice", 0).
		Write("f", 0, 16<<10, "A").
		Fsync("f").ExpectErr(errno.EKEYEXPIRED)
	s.AddTask("admin").Sleep(sim.Millisecond).ExpireKey("alice")
	if err := s.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	// Output:
	// wbsim-scenario v1
	// name key-expiry
	//
	// kernel afs-2.6.3x
	//
	// fs afs
	//     latency 2ms
	//     key alice
	//     file /vol/a
	//     acl /vol/a alice write
	//
	// task writer
	//     open f /vol/a as alice
	//     write f 0+16KiB as A
	//     fsync f expect EKEYEXPIRED
	//
	// task admin
	//     sleep 1ms
	//     expire-key alice
	//
	// explore
	//     strategy pct depth 2
	//     schedules 200
	//
	// expect failure fsync-error
}
