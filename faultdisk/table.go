package faultdisk

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/internal/lex"
	"github.com/wbsim/wbsim/sim/errno"
)

// This file holds tables: the faults a scenario switches on and off at a
// point in a task, as xfstests' common/dmerror and common/dmflakey do with
// "dmsetup load" + "dmsetup resume". A Table is written in the plan
// language (its Rules are plan rules, and its text reuses the plan's
// durations, operations and errnos); loading one replaces the table loaded
// before, while the plan's own rules stay.

// TableKind names a table.
type TableKind uint8

// Tables. TableOK, TableError, TableOffline, TableFlakey and
// TableDropWrites are the disk's (the device-mapper targets xfstests
// loads); TableOK and TableFail the AFS server's.
const (
	// TableOK is the working table (dm-linear): no faults.
	TableOK TableKind = iota
	// TableError is dm-error: every read and write fails with EIO, and an
	// empty flush completes successfully without reaching the device,
	// because the error target asks for no flush bios (io_err_ctr in
	// drivers/md/dm-target.c leaves num_flush_bios 0, and
	// __send_empty_flush sends nothing to such a target).
	TableError
	// TableOffline is a device that is gone: every request, flushes too,
	// fails with EIO (the plan's Offline action).
	TableOffline
	// TableFlakey is dm-flakey with no feature flags, its cycle starting
	// when the table is loaded: up for Flakey.Up, then every request,
	// flushes too, fails with EIO for Flakey.Down, and so on.
	TableFlakey
	// TableDropWrites is dm-flakey's drop_writes, always down: writes and
	// flushes complete successfully and nothing reaches the device (the
	// plan's Drop action). Reads pass.
	TableDropWrites
	// TableFail makes the server fail the operations in Ops (store, fetch)
	// with Errno.
	TableFail
)

// Table is a set of faults that a scenario loads at a point in a task.
// Only the fields of its Kind are set.
type Table struct {
	Kind   TableKind
	Flakey Flakey      // TableFlakey
	Ops    OpSet       // TableFail: store and/or fetch
	Errno  errno.Errno // TableFail
}

var tableNames = [...]string{
	TableOK: "ok", TableError: "error", TableOffline: "offline", TableFlakey: "flakey",
	TableDropWrites: "drop-writes", TableFail: "fail",
}

// ForDisk reports whether the table is one the disk loads (TableOK is both
// the disk's and the server's).
func (t Table) ForDisk() bool { return t.Kind != TableFail }

// ForServer reports whether the table is one the AFS server loads.
func (t Table) ForServer() bool { return t.Kind == TableOK || t.Kind == TableFail }

// String returns the table's text, such as "flakey up 10ms down 2ms" or
// "fail store EIO". ParseTable(t.String()) returns t.
func (t Table) String() string {
	switch t.Kind {
	case TableFlakey:
		return fmt.Sprintf("flakey up %s down %s", formatDuration(t.Flakey.Up), formatDuration(t.Flakey.Down))
	case TableFail:
		return fmt.Sprintf("fail %s %s", t.Ops, t.Errno)
	}
	if int(t.Kind) < len(tableNames) {
		return tableNames[t.Kind]
	}
	return fmt.Sprintf("table(%d)", t.Kind)
}

// Validate reports what is wrong with t, or nil.
func (t Table) Validate() error {
	switch t.Kind {
	case TableOK, TableError, TableOffline, TableDropWrites:
	case TableFlakey:
		if t.Flakey.Up <= 0 || t.Flakey.Down <= 0 {
			return fmt.Errorf("flakey needs up and down intervals longer than 0")
		}
		if r := (Rule{Match: Match{Flakey: t.Flakey}, Action: Fail{Errno: errno.EIO}}); validateRule(&r) != nil {
			return fmt.Errorf("flakey: %s", validateRule(&r).msg)
		}
	case TableFail:
		if t.Ops == 0 || t.Ops&^serverOps != 0 {
			return fmt.Errorf("fail applies to store and fetch, not %s", t.Ops)
		}
		if e := checkErrno(t.Errno); e != nil {
			return fmt.Errorf("%s", e.msg)
		}
	default:
		return fmt.Errorf("unknown table kind %d", t.Kind)
	}
	return nil
}

