package scenarios

import (
	"errors"

	"github.com/wbsim/wbsim/faultdisk"
)

// This file holds the device and server operations: a fault table loaded
// at a point in a task (faultdisk.Table, docs/fault-plans.md "Tables").

// table parses the rest of a device or server line as a faultdisk table.
// The table's text is the plan language's, so faultdisk parses it; its
// error columns are mapped onto this line.
func (st *stmt) table(op *Op, path string) bool {
	first := st.Peek()
	if first.Kind == tEOL {
		return st.expected(first, "a table ("+faultdisk.TableWords+")")
	}
	last := first
	for st.Peek().Kind != tEOL && !(st.Peek().Kind == tWord && st.Peek().Text == "expect") {
		last = st.Next()
	}
	text := st.ln.raw[first.Col-1 : last.Col-1+len(last.Raw)]
	t, err := faultdisk.ParseTable(text)
	if err != nil {
		var pe *faultdisk.ParseError
		if errors.As(err, &pe) {
			st.p.errorf(st.ln, first.Col+pe.Col-1, "%s", pe.Msg)
			return false
		}
		return st.errAt(first, "%v", err)
	}
	op.Table = t
	st.at(path+".table", first)
	return true
}

// table checks a device or server operation: the table belongs to the
// scenario's file system (a disk on blockfs, the server on afs).
func (v *validator) table(op *Op, p string) {
	t := op.Table
	if err := t.Validate(); err != nil {
		v.errf(p+".table", "%s %s: %v", op.Kind, t, err)
		return
	}
	afs := v.s.FS.AFS != nil
	switch {
	case op.Kind == OpDevice && afs:
		v.errf(p, `device loads a disk table, and the file system is afs, which has no disk; use "server ok" or "server fail OPS ERRNO"`)
	case op.Kind == OpServer && !afs:
		v.errf(p, `server loads an AFS server table, and the file system is %s, which has no server; use "device TABLE", such as "device error"`, v.s.FS.Kind())
	case op.Kind == OpDevice && !t.ForDisk():
		v.errf(p+".table", "device %s: that is a server table; a disk loads ok, error, offline, flakey up D down D or drop-writes", t)
	case op.Kind == OpServer && !t.ForServer():
		v.errf(p+".table", "server %s: that is a disk table; the server loads ok or fail OPS ERRNO", t)
	}
}
