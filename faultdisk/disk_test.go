package faultdisk

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

const us = sim.Microsecond

// ---------------------------------------------------------------- helpers

// fataler is what testing.TB and *rapid.T have in common.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// sectorsOf splits b into 512-byte sectors and prints each: the form that
// store comparisons diff, one line per sector.
func sectorsOf(b content.Bytes) []string {
	n := b.Len() / SectorSize
	out := make([]string, n)
	for i := range n {
		out[i] = b.Slice(i*SectorSize, SectorSize).String()
	}
	return out
}

func storeSectors(s *content.Store, n int64) []string {
	return sectorsOf(s.Read(0, n*SectorSize))
}

func mustDisk(tb fataler, w *sim.World, cfg Config) *Disk {
	tb.Helper()
	d, err := New(w, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func mustPlan(tb fataler, text string) *Plan {
	tb.Helper()
	p, err := Parse("faultplan v1\n" + text)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// syncIO submits io and sleeps until its callback ran.
func syncIO(t *sim.Task, d *Disk, io *IO) {
	var c sim.Completion
	c.Name = "io"
	io.Done = func(irq *sim.Task, _ *IO) { c.Complete(irq) }
	d.Submit(t, io)
	c.Wait(t)
}

func errStr(e errno.Errno) string {
	if e == 0 {
		return "ok"
	}
	return e.String()
}

func write(sector, count int64, stamp content.Stamp) *IO {
	return &IO{Op: OpWrite, Sector: sector, Count: count, Data: content.Fill(count*SectorSize, stamp, 0)}
}

func read(sector, count int64) *IO { return &IO{Op: OpRead, Sector: sector, Count: count} }

func flush() *IO { return &IO{Op: OpFlush} }

func run(tb fataler, w *sim.World) *sim.Result {
	tb.Helper()
	r := w.Run()
	if r.Failure != nil {
		tb.Fatalf("run failed: %s", r.Failure.Report())
	}
	return r
}

// ---------------------------------------------------------------- random workloads

type wkind int

const (
	wWrite wkind = iota
	wRead
	wFlush
	wPlug
	wUnplug
	wSleep
)

type wop struct {
	Kind          wkind
	Sector, Count int64
	FUA           bool
	Hole          [2]int64 // a zero range [Hole[0], Hole[1]) in a write's payload, in bytes
	Sleep         sim.Time
}

type workload struct {
	Sectors int64
	Cfg     Config
	Tasks   [][]wop
	Seed    uint64
	CrashAt sim.Time
}

func genDist(t *rapid.T, label string) Dist {
	switch rapid.IntRange(0, 2).Draw(t, label) {
	case 0:
		return Fixed(sim.Time(rapid.IntRange(1, 50).Draw(t, label+"-fixed")) * us)
	case 1:
		lo := sim.Time(rapid.IntRange(1, 20).Draw(t, label+"-lo")) * us
		return Uniform(lo, lo+sim.Time(rapid.IntRange(0, 200).Draw(t, label+"-span"))*us)
	}
	return Exponential(1*us, sim.Time(rapid.IntRange(1, 50).Draw(t, label+"-mean"))*us, 500*us)
}

// genWorkload draws a small disk and a few tasks submitting random requests
// without waiting for them. Latencies are at least 1ns, so a request
// dispatched at time T always completes after T.
func genWorkload(t *rapid.T, deepQueue bool) workload {
	wl := workload{Sectors: int64(rapid.IntRange(8, 48).Draw(t, "sectors"))}
	wl.Cfg = Config{
		Sectors:    wl.Sectors,
		QueueDepth: rapid.IntRange(1, 8).Draw(t, "depth"),
		Read:       genDist(t, "read"),
		Write:      genDist(t, "write"),
		Flush:      genDist(t, "flush"),
		Reorder:    rapid.SampledFrom([]sim.Time{0, 5 * us, 50 * us, Unbounded}).Draw(t, "reorder"),
	}
	if deepQueue {
		wl.Cfg.QueueDepth = 1000 // nobody sleeps in Submit, so a crash leaves nobody asleep
	}
	kinds := []wkind{wWrite, wWrite, wWrite, wWrite, wRead, wRead, wRead, wFlush, wPlug, wUnplug, wSleep}
	for i := range rapid.IntRange(1, 3).Draw(t, "tasks") {
		var ops []wop
		for j := range rapid.IntRange(1, 14).Draw(t, fmt.Sprintf("ops%d", i)) {
			l := fmt.Sprintf("op%d.%d", i, j)
			o := wop{Kind: rapid.SampledFrom(kinds).Draw(t, l)}
			switch o.Kind {
			case wWrite, wRead:
				o.Sector = rapid.Int64Range(0, wl.Sectors-1).Draw(t, l+"-sector")
				o.Count = rapid.Int64Range(1, min(8, wl.Sectors-o.Sector)).Draw(t, l+"-count")
				if o.Kind == wWrite {
					o.FUA = rapid.IntRange(0, 4).Draw(t, l+"-fua") == 0
					if rapid.IntRange(0, 3).Draw(t, l+"-hole?") == 0 {
						n := o.Count * SectorSize
						a := rapid.Int64Range(0, n-1).Draw(t, l+"-hole")
						o.Hole = [2]int64{a, rapid.Int64Range(a+1, n).Draw(t, l+"-holeEnd")}
					}
				}
			case wSleep:
				o.Sleep = sim.Time(rapid.IntRange(1, 100).Draw(t, l+"-sleep")) * us
			}
			ops = append(ops, o)
		}
		wl.Tasks = append(wl.Tasks, ops)
	}
	wl.Seed = rapid.Uint64().Draw(t, "seed")
	wl.CrashAt = sim.Time(rapid.IntRange(1, 400).Draw(t, "crashAt")) * us
	return wl
}

// A run of a workload: every request in submission order, and the order of
// the callbacks, which is the order in which the device completed them.
type wrun struct {
	w      *sim.World
	d      *Disk
	ios    []*IO
	cb     []*IO
	ref    []string // the reference model, sector by sector, in callback order
	errs   []string
	stamps content.Stamp
}

func (wl *workload) start(tb fataler, plan *Plan) *wrun {
	w := sim.New(sim.Config{Seed: wl.Seed, Strategy: sim.NewRandom(wl.Seed), MaxSteps: 100_000})
	cfg := wl.Cfg
	cfg.Plan = plan
	r := &wrun{w: w, d: mustDisk(tb, w, cfg)}
	r.ref = sectorsOf(content.Zeros(wl.Sectors * SectorSize))
	done := func(_ *sim.Task, io *IO) {
		r.cb = append(r.cb, io)
		switch io.Op {
		case OpWrite:
			// What landed: the whole write, or what a fault left of it
			// where the fault put it.
			if sector, data, ok := r.d.landed(io); ok {
				copy(r.ref[sector:], sectorsOf(data))
			}
		case OpRead:
			if io.DoneBytes != io.ReadData.Len() || io.Err == 0 && io.DoneBytes != io.Count*SectorSize && plan == nil {
				r.errs = append(r.errs, fmt.Sprintf("read %d+%d: %v, %d bytes done, %d returned", io.Sector, io.Count, io.Err, io.DoneBytes, io.ReadData.Len()))
			}
			want := r.ref[io.Sector : io.Sector+io.DoneBytes/SectorSize]
			got := sectorsOf(io.ReadData)
			if io.corrupt {
				// Corruption damages the returned bytes [corLo, corHi) only.
				var ws content.Bytes
				for _, sec := range want {
					p, _ := content.Parse(sec)
					ws = ws.Append(p)
				}
				want = sectorsOf(ws.Overwrite(io.corLo, content.Fill(io.corHi-io.corLo, content.Corrupt(io.corID), io.corLo)))
			}
			if d := gocmp.Diff(want, got); d != "" {
				r.errs = append(r.errs, fmt.Sprintf("read %d+%d at %s (-want +got):\n%s", io.Sector, io.Count, io.Completed, d))
			}
		}
	}
	for i, ops := range wl.Tasks {
		w.Spawn(fmt.Sprintf("T%d", i), func(t *sim.Task) {
			for _, o := range ops {
				var io *IO
				switch o.Kind {
				case wWrite:
					r.stamps++
					data := content.Fill(o.Count*SectorSize, r.stamps, 0)
					if o.Hole[1] > 0 {
						data = data.Overwrite(o.Hole[0], content.Zeros(o.Hole[1]-o.Hole[0]))
					}
					io = &IO{Op: OpWrite, FUA: o.FUA, Sector: o.Sector, Count: o.Count, Data: data}
				case wRead:
					io = read(o.Sector, o.Count)
				case wFlush:
					io = flush()
				case wPlug:
					r.d.Plug()
				case wUnplug:
					r.d.Unplug(t)
				case wSleep:
					t.Sleep(o.Sleep)
				}
				if io != nil {
					io.Done = done
					r.ios = append(r.ios, io)
					r.d.Submit(t, io)
				}
			}
			r.d.Unplug(t)
		})
	}
	return r
}

// crashRef is the reference model of what a crash at time T may leave.
type crashRef struct {
	durable []string // every durable write applied in completion order
	latest  []string // every completed write applied in completion order
	// cands are the non-durable writes a crash may keep, in the order the
	// disk applies them: completed ones in completion order, then in-flight
	// ones in dispatch order.
	cands []*IO
	order map[*IO]int // position of every completed write and candidate
}

// crashRefAt builds the reference for a crash at time T from a finished
// run. completedAt says which requests the device had completed at T
// (observed then: Completed was set); inFlight which writes were at the
// device.
func (r *wrun) crashRefAt(n int64, completedAt map[*IO]bool, inFlight []*IO) crashRef {
	ref := crashRef{durable: sectorsOf(content.Zeros(n * SectorSize)), order: map[*IO]int{}}
	ref.latest = slices.Clone(ref.durable)
	// The device completes requests in (time, dispatch) order; the
	// callbacks follow that order, but after a crash some never run.
	var done, flushes []*IO
	for _, io := range r.ios {
		if completedAt[io] {
			done = append(done, io)
		}
	}
	slices.SortFunc(done, func(a, b *IO) int { return cmp.Or(cmp.Compare(a.when, b.when), cmp.Compare(a.seq, b.seq)) })
	for _, io := range done {
		if io.Op == OpFlush && io.Err == 0 {
			flushes = append(flushes, io)
		}
	}
	for _, io := range done {
		if io.Op != OpWrite || io.Err != 0 {
			continue
		}
		ref.order[io] = len(ref.order)
		data := sectorsOf(io.Data)
		copy(ref.latest[io.land:], data)
		durable := io.FUA
		for _, f := range flushes {
			durable = durable || io.Completed <= f.Dispatched
		}
		if durable {
			copy(ref.durable[io.land:], data)
		} else {
			ref.cands = append(ref.cands, io)
		}
	}
	for _, io := range inFlight {
		ref.order[io] = len(ref.order)
		ref.cands = append(ref.cands, io)
	}
	return ref
}

// check compares a crash image with the reference.
func (ref *crashRef) check(mode CrashMode, got []string) string {
	switch mode {
	case CrashDropAll:
		if d := gocmp.Diff(ref.durable, got); d != "" {
			return "drop-all image differs from the durable writes (-want +got):\n" + d
		}
		return ""
	case CrashKeepAll:
		if d := gocmp.Diff(ref.latest, got); d != "" {
			return "keep-all image differs from the completed writes (-want +got):\n" + d
		}
		return ""
	}
	// Every sector holds its durable data or a whole, correctly placed
	// sector of a candidate that covers it.
	who := make([]*IO, len(got))
	for s, g := range got {
		if g == ref.durable[s] {
			continue
		}
		for _, c := range ref.cands {
			if int64(s) >= c.land && int64(s) < c.land+c.Count && sectorsOf(c.Data)[int64(s)-c.land] == g {
				who[s] = c
			}
		}
		if who[s] == nil {
			return fmt.Sprintf("%s: sector %d holds %s: neither its durable data %s nor a sector of a non-durable write", mode, s, g, ref.durable[s])
		}
	}
	if mode == CrashTear {
		return ""
	}
	// keep-random keeps writes whole: a write that shows anywhere shows in
	// all its sectors, except where a write applied after it shows (a kept
	// candidate, or a FUA write, which the disk applies again in order).
	// A sector shows a write only if no other candidate could have put the
	// same bytes there (several writes may hold a sector of zeros, from a
	// hole in their data).
	shows := map[*IO]bool{}
	for s, c := range who {
		if c == nil {
			continue
		}
		n := 0
		for _, x := range ref.cands {
			if int64(s) >= x.land && int64(s) < x.land+x.Count && sectorsOf(x.Data)[int64(s)-x.land] == got[s] {
				n++
			}
		}
		if n == 1 {
			shows[c] = true
		}
	}
	for _, c := range ref.cands {
		if !shows[c] {
			continue
		}
	sectors:
		for s := c.land; s < c.land+c.Count; s++ {
			if got[s] == sectorsOf(c.Data)[s-c.land] {
				continue
			}
			for x, i := range ref.order {
				if i > ref.order[c] && (x.FUA || slices.Contains(ref.cands, x)) &&
					s >= x.land && s < x.land+x.Count && got[s] == sectorsOf(x.Data)[s-x.land] {
					continue sectors
				}
			}
			return fmt.Sprintf("keep-random tore the write of sectors %d+%d: sector %d holds %s", c.land, c.Count, s, got[s])
		}
	}
	return ""
}

// ---------------------------------------------------------------- properties

// TestReadAfterWrite: every read returns the data of the writes that
// completed before it, through the volatile cache, whatever the
// interleaving, latencies, reordering, plugging and queue depth; at the end
// the disk reads as the reference says.
func TestDiskReadAfterWrite(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		wl := genWorkload(rt, false)
		r := wl.start(rt, nil)
		run(rt, r.w)
		if len(r.errs) > 0 {
			rt.Fatal(strings.Join(r.errs, "\n"))
		}
		if len(r.cb) != len(r.ios) {
			rt.Fatalf("%d requests, %d callbacks", len(r.ios), len(r.cb))
		}
		if d := gocmp.Diff(r.ref, sectorsOf(r.d.Read(0, wl.Sectors))); d != "" {
			rt.Fatalf("final contents (-want +got):\n%s", d)
		}
		if r.d.InFlight() != 0 || r.d.Congested() || r.d.ReadCongested() {
			rt.Fatalf("idle disk: %d in flight, congested %v/%v", r.d.InFlight(), r.d.Congested(), r.d.ReadCongested())
		}
	})
}

// TestCrashImages: at a random time, the image of every crash mode holds
// what the reference allows: drop-all exactly the durable writes (the
// writes that completed before a flush that completed was dispatched, and
// FUA writes), keep-all every completed write, keep-random the durable data
// plus whole non-durable writes, tear the durable data plus whole sectors of
// non-durable writes.
func TestDiskCrashImages(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		wl := genWorkload(rt, false)
		r := wl.start(rt, nil)
		rng := rand.New(rand.NewPCG(wl.Seed, 7))
		var images [numCrashModes][][]string
		var durableSnap []string
		completedAt := map[*IO]bool{}
		var inFlight []*IO
		r.w.At(wl.CrashAt, "crash-check", func() {
			for m := range numCrashModes {
				for range 3 {
					images[m] = append(images[m], storeSectors(r.d.CrashImage(m, rng), wl.Sectors))
				}
			}
			durableSnap = storeSectors(r.d.Durable(), wl.Sectors)
			for _, io := range r.ios {
				if io.Completed != 0 {
					completedAt[io] = true
				} else if io.Dispatched != 0 && io.Op == OpWrite {
					inFlight = append(inFlight, io)
				}
			}
			slices.SortFunc(inFlight, func(a, b *IO) int { return cmp.Compare(a.seq, b.seq) })
		})
		run(rt, r.w)
		ref := r.crashRefAt(wl.Sectors, completedAt, inFlight)
		if d := gocmp.Diff(ref.durable, durableSnap); d != "" {
			rt.Fatalf("Durable() at %s (-want +got):\n%s", wl.CrashAt, d)
		}
		for m := range numCrashModes {
			for _, img := range images[m] {
				if msg := ref.check(m, img); msg != "" {
					rt.Fatalf("crash at %s: %s", wl.CrashAt, msg)
				}
			}
		}
	})
}