// Rules returns the plan rules that t stands for, loaded at time now (a
// flakey cycle starts then). TableOK has none.
func (t Table) Rules(now int64) []Rule {
	rw := Ops(OpRead, OpWrite) // write also matches FUA writes
	switch t.Kind {
	case TableError:
		return []Rule{
			{Match: Match{Ops: rw}, Action: Fail{Errno: errno.EIO}},
			{Match: Match{Ops: Ops(OpFlush)}, Action: Drop{}},
		}
	case TableOffline:
		return []Rule{{Action: Offline{}}}
	case TableFlakey:
		return []Rule{{Match: Match{From: now, Flakey: t.Flakey}, Action: Fail{Errno: errno.EIO}}}
	case TableDropWrites:
		return []Rule{{Match: Match{Ops: Ops(OpWrite, OpFlush)}, Action: Drop{}}}
	case TableFail:
		return []Rule{{Match: Match{Ops: t.Ops}, Action: Fail{Errno: t.Errno}}}
	}
	return nil
}

// TableWords lists the tables' text forms, for messages.
const TableWords = "ok, error, offline, flakey up D down D, drop-writes (the disk); ok, fail OPS ERRNO (the server)"

// ParseTable parses a table's text (one line, as Table.String prints it).
// An error is a *ParseError on line 1 whose column counts bytes of text.
func ParseTable(text string) (Table, error) {
	toks, perr := lexLine(text, 1)
	if perr != nil {
		return Table{}, perr
	}
	ps := &lineParser{Tokens: lex.NewTokens(toks, 0), line: 1}
	t, perr := ps.table()
	if perr != nil {
		return Table{}, perr
	}
	return t, nil
}

func (ps *lineParser) table() (Table, *ParseError) {
	kw := ps.Next()
	var t Table
	found := false
	for k, name := range tableNames {
		if kw.Kind == tWord && kw.Text == name {
			t.Kind, found = TableKind(k), true
		}
	}
	if !found {
		return t, ps.expected(kw, "a table ("+TableWords+")")
	}
	switch t.Kind {
	case TableFlakey:
		for _, part := range []struct {
			word string
			d    *int64
		}{{"up", &t.Flakey.Up}, {"down", &t.Flakey.Down}} {
			if w := ps.Next(); w.Kind != tWord || w.Text != part.word {
				return t, ps.expected(w, fmt.Sprintf("%q and a duration such as 10ms", part.word))
			}
			a := ps.Peek()
			d, err := ps.durationArg()
			if err != nil {
				return t, err
			}
			if d == 0 {
				return t, ps.errAt(a, "flakey needs up and down intervals longer than 0")
			}
			*part.d = d
		}
	case TableFail:
		a := ps.Peek()
		if a.Kind != tWord || (a.Text != "any" && opByName[a.Text] == 0) {
			return t, ps.expected(a, "the server operations to fail (store, fetch)")
		}
		ops, err := ps.ops()
		if err != nil {
			return t, err
		}
		if ops == 0 {
			ops = serverOps
		}
		if ops&^serverOps != 0 {
			return t, ps.errAt(a, "the server fails store and fetch, not %s", strings.ReplaceAll((ops&^serverOps).String(), ",", ", "))
		}
		t.Ops = ops
		if t.Errno, err = ps.errnoArg(); err != nil {
			return t, err
		}
	}
	if w := ps.Peek(); w.Kind != tEOL {
		return t, ps.errAt(w, "unexpected %s after the table %q", w.Describe(), t.String())
	}
	if err := t.Validate(); err != nil {
		return t, ps.errAt(kw, "%s", err)
	}
	return t, nil
}

// Load replaces the table loaded before (none at first) with t, as of time
// now: "dmsetup load" + "dmsetup resume". The plan's own rules stay and are
// evaluated first; the table's rules follow them, with fresh counters, and a
// fault they cause is recorded with Fault.Table set. t must be valid.
func (inj *Injector) Load(t Table, now int64) {
	inj.rules = inj.rules[:inj.planRules]
	inj.st = inj.st[:inj.planRules]
	inj.table = t
	for _, r := range t.Rules(now) {
		ops, _ := effectiveOps(&r)
		if ops.Has(OpWrite) {
			ops |= 1 << OpFUAWrite
		}
		inj.rules = append(inj.rules, r)
		inj.st = append(inj.st, ruleState{ops: ops})
	}
}
