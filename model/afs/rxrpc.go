package afs

import (
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// RPC calls to the file server: fs/afs/rxrpc.c, Linux 3.0 (read from a
// 3.0.x tree; afs_make_call, afs_send_pages, afs_deliver_to_call and
// afs_wait_for_call_to_complete are the same from 2.6.30 to 3.0).
//
// The era's synchronous call (afs_sync_call) works like this, and the
// model keeps its order of events: the caller sends the request
// (afs_make_call, with afs_send_pages copying the pages' bytes into the
// packets) and sleeps in afs_wait_for_call_to_complete. When the reply
// arrives, rxrpc's afs_rx_interceptor, in softirq context, queues it on
// call->rx_queue and wakes the caller (afs_wake_up_call_waiter). The
// *caller* then runs afs_deliver_to_call, which runs the call type's
// ->deliver: for FS.StoreData that is afs_deliver_fs_store_data, which
// calls afs_pages_written_back. So the completion of a store (ending
// writeback, dropping the records' usage) runs in the task that issued
// it, after it wakes, still holding whatever it held: for
// afs_writepages_region, the primary page's lock. (The brief for this
// package expected a separate reply task to run afs_pages_written_back;
// the 2.6.35-3.0 source runs it in the waiter, and so does the model.)
//
// Simplified: no rxrpc connection, window or retransmission; a request is
// one packet train sent at once; a failing call completes with the plan's
// errno (see Server).

// Call states, enum afs_call_state (fs/afs/internal.h).
const (
	AFS_CALL_REQUESTING = iota
	AFS_CALL_AWAIT_REPLY
	AFS_CALL_AWAIT_OP_ID
	AFS_CALL_AWAIT_REQUEST
	AFS_CALL_REPLYING
	AFS_CALL_AWAIT_ACK
	AFS_CALL_COMPLETE
	AFS_CALL_BUSY
	AFS_CALL_ABORTED
	AFS_CALL_ERROR
)

// skb marks (include/rxrpc/packet.h's RXRPC_SKB_MARK_*), the ones used.
const (
	rxrpcSkbMarkData = iota + 1
	rxrpcSkbMarkRemoteAbort
)

type afsCallType struct {
	name    string
	deliver func(t *sim.Task, call *afsCall, skb *skb, last bool) int
}

// skb is one received message: the reply data or an abort.
type skb struct {
	mark        int
	err         errno.Errno
	data        content.Bytes
	dataVersion uint64
	// size is the file's length in the reply's status (a store's reply:
	// after the store).
	size int64
}

// afsCall is struct afs_call, the fields the two calls use.
type afsCall struct {
	typ     *afsCallType
	state   int
	error   int
	rx      []*skb
	latency sim.Time // until the reply arrives

	key   *Key
	reply *Vnode // call->reply

	// FS.StoreData
	wb                  *Writeback
	mapping             *mm.AddressSpace
	first, last         uint64
	firstOffset, lastTo uint
	sendPages           bool
	storeVersion        uint64
	// storeDataOp is call->operation_ID == FSSTOREDATA, which
	// afs_deliver_fs_store_status tests (afs_fs_setattr_size sets it).
	storeDataOp bool

	// FS.FetchData
	page *mm.Page // call->reply3
	req  request
}

// afsMakeCall is afs_make_call(addr, call, gfp, wait_mode) with the
// synchronous wait mode: send the request (and the pages), have the server
// take it, then wait for the reply.
func afsMakeCall(t *sim.Task, server *Server, call *afsCall) int {
	keyUse(t, call.key, "afs_make_call")
	if !call.sendPages {
		call.state = AFS_CALL_AWAIT_REPLY
	}
	if call.sendPages {
		if ret := afsSendPages(t, call); ret < 0 {
			return ret
		}
	}
	afsTransmit(t, server, call)
	// at this point, an async call may no longer exist as it may have
	// already completed
	return afsWaitForCallToComplete(t, call)
}

// afsSendPages is afs_send_pages(call, msg, iov), fs/afs/rxrpc.c: walk the
// pages [first, last] eight at a time with find_get_pages_contig (which
// must find them all: ASSERTCMP(n, ==, count)), send each page's bytes —
// [first_offset, PAGE_SIZE) of the first, [0, last_to) of the last — and
// drop the lookup references.
func afsSendPages(t *sim.Task, call *afsCall) int {
	var pages [8]*mm.Page
	first, last := call.first, call.last
	offset := call.firstOffset
	call.firstOffset = 0
	var data content.Bytes
	for {
		count := last - first + 1
		if count > uint64(len(pages)) {
			count = uint64(len(pages))
		}
		n := mm.FindGetPagesContig(t, call.mapping, first, int(count), pages[:])
		if uint64(n) != count {
			t.BUG(call.mapping.Obj(), "AFS: Assertion failed in afs_send_pages: n == count (%d == %d): "+
				"a page of the store vanished from the page cache", n, count)
		}
		for loop := uint64(0); loop < count; loop++ {
			to := uint(mm.PageSize)
			if first+loop >= last {
				to = call.lastTo
			}
			if to > offset {
				data = data.Append(mm.PageData(pages[loop], int64(offset), int64(to-offset)))
			}
			offset = 0
			// have to change the state *before* sending the last packet
			if first+loop >= last {
				call.state = AFS_CALL_AWAIT_REPLY
			}
		}
		first += count
		for loop := uint64(0); loop < count; loop++ {
			mm.PutPage(t, pages[loop])
		}
		if first > last {
			break
		}
	}
	call.req.data = data
	return 0
}

// afsTransmit hands the request to the server and arms the reply: after
// the service time the reply reaches the client (afs_rx_interceptor
// queues it on call->rx_queue, in softirq context) and the caller, asleep
// in afs_wait_for_call_to_complete, is woken.
//
// Simplified for speed: the interceptor is a timer callback rather than an
// interrupt task (it takes no lock and only queues), and the caller's sleep
// is a timed sleep that ends just after the reply is queued rather than a
// wait on call->waitq woken by afs_wake_up_call_waiter: the interleavings
// are the same (the caller can run again only once the reply is there),
// but a signal cannot interrupt the wait, so the -EINTR path of the
// interruptible sleep is not reachable.
func afsTransmit(t *sim.Task, server *Server, call *afsCall) {
	r := &call.req
	call.latency = server.arrive(r)
	t.World().After(call.latency, "afs_rx_interceptor", func() {
		s := &skb{mark: rxrpcSkbMarkData}
		switch r.op {
		case faultdisk.OpStore:
			err, dv := server.store(r)
			s.dataVersion = dv
			if f := server.File(r.file); f != nil {
				s.size = f.Data.Size()
			}
			if err != 0 {
				s.mark, s.err = rxrpcSkbMarkRemoteAbort, err
			}
		case faultdisk.OpFetch:
			data, err, dv := server.fetch(r)
			s.data, s.dataVersion = data, dv
			if err != 0 {
				s.mark, s.err = rxrpcSkbMarkRemoteAbort, err
			}
		}
		// route the message directly to the appropriate call
		call.rx = append(call.rx, s)
	})
}

// afsWaitForCallToComplete is afs_wait_for_call_to_complete(call): deliver
// what has arrived, else sleep until the reply is there; a pending signal
// ends the wait with -EINTR (the call is aborted and a late reply
// ignored).
func afsWaitForCallToComplete(t *sim.Task, call *afsCall) int {
	var ret int
	for {
		// deliver any messages that are in the queue
		if len(call.rx) > 0 {
			afsDeliverToCall(t, call)
			continue
		}
		ret = call.error
		if call.state >= AFS_CALL_COMPLETE {
			break
		}
		ret = errno.EINTR.Neg()
		if t.SignalPending() {
			break
		}
		t.Sleep(call.latency) // schedule(), until the reply is queued
	}
	// kill the call
	if call.state < AFS_CALL_COMPLETE {
		call.rx = nil
		call.state = AFS_CALL_ABORTED
	}
	return ret
}

// afsDeliverToCall is afs_deliver_to_call(call): hand each queued message
// to the call type's ->deliver, or record an abort's error.
func afsDeliverToCall(t *sim.Task, call *afsCall) {
	for (call.state == AFS_CALL_AWAIT_REPLY || call.state == AFS_CALL_AWAIT_OP_ID ||
		call.state == AFS_CALL_AWAIT_REQUEST || call.state == AFS_CALL_AWAIT_ACK) && len(call.rx) > 0 {
		s := call.rx[0]
		call.rx = call.rx[1:]
		switch s.mark {
		case rxrpcSkbMarkData:
			ret := call.typ.deliver(t, call, s, true)
			switch ret {
			case 0:
				if call.state == AFS_CALL_AWAIT_REPLY {
					call.state = AFS_CALL_COMPLETE
				}
			default:
				call.error = ret
				call.state = AFS_CALL_ERROR
			}
		case rxrpcSkbMarkRemoteAbort:
			call.error = s.err.Neg()
			call.state = AFS_CALL_ABORTED
		}
	}
	if call.state >= AFS_CALL_COMPLETE {
		call.rx = nil
	}
}