// TestCrashAndRemount: a destructive crash at a random time leaves an image
// the reference allows; no callback runs after it; requests submitted while
// the disk is off are dropped; after Remount the disk reads as the image and
// works.
func TestDiskCrashAndRemount(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		wl := genWorkload(rt, true)
		mode := rapid.SampledFrom([]CrashMode{CrashDropAll, CrashKeepAll, CrashKeepRandom, CrashTear}).Draw(rt, "mode")
		r := wl.start(rt, nil)
		completedAt := map[*IO]bool{}
		var inFlight []*IO
		callbacks := -1
		r.w.At(wl.CrashAt, "crash", func() {
			r.d.Read(0, 1) // let the device finish what is due, then look
			for _, io := range r.ios {
				if io.Completed != 0 {
					completedAt[io] = true
				} else if io.Dispatched != 0 && io.Op == OpWrite {
					inFlight = append(inFlight, io)
				}
			}
			slices.SortFunc(inFlight, func(a, b *IO) int { return cmp.Compare(a.seq, b.seq) })
			r.d.Crash(mode)
			callbacks = len(r.cb)
		})
		run(rt, r.w)
		if callbacks >= 0 && len(r.cb) != callbacks {
			rt.Fatalf("%d callbacks ran after the crash", len(r.cb)-callbacks)
		}
		if callbacks < 0 {
			return // the run ended before the crash time
		}
		if !r.d.PoweredOff() {
			rt.Fatal("disk not powered off after Crash")
		}
		st := r.d.Stats()
		if want := int64(len(r.ios) - callbacks); st.Dropped != want {
			rt.Fatalf("Dropped = %d, want %d (requests without a callback)", st.Dropped, want)
		}
		ref := r.crashRefAt(wl.Sectors, completedAt, inFlight)
		img := storeSectors(r.d.Durable(), wl.Sectors)
		if msg := ref.check(mode, img); msg != "" {
			rt.Fatal(msg)
		}
		r.d.Remount()
		if d := gocmp.Diff(img, sectorsOf(r.d.Read(0, wl.Sectors))); d != "" {
			rt.Fatalf("after remount, reads differ from the medium (-want +got):\n%s", d)
		}
	})
}

