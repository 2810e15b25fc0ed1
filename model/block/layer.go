package block

import (
	"runtime"
	"sync"
	"weak"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// Layer is the block layer's and fs/buffer.c's global state for one
// simulated kernel: the variables that are globals or per-task fields in
// Linux (buffer_heads_over_limit, current->plug, the fault-injection
// hooks), kept per world so that worlds run side by side on the explorer's
// worker goroutines share nothing.
type Layer struct {
	K *mm.Kernel

	// AllocFault, if set, is asked at each allocation site the model
	// declares fallible ("bio_alloc" for BioAlloc, "alloc_buffer_head" for
	// alloc_page_buffers without retry); true makes that allocation fail
	// (return NULL). faultdisk's "alloc site ..." rules are wired here.
	AllocFault func(site string) bool

	// BufferHeadsOverLimit is the knob buffer_heads_over_limit: when set,
	// mpage's writepage strips buffers from the pages it writes
	// (try_to_free_buffers).
	BufferHeadsOverLimit bool

	// plugs is current->plug for every task that has one (3.x).
	plugs map[*sim.Task]*BlkPlug
	// assoc is mapping->private_list for mark_buffer_dirty_inode.
	assoc map[*mm.AddressSpace]*assocList
	// NrBufferHeads counts live buffer heads (bh_accounting.nr).
	NrBufferHeads int64
	bdevIno       uint64

	// OnSubmit, if set, sees every bio submit_bio accepts, after its
	// shape check: the report's explorer lists the bios in flight. It
	// must only read.
	OnSubmit func(bio *Bio)
}

// layers maps a world to its Layer. Both sides are weak: the Layer lives
// as long as the world that observes through it (Init registers an
// observer, so the world holds the Layer), and the entry goes when the
// world is collected. This stands in for per-world storage that sim does
// not offer.
var layers sync.Map // weak.Pointer[sim.World] -> weak.Pointer[Layer]

// LayerOf returns the world's Layer, or nil if Init was never called for
// it.
func LayerOf(w *sim.World) *Layer {
	if v, ok := layers.Load(weak.Make(w)); ok {
		return v.(weak.Pointer[Layer]).Value()
	}
	return nil
}

// Init links the buffer layer into kernel k (mm calls
// __set_page_dirty_buffers, block_invalidatepage and try_to_free_buffers
// through Kernel hooks) and returns the world's Layer, creating it on the
// first call. NewBlockDevice calls it.
func Init(k *mm.Kernel) *Layer {
	w := k.W
	if l := LayerOf(w); l != nil {
		return l
	}
	l := &Layer{K: k, plugs: map[*sim.Task]*BlkPlug{}, assoc: map[*mm.AddressSpace]*assocList{}}
	key := weak.Make(w)
	layers.Store(key, weak.Make(l))
	runtime.AddCleanup(w, func(key weak.Pointer[sim.World]) { layers.Delete(key) }, key)
	w.Observe(l.observe)
	k.SetPageDirtyBuffers = SetPageDirtyBuffers
	k.BlockInvalidatepage = BlockInvalidatepage
	k.TryToFreeBuffers = TryToFreeBuffers
	k.PageHasBuffers = PageHasBuffers
	return l
}

func layerOf(t *sim.Task) *Layer { return LayerOf(t.World()) }

// allocFails asks the fault hook about an allocation at site and records
// the injected fault.
func (l *Layer) allocFails(t *sim.Task, site string, obj sim.Obj) bool {
	if l == nil || l.AllocFault == nil || !l.AllocFault(site) {
		return false
	}
	t.World().Record(sim.KindFault, site, obj, 0, "allocation fails")
	return true
}

// observe is the scheduler hook of 3.x's sched_submit_work(): a task that
// goes to sleep with requests in its plug has them flushed, so that it
// cannot wait for I/O that it holds back itself. blk_schedule_flush_plug
// hands the requests to kblockd (blk_run_queue_async), modelled as a task
// spawned at once. Spinning on a spin lock is not sleeping, so it does not
// flush. Observers must not record events, so the work is deferred to a
// timer at the current time.
func (l *Layer) observe(w *sim.World, ev *sim.Event) {
	if ev.Kind != sim.KindBlock || ev.Op == "spin_lock" {
		return
	}
	t := w.Current()
	if t == nil {
		return
	}
	plug := l.plugs[t]
	if plug == nil || len(plug.list) == 0 {
		return
	}
	list := plug.list
	plug.list = nil
	w.At(w.Now(), "blk_schedule_flush_plug", func() {
		w.Spawn("kblockd", func(kt *sim.Task) {
			kt.Enter("blk_flush_plug_list")
			defer kt.Leave()
			for _, rq := range list {
				rq.bdev.dispatch(kt, rq)
			}
		})
	})
}
