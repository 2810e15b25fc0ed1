package afs

import (
	"fmt"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// InvRPCShape is the id of the rpc-shape invariant: every FS.StoreData
// and FS.FetchData request agrees with what it carries. Checked as the
// server receives the request (Server.arrive), against what the client
// meant to send (intent), which the client notes as it builds the
// request, apart from the fields it computes:
//
//   - the length is the number of bytes that follow the request;
//   - a store's offset and length lie within its pages: from byte
//     first_offset of page first to byte last_to of page last;
//   - a store's FileLength is i_size as the client read it, or the end of
//     the stored range if that is further (afs_fs_store_data's rule; a
//     smaller one makes the server cut what it just stored, a larger one
//     grows the file with zeros);
//   - a page fill (afs_fill_page, afs_page_filler) fetches that page's
//     bytes: from the page's offset, at most a page.
//
// The fields are compared as the server decodes them, so a request sent
// as 32-bit FS.StoreData with a field that needs 64 bits shows as a
// wrong field. A setattr's FS.StoreData (no pages) is held to the first
// rule only.
const InvRPCShape = "rpc-shape"

// intent is what the client meant a request to carry.
type intent struct {
	store bool
	// store: the pages and the byte range in them (afs_call's first,
	// last, first_offset, last_to), and i_size when the request was built
	first, last         uint64
	firstOffset, lastTo uint
	iSize               int64
	// fetch: the page being filled
	page *mm.Page
}

// sentStore notes a store of pages [first, last] from byte offset of the
// first to byte to of the last, built while i_size was iSize.
func sentStore(first, last uint64, offset, to uint, iSize int64) *intent {
	return &intent{store: true, first: first, last: last, firstOffset: offset, lastTo: to, iSize: iSize}
}

// sentFetch notes a fetch that fills page.
func sentFetch(page *mm.Page) *intent { return &intent{page: page} }

// shapeError says how request r disagrees with what it carries, or "".
func shapeError(r *request) string {
	name := "FS.StoreData"
	if r.op64 {
		name = "FS.StoreData64"
	}
	if r.op == faultdisk.OpFetch {
		name = "FS.FetchData"
	}
	if r.op == faultdisk.OpStore && r.len != r.data.Len() {
		return fmt.Sprintf("%s of file %d says %d bytes at %d but carries %d", name, r.file, r.len, r.off, r.data.Len())
	}
	in := r.sent
	switch {
	case in == nil:
	case in.store:
		lo := int64(in.first)<<mm.PageCacheShift + int64(in.firstOffset)
		hi := int64(in.last)<<mm.PageCacheShift + int64(in.lastTo)
		if r.off != lo || r.off+r.len != hi {
			return fmt.Sprintf("%s of file %d stores bytes %d+%d, but its pages %d-%d hold bytes %d+%d",
				name, r.file, r.off, r.len, in.first, in.last, lo, hi-lo)
		}
		if want := max(in.iSize, hi); r.iSize != want {
			return fmt.Sprintf("%s of file %d sends file length %d; i_size was %d and the store ends at %d, so it should be %d",
				name, r.file, r.iSize, in.iSize, hi, want)
		}
	default:
		lo := mm.PageOffset(in.page)
		if r.off != lo || r.len < 0 || r.len > mm.PageSize {
			return fmt.Sprintf("%s of file %d fetches bytes %d+%d to fill page %d, which holds bytes %d+%d",
				name, r.file, r.off, r.len, in.page.Index, lo, mm.PageSize)
		}
	}
	return ""
}

// checkShape fails the run if r disagrees with what it carries (unless
// the server's NoShapeCheck is set).
func (s *Server) checkShape(r *request) {
	if s.NoShapeCheck {
		return
	}
	msg := shapeError(r)
	if msg == "" {
		return
	}
	s.w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvRPCShape,
		Obj: sim.Obj{Class: "afs_file", A: int64(r.file)}, Msg: msg,
		Explain: "Each FS.StoreData request names a byte range and a new file length and is followed by the bytes " +
			"of the pages it stores; each FS.FetchData that fills a page asks for that page's bytes. The server " +
			"believes the numbers: a length that disagrees with the bytes sent makes it wait for bytes that never " +
			"come (or take the next request's as data), an offset outside the pages stores them in the wrong " +
			"place, a wrong file length cuts the file or grows it with zeros, and a fill that fetches another " +
			"part of the file puts the wrong bytes in the page. The client computed one of these fields wrongly: " +
			"look at the arithmetic that built it (integer widths, page offsets, i_size)."})
}