// TestFlushThenCrash: a write that completed before a flush was dispatched
// survives every crash mode once the flush completed; writes after the
// flush may or may not.
func TestDiskFlushThenCrash(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := int64(rapid.IntRange(4, 32).Draw(rt, "sectors"))
		mode := CrashMode(rapid.IntRange(0, int(numCrashModes)-1).Draw(rt, "mode"))
		seed := rapid.Uint64().Draw(rt, "seed")
		type ext struct{ s, c int64 }
		var before, after []ext
		for range rapid.IntRange(1, 6).Draw(rt, "writes") {
			s := rapid.Int64Range(0, n-1).Draw(rt, "s")
			before = append(before, ext{s, rapid.Int64Range(1, n-s).Draw(rt, "c")})
		}
		for range rapid.IntRange(0, 3).Draw(rt, "more") {
			s := rapid.Int64Range(0, n-1).Draw(rt, "s2")
			after = append(after, ext{s, rapid.Int64Range(1, n-s).Draw(rt, "c2")})
		}
		w := sim.New(sim.Config{Seed: seed})
		d := mustDisk(rt, w, Config{Sectors: n, Write: genDist(rt, "write"), Flush: genDist(rt, "flush"), Reorder: Unbounded})
		want := sectorsOf(content.Zeros(n * SectorSize))
		later := make([][]string, n)
		w.Spawn("w", func(t *sim.Task) {
			for i, e := range before {
				io := write(e.s, e.c, content.Stamp(i+1))
				syncIO(t, d, io)
				copy(want[e.s:], sectorsOf(io.Data))
			}
			syncIO(t, d, flush())
			for i, e := range after {
				io := write(e.s, e.c, content.Stamp(100+i))
				for j, sec := range sectorsOf(io.Data) {
					later[e.s+int64(j)] = append(later[e.s+int64(j)], sec)
				}
				io.Done = func(*sim.Task, *IO) {}
				d.Submit(t, io)
			}
			d.Crash(mode)
		})
		run(rt, w)
		got := storeSectors(d.Durable(), n)
		if mode == CrashDropAll {
			if diff := gocmp.Diff(want, got); diff != "" {
				rt.Fatalf("drop-all after flush (-want +got):\n%s", diff)
			}
		}
		for s := range n {
			if got[s] != want[s] && !slices.Contains(later[s], got[s]) {
				rt.Fatalf("%s: sector %d holds %s, want the flushed %s or a later write %v", mode, s, got[s], want[s], later[s])
			}
		}
	})
}

