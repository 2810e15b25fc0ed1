package afs

import (
	"fmt"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// Checks at quiescent points: when no task is inside the AFS or mm code
// (between the commands of a stateful test, and at the end of a run).
// Inside a function the counts legitimately disagree for a moment
// (afs_write_begin links a new record before it sets page->private), so
// the checks here are not for every step.
//
// CheckRecords is the wb-record invariant. CheckPages is page-ref and
// page-state at quiescence over the vnodes' page caches (every page holds
// exactly the page cache's reference, none is locked or under writeback),
// the AFS counterpart of mm's Kernel.CheckQuiescent. Both stay here rather
// than in check/: this package's own tests use them, and a model package
// does not import check/ (imports point down, ARCHITECTURE.md); the
// scenario runner raises them through Fail.

// Violation is one broken invariant.
type Violation struct {
	Invariant string
	Obj       sim.Obj
	Msg       string
}

func (v Violation) String() string { return fmt.Sprintf("[%s] %s: %s", v.Invariant, v.Obj, v.Msg) }

// Records lists every record allocated so far (freed ones included), in
// allocation order.
func (fs *FS) Records() []*Writeback { return append([]*Writeback(nil), fs.records...) }

// LiveRecords lists the records not yet freed, in allocation order.
func (fs *FS) LiveRecords() []*Writeback {
	var live []*Writeback
	for _, wb := range fs.records {
		if !wb.freed {
			live = append(live, wb)
		}
	}
	return live
}

// Vnodes lists the vnodes, in creation order.
func (fs *FS) Vnodes() []*Vnode { return append([]*Vnode(nil), fs.vnodes...) }

// Keys lists the keys, in creation order.
func (fs *FS) Keys() []*Key { return append([]*Key(nil), fs.keys...) }

// ListRecords walks vnode->writebacks and returns its records in order, or
// an error if a link is NULL, poisoned, or its back pointer disagrees.
func (v *Vnode) ListRecords() ([]*Writeback, error) {
	var out []*Writeback
	head := &v.Writebacks
	prev := head
	for pos, n := head.next, 0; pos != head; pos, n = pos.next, n+1 {
		if pos == nil || pos.poison != 0 {
			return out, fmt.Errorf("vnode %d: writebacks list reaches a %s after %d entries", v.Fid.Vnode, ptrName(pos), n)
		}
		if pos.prev != prev {
			return out, fmt.Errorf("vnode %d: writebacks list entry %d has a wrong prev pointer", v.Fid.Vnode, n)
		}
		if pos.wb == nil {
			return out, fmt.Errorf("vnode %d: writebacks list entry %d is not a record's link", v.Fid.Vnode, n)
		}
		if n > len(v.fs.records) {
			return out, fmt.Errorf("vnode %d: writebacks list does not end (a cycle)", v.Fid.Vnode)
		}
		out = append(out, pos.wb)
		prev = pos
	}
	if head.prev != prev {
		return out, fmt.Errorf("vnode %d: writebacks head's prev is not the last entry", v.Fid.Vnode)
	}
	return out, nil
}

// PagesOf lists the pages of the vnode's page cache in index order.
func (v *Vnode) PagesOf() []*mm.Page {
	var pages []*mm.Page
	v.Mapping().PageTree.Range(0, -1, func(_ uint64, p *mm.Page) bool {
		pages = append(pages, p)
		return true
	})
	return pages
}

// RecordUsage returns, for every live record, the usage the pages justify:
// the number of page-cache pages whose page->private points to it. Fsync
// markers are not counted (at a quiescent point there is none).
func (fs *FS) RecordUsage() (want, got map[int64]int) {
	want, got = map[int64]int{}, map[int64]int{}
	for _, wb := range fs.records {
		if !wb.freed {
			want[wb.id] = 0
			got[wb.id] = wb.Usage
		}
	}
	for _, v := range fs.vnodes {
		for _, p := range v.PagesOf() {
			if wb := pagePrivateWb(p); wb != nil && !wb.freed {
				want[wb.id]++
			}
		}
	}
	return want, got
}

// CheckRecords checks the wb-record invariant at a quiescent point and
// returns every violation found.
func (fs *FS) CheckRecords() []Violation {
	var vs []Violation
	bad := func(obj sim.Obj, format string, args ...any) {
		vs = append(vs, Violation{Invariant: InvWbRecord, Obj: obj, Msg: fmt.Sprintf(format, args...)})
	}
	onList := map[*Writeback]bool{}
	for _, v := range fs.vnodes {
		list, err := v.ListRecords()
		if err != nil {
			bad(v.Obj(), "%v", err)
		}
		for _, wb := range list {
			if onList[wb] {
				bad(wb.Obj(), "%s is on the writebacks list twice", wb)
			}
			onList[wb] = true
			if wb.freed {
				bad(wb.Obj(), "%s was freed but is still on vnode %d's writebacks list", wb, v.Fid.Vnode)
			}
			if wb.Vnode != v {
				bad(wb.Obj(), "%s is on the list of vnode %d but belongs to another vnode", wb, v.Fid.Vnode)
			}
		}
		for _, p := range v.PagesOf() {
			wb := pagePrivateWb(p)
			switch {
			case wb != nil && wb.freed:
				bad(p.Obj(), "page->private points to %s, which was freed", wb)
			case wb != nil && !mm.PagePrivate(p):
				bad(p.Obj(), "page->private points to %s but PG_private is clear", wb)
			case wb == nil && mm.PagePrivate(p):
				bad(p.Obj(), "PG_private is set but page->private is NULL")
			case wb != nil && (p.Index < wb.First || p.Index > wb.Last):
				bad(p.Obj(), "page %d points to %s, which does not cover it", p.Index, wb)
			}
		}
	}
	want, _ := fs.RecordUsage()
	for _, wb := range fs.records {
		if wb.freed {
			continue
		}
		switch {
		case wb.marker:
			bad(wb.Obj(), "fsync marker %s outlived its fsync", wb)
		case !onList[wb]:
			bad(wb.Obj(), "%s is neither on a writebacks list nor freed (leaked)", wb)
		case wb.Usage != want[wb.id]:
			bad(wb.Obj(), "%s has usage %d but %d pages point to it", wb, wb.Usage, want[wb.id])
		}
	}
	// Keys: the keyring's own reference, plus one per open file and per
	// live record that holds the key.
	for _, k := range fs.keys {
		n := 1
		for _, f := range fs.files {
			if !f.closed && f.Key == k {
				n++
			}
		}
		for _, wb := range fs.records {
			if !wb.freed && wb.Key == k {
				n++
			}
		}
		if k.usage != n || k.freed {
			bad(sim.Obj{Class: "key", Name: k.Name, A: int64(k.Serial)},
				"%s has usage %d (freed %v) but %d holders", k, k.usage, k.freed, n)
		}
	}
	return vs
}

// CheckPages checks, at a quiescent point, that every page-cache page of
// every vnode holds only the page cache's reference (page-ref) and is
// neither locked nor under writeback (page-state): no store is in flight,
// so a page still under writeback will never leave it.
func (fs *FS) CheckPages() []Violation {
	var vs []Violation
	for _, v := range fs.vnodes {
		for _, p := range v.PagesOf() {
			if c := mm.PageCount(p); c != 1 {
				vs = append(vs, Violation{Invariant: mm.InvPageRef, Obj: p.Obj(),
					Msg: fmt.Sprintf("page %d has %d references at a quiescent point, want 1 (the page cache's): %d leaked", p.Index, c, c-1)})
			}
			if mm.PageLocked(p) {
				vs = append(vs, Violation{Invariant: mm.InvPageState, Obj: p.Obj(),
					Msg: fmt.Sprintf("page %d is still locked at a quiescent point: nobody will unlock it", p.Index)})
			}
			if mm.PageWriteback(p) {
				vs = append(vs, Violation{Invariant: mm.InvPageState, Obj: p.Obj(),
					Msg: fmt.Sprintf("page %d is still under writeback with no store in flight: writeback never ends (dirty %v)", p.Index, mm.PageDirty(p))})
			}
		}
	}
	return vs
}

// Fail raises the first violation as the run's failure (from a task or an
// AtEnd hook).
func Fail(w *sim.World, vs []Violation) {
	if len(vs) == 0 {
		return
	}
	v := vs[0]
	msg := v.Msg
	if len(vs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(vs)-1)
	}
	w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: v.Invariant, Obj: v.Obj, Msg: msg,
		Explain: "A check at a quiescent point (no task inside the AFS write path) found the state " +
			"inconsistent; the message says which object and how."})
}
