package afs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// bugCase is one seed bug: a small workload and fault plan that
// exploration must break with the fix off (and nothing else off), and must
// not break with every fix on, within the same budget.
type bugCase struct {
	fix string
	// want lists the invariants that may catch the bug; the first failure
	// found must be one of them, and every one listed in need must appear
	// among the failures of the fix-off runs.
	want []string
	need []string
	wl   workload
	// either: finding it under one of the two strategies is enough (the
	// rarer races found while modelling).
	either bool
	// alsoOff are fixes also off in the fix-off runs, for a bug that is
	// reachable only without another fix; needMsg must then appear in
	// some failure's message.
	alsoOff []string
	needMsg string
}

func bugCases() []bugCase {
	w := func(ops ...op) []op { return ops }
	wr := func(pos, n int64) op { return op{kind: "write", pos: pos, len: n} }
	fsync := op{kind: "fsync"}
	pause := func(d sim.Time) op { return op{kind: "sleep", len: int64(d)} }
	return []bugCase{
		{
			// A two-page record fails to store with EIO: afs_kill_pages runs
			// its loop twice over the same pages and ends writeback on pages
			// no longer under it.
			fix: "kill-pages-loop", want: []string{"page-state"},
			wl: workload{plan: "store: fail EIO", nkeys: 1,
				writers:    []writerSpec{{key: 0, ops: w(wr(0, 2*4096))}},
				writebacks: 1, wbRounds: 2, wbSleep: 3 * sim.Millisecond},
		},
		{
			// Two background writebacks race over the same dirty pages: the
			// loser finds a page clean or under writeback and skips it
			// without dropping its lookup reference.
			fix: "writepages-missing-put", want: []string{"page-ref"},
			wl: workload{nkeys: 1,
				writers:    []writerSpec{{key: 0, ops: w(wr(0, 3*4096))}},
				writebacks: 2, wbRounds: 4, wbSleep: sim.Millisecond},
		},
		{
			// The first fill of page 0 fails: the writer gets the error but
			// the page stays locked and referenced; the next user of the page
			// sleeps in lock_page for ever.
			fix: "write-begin-leak", want: []string{"progress", "page-ref", "page-state"},
			wl: workload{plan: "fetch nth 1: fail EIO", nkeys: 2,
				writers: []writerSpec{{key: 0, ops: w(wr(100, 50), fsync)}, {key: 1, ops: w(wr(1000, 50), fsync)}}},
		},
		{
			// The first store fails with ENOSPC: its pages keep PG_writeback
			// for ever, and the writer's fsync waits for them.
			fix: "enospc-stuck-writeback", want: []string{"progress", "page-state"},
			wl: workload{plan: "store nth 1: fail ENOSPC", nkeys: 1,
				writers:    []writerSpec{{key: 0, ops: w(wr(0, 100), wr(4096, 100), fsync)}},
				writebacks: 1, wbRounds: 1, finalSync: true, noLostWrite: true},
		},
		{
			// The same with an errno of the switch's default branch.
			fix: "enospc-stuck-writeback", want: []string{"progress", "page-state"},
			wl: workload{plan: "store nth 1: fail ETIMEDOUT", nkeys: 1,
				writers:    []writerSpec{{key: 0, ops: w(wr(0, 100), wr(4096, 100), fsync)}},
				writebacks: 1, wbRounds: 1, finalSync: true, noLostWrite: true},
		},
		{
			// Background writeback of the first write fails with EACCES: the
			// page is killed and nothing is recorded; the second write
			// refills the page from the server (without the first write's
			// bytes), and fsync returns 0 with the first write lost. (When
			// the failure comes after the second write instead, the killed
			// record stays at the head of the queue and fsync waits behind
			// it for ever: progress.)
			fix: "key-error-silent-loss", want: []string{"fsync-durable", "progress"},
			need: []string{"fsync-durable"},
			wl: workload{plan: "store key k0 nth 1: fail EACCES", nkeys: 1,
				writers:    []writerSpec{{key: 0, ops: w(wr(0, 100), pause(1500*sim.Microsecond), wr(200, 100), fsync)}},
				writebacks: 1, wbRounds: 3, wbSleep: sim.Millisecond, finalSync: true, noLostWrite: true},
		},
		{
			// Background writeback's store fails with EIO: afs_kill_pages
			// leaves the killed record at the head of vnode->writebacks
			// (usage never drops), and the writer's later fsync queues its
			// marker behind it and sleeps for ever. With the fix fsync
			// returns -EIO. (One fsync only: a second would return 0 with
			// the killed bytes gone, the era's report-once AS_EIO.)
			fix: "fsync-marker-wait", want: []string{"progress"},
			wl: workload{plan: "store nth 1: fail EIO", nkeys: 1,
				writers:    []writerSpec{{key: 0, ops: w(wr(0, 100), pause(3*sim.Millisecond), fsync)}},
				writebacks: 1, wbRounds: 1, wbSleep: sim.Millisecond},
		},
		{
			// The key group (with key-error-silent-loss on, the pages are
			// redirtied): k0's second store, by fsync's
			// filemap_write_and_wait_range or background writeback, fails
			// with EKEYEXPIRED while k1's afs_fsync has queued its marker
			// behind k0's record and holds i_mutex; the record's pages are
			// dirty again but nobody stores them (k0's fsync waits for
			// i_mutex): k1's fsync waits for ever.
			fix: "fsync-marker-wait", want: []string{"progress"},
			wl: workload{plan: "store key k0 nth 2: fail EKEYEXPIRED", nkeys: 2,
				writers: []writerSpec{
					{key: 0, ops: w(wr(0, 100), pause(1500*sim.Microsecond), wr(200, 100), fsync)},
					{key: 1, ops: w(wr(4096, 100), fsync)}},
				writebacks: 1, wbRounds: 3, wbSleep: sim.Millisecond, finalSync: true},
		},
		{
			// k0's key has expired: every store of its pages fails and the
			// pages are redirtied. k0's second write finds page 0 dirty in a
			// record that background writeback made WRITING, not PENDING:
			// flush_conflicting_wb stores it, the store fails, and the write
			// returns with page 0 still locked; the next lock_page of it
			// (an fsync's writepages) sleeps for ever.
			fix: "flush-conflict-page-leak", want: []string{"progress", "page-ref", "page-state"},
			wl: workload{plan: "store key k0: fail EKEYEXPIRED", nkeys: 2,
				writers: []writerSpec{
					{key: 0, ops: w(wr(0, 100), pause(1500*sim.Microsecond), wr(200, 100), fsync)},
					{key: 1, ops: w(wr(4096, 100), fsync)}},
				writebacks: 1, wbRounds: 3, wbSleep: sim.Millisecond, finalSync: true},
		},
		// The bugs found while modelling, each under the clean workload of
		// TestExploreCleanAllFixes with only that fix off.
		{fix: "flush-conflict-double-put", want: []string{InvWbRecord}, wl: cleanWorkload()},
		{fix: "flush-conflict-wait-writeback", want: []string{"page-state"}, wl: cleanWorkload(), either: true},
		{fix: "store-io-lock", want: []string{"fsync-durable", "no-lost-write"}, wl: cleanWorkload(), either: true},
		// The fill fetches (0, eof), not the page's bytes: rpc-shape sees
		// the request; without it the wrong bytes reach the server.
		{fix: "fill-page-offset", want: []string{InvRPCShape, "fsync-durable", "no-lost-write"}, wl: cleanWorkload()},
		{
			// 4000 bytes from 200: the store's last page ends at byte 104,
			// before the first page's start offset 200, and "to - offset"
			// wraps in unsigned int: the request says 4 GiB more than it
			// carries.
			fix: "store-data-maths", want: []string{InvRPCShape},
			wl: workload{nkeys: 1, writers: []writerSpec{{key: 0, ops: w(wr(200, 4000), fsync)}}},
		},
	}
}