// ---------------------------------------------------------------- faults

// faultRun runs body in one task on a 64-sector disk with the plan and
// returns the disk and the fault events of the trace.
func faultRun(tb fataler, plan string, cfg Config, body func(t *sim.Task, d *Disk)) (*Disk, []string) {
	tb.Helper()
	w := sim.New(sim.Config{Seed: 1})
	if cfg.Sectors == 0 {
		cfg.Sectors = 64
	}
	if plan != "" {
		cfg.Plan = mustPlan(tb, plan)
	}
	d := mustDisk(tb, w, cfg)
	var faults []string
	w.Observe(func(_ *sim.World, ev *sim.Event) {
		if ev.Kind == sim.KindFault {
			faults = append(faults, fmt.Sprintf("%s rule=%d %s", ev.Op, ev.Arg, ev.Msg))
		}
	})
	w.Spawn("t", func(t *sim.Task) { body(t, d) })
	run(tb, w)
	return d, faults
}

// TestOfflineEdges: an offline window [from, until) applies to requests
// dispatched in it, to the nanosecond, whenever they complete.
func TestDiskOfflineEdges(t *testing.T) {
	probe := func(plan string) *IO {
		var io *IO
		faultRun(t, plan, Config{Read: Fixed(10 * us)}, func(t *sim.Task, d *Disk) {
			t.Sleep(100 * us)
			io = read(0, 1)
			syncIO(t, d, io)
		})
		return io
	}
	base := probe("")
	at := int64(base.Dispatched)
	ns := func(v int64) string { return fmt.Sprintf("%dns", v) }
	for _, c := range []struct {
		plan string
		want errno.Errno
	}{
		{"offline from " + ns(at), errno.EIO},
		{"offline from " + ns(at+1), 0},                      // dispatched 1ns before: passes, though it completes inside
		{"offline from " + ns(at-1) + " until " + ns(at), 0}, // the window ended at dispatch
		{"offline until " + ns(at+1), errno.EIO},
		{"offline until " + ns(at), 0},
		{"offline from " + ns(at-1) + " until " + ns(at+1), errno.EIO},
		{"offline from " + ns(at+1) + " until " + ns(at+2), 0},
		{"read flakey up " + ns(at) + " down 5ns: fail EIO", errno.EIO},    // at % (at+5) = at >= up: down
		{"read flakey up " + ns(at+1) + " down 5ns: fail EIO", 0},          // still up
		{"read flakey up 1ns down " + ns(at) + ": fail EIO", 0},            // at % (at+1) = at >= 1: down? no: see below
		{"any from " + ns(at) + " until " + ns(at+1) + ": latency 1ms", 0}, // latency only
	} {
		got := probe(c.plan)
		want := c.want
		if strings.HasPrefix(c.plan, "read flakey up 1ns") {
			want = errno.EIO // (at - 0) mod (1 + at) = at >= 1: down
		}
		if got.Err != want {
			t.Errorf("%q: request dispatched at %s completed at %s with %v, want %v", c.plan, got.Dispatched, got.Completed, got.Err, want)
		}
		if got.Dispatched != base.Dispatched {
			t.Errorf("%q: dispatched at %s, want %s", c.plan, got.Dispatched, base.Dispatched)
		}
	}
	if got := probe("any from " + ns(at) + " until " + ns(at+1) + ": latency 1ms"); got.Completed != base.Completed+sim.Millisecond {
		t.Errorf("latency spike: completed at %s, want %s", got.Completed, base.Completed+sim.Millisecond)
	}
}

