package faultdisk

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// This file holds the volatile write cache, flush, crash and remount.
//
// The medium is a content.Store, durable. Writes that completed but are not
// durable yet are kept, in completion order, as entries: each one on its own,
// so that a crash can keep any subset of them (as dm-log-writes replays
// allow). A FUA write goes to the medium at once; it is also kept as an
// entry if older non-durable writes exist, so that a later flush or crash
// that applies those older writes in order applies it again after them.
//
// Reads must see the newest completed data. The overlay is an index of it,
// built lazily when a read needs it: a Store holding the newest data of every
// entry, where zero bytes (which a Store does not keep) are written as the
// reserved stamp zeroMark. A write therefore costs one append, and the
// Store work happens once per write at flush (to the medium) and, if a read
// comes before the flush, once more in the overlay.

// zeroMark marks zero bytes in the overlay. Payloads may not contain it.
var zeroMark = content.Corrupt(1<<63 - 1)

func hasMarker(b content.Bytes) bool {
	for r := range b.Runs() {
		if r.Stamp == zeroMark {
			return true
		}
	}
	return false
}

// entry is one non-durable write (or a FUA write after one), as it landed.
type entry struct {
	off  int64 // byte offset on the disk
	data content.Bytes
	seq  uint64 // completion number
	fua  bool
}

type cache struct {
	durable   *content.Store
	entries   entryList // in completion order
	completed uint64    // writes completed so far, FUA included
	overlay   *content.Store
	indexed   int // entries[:indexed] are in the overlay
	ovWrites  int // entries written to the overlay since it was last emptied
}

func (c *cache) init() {
	c.durable = new(content.Store)
	c.overlay = new(content.Store)
}

// completeWrite records a write that the device finished at time when.
func (c *cache) completeWrite(d *Disk, sector int64, data content.Bytes, fua bool, when sim.Time) {
	c.completed++
	off := sector * SectorSize
	if fua {
		c.durable.Write(off, data)
		d.rewritten(off, data.Len(), when)
		if c.entries.n == 0 {
			return // nothing older to order against
		}
	}
	c.entries.push(entry{off: off, data: data, seq: c.completed, fua: fua})
}

func (d *Disk) rewritten(off, n int64, when sim.Time) {
	if d.inj != nil {
		d.inj.Rewritten(off/SectorSize, n/SectorSize, int64(when))
	}
}

// flushed makes durable, at time when, every write whose completion number
// is at most upTo: the writes that had completed when the flush was
// dispatched.
func (c *cache) flushed(d *Disk, upTo uint64, when sim.Time) {
	l := &c.entries
	k := sort.Search(l.n, func(i int) bool { return l.at(i).seq > upTo })
	if k == 0 {
		return
	}
	for i := range k {
		e := l.at(i)
		c.durable.Write(e.off, e.data)
		if !e.fua {
			d.rewritten(e.off, e.data.Len(), when)
		}
	}
	// FUA writes newer than the flushed ones were on the medium already;
	// write them again so that the older data just written does not win.
	for i := k; i < l.n; i++ {
		if e := l.at(i); e.fua {
			c.durable.Write(e.off, e.data)
		}
	}
	// A FUA entry with nothing older before it is only on the medium.
	for k < l.n && l.at(k).fua {
		k++
	}
	c.drop(k)
}

// entryList is a queue of entries in chunks, so that a cache of a million
// writes neither copies itself as it grows nor when its head is flushed.
type entryList struct {
	chunks []*[chunkLen]entry
	head   int // index of the first entry in chunks[0]
	n      int
	spare  *[chunkLen]entry // one emptied chunk kept for reuse
}

const chunkLen = 256

func (l *entryList) at(i int) *entry {
	i += l.head
	return &l.chunks[i/chunkLen][i%chunkLen]
}

func (l *entryList) push(e entry) {
	i := l.head + l.n
	if i/chunkLen == len(l.chunks) {
		c := l.spare
		if c == nil {
			c = new([chunkLen]entry)
		}
		l.spare = nil
		l.chunks = append(l.chunks, c)
	}
	l.chunks[i/chunkLen][i%chunkLen] = e
	l.n++
}

// dropFront removes the first k entries.
func (l *entryList) dropFront(k int) {
	for k > 0 {
		c := l.chunks[0]
		m := min(k, chunkLen-l.head, l.n)
		clear(c[l.head : l.head+m])
		l.head += m
		l.n -= m
		k -= m
		if l.head == chunkLen || l.n == 0 {
			l.spare = c
			l.chunks[0] = nil
			l.chunks = l.chunks[1:]
			l.head = 0
		}
	}
	if l.n == 0 {
		l.chunks = l.chunks[:0]
	}
}