// TestExploreFindsEachBug: for every seed bug, exploration (PCT and random
// walk, 2,000 schedules each) finds it with its fix off and every other fix
// on, caught by the expected invariant; with every fix on, the same
// budget finds nothing.
func TestExploreFindsEachBug(t *testing.T) {
	for i, bc := range bugCases() {
		t.Run(fmt.Sprintf("%s/%d", bc.fix, i), func(t *testing.T) {
			found, msgs := 0, 0
			for _, strat := range []string{"pct", "random"} {
				off := bc.wl
				off.fixes = AllFixes()
				for _, id := range append([]string{bc.fix}, bc.alsoOff...) {
					if err := off.fixes.Set(id, false); err != nil {
						t.Fatal(err)
					}
				}
				res := off.explore(t, strat, schedules, true)
				if len(res.Failures) == 0 {
					if bc.either {
						t.Logf("%s, fix off: no failure in %d schedules", strat, res.Schedules)
					} else {
						t.Errorf("%s, fix off: no failure in %d schedules", strat, res.Schedules)
					}
				}
				found += len(res.Failures)
				for _, f := range res.Failures {
					if bc.needMsg != "" && strings.Contains(f.Failure.Msg, bc.needMsg) {
						msgs++
					}
				}
				if len(res.Failures) > 0 {
					bc.check(t, strat, res)
				}

				on := bc.wl
				on.fixes = AllFixes()
				res = on.explore(t, strat, schedules, false)
				if len(res.Failures) > 0 {
					f := res.Failures[0]
					t.Fatalf("%s, fix on: seed %d failed: %s\n%s", strat, f.Seed, f.Failure.Report(), f.Log)
				}
				t.Logf("%s, fix on: %d schedules clean", strat, res.Schedules)
			}
			if found == 0 {
				t.Errorf("fix off: neither strategy found the bug")
			}
			if bc.needMsg != "" && msgs == 0 {
				t.Errorf("fix off: no failure says %q", bc.needMsg)
			}
		})
	}
}

// check checks the fix-off failures of one strategy.
func (bc *bugCase) check(t *testing.T, strat string, res sim.ExploreResult) {
	{
		{
			first := res.Failures[0]
			inv := invariants(res)
			if !contains(bc.want, first.Failure.Invariant) {
				t.Errorf("%s, fix off: first failure (seed %d) is %s, want one of %v:\n%s", strat, first.Seed,
					first.Failure.Invariant, bc.want, first.Failure.Report())
			}
			for _, n := range bc.need {
				if inv[n] == 0 {
					t.Errorf("%s, fix off: no %s failure among %d (%s)", strat, n, len(res.Failures), summary(inv))
				}
			}
			t.Logf("%s, fix off: first found at schedule %d; %d of %d schedules fail (%s); first: %s",
				strat, first.Seed, len(res.Failures), res.Schedules, summary(inv), first.Failure.Error())
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
