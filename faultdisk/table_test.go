package faultdisk

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// TestTableTextRoundTrip: every table prints and parses back to itself.
func TestTableTextRoundTrip(t *testing.T) {
	for _, text := range []string{
		"ok", "error", "offline", "flakey up 10ms down 2ms", "drop-writes",
		"fail store EIO", "fail store,fetch EDQUOT", "fail fetch ENOSPC",
	} {
		tb, err := ParseTable(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got := tb.String(); got != text {
			t.Errorf("%q printed as %q", text, got)
		}
	}
	if tb, _ := ParseTable("fail any EIO"); tb.String() != "fail store,fetch EIO" {
		t.Errorf(`"fail any EIO" is %q, want the server's two operations`, tb)
	}
}

// TestTableParseErrors: a bad table names the token, by column.
func TestTableParseErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"eror", `1:1: expected a table (` + TableWords + `), got "eror"`},
		{"flakey up 10ms", `1:15: expected "down" and a duration such as 10ms, got end of line`},
		{"flakey up 0s down 1ms", "1:11: flakey needs up and down intervals longer than 0"},
		{"flakey up 10 down 1ms", `1:11: expected a duration such as 10ms, 1.5s, 250us or 100ns, got "10"`},
		{"fail write EIO", "1:6: the server fails store and fetch, not write"},
		{"fail store eio", `1:12: expected an errno such as EIO, got "eio" (errno names are upper case: EIO)`},
		{"error now", `1:7: unexpected "now" after the table "error"`},
	} {
		_, err := ParseTable(c.text)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %s", c.text, err, c.want)
		}
	}
}

// loadRun runs body on a 64-sector disk with a 10us write latency and
// returns the disk.
func loadRun(tb testing.TB, body func(t *sim.Task, d *Disk)) *Disk {
	tb.Helper()
	d, _ := faultRun(tb, "", Config{Write: Fixed(10 * us), Flush: Fixed(10 * us)}, body)
	return d
}

func mustTable(tb testing.TB, text string) Table {
	tb.Helper()
	tab, err := ParseTable(text)
	if err != nil {
		tb.Fatal(err)
	}
	return tab
}

// TestTableErrorFlushSucceeds: under dm-error every write fails, and an
// empty flush completes with success but makes nothing durable (it never
// reaches the device); "offline" fails the flush instead; back on "ok" the
// flush makes the cached write durable.
func TestTableErrorFlushSucceeds(t *testing.T) {
	for _, c := range []struct {
		table      string
		wantWrite  errno.Errno
		wantFlush  errno.Errno
		wantStable bool // the write cached before the table is durable after the flush
	}{
		{"ok", 0, 0, true},
		{"error", errno.EIO, 0, false},
		{"offline", errno.EIO, errno.EIO, false},
		{"drop-writes", 0, 0, false},
	} {
		var w2, fl *IO
		d := loadRun(t, func(tk *sim.Task, d *Disk) {
			syncIO(tk, d, write(0, 1, 1)) // cached, not durable
			if err := d.Load(mustTable(t, c.table)); err != nil {
				t.Fatal(err)
			}
			w2 = write(8, 1, 2)
			syncIO(tk, d, w2)
			fl = flush()
			syncIO(tk, d, fl)
		})
		if w2.Err != c.wantWrite || fl.Err != c.wantFlush {
			t.Errorf("%s: write %s, flush %s; want %s, %s", c.table, errStr(w2.Err), errStr(fl.Err), errStr(c.wantWrite), errStr(c.wantFlush))
		}
		stable := d.Stable(0, 1).FirstDiff(content.Fill(SectorSize, 1, 0)) < 0
		if stable != c.wantStable {
			t.Errorf("%s: the write before the table is durable after the flush: %v, want %v", c.table, stable, c.wantStable)
		}
		if c.table == "drop-writes" && (w2.DoneBytes != SectorSize || d.Read(8, 1).FirstDiff(content.Fill(SectorSize, 2, 0)) < 0) {
			t.Errorf("drop-writes: the write reports %d bytes done and its data is on the disk: %v; want all done, data lost",
				w2.DoneBytes, d.Read(8, 1).FirstDiff(content.Fill(SectorSize, 2, 0)) < 0)
		}
	}
}

// TestTableReplaced: loading "ok" unloads the error table; the plan's own
// rules stay; a fault from a table is traced with its text.
func TestTableReplaced(t *testing.T) {
	var ios []*IO
	_, faults := faultRun(t, "write sectors 16..17: fail ENOSPC", Config{}, func(tk *sim.Task, d *Disk) {
		for _, step := range []struct {
			table  string
			sector int64
		}{{"error", 0}, {"ok", 0}, {"ok", 16}, {"error", 16}} {
			if err := d.Load(mustTable(t, step.table)); err != nil {
				t.Fatal(err)
			}
			io := write(step.sector, 1, 1)
			syncIO(tk, d, io)
			ios = append(ios, io)
		}
	})
	var got []string
	for _, io := range ios {
		got = append(got, errStr(io.Err))
	}
	if want := "EIO ok ENOSPC ENOSPC"; strings.Join(got, " ") != want {
		t.Errorf("write results %v, want %s (the plan's rule first)", got, want)
	}
	if len(faults) == 0 || !strings.Contains(faults[0], "table error: write sectors 0+1: fail EIO") {
		t.Errorf("faults %q: the first should name the error table", faults)
	}
	if err := (&Disk{}).Load(Table{Kind: TableFail, Ops: Ops(OpStore), Errno: errno.EIO}); err == nil {
		t.Error("a disk loaded the server's table")
	}
}

// TestTableFlakeyStartsAtLoad: dm-flakey's cycle starts when the table is
// loaded, with the up phase; down, flushes fail too.
func TestTableFlakeyStartsAtLoad(t *testing.T) {
	var res []string
	loadRun(t, func(tk *sim.Task, d *Disk) {
		tk.Sleep(1 * sim.Millisecond)
		if err := d.Load(mustTable(t, "flakey up 100us down 100us")); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			io := flush()
			syncIO(tk, d, io)
			res = append(res, errStr(io.Err))
			tk.Sleep(40 * us) // with the 10us flush: a request every 50us
		}
	})
	if got, want := strings.Join(res, " "), "ok ok EIO EIO"; got != want {
		t.Errorf("flushes at load+0, +50us, +100us, +150us: %s, want %s", got, want)
	}
}

// FuzzParseTable: on any input, ParseTable returns a *ParseError or a
// valid table whose text parses back to it.
func FuzzParseTable(f *testing.F) {
	for _, s := range []string{"ok", "error", "flakey up 1ns down 9223372036.854775807s", "fail any EIO", "drop-writes #", `fail "store" EIO`, "fail store,,fetch EIO"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tab, err := ParseTable(text)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("%q: error %T %v", text, err, err)
			}
			return
		}
		if err := tab.Validate(); err != nil {
			t.Fatalf("%q: parsed an invalid table: %v", text, err)
		}
		again, err := ParseTable(tab.String())
		if err != nil || again != tab {
			t.Fatalf("%q printed as %q parses to %v, %v", text, tab, again, err)
		}
	})
}