// drop forgets the first k entries, which are on the medium now.
func (c *cache) drop(k int) {
	c.entries.dropFront(k)
	if c.entries.n == 0 || c.indexed < k {
		// The overlay may hold data older than what a dropped entry, never
		// indexed, put on the medium: rebuild it from the entries left.
		c.resetOverlay()
		return
	}
	c.indexed -= k
}

func (c *cache) resetOverlay() {
	c.overlay.Truncate(0)
	c.indexed, c.ovWrites = 0, 0
}

// index brings the overlay up to date with the entries. The overlay may
// also hold data of entries already dropped (on the medium), as long as they
// were indexed before they were dropped: for each sector it holds the
// newest data of the indexed entries, which the medium holds too unless a
// later entry, still in the cache, overwrites it. It is emptied when it
// holds much more than the entries.
func (c *cache) index() {
	l := &c.entries
	if c.ovWrites > 4*l.n+1024 {
		c.resetOverlay()
	}
	for i := c.indexed; i < l.n; i++ {
		e := l.at(i)
		c.overlay.Write(e.off, e.data)
		for r := range e.data.Runs() {
			if r.Stamp == content.Zero {
				at := e.off + r.Off
				c.overlay.Write(at, content.Fill(r.Len, zeroMark, at))
			}
		}
		c.ovWrites++
	}
	c.indexed = l.n
}

// view returns bytes [off, off+n) as a read sees them: the newest completed
// data.
func (c *cache) view(off, n int64) content.Bytes {
	base := c.durable.Read(off, n)
	if c.entries.n == 0 {
		return base
	}
	c.index()
	ov := c.overlay.Read(off, n)
	for r := range ov.Runs() {
		switch r.Stamp {
		case content.Zero:
		case zeroMark:
			base = base.Overwrite(r.Off, content.Zeros(r.Len))
		default:
			base = base.Overwrite(r.Off, content.Fill(r.Len, r.Stamp, r.Src))
		}
	}
	return base
}

// CrashMode says which non-durable writes survive a power loss.
type CrashMode uint8

// Crash modes. The non-durable writes are the writes in the volatile cache
// (completed, not yet flushed, not FUA) and, for CrashKeepRandom and
// CrashTear, also the writes in flight at the device (dispatched, not yet
// completed), which the device may have written before it lost power.
const (
	// CrashDropAll loses every non-durable write: the worst case of a
	// volatile cache, and what Durable returns.
	CrashDropAll CrashMode = iota
	// CrashKeepAll keeps every completed write, as if the cache were
	// battery-backed; in-flight writes are lost.
	CrashKeepAll
	// CrashKeepRandom keeps each non-durable write whole or loses it whole,
	// each on its own with probability 1/2 (dm-log-writes replays).
	CrashKeepRandom
	// CrashTear loses, keeps or tears each non-durable write (probability
	// 1/3 each); a torn write keeps each of its sectors on its own with
	// probability 1/2 (LazyFS torn writes). Sectors are never torn.
	CrashTear
	numCrashModes
)

var crashModeNames = [numCrashModes]string{"drop-all", "keep-all", "keep-random", "tear"}

func (m CrashMode) String() string {
	if m < numCrashModes {
		return crashModeNames[m]
	}
	return fmt.Sprintf("crash-mode(%d)", uint8(m))
}

// Crash is a power loss at the current time. What stays on the medium is
// the durable data plus the non-durable writes that mode keeps, drawn from
// the world's random source (World.Rand); kept writes count as rewritten for
// latent errors. The cache is emptied, and every request not yet completed
// through its callback (plugged, at the device, or finished by the device
// with the callback pending) is lost: its callback never runs. Tasks asleep
// in Submit stay asleep, and a callback already running finishes. The disk is
// then powered off: it drops whatever is submitted until Remount. Crash on a
// powered-off disk does nothing.
func (d *Disk) Crash(mode CrashMode) {
	if mode >= numCrashModes {
		panic(fmt.Sprintf("faultdisk: Crash(%v)", mode))
	}
	if d.off {
		return
	}
	now := d.w.Now()
	d.catchUp(now)
	d.w.Record(sim.KindFault, "power_loss", d.obj, int64(mode), crashModeNames[mode])
	d.crashInto(d.cache.durable, mode, d.w.Rand(), now, true)

	d.stats.Crashes++
	d.stats.Dropped += int64(len(d.pending) + len(d.done) - d.doneHead + len(d.plug))
	clear(d.pending)
	d.pending = d.pending[:0]
	clear(d.done)
	d.done, d.doneHead = d.done[:0], 0
	clear(d.plug)
	d.plug, d.plugged = d.plug[:0], false
	d.inUse, d.congested = [2]int{}, [2]bool{}
	d.newQueues() // sleepers on the old queues are never woken
	d.gen++
	d.irqTask = nil
	d.timers = d.timers[:0] // armed timers still fire, and find nothing to do
	d.lastWhen = 0
	d.cache.entries.dropFront(d.cache.entries.n)
	d.cache.resetOverlay()
	d.off = true
}