// TestMisdirect: a misdirected write lands where the plan says, the
// intended sectors keep their old data, and the caller is told success.
func TestDiskMisdirect(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		const n = 64
		s := rapid.Int64Range(0, n-1).Draw(rt, "sector")
		c := rapid.Int64Range(1, min(16, n-s)).Draw(rt, "count")
		to := rapid.Int64Range(0, n+8).Draw(rt, "to")
		rel := rapid.Bool().Draw(rt, "relative")
		plan := fmt.Sprintf("write from 1ms: misdirect to %d", to)
		if rel {
			if to == s {
				to++
			}
			plan = fmt.Sprintf("write from 1ms: misdirect %+d", to-s)
		}
		var io *IO
		d, faults := faultRun(rt, plan, Config{}, func(t *sim.Task, d *Disk) {
			syncIO(t, d, write(0, n, 1)) // the old data
			t.Sleep(sim.Millisecond)
			io = write(s, c, 2)
			syncIO(t, d, io)
		})
		if io.Err != 0 || io.DoneBytes != c*SectorSize {
			rt.Fatalf("misdirected write reported %v, %d bytes; want success, %d bytes", io.Err, io.DoneBytes, c*SectorSize)
		}
		want := sectorsOf(content.Fill(n*SectorSize, 1, 0))
		if to < n {
			copy(want[to:], sectorsOf(io.Data)[:min(c, n-to)])
		}
		if d := gocmp.Diff(want, sectorsOf(d.Read(0, n))); d != "" {
			rt.Fatalf("%s (sectors %d+%d) (-want +got):\n%s", plan, s, c, d)
		}
		if st := d.Stats(); st.Misdirected != 1 || len(faults) != 1 || !strings.Contains(faults[0], "misdirect") {
			rt.Fatalf("stats %+v, faults %q", st, faults)
		}
	})
}

// TestLatent: reads of latent bad sectors fail until the sectors are
// rewritten on the medium; a write that is only in the cache does not heal
// them (the Injector's contract), a flush or a FUA write does.
func TestDiskLatent(t *testing.T) {
	var errs []errno.Errno
	readAt := func(t *sim.Task, d *Disk, s, c int64) {
		io := read(s, c)
		syncIO(t, d, io)
		errs = append(errs, io.Err)
	}
	faultRun(t, "read sectors 8..16: latent ENODATA", Config{}, func(t *sim.Task, d *Disk) {
		readAt(t, d, 0, 8)  // outside: ok
		readAt(t, d, 6, 4)  // overlaps: fails
		readAt(t, d, 15, 1) // fails
		syncIO(t, d, write(8, 4, 1))
		readAt(t, d, 8, 4) // only cached: still fails
		syncIO(t, d, flush())
		readAt(t, d, 8, 4) // healed
		readAt(t, d, 8, 8) // 12..16 still bad
		fua := write(12, 4, 2)
		fua.FUA = true
		syncIO(t, d, fua)
		readAt(t, d, 0, 64) // all healed
	})
	want := []errno.Errno{0, errno.ENODATA, errno.ENODATA, errno.ENODATA, 0, errno.ENODATA, 0}
	if d := gocmp.Diff(want, errs); d != "" {
		t.Fatalf("read results (-want +got):\n%s", d)
	}
}

// TestLatentHealedByCrash: a crash that keeps a write counts as a rewrite.
func TestDiskLatentHealedByCrash(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{Sectors: 16, Plan: mustPlan(t, "read sectors 0..4: latent EIO")})
	var before, after errno.Errno
	w.Spawn("t", func(t *sim.Task) {
		io := read(0, 4)
		syncIO(t, d, io)
		before = io.Err
		syncIO(t, d, write(0, 4, 1))
		d.Crash(CrashKeepAll)
		d.Remount()
		io = read(0, 4)
		syncIO(t, d, io)
		after = io.Err
	})
	run(t, w)
	if before != errno.EIO || after != 0 {
		t.Fatalf("latent read before %v, after a crash that kept the rewrite %v; want EIO, 0", before, after)
	}
}

func TestDiskPartial(t *testing.T) {
	var ios []*IO
	d, _ := faultRun(t, "write sectors 0..8: partial 1024\nwrite sectors 16..24: partial 1000 EIO\nread sectors 32..40: partial 512", Config{},
		func(t *sim.Task, d *Disk) {
			for _, io := range []*IO{write(0, 8, 1), write(16, 8, 2), write(32, 8, 3)} {
				syncIO(t, d, io)
			}
			for _, io := range []*IO{write(0, 8, 1), write(16, 8, 2), write(32, 8, 3), read(32, 8)} {
				syncIO(t, d, io)
				ios = append(ios, io)
			}
		})
	got := []string{}
	for _, io := range ios {
		got = append(got, fmt.Sprintf("%s %d+%d: err=%s done=%d read=%s", io.Op, io.Sector, io.Count, errStr(io.Err), io.DoneBytes, io.ReadData))
	}
	want := []string{
		"write 0+8: err=ok done=1024 read=empty",
		"write 16+8: err=EIO done=512 read=empty",
		"write 32+8: err=ok done=4096 read=empty",
		"read 32+8: err=ok done=512 read=[0,512)=w3@0",
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Fatalf("completions (-want +got):\n%s", diff)
	}
	// The first write of each pair was cut too: 2 sectors of w1, 1 of w2.
	wantDisk := sectorsOf(content.Fill(2*SectorSize, 1, 0).Append(content.Zeros(14 * SectorSize)).
		Append(content.Fill(SectorSize, 2, 0)).Append(content.Zeros(15 * SectorSize)).Append(content.Fill(8*SectorSize, 3, 0)))
	if diff := gocmp.Diff(wantDisk, sectorsOf(d.Read(0, 40))); diff != "" {
		t.Fatalf("contents (-want +got):\n%s", diff)
	}
	if st := d.Stats(); st.Partial != 5 {
		t.Fatalf("Stats.Partial = %d, want 5", st.Partial)
	}
}

