package afs

import (
	"fmt"
	"slices"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Server is the simulated AFS file server of the volume: files by id with
// symbolic contents, write permissions by key name, a service latency on
// the simulated clock, and faults from a faultdisk plan (operations store
// and fetch, conditions file, bytes, key, time, ...; any errno).
//
// A request is judged when it arrives (faults are drawn from the plan with
// the arrival time) and carried out when its reply leaves, Latency (plus
// any latency the plan adds) later: a StoreData's bytes reach the file at
// that moment, and only if the request succeeds (or partly, for a plan's
// "partial" action). A reply the client no longer waits for (a signal
// aborted the call) does not undo the store: the server did it.
//
// What a failing request looks like to the client is simplified: the call
// completes with the plan's errno, as if the server's abort code had gone
// through afs_abort_to_error (fs/afs/misc.c) or rxrpc had reported a
// network error; the abort-code table itself is not modelled.
type Server struct {
	// StoreLatency and FetchLatency are the service times of FS.StoreData
	// and FS.FetchData.
	StoreLatency, FetchLatency sim.Time
	// NoShapeCheck turns the rpc-shape check (InvRPCShape) off.
	NoShapeCheck bool

	w      *sim.World
	inj    *faultdisk.Injector
	files  map[uint64]*ServerFile
	ids    []uint64 // file ids in creation order
	log    []Op
	faults []faultdisk.Fault
	nextC  uint64
	// failNext are one-shot store errors armed by FailNextStore.
	failNext []errno.Errno
}

// ServerFile is one file on the server.
type ServerFile struct {
	ID          uint64
	Data        *content.Store
	DataVersion uint64
	// Writers are the names of the keys allowed to store to the file; a
	// store with any other key fails with EACCES. Readers, if not empty,
	// limit fetches the same way.
	Writers, Readers []string
	// Deleted makes every request on the file fail with ENOENT (the file
	// was removed by another client).
	Deleted bool
}

// Op records one request the server answered, for tests and traces.
type Op struct {
	Op       faultdisk.Op
	File     uint64
	Key      string
	Off, Len int64
	Err      errno.Errno
	Arrived  sim.Time
	Done     sim.Time
	Stored   int64 // bytes that reached the file (a store)
}

func (o Op) String() string {
	s := fmt.Sprintf("%s file %d bytes %d+%d key %s", o.Op, o.File, o.Off, o.Len, o.Key)
	if o.Err != 0 {
		s += ": " + o.Err.String()
	}
	return s
}

// Default service times.
const (
	DefaultStoreLatency = 2 * sim.Millisecond
	DefaultFetchLatency = 1 * sim.Millisecond
)

// NewServer makes a server for world w that injects the faults of plan
// (nil for none). Faults are recorded in the trace as KindFault events.
func NewServer(w *sim.World, plan *faultdisk.Plan) (*Server, error) {
	s := &Server{StoreLatency: DefaultStoreLatency, FetchLatency: DefaultFetchLatency, w: w,
		files: make(map[uint64]*ServerFile)}
	inj, err := faultdisk.NewInjector(plan, w.Rand(), func(f faultdisk.Fault) {
		s.faults = append(s.faults, f)
		w.Record(sim.KindFault, f.Action.String(), sim.Obj{Class: "afs_file", A: int64(f.Req.File)}, f.Req.Off, "")
	})
	if err != nil {
		return nil, err
	}
	s.inj = inj
	return s, nil
}

// AddFile creates file id (at least 1) with empty contents, writable by
// the named keys.
func (s *Server) AddFile(id uint64, writers ...string) *ServerFile {
	if id == 0 {
		panic("afs: server file ids start at 1 (faultdisk's file 0 means any file)")
	}
	f := &ServerFile{ID: id, Data: &content.Store{}, Writers: writers}
	if _, ok := s.files[id]; !ok {
		s.ids = append(s.ids, id)
	}
	s.files[id] = f
	return f
}

// File returns file id, or nil.
func (s *Server) File(id uint64) *ServerFile { return s.files[id] }

// Files lists the file ids in creation order.
func (s *Server) Files() []uint64 { return slices.Clone(s.ids) }

// Log lists the requests answered so far, in completion order. The slice
// is the server's own, capped so that an append copies it: callers must
// not change its elements. A scenario's observer reads it after every
// store, so a copy each time would cost more than the store.
func (s *Server) Log() []Op { return s.log[:len(s.log):len(s.log)] }

// Faults lists the faults injected so far.
func (s *Server) Faults() []faultdisk.Fault { return slices.Clone(s.faults) }

// Grant lets key write file id.
func (s *Server) Grant(id uint64, key string) {
	if f := s.files[id]; f != nil && !slices.Contains(f.Writers, key) {
		f.Writers = append(f.Writers, key)
	}
}

// Revoke takes key's write permission on file id away.
func (s *Server) Revoke(id uint64, key string) {
	if f := s.files[id]; f != nil {
		f.Writers = slices.DeleteFunc(f.Writers, func(k string) bool { return k == key })
	}
}

// Load loads fault table t now (faultdisk.Table: "ok" or "fail OPS
// ERRNO"), replacing the one loaded before: the requests that arrive from
// now on meet it, after the plan's rules. It is not a scheduling point.
func (s *Server) Load(t faultdisk.Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !t.ForServer() {
		return fmt.Errorf("afs: the table %q is a disk's, not the server's", t)
	}
	s.inj.Load(t, int64(s.w.Now()))
	return nil
}

// FailNextStore makes the next FS.StoreData fail with e, whatever the
// plan says: a one-shot fault armed from a test's driver task, for faults
// that depend on the state a stateful test reached.
func (s *Server) FailNextStore(e errno.Errno) { s.failNext = append(s.failNext, e) }

// request is one FS.StoreData or FS.FetchData in flight.
type request struct {
	op       faultdisk.Op
	file     uint64
	key      string
	off, len int64
	data     content.Bytes // store: the bytes sent
	iSize    int64         // store: the new file length sent
	op64     bool          // FS.StoreData64 (else FS.StoreData)
	sent     *intent       // what the client meant it to carry (rpc-shape)
	eff      faultdisk.Effect
	arrived  sim.Time
}

// arrive judges a request as it reaches the server and returns when its
// reply will leave.
func (s *Server) arrive(r *request) sim.Time {
	r.arrived = s.w.Now()
	s.checkShape(r)
	r.eff = s.inj.Eval(faultdisk.Request{Op: r.op, File: r.file, Off: r.off, Len: r.len, Key: r.key,
		Now: int64(r.arrived)})
	if r.op == faultdisk.OpStore && len(s.failNext) > 0 && r.eff.Err == 0 {
		r.eff.Err = s.failNext[0]
		s.failNext = s.failNext[1:]
		s.w.Record(sim.KindFault, "fail "+r.eff.Err.String(), sim.Obj{Class: "afs_file", A: int64(r.file)}, r.off, "armed")
	}
	lat := s.StoreLatency
	if r.op == faultdisk.OpFetch {
		lat = s.FetchLatency
	}
	return lat + sim.Time(r.eff.Latency)
}

func (s *Server) check(r *request) errno.Errno {
	f := s.files[r.file]
	switch {
	case f == nil || f.Deleted:
		return errno.ENOENT
	case r.op == faultdisk.OpStore && !slices.Contains(f.Writers, r.key):
		return errno.EACCES
	case r.op == faultdisk.OpFetch && len(f.Readers) > 0 && !slices.Contains(f.Readers, r.key):
		return errno.EACCES
	}
	return 0
}

// store carries out a StoreData: the plan's error first (after a partial
// transfer, if the plan says so), then the file's existence and the key's
// permission; then the bytes and the new length (FS.StoreData's
// FileLength) reach the file and its data version goes up.
func (s *Server) store(r *request) (errno.Errno, uint64) {
	op := Op{Op: r.op, File: r.file, Key: r.key, Off: r.off, Len: r.len, Arrived: r.arrived, Done: s.w.Now()}
	err := r.eff.Err
	if err == 0 || r.eff.Partial {
		if r.len != r.data.Len() {
			// The request's length is not what follows it: the server
			// reads short (or finds more) and aborts the call. Abort codes
			// are not modelled: the client sees afs_abort_to_error's
			// default, -EREMOTEIO.
			err = errno.EREMOTEIO
		} else if e := s.check(r); e != 0 {
			err = e
		} else {
			f := s.files[r.file]
			n := r.len
			if r.eff.Partial {
				n = min(n, r.eff.PartialBytes)
			}
			if n > 0 {
				f.Data.Write(r.off, r.data.Slice(0, n))
			}
			op.Stored = n
			if !r.eff.Partial && err == 0 && r.iSize != f.Data.Size() {
				f.Data.Truncate(r.iSize)
			}
			f.DataVersion++
		}
	}
	op.Err = err
	s.log = append(s.log, op)
	var dv uint64
	if f := s.files[r.file]; f != nil {
		dv = f.DataVersion
	}
	return err, dv
}

// fetch carries out a FetchData: up to len bytes from off, as many as the
// file has; a plan's corrupt action returns corrupt bytes instead.
func (s *Server) fetch(r *request) (content.Bytes, errno.Errno, uint64) {
	op := Op{Op: r.op, File: r.file, Key: r.key, Off: r.off, Len: r.len, Arrived: r.arrived, Done: s.w.Now()}
	err := r.eff.Err
	var data content.Bytes
	var dv uint64
	if err == 0 {
		err = s.check(r)
	}
	if err == 0 {
		f := s.files[r.file]
		dv = f.DataVersion
		n := max(0, min(r.len, f.Data.Size()-r.off))
		if r.eff.Partial {
			n = min(n, r.eff.PartialBytes)
		}
		data = f.Data.Read(r.off, n)
		if r.eff.Corrupt {
			s.nextC++
			data = content.Fill(n, content.Corrupt(s.nextC), 0)
		}
	}
	op.Err = err
	s.log = append(s.log, op)
	return data, err, dv
}