// Remount powers the disk on again after a crash: the medium is what the
// crash left, the cache and the queue are empty, and the plan's state
// (counters, latent errors) carries on. It panics if the disk did not crash.
func (d *Disk) Remount() {
	if !d.off {
		panic("faultdisk: Remount of a disk that is powered on")
	}
	d.off = false
	d.w.Record(sim.KindNote, "disk_remount", d.obj, 0, "")
}

// CrashImage returns what the medium would hold after Crash(mode) now,
// without changing the disk: checkers can look at many crash points of one
// run. Choices are drawn from rng (nil: the world's random source).
func (d *Disk) CrashImage(mode CrashMode, rng *rand.Rand) *content.Store {
	if mode >= numCrashModes {
		panic(fmt.Sprintf("faultdisk: CrashImage(%v)", mode))
	}
	if rng == nil {
		rng = d.w.Rand()
	}
	now := d.w.Now()
	d.catchUp(now)
	img := d.cache.durable.Clone()
	if !d.off {
		d.crashInto(img, mode, rng, now, false)
	}
	return img
}

// landed returns where a write's data lands and what of it: after
// misdirection, a partial fault, and the end of the disk.
func (d *Disk) landed(io *IO) (sector int64, data content.Bytes, ok bool) {
	n := io.landN
	if io.land >= d.sectors {
		return 0, content.Bytes{}, false
	}
	n = min(n, d.sectors-io.land)
	if n <= 0 {
		return 0, content.Bytes{}, false
	}
	data = io.Data
	if n != io.Count {
		data = data.Slice(0, n*SectorSize)
	}
	return io.land, data, true
}

// inFlightWrites returns the writes at the device, in dispatch order, as
// they would land.
func (d *Disk) inFlightWrites() []entry {
	var ios []*IO
	for _, it := range d.pending {
		if it.io.Op == OpWrite {
			ios = append(ios, it.io)
		}
	}
	slices.SortFunc(ios, func(a, b *IO) int { return cmp.Compare(a.seq, b.seq) })
	var out []entry
	for _, io := range ios {
		if s, data, ok := d.landed(io); ok {
			out = append(out, entry{off: s * SectorSize, data: data, fua: io.FUA})
		}
	}
	return out
}

// crashInto applies to img, which holds the durable data, the non-durable
// writes that mode keeps. With heal, kept writes count as rewritten.
func (d *Disk) crashInto(img *content.Store, mode CrashMode, rng *rand.Rand, now sim.Time, heal bool) {
	c := &d.cache
	put := func(off int64, data content.Bytes) {
		img.Write(off, data)
		if heal {
			d.rewritten(off, data.Len(), now)
		}
	}
	switch mode {
	case CrashDropAll:
		return // the FUA entries are on the medium already
	case CrashKeepAll:
		for i := range c.entries.n {
			e := c.entries.at(i)
			put(e.off, e.data)
		}
		return
	}
	choose := func(e entry) {
		if mode == CrashKeepRandom {
			if rng.IntN(2) == 1 {
				put(e.off, e.data)
			}
			return
		}
		switch rng.IntN(3) {
		case 0: // lost
		case 1:
			put(e.off, e.data)
		default:
			// Torn: each sector on its own; write maximal runs of kept ones.
			n := e.data.Len() / SectorSize
			run := int64(-1)
			for s := int64(0); s <= n; s++ {
				keep := s < n && rng.IntN(2) == 1
				switch {
				case keep && run < 0:
					run = s
				case !keep && run >= 0:
					put(e.off+run*SectorSize, e.data.Slice(run*SectorSize, (s-run)*SectorSize))
					run = -1
				}
			}
		}
	}
	for i := range c.entries.n {
		e := *c.entries.at(i)
		if e.fua {
			img.Write(e.off, e.data) // durable; written again to keep the order
			continue
		}
		choose(e)
	}
	for _, e := range d.inFlightWrites() {
		choose(e)
	}
}