func TestDiskCorruptRead(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := rapid.Int64Range(1, 16).Draw(rt, "count")
		var bad, good *IO
		faultRun(rt, "read nth 1: corrupt", Config{}, func(t *sim.Task, d *Disk) {
			syncIO(t, d, write(0, 16, 1))
			bad, good = read(0, c), read(0, c)
			syncIO(t, d, bad)
			syncIO(t, d, good)
		})
		want := content.Fill(c*SectorSize, 1, 0)
		if !good.ReadData.Equal(want) {
			rt.Fatalf("second read %s, want %s", good.ReadData, want)
		}
		if bad.Err != 0 || bad.ReadData.Len() != c*SectorSize {
			rt.Fatalf("corrupt read: err %v, %d bytes", bad.Err, bad.ReadData.Len())
		}
		damaged := false
		for r := range bad.ReadData.Runs() {
			switch {
			case r.Stamp.IsCorrupt():
				damaged = true
			case !want.Slice(r.Off, r.Len).Equal(content.Fill(r.Len, r.Stamp, r.Src)):
				rt.Fatalf("corrupt read changed bytes outside the damage: %s", bad.ReadData)
			}
		}
		if !damaged {
			rt.Fatalf("corrupt read returned clean data %s", bad.ReadData)
		}
	})
}

func TestDiskFailTransientFlushFail(t *testing.T) {
	var got []string
	d, faults := faultRun(t, "write sectors 0..4: fail EIO once\nwrite sectors 8..12: transient EAGAIN\nflush nth 1: fail EIO", Config{},
		func(t *sim.Task, d *Disk) {
			note := func(io *IO) {
				got = append(got, fmt.Sprintf("%s %d: %s", io.Op, io.Sector, errStr(io.Err)))
			}
			for _, io := range []*IO{write(0, 4, 1), write(0, 4, 2), write(8, 4, 3)} {
				syncIO(t, d, io)
				note(io)
			}
			retry := write(8, 4, 3)
			retry.Retry = true
			syncIO(t, d, retry)
			note(retry)
			f := flush()
			syncIO(t, d, f)
			note(f)
			if !d.Stable(0, 16).Equal(content.Zeros(16 * SectorSize)) {
				t.BUG(sim.Obj{}, "a failed flush made data durable: %s", d.Stable(0, 16))
			}
			f = flush()
			syncIO(t, d, f)
			note(f)
		})
	want := []string{"write 0: EIO", "write 0: ok", "write 8: EAGAIN", "write 8: ok", "flush 0: EIO", "flush 0: ok"}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Fatalf("completions (-want +got):\n%s", diff)
	}
	wantDisk := sectorsOf(content.Fill(4*SectorSize, 2, 0).Append(content.Zeros(4 * SectorSize)).Append(content.Fill(4*SectorSize, 3, 0)))
	if diff := gocmp.Diff(wantDisk, sectorsOf(d.Stable(0, 12))); diff != "" {
		t.Fatalf("durable contents (-want +got):\n%s", diff)
	}
	if len(faults) != 3 || d.Stats().Errors != 3 || d.Stats().Faults != 3 {
		t.Fatalf("faults %q, stats %+v", faults, d.Stats())
	}
}

func TestDiskAllocFails(t *testing.T) {
	var got []bool
	_, faults := faultRun(t, "alloc site bio_alloc nth 2: fail ENOMEM", Config{}, func(t *sim.Task, d *Disk) {
		for range 3 {
			got = append(got, d.AllocFails("bio_alloc"))
		}
		got = append(got, d.AllocFails("other"))
	})
	if d := gocmp.Diff([]bool{false, true, false, false}, got); d != "" {
		t.Fatalf("AllocFails (-want +got):\n%s", d)
	}
	if len(faults) != 1 || !strings.Contains(faults[0], "fail ENOMEM") {
		t.Fatalf("faults %q", faults)
	}
}

func TestDiskBeyondEnd(t *testing.T) {
	var ios []*IO
	d, _ := faultRun(t, "", Config{Sectors: 16}, func(t *sim.Task, d *Disk) {
		ios = []*IO{read(15, 2), write(16, 1, 1), read(15, 1)}
		for _, io := range ios {
			syncIO(t, d, io)
		}
	})
	for i, want := range []errno.Errno{errno.EIO, errno.EIO, 0} {
		if ios[i].Err != want {
			t.Errorf("request %d: %v, want %v", i, ios[i].Err, want)
		}
	}
	if d.Stats().Errors != 2 {
		t.Errorf("stats %+v", d.Stats())
	}
}

// TestSameSeedSameRun: the same seed, plan and workload give the same
// trace hash, the same faults and the same crash image.
func TestDiskSameSeedSameRun(t *testing.T) {
	rules := []string{
		"write prob 0.3: misdirect +3",
		"read prob 0.2: corrupt",
		"any prob 0.1: fail EIO",
		"read sectors 0..8: latent EIO",
		"write prob 0.2: partial 512",
		"any prob 0.3: latency 50us",
		"flakey up 20us down 5us: fail EIO",
		"write: transient EAGAIN",
		"flush nth 2: fail EIO",
		"offline from 150us until 170us",
	}
	rapid.Check(t, func(rt *rapid.T) {
		wl := genWorkload(rt, false)
		var text []string
		for _, r := range rules {
			if rapid.Bool().Draw(rt, r) {
				text = append(text, r)
			}
		}
		plan := mustPlan(rt, strings.Join(text, "\n"))
		mode := CrashMode(rapid.IntRange(0, int(numCrashModes)-1).Draw(rt, "mode"))
		once := func() (uint64, []string, []string, string) {
			r := wl.start(rt, plan)
			var faults []string
			r.w.Observe(func(_ *sim.World, ev *sim.Event) {
				if ev.Kind == sim.KindFault {
					faults = append(faults, ev.Msg)
				}
			})
			res := run(rt, r.w)
			var results []string
			for _, io := range r.cb {
				results = append(results, fmt.Sprintf("%s %d+%d %v %d %s", io.Op, io.Sector, io.Count, io.Err, io.DoneBytes, io.ReadData))
			}
			if len(r.errs) > 0 {
				rt.Fatal(strings.Join(r.errs, "\n"))
			}
			if len(r.cb) != len(r.ios) || r.d.InFlight() != 0 {
				rt.Fatalf("%d requests, %d callbacks, %d in flight", len(r.ios), len(r.cb), r.d.InFlight())
			}
			r.d.Crash(mode)
			return res.Hash, faults, results, r.d.Durable().String()
		}
		h1, f1, r1, c1 := once()
		h2, f2, r2, c2 := once()
		if d := gocmp.Diff(f1, f2); d != "" {
			rt.Fatalf("faults differ (-first +second):\n%s", d)
		}
		if d := gocmp.Diff(r1, r2); d != "" {
			rt.Fatalf("completions differ (-first +second):\n%s", d)
		}
		if h1 != h2 || c1 != c2 {
			rt.Fatalf("trace hash %x vs %x; crash image %s vs %s", h1, h2, c1, c2)
		}
	})
}

