package faultdisk

import (
	"fmt"
	"math"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// This file holds the Disk: a sector-addressed virtual block device with a
// request queue, plugging, latency, reordering, a volatile write cache and
// fault injection through a Plan. crash.go holds the cache, flush, crash and
// remount. docs/faultdisk.md describes the semantics.

// DistKind selects a latency distribution.
type DistKind uint8

// Latency distributions. The zero DistKind means "the default for this
// operation" (see Config).
const (
	DistDefault     DistKind = iota
	DistFixed                // always Min
	DistUniform              // uniform on [Min, Max]
	DistExponential          // Min plus an exponential draw of mean Mean, capped at Max if Max > Min
)

// Dist is a distribution of service times. Build one with Fixed, Uniform or
// Exponential; the zero Dist means the default. Draws come from the world's
// random source (World.Rand), at dispatch, and a Fixed distribution draws
// nothing.
type Dist struct {
	Kind     DistKind
	Min, Max sim.Time
	Mean     sim.Time
}

// Fixed is the distribution that is always d.
func Fixed(d sim.Time) Dist { return Dist{Kind: DistFixed, Min: d, Max: d} }

// Uniform is the uniform distribution on [lo, hi] (nanosecond resolution).
func Uniform(lo, hi sim.Time) Dist { return Dist{Kind: DistUniform, Min: lo, Max: hi} }

// Exponential is min plus an exponentially distributed time of mean mean,
// capped at max (no cap if max <= min): a long-tailed service time.
func Exponential(min, mean, max sim.Time) Dist {
	return Dist{Kind: DistExponential, Min: min, Mean: mean, Max: max}
}

func (d Dist) validate(what string) error {
	switch d.Kind {
	case DistDefault:
		return nil
	case DistFixed:
		if d.Min < 0 {
			return fmt.Errorf("faultdisk: %s latency %s is negative", what, d.Min)
		}
	case DistUniform:
		if d.Min < 0 || d.Max < d.Min || d.Max-d.Min == math.MaxInt64 {
			return fmt.Errorf("faultdisk: %s latency: uniform [%s, %s] is not a range of non-negative times", what, d.Min, d.Max)
		}
	case DistExponential:
		if d.Min < 0 || d.Mean <= 0 {
			return fmt.Errorf("faultdisk: %s latency: exponential needs min >= 0 and mean > 0", what)
		}
	default:
		return fmt.Errorf("faultdisk: %s latency: unknown distribution kind %d", what, d.Kind)
	}
	return nil
}

// Default configuration values.
const (
	DefaultSectors      = 8 << 20 // 4 GiB
	DefaultQueueDepth   = 128     // BLKDEV_MAX_RQ, nr_requests in 2.6.12
	DefaultReadLatency  = 100 * sim.Microsecond
	DefaultWriteLatency = 100 * sim.Microsecond
	DefaultFlushLatency = 1 * sim.Millisecond
	// Unbounded is the Reorder value that lets any completion overtake any
	// other.
	Unbounded sim.Time = -1
)

// Config describes a Disk. The zero value of every field means its
// default.
type Config struct {
	// Name names the disk in traces ("sda"); its interrupt task is
	// "irq/<name>".
	Name string
	// Sectors is the capacity in 512-byte sectors (default 4 GiB).
	Sectors int64
	// QueueDepth is nr_requests: how many requests of one direction (reads;
	// writes and flushes) may be allocated at once, plugged or in flight,
	// until their completion callback has returned. A submitter that finds
	// its direction full sleeps in get_request_wait. Default 128.
	QueueDepth int
	// Read, Write and Flush are the service-time distributions (defaults:
	// fixed 100us, 100us and 1ms). A FUA write takes Write's time.
	Read, Write, Flush Dist
	// Reorder bounds how much earlier than a request dispatched before it a
	// request may complete: a completion time is raised to at least the
	// latest completion time so far minus Reorder. 0 (the default) means
	// completions come in dispatch order; Unbounded removes the bound.
	// Reordering needs latencies that vary (Uniform, Exponential, or plan
	// latency spikes).
	Reorder sim.Time
	// Plan is the fault plan (nil: no faults).
	Plan *Plan
}

// IO is one request to a Disk: a read, a write (optionally FUA) or a
// flush. (The plan's Request type is what an Injector sees; IO is the
// device request.) The caller fills in the request fields, calls Submit,
// and must not touch the IO until Done runs; after Done returns the disk
// keeps no reference to it, so it may be reused.
type IO struct {
	// Op is OpRead, OpWrite or OpFlush. OpFUAWrite is accepted as OpWrite
	// with FUA set.
	Op Op
	// FUA makes a write durable when it completes (REQ_FUA).
	FUA bool
	// Sector and Count (in 512-byte sectors) locate a read or a write;
	// Count > 0. A flush has Count 0.
	Sector, Count int64
	// Data is a write's payload, exactly Count*512 bytes.
	Data content.Bytes
	// Retry marks a resubmission of a request that failed (see Transient).
	Retry bool
	// Done runs in the disk's interrupt task when the request completes.
	// It may not sleep. It is never called for a request lost to a crash.
	Done func(t *sim.Task, io *IO)
	// Private is for the caller (the bio).
	Private any

	// Results, set before Done runs.

	// Err is the error the request completes with (0 for success).
	Err errno.Errno
	// DoneBytes is how many bytes took effect, from the start: all of them
	// for a successful read or write (a misdirected write included: the
	// device believes it wrote them), fewer after a partial fault, 0 after
	// a failure and for a flush.
	DoneBytes int64
	// ReadData is what a read returns: DoneBytes bytes.
	ReadData content.Bytes
	// Submitted is when Submit got a request slot; Dispatched when the
	// request reached the device (later if the queue was plugged); Completed
	// when the device finished it (the callback runs at that time or
	// later).
	Submitted, Dispatched, Completed sim.Time

	// Set at dispatch.
	when     sim.Time // device completion time
	seq      uint64   // dispatch order
	upTo     uint64   // flush: writes completed up to this completion number are covered
	land     int64    // sector where a write lands (after misdirection)
	landN    int64    // sectors that land or are read
	corrupt  bool     // read: damage [corLo, corHi) of the returned bytes
	corLo    int64
	corHi    int64
	corID    uint64
	dir      uint8
	hideFull bool // misdirected or dropped: report every byte done
	dropped  bool // a Drop rule fired: a flush makes nothing durable
}

// Queue directions, as the kernel's request_list counts them.
const (
	dirRead  = 0
	dirWrite = 1
)

// Stats counts what a Disk did. Requests are counted at submission, bytes
// and errors at completion.
type Stats struct {
	Reads, Writes, FUAWrites, Flushes int64 // requests submitted
	ReadBytes, WriteBytes             int64 // bytes read and written (DoneBytes)
	Completed                         int64 // completion callbacks run
	Errors                            int64 // completions with Err != 0
	Faults                            int64 // plan rules that fired (shadowed ones included)
	Misdirected, Corrupted, Partial   int64 // requests with those effects
	Waits                             int64 // submitters that slept in get_request_wait
	Dropped                           int64 // requests lost to a crash or submitted while powered off
	Crashes                           int64
}

// Disk is a fault-injecting virtual block device. It belongs to one World
// and, like the world, is not safe for concurrent use.
type Disk struct {
	w                  *sim.World
	name               string
	irqName            string
	sectors            int64
	depth              int
	read, write, flush Dist
	reorder            sim.Time
	inj                *Injector
	unfaulted          bool // see Unfaulted
	obj                sim.Obj

	// Power and queue.
	off             bool
	gen             uint32
	plugged         bool
	plug            []*IO
	inUse           [2]int
	congested       [2]bool
	full            [2]*sim.WaitQueue
	congOn, congOff int

	// Requests at the device, ordered by (when, seq), and requests the
	// device finished whose callbacks have not run yet, in completion order.
	pending  ioHeap
	done     []*IO
	doneHead int
	irqTask  *sim.Task  // the running interrupt task, nil if none
	timers   []sim.Time // armed timer times, ascending
	fireFn   func()
	irqFn    func(*sim.Task)
	dispSeq  uint64
	lastWhen sim.Time

	cache cache
	stats Stats
}

// New makes a Disk on w. It returns an error if the configuration or the
// plan is invalid. If the plan is not empty, New draws one value from
// w.Rand() (see NewInjector).
func New(w *sim.World, cfg Config) (*Disk, error) {
	d := &Disk{w: w, name: cfg.Name, sectors: cfg.Sectors, depth: cfg.QueueDepth,
		read: cfg.Read, write: cfg.Write, flush: cfg.Flush, reorder: cfg.Reorder}
	if d.name == "" {
		d.name = "sda"
	}
	if d.sectors == 0 {
		d.sectors = DefaultSectors
	}
	if d.depth == 0 {
		d.depth = DefaultQueueDepth
	}
	switch {
	case d.sectors < 0 || d.sectors > math.MaxInt64/SectorSize:
		return nil, fmt.Errorf("faultdisk: capacity of %d sectors is out of range", d.sectors)
	case d.depth < 0:
		return nil, fmt.Errorf("faultdisk: queue depth %d is negative", d.depth)
	case d.reorder < 0 && d.reorder != Unbounded:
		return nil, fmt.Errorf("faultdisk: reorder window %s is negative (use Unbounded)", d.reorder)
	}
	for _, x := range []struct {
		d    *Dist
		what string
		def  sim.Time
	}{{&d.read, "read", DefaultReadLatency}, {&d.write, "write", DefaultWriteLatency}, {&d.flush, "flush", DefaultFlushLatency}} {
		if err := x.d.validate(x.what); err != nil {
			return nil, err
		}
		if x.d.Kind == DistDefault {
			*x.d = Fixed(x.def)
		}
	}
	if cfg.Plan != nil && len(cfg.Plan.Rules) > 0 {
		inj, err := NewInjector(cfg.Plan, w.Rand(), d.recordFault)
		if err != nil {
			return nil, err
		}
		d.inj = inj
	} else if err := cfg.Plan.validateNil(); err != nil {
		return nil, err
	}
	// The congestion thresholds of blk_queue_congestion_threshold (2.6.12).
	n := d.depth
	d.congOn = min(n-n/8+1, n)
	d.congOff = max(n-n/8-n/16-1, 1)
	d.irqName = "irq/" + d.name
	d.obj = sim.Obj{Class: "disk", Name: d.name}
	d.fireFn = d.fire
	d.irqFn = d.irq
	d.newQueues()
	d.cache.init()
	return d, nil
}

// validateNil validates a plan that may be nil.
func (p *Plan) validateNil() error {
	if p == nil {
		return nil
	}
	return p.Validate()
}

func (d *Disk) newQueues() {
	for i, name := range [2]string{"get_request_wait(read)", "get_request_wait(write)"} {
		d.full[i] = &sim.WaitQueue{Name: name, Obj: sim.Obj{Class: "disk", Name: d.name, A: int64(i)}}
	}
}

// Name is the disk's name.
func (d *Disk) Name() string { return d.name }

// Sectors is the capacity in sectors.
func (d *Disk) Sectors() int64 { return d.sectors }

// Stats returns the counters.
func (d *Disk) Stats() Stats { return d.stats }

// Congested reports whether the write queue is congested
// (bdi_write_congested): it turns on when the write direction holds
// nr_requests - nr_requests/8 + 1 requests and off when it falls below
// nr_requests - nr_requests/8 - nr_requests/16 - 1, as in 2.6.12.
func (d *Disk) Congested() bool { return d.congested[dirWrite] }

// ReadCongested is Congested for the read direction (bdi_read_congested).
func (d *Disk) ReadCongested() bool { return d.congested[dirRead] }

// InFlight is the number of requests that hold a queue slot: plugged, at
// the device, or completed with the callback not yet returned.
func (d *Disk) InFlight() int { return d.inUse[0] + d.inUse[1] }

// Plugged reports whether the queue is plugged.
func (d *Disk) Plugged() bool { return d.plugged }

// PoweredOff reports whether the disk crashed and was not remounted.
func (d *Disk) PoweredOff() bool { return d.off }

// AllocFails asks the plan whether the allocation at site (such as
// "bio_alloc") fails now: an "alloc site S" rule with a Fail action fired.
// Allocation latency rules are ignored. It is not a scheduling point.
func (d *Disk) AllocFails(site string) bool {
	if d.inj == nil || d.unfaulted {
		return false
	}
	return d.inj.Eval(Request{Op: OpAlloc, Site: site, Now: int64(d.w.Now())}).Err != 0
}

// Unfaulted turns the fault plan and the loaded table off (on) or back on
// (off): while it is on, dispatched requests and allocations meet no
// fault and the plan is not asked, so its counters and random draws do
// not move. A scenario runner writes the files a scenario declares as
// already there with it on: they stand for a disk filled before this
// boot, which no fault of the run can have touched. It is not a
// scheduling point.
func (d *Disk) Unfaulted(on bool) { d.unfaulted = on }

// Load loads table t now, replacing the table loaded before: "dmsetup
// load" + "dmsetup resume" between two requests. Requests already
// dispatched keep the faults they got; the next ones meet t. It is not a
// scheduling point.
func (d *Disk) Load(t Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !t.ForDisk() {
		return fmt.Errorf("faultdisk: the table %q is the AFS server's, not a disk's", t)
	}
	if d.inj == nil {
		d.inj, _ = NewInjector(nil, nil, d.recordFault) // an empty plan is valid and draws nothing
	}
	d.inj.Load(t, int64(d.w.Now()))
	return nil
}

func (d *Disk) recordFault(f Fault) {
	d.stats.Faults++
	d.w.Record(sim.KindFault, "fault", sim.Obj{Class: "disk", Name: d.name, A: f.Req.Sector, B: f.Req.Count},
		int64(f.Rule), f.String())
}

// Submit hands io to the disk (the driver end of generic_make_request:
// __make_request). It is a scheduling point. If the request's direction
// already holds QueueDepth requests, the task sleeps until a completion
// frees a slot (get_request_wait), unplugging the queue first as 2.6.12
// does; sleeping in atomic context is a lock failure. While the queue is
// plugged the request waits for Unplug; otherwise it is dispatched at once.
// Faults are decided at dispatch. A request submitted while the disk is
// powered off is dropped: it never completes.
//
// Submit panics on a malformed request (a model bug): unknown op, Count <= 0
// for a read or write, Count != 0 for a flush, a negative sector, a payload
// of the wrong length, or a nil Done. A request past the end of the disk is
// not malformed: it completes with EIO, as generic_make_request fails it.
func (d *Disk) Submit(t *sim.Task, io *IO) {
	dir := d.prepare(io)
	t.Point("__make_request", sim.Obj{Class: "disk", Name: d.name, A: io.Sector, B: io.Count}, int64(injOp(io)))
	if d.off {
		d.stats.Dropped++
		return
	}
	if d.inUse[dir] >= d.depth {
		gen := d.gen
		d.stats.Waits++
		if d.plugged {
			d.unplug()
		}
		d.full[dir].WaitEvent(t, func() bool { return d.gen != gen || d.inUse[dir] < d.depth })
		if d.gen != gen || d.off {
			// The disk lost power while we slept: the machine is gone.
			d.stats.Dropped++
			return
		}
	}
	d.admit(io, dir)
}

// Queue hands io to the disk for a block layer that keeps its own request
// queue (model/block allocates requests and sleeps for them itself, and
// calls its request_fn with the queue lock held). It is not a scheduling
// point and never sleeps: the disk's QueueDepth is not enforced, though
// congestion is still tracked. Otherwise it is Submit.
func (d *Disk) Queue(io *IO) {
	dir := d.prepare(io)
	d.w.Record(sim.KindPoint, "request_fn", sim.Obj{Class: "disk", Name: d.name, A: io.Sector, B: io.Count}, int64(injOp(io)), "")
	if d.off {
		d.stats.Dropped++
		return
	}
	d.admit(io, dir)
}

// prepare validates io, counts it and resets its results.
func (d *Disk) prepare(io *IO) uint8 {
	d.check(io)
	dir := uint8(dirWrite)
	switch {
	case io.Op == OpRead:
		dir = dirRead
		d.stats.Reads++
	case io.Op == OpFlush:
		d.stats.Flushes++
	case io.FUA:
		d.stats.FUAWrites++
	default:
		d.stats.Writes++
	}
	io.dir = dir
	io.Err, io.DoneBytes, io.ReadData = 0, 0, content.Bytes{}
	io.Submitted, io.Dispatched, io.Completed = 0, 0, 0
	return dir
}

// admit takes io into the queue: plugged, or dispatched to the device.
func (d *Disk) admit(io *IO, dir uint8) {
	d.inUse[dir]++
	if d.inUse[dir] >= d.congOn {
		d.congested[dir] = true
	}
	io.Submitted = d.w.Now()
	if d.plugged {
		d.plug = append(d.plug, io)
		return
	}
	d.dispatch(io)
}

func (d *Disk) check(io *IO) {
	if io.Op == OpFUAWrite {
		io.Op, io.FUA = OpWrite, true
	}
	bad := ""
	switch {
	case io.Done == nil:
		bad = "nil Done"
	case io.Op == OpFlush:
		if io.Count != 0 || io.FUA {
			bad = "a flush has Count 0 and no FUA"
		}
	case io.Op != OpRead && io.Op != OpWrite:
		bad = "op " + io.Op.String() + " is not read, write or flush"
	case io.Count <= 0 || io.Sector < 0 || io.Count > math.MaxInt64/SectorSize:
		bad = "sector or count out of range"
	case io.Op == OpWrite && io.Data.Len() != io.Count*SectorSize:
		bad = fmt.Sprintf("payload of %d bytes, want %d", io.Data.Len(), io.Count*SectorSize)
	case io.Op == OpRead && io.FUA:
		bad = "FUA on a read"
	case io.Op == OpWrite && hasMarker(io.Data):
		bad = "payload holds the reserved stamp " + zeroMark.String()
	}
	if bad != "" {
		panic(fmt.Sprintf("faultdisk: Submit %s sectors %d+%d: %s", io.Op, io.Sector, io.Count, bad))
	}
}

// injOp is the plan operation of io.
func injOp(io *IO) Op {
	if io.Op == OpWrite && io.FUA {
		return OpFUAWrite
	}
	return io.Op
}

// Plug plugs the queue (blk_plug_device): requests submitted from now on
// wait in the queue until Unplug. Plugged requests hold queue slots.
func (d *Disk) Plug() {
	if !d.off {
		d.plugged = true
	}
}

// Unplug unplugs the queue (generic_unplug_device) and dispatches the
// plugged requests in submission order. It is a scheduling point.
func (d *Disk) Unplug(t *sim.Task) {
	t.Point("generic_unplug_device", d.obj, int64(len(d.plug)))
	d.unplug()
}

func (d *Disk) unplug() {
	d.plugged = false
	for i, io := range d.plug {
		d.plug[i] = nil
		d.dispatch(io)
	}
	d.plug = d.plug[:0]
}

// dispatch sends io to the device now: the plan decides its faults, the
// latency distribution and the reorder window its completion time.
func (d *Disk) dispatch(io *IO) {
	now := d.w.Now()
	d.catchUp(now)
	io.Dispatched = now
	io.land, io.landN, io.corrupt, io.hideFull, io.dropped = io.Sector, io.Count, false, false, false
	var lat sim.Time
	switch io.Op {
	case OpRead:
		lat = d.draw(&d.read)
	case OpWrite:
		lat = d.draw(&d.write)
	case OpFlush:
		lat = d.draw(&d.flush)
		io.upTo = d.cache.completed
	}
	if io.Op != OpFlush && io.Count > d.sectors-io.Sector {
		// Past the end of the device: handle_bad_sector.
		io.Err, io.landN = errno.EIO, 0
	} else if d.inj != nil && !d.unfaulted {
		eff := d.inj.Eval(Request{Op: injOp(io), Sector: io.Sector, Count: io.Count, Now: int64(now), Retry: io.Retry})
		d.apply(io, &eff)
		lat = sim.Time(end(int64(lat), eff.Latency))
	}
	when := sim.Time(end(int64(now), int64(lat)))
	if d.reorder >= 0 {
		when = max(when, d.lastWhen-d.reorder)
	}
	d.lastWhen = max(d.lastWhen, when)
	io.when = when
	d.dispSeq++
	io.seq = d.dispSeq
	d.pending.push(io)
	if d.irqTask == nil {
		d.arm(when)
	}
}

// apply turns the plan's effect into what the device does with io.
func (d *Disk) apply(io *IO, eff *Effect) {
	io.Err = eff.Err
	if eff.Err != 0 && !eff.Partial {
		io.landN = 0
	}
	if eff.Partial {
		// Sector granularity: a sector is written (or read) whole or not.
		io.landN = min(io.landN, eff.PartialBytes/SectorSize)
		d.stats.Partial++
	}
	if eff.Dropped && eff.Err == 0 {
		// Accepted and lost: the write lands nowhere, the flush reaches
		// no cache, and both report success.
		io.dropped, io.landN, io.hideFull = true, 0, io.Op == OpWrite
	}
	if io.Op == OpWrite && eff.Misdirected && !io.dropped {
		d.stats.Misdirected++
		io.land = eff.MisdirectTo
		io.hideFull = !eff.Partial && eff.Err == 0
	}
	if io.Op == OpRead && eff.Corrupt && io.landN > 0 {
		// Damage a random byte range of what the read returns. Everything
		// is drawn now, at dispatch, so when the completion is processed
		// does not change what the world's random source yields.
		d.stats.Corrupted++
		n := io.landN * SectorSize
		rng := d.w.Rand()
		io.corrupt = true
		io.corLo = rng.Int64N(n)
		io.corHi = io.corLo + 1 + rng.Int64N(n-io.corLo)
		io.corID = uint64(d.w.ID())
	}
}

func (d *Disk) draw(x *Dist) sim.Time {
	switch x.Kind {
	case DistUniform:
		return x.Min + sim.Time(d.w.Rand().Int64N(int64(x.Max-x.Min)+1))
	case DistExponential:
		v := float64(x.Min) + d.w.Rand().ExpFloat64()*float64(x.Mean)
		if x.Max > x.Min && v > float64(x.Max) {
			return x.Max
		}
		if v >= math.MaxInt64/2 {
			return math.MaxInt64 / 2
		}
		return sim.Time(v)
	}
	return x.Min
}

// arm makes sure a timer fires no later than at: the device interrupt for
// the earliest pending request.
func (d *Disk) arm(at sim.Time) {
	if len(d.timers) > 0 && d.timers[0] <= at {
		return
	}
	d.timers = append(d.timers, 0)
	copy(d.timers[1:], d.timers)
	d.timers[0] = at
	d.w.At(at, d.irqName, d.fireFn)
}

// fire is the device's interrupt line: it runs at a timer, in scheduler
// context, and raises the interrupt task if a request is finished.
func (d *Disk) fire() {
	now := d.w.Now()
	i := 0
	for i < len(d.timers) && d.timers[i] <= now {
		i++
	}
	d.timers = d.timers[:copy(d.timers, d.timers[i:])]
	if d.irqTask != nil {
		return
	}
	d.catchUp(now)
	if d.doneHead < len(d.done) {
		d.irqTask = d.w.SpawnIRQ(d.irqName, d.irqFn)
	} else if len(d.pending) > 0 {
		d.arm(d.pending[0].when)
	}
}

// irq is the disk's interrupt handler: one task at a time per disk, as an
// interrupt line is not re-entered. It runs the callbacks of finished
// requests in completion order, freeing each request's slot after its
// callback (freed_request), and takes on requests that finish meanwhile.
func (d *Disk) irq(t *sim.Task) {
	for d.irqTask == t {
		d.catchUp(d.w.Now())
		if d.doneHead == len(d.done) {
			break
		}
		io := d.done[d.doneHead]
		d.done[d.doneHead] = nil
		d.doneHead++
		d.stats.Completed++
		if io.Err != 0 {
			d.stats.Errors++
		}
		if io.Op == OpRead {
			d.stats.ReadBytes += io.DoneBytes
		} else {
			d.stats.WriteBytes += io.DoneBytes
		}
		d.w.Record(sim.KindNote, "disk_complete", sim.Obj{Class: "disk", Name: d.name, A: io.Sector, B: io.Count},
			int64(io.Err), opNames[injOp(io)])
		io.Done(t, io)
		if d.irqTask != t {
			return // the disk crashed during the callback
		}
		d.release(t, io.dir)
	}
	if d.irqTask == t {
		d.irqTask = nil
		d.done, d.doneHead = d.done[:0], 0
		if len(d.pending) > 0 {
			d.arm(d.pending[0].when)
		}
	}
}

// release is freed_request: the slot is free again; wake one submitter
// sleeping for it (a scheduling point, only if someone sleeps).
func (d *Disk) release(t *sim.Task, dir uint8) {
	d.inUse[dir]--
	if d.inUse[dir] < d.congOff {
		d.congested[dir] = false
	}
	if q := d.full[dir]; q.Waiters() > 0 {
		q.WakeUp(t)
	}
}

// catchUp lets the device finish, in (time, dispatch) order, every request
// due by now. It draws nothing and records nothing, so calling it early
// (from an inspection) changes nothing that happens later.
func (d *Disk) catchUp(now sim.Time) {
	for len(d.pending) > 0 && d.pending[0].when <= now {
		io := d.pending.pop()
		d.finish(io)
		if d.doneHead == len(d.done) {
			d.done, d.doneHead = d.done[:0], 0
		}
		d.done = append(d.done, io)
	}
}

// finish is the device side of completion at io.when: a write enters the
// cache (or the medium, with FUA), a flush makes the writes that had
// completed when it was dispatched durable, a read takes its data.
func (d *Disk) finish(io *IO) {
	io.Completed = io.when
	switch io.Op {
	case OpRead:
		if io.landN > 0 {
			data := d.cache.view(io.Sector*SectorSize, io.landN*SectorSize)
			if io.corrupt {
				data = data.Overwrite(io.corLo, content.Fill(io.corHi-io.corLo, content.Corrupt(io.corID), io.corLo))
			}
			io.ReadData = data
			io.DoneBytes = io.landN * SectorSize
		}
	case OpWrite:
		if sector, data, ok := d.landed(io); ok {
			d.cache.completeWrite(d, sector, data, io.FUA, io.when)
		}
		io.DoneBytes = io.landN * SectorSize
		if io.hideFull {
			io.DoneBytes = io.Count * SectorSize
		}
	case OpFlush:
		if io.Err == 0 && !io.dropped {
			d.cache.flushed(d, io.upTo, io.when)
		}
	}
}

// Read returns what a read of [sector, sector+count) would return now,
// through the cache, with no fault, no latency and no trace event: an
// inspection for tests and checkers.
func (d *Disk) Read(sector, count int64) content.Bytes {
	d.catchUp(d.w.Now())
	return d.cache.view(sector*SectorSize, count*SectorSize)
}

// Stable returns the durable contents of [sector, sector+count): what a
// crash that drops every non-durable write leaves there.
func (d *Disk) Stable(sector, count int64) content.Bytes {
	d.catchUp(d.w.Now())
	return d.cache.durable.Read(sector*SectorSize, count*SectorSize)
}

// Durable returns a snapshot of the durable contents: what a crash that
// drops every non-durable write (CrashDropAll) leaves. It is an O(1)
// copy-on-write clone; later writes to the medium copy the tree nodes they
// touch once.
func (d *Disk) Durable() *content.Store {
	d.catchUp(d.w.Now())
	return d.cache.durable.Clone()
}

// ioHeap is a binary min-heap of requests by (when, seq). The keys are kept
// beside the pointers so that sifting does not chase them.
type ioHeap []heapItem

type heapItem struct {
	when sim.Time
	seq  uint64
	io   *IO
}

func (a *heapItem) less(b *heapItem) bool {
	return a.when < b.when || a.when == b.when && a.seq < b.seq
}

func (h *ioHeap) push(io *IO) {
	*h = append(*h, heapItem{io.when, io.seq, io})
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *ioHeap) pop() *IO {
	s := *h
	top := s[0].io
	n := len(s) - 1
	s[0] = s[n]
	s[n] = heapItem{}
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].less(&s[l]) {
			m = r
		}
		if !s[m].less(&s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
