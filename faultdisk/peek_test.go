package faultdisk

import (
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// TestPeekAndVolatile: a completed write shows in Peek's cached bytes and
// counts as volatile until a flush makes it stable; a FUA write after it
// is stable at once and never counts.
func TestPeekAndVolatile(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{Sectors: 16})
	type look struct {
		cached, stable content.Bytes
		volatile       int
	}
	var got []look
	peek := func() {
		c, s := d.Peek(0, 2)
		got = append(got, look{c, s, d.Volatile()})
	}
	w.Spawn("t", func(t *sim.Task) {
		syncIO(t, d, write(0, 1, 1))
		peek()
		io := write(1, 1, 2)
		io.FUA = true
		syncIO(t, d, io)
		peek()
		syncIO(t, d, flush())
		peek()
	})
	run(t, w)
	zero := content.Zeros(SectorSize)
	one, two := content.Fill(SectorSize, 1, 0), content.Fill(SectorSize, 2, 0)
	want := []look{
		{one.Append(zero), zero.Append(zero), 1},
		{one.Append(two), zero.Append(two), 1},
		{one.Append(two), one.Append(two), 0},
	}
	for i := range want {
		if !got[i].cached.Equal(want[i].cached) || !got[i].stable.Equal(want[i].stable) || got[i].volatile != want[i].volatile {
			t.Errorf("look %d: cached %v stable %v volatile %d; want %v, %v, %d", i,
				got[i].cached, got[i].stable, got[i].volatile, want[i].cached, want[i].stable, want[i].volatile)
		}
	}
}