// ---------------------------------------------------------------- queue

// TestQueueDepthAndCongestion: a direction holds at most QueueDepth
// requests; the next submitter sleeps; congestion turns on and off at the
// 2.6.12 thresholds (15 and below 12 for 16 requests).
func TestDiskQueueDepthAndCongestion(t *testing.T) {
	type obs struct {
		inUse     int
		congested bool
	}
	var seen []obs
	var maxInUse int
	var reads []bool
	d, _ := faultRun(t, "", Config{QueueDepth: 16, Write: Fixed(1 * sim.Millisecond)}, func(t *sim.Task, d *Disk) {
		for i := range 20 {
			io := write(int64(i), 1, content.Stamp(i+1))
			io.Done = func(irq *sim.Task, io *IO) {
				if !irq.IRQ() {
					irq.BUG(sim.Obj{}, "callback outside interrupt context")
				}
				seen = append(seen, obs{d.inUse[dirWrite], d.Congested()})
			}
			d.Submit(t, io)
			maxInUse = max(maxInUse, d.inUse[dirWrite])
			seen = append(seen, obs{d.inUse[dirWrite], d.Congested()})
		}
		reads = append(reads, d.ReadCongested())
	})
	if maxInUse != 16 || d.Stats().Waits == 0 {
		t.Fatalf("max %d requests in the write queue, %d waits; want 16 and some", maxInUse, d.Stats().Waits)
	}
	on := false
	for i, o := range seen {
		switch {
		case o.inUse >= 15:
			on = true
		case o.inUse < 12:
			on = false
		}
		// A callback sees its own request still counted, and the flag as
		// the last change left it.
		if o.congested != on {
			t.Fatalf("observation %d: %d requests, congested %v, want %v (%+v)", i, o.inUse, o.congested, on, seen)
		}
	}
	if !slices.ContainsFunc(seen, func(o obs) bool { return o.congested }) || d.Congested() || reads[0] {
		t.Fatalf("congestion never seen, or left on: %+v", seen)
	}
}

// TestPlug: plugged requests are dispatched together at Unplug, and their
// faults are decided then; a submitter that finds the queue full unplugs it
// before it sleeps.
func TestDiskPlug(t *testing.T) {
	var ios []*IO
	var before []sim.Time
	_, _ = faultRun(t, "offline from 50us until 60us", Config{QueueDepth: 2}, func(t *sim.Task, d *Disk) {
		d.Plug()
		for i := range 2 {
			io := write(int64(i), 1, content.Stamp(i+1))
			io.Done = func(*sim.Task, *IO) {}
			d.Submit(t, io)
			ios = append(ios, io)
		}
		t.Sleep(50*us - t.World().Now())
		for _, io := range ios {
			before = append(before, io.Dispatched)
		}
		d.Unplug(t) // at 50us + one step: offline
		d.Plug()
		io := write(2, 1, 3)
		io.Done = func(*sim.Task, *IO) {}
		d.Submit(t, io) // the queue is full: sleeps until one of the first two completes
		ios = append(ios, io)
		io = write(3, 1, 4)
		io.Done = func(*sim.Task, *IO) {}
		d.Submit(t, io) // full again: unplugs the third, sleeps
		ios = append(ios, io)
		d.Unplug(t)
	})
	if before[0] != 0 || before[1] != 0 {
		t.Fatalf("plugged requests dispatched at %v before Unplug", before)
	}
	if ios[0].Dispatched != ios[1].Dispatched || ios[0].Err != errno.EIO || ios[1].Err != errno.EIO {
		t.Fatalf("unplugged requests: dispatched %s and %s, errors %v %v", ios[0].Dispatched, ios[1].Dispatched, ios[0].Err, ios[1].Err)
	}
	if ios[2].Err != 0 || ios[2].Dispatched == 0 || ios[2].Dispatched > ios[3].Submitted {
		t.Fatalf("third request: %v, dispatched %s; fourth submitted %s", ios[2].Err, ios[2].Dispatched, ios[3].Submitted)
	}
}

// TestReorderWindow: no request completes more than Reorder before one
// dispatched earlier; with 0 they complete in dispatch order; with
// Unbounded, later requests do overtake.
func TestDiskReorderWindow(t *testing.T) {
	overtook := false
	rapid.Check(t, func(rt *rapid.T) {
		window := rapid.SampledFrom([]sim.Time{0, 1 * us, 30 * us, Unbounded}).Draw(rt, "window")
		n := rapid.IntRange(2, 40).Draw(rt, "n")
		seed := rapid.Uint64().Draw(rt, "seed")
		w := sim.New(sim.Config{Seed: seed})
		d := mustDisk(rt, w, Config{Write: Uniform(1*us, 100*us), Read: Exponential(1*us, 20*us, 0), Reorder: window})
		var ios, cbs []*IO
		w.Spawn("t", func(t *sim.Task) {
			for i := range n {
				io := write(int64(i), 1, content.Stamp(i+1))
				if i%3 == 2 {
					io = read(0, 1)
				}
				io.Done = func(_ *sim.Task, io *IO) { cbs = append(cbs, io) }
				d.Submit(t, io)
				ios = append(ios, io)
			}
		})
		run(rt, w)
		latest := sim.Time(0)
		for i, io := range ios {
			if window != Unbounded && io.Completed < latest-window {
				rt.Fatalf("request %d completed at %s, more than %s before %s", i, io.Completed, window, latest)
			}
			if io.Completed < latest {
				overtook = true
			}
			latest = max(latest, io.Completed)
		}
		if window == 0 && !slices.Equal(ios, cbs) {
			rt.Fatal("window 0: callbacks out of dispatch order")
		}
	})
	if !overtook {
		t.Fatal("no request ever overtook another")
	}
}

