package faultdisk_test

import (
	"fmt"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// Two writes reach the volatile cache after a flushed one: a crash now
// may keep either, both or neither of them, four states, state 0 being
// drop-all.
func ExampleDisk_CrashStates() {
	w := sim.New(sim.Config{Seed: 1})
	d, err := faultdisk.New(w, faultdisk.Config{Sectors: 8})
	if err != nil {
		panic(err)
	}
	w.Spawn("t", func(t *sim.Task) {
		wait := func(io *faultdisk.IO) {
			var done sim.Completion
			io.Done = func(t *sim.Task, _ *faultdisk.IO) { done.Complete(t) }
			d.Submit(t, io)
			done.Wait(t)
		}
		write := func(sector int64, stamp content.Stamp) *faultdisk.IO {
			return &faultdisk.IO{Op: faultdisk.OpWrite, Sector: sector, Count: 1, Data: content.Fill(512, stamp, 0)}
		}
		wait(write(0, 1))
		wait(&faultdisk.IO{Op: faultdisk.OpFlush})
		wait(write(1, 2))
		wait(write(2, 3))
		cs := d.CrashStates(false, 10_000)
		for i := range cs.Len() {
			fmt.Printf("state %d: %v\n", i, cs.Image(i).Read(0, 3*512))
		}
	})
	w.Run()
	// Output:
	// state 0: [0,512)=w1@0 [512,1536)=0
	// state 1: [0,512)=w1@0 [512,1024)=w2@0 [1024,1536)=0
	// state 2: [0,512)=w1@0 [512,1024)=w2@0 [1024,1536)=w3@0
	// state 3: [0,512)=w1@0 [512,1024)=0 [1024,1536)=w3@0
}