func TestDiskLatencyDistributions(t *testing.T) {
	for _, c := range []struct {
		d      Dist
		lo, hi sim.Time
	}{
		{Fixed(7 * us), 7 * us, 7 * us},
		{Uniform(5*us, 9*us), 5 * us, 9 * us},
		{Exponential(2*us, 10*us, 40*us), 2 * us, 40 * us},
		{Dist{}, DefaultReadLatency, DefaultReadLatency},
	} {
		var lats []sim.Time
		faultRun(t, "", Config{Read: c.d, Reorder: Unbounded}, func(t *sim.Task, d *Disk) {
			for range 200 {
				io := read(0, 1)
				syncIO(t, d, io)
				lats = append(lats, io.Completed-io.Dispatched)
			}
		})
		if slices.Min(lats) < c.lo || slices.Max(lats) > c.hi {
			t.Errorf("%+v: latencies in [%s, %s], want within [%s, %s]", c.d, slices.Min(lats), slices.Max(lats), c.lo, c.hi)
		}
		if c.lo != c.hi && slices.Min(lats) == slices.Max(lats) {
			t.Errorf("%+v: every latency is %s", c.d, lats[0])
		}
	}
}

// TestCallbackMayNotSleep: the callback runs in interrupt context, where
// sleeping is a lock failure.
func TestDiskCallbackMayNotSleep(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{})
	w.Spawn("t", func(t *sim.Task) {
		io := read(0, 1)
		io.Done = func(irq *sim.Task, _ *IO) { irq.Sleep(1) }
		d.Submit(t, io)
	})
	r := w.Run()
	if r.Failure == nil || r.Failure.Invariant != sim.InvLock || !strings.Contains(r.Failure.Msg, "interrupt context") {
		t.Fatalf("want a lock failure for sleeping in the callback, got %v", r.Failure)
	}
}

func TestDiskSubmitRejectsMalformed(t *testing.T) {
	for _, io := range []*IO{
		{Op: OpRead, Sector: 0, Count: 0},
		{Op: OpRead, Sector: -1, Count: 1},
		{Op: OpWrite, Sector: 0, Count: 2, Data: content.Zeros(512)},
		{Op: OpFlush, Count: 1},
		{Op: OpStore, Count: 1},
		{Op: OpWrite, Sector: 0, Count: 1, Data: content.Fill(512, zeroMark, 0)},
	} {
		w := sim.New(sim.Config{Seed: 1})
		d := mustDisk(t, w, Config{})
		w.Spawn("t", func(t *sim.Task) {
			io.Done = func(*sim.Task, *IO) {}
			d.Submit(t, io)
		})
		r := w.Run()
		if r.Failure == nil || r.Failure.Kind != sim.FailPanic || !strings.Contains(r.Failure.Msg, "faultdisk: Submit") {
			t.Errorf("%+v: want a panic from Submit, got %v", io, r.Failure)
		}
	}
}

func TestDiskNewRejectsBadConfig(t *testing.T) {
	w := sim.New(sim.Config{})
	for _, cfg := range []Config{
		{Sectors: -1},
		{QueueDepth: -1},
		{Reorder: -2},
		{Read: Uniform(5, 4)},
		{Write: Exponential(0, 0, 0)},
		{Flush: Fixed(-1)},
		{Plan: &Plan{Rules: []Rule{{Action: Latency{Extra: -1}}}}},
	} {
		if _, err := New(w, cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad configuration", cfg)
		}
	}
}

// TestCrashLosesInFlight: requests at the device when power fails never
// complete; requests submitted before Remount are dropped; after Remount
// the disk works, with the durable data.
func TestDiskCrashLosesInFlight(t *testing.T) {
	var calls int
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{Sectors: 16})
	w.Spawn("t", func(t *sim.Task) {
		syncIO(t, d, write(0, 1, 1))
		syncIO(t, d, flush())
		count := func(*sim.Task, *IO) { calls++ }
		for _, io := range []*IO{write(1, 1, 2), read(0, 1), flush()} {
			io.Done = count
			d.Submit(t, io)
		}
		d.Crash(CrashDropAll)
		io := read(0, 1)
		io.Done = count
		d.Submit(t, io) // dropped: powered off
		t.Sleep(sim.Millisecond)
		d.Remount()
		io = read(0, 2)
		syncIO(t, d, io)
		if want := content.Fill(512, 1, 0).Append(content.Zeros(512)); !io.ReadData.Equal(want) {
			t.BUG(sim.Obj{}, "after remount read %s, want %s", io.ReadData, want)
		}
	})
	run(t, w)
	if st := d.Stats(); calls != 0 || st.Dropped != 4 || st.Crashes != 1 {
		t.Fatalf("%d callbacks after the crash, stats %+v", calls, st)
	}
}

// TestDiskCrashChoices: over many draws, keep-random keeps and loses a
// cached write and a write in flight (the device may have written it before
// the power failed), and tear also tears them at sector boundaries.
func TestDiskCrashChoices(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{Sectors: 16, Write: Fixed(10 * us)})
	cached, inFlight := write(0, 4, 1), write(8, 4, 2)
	w.Spawn("t", func(t *sim.Task) {
		syncIO(t, d, cached)
		inFlight.Done = func(*sim.Task, *IO) {}
		d.Submit(t, inFlight)
		if inFlight.Completed != 0 {
			t.BUG(sim.Obj{}, "the second write is not in flight")
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, mode := range []CrashMode{CrashKeepRandom, CrashTear} {
			seen := map[string]bool{}
			for range 200 {
				img := d.CrashImage(mode, rng)
				for _, io := range []*IO{cached, inFlight} {
					got := img.Read(io.Sector*SectorSize, io.Count*SectorSize)
					switch {
					case got.Equal(io.Data):
						seen[fmt.Sprintf("%d kept", io.Sector)] = true
					case got.Equal(content.Zeros(io.Count * SectorSize)):
						seen[fmt.Sprintf("%d lost", io.Sector)] = true
					default:
						seen[fmt.Sprintf("%d torn", io.Sector)] = true
					}
				}
			}
			want := map[string]bool{"0 kept": true, "0 lost": true, "8 kept": true, "8 lost": true}
			if mode == CrashTear {
				want["0 torn"], want["8 torn"] = true, true
			}
			if d := gocmp.Diff(want, seen); d != "" {
				t.BUG(sim.Obj{}, "%s outcomes (-want +got):\n%s", mode, d)
			}
		}
		if !d.Durable().Equal(new(content.Store)) {
			t.BUG(sim.Obj{}, "CrashImage changed the medium")
		}
	})
	run(t, w)
}
