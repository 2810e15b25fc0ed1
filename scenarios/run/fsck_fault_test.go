package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// truncatedDamageScenario is TestPropStack's fs-consistent false alarm,
// shrunk: every write loses its second sector (partial 512 EIO). t1's
// sync writes /o2's double-indirect tree while t2 is still filling it;
// the failed writes clear the indirect blocks' BH_Uptodate
// (end_buffer_async_write), t2's ->prepare_write then fails on the
// re-read (__bread finds the buffer not uptodate after the write it
// waited on), and vmtruncate's ext2_truncate reads the indirect block back
// from the disk without the pointers past its first 512 bytes, so
// ext2_free_branches frees the whole branch: the four data blocks below
// the new end stay allocated, in no tree, and still in the model's
// record. Before fsck excused that (blockfs.FsckOptions.Faulted), the
// first random schedule failed fs-consistent at the crash.
const truncatedDamageScenario = `wbsim-scenario v1
name fsck-truncated-damage

kernel 2.6.12
arch 32-bit
fixes sector-overflow wb-integrity cyclic-wrap cyclic-wrap-deadlock wb-integrity-error async-write-eio towrite-tagging

fs blockfs
    block-size 1024
    layout indirect
    allocator fragmented
    capacity 16MiB
    latency 50us
    file /s size 4KiB

faults
    write: partial 512 EIO

vm
    memory 4096
    dirty ratio 20 background 10
    flusher on interval 500us expire 1ms

task t0
    open s0_1 /s
    open o0_1 /o0
    pwrite o0_1 0+1 as L0_3
    pwrite o0_1 12KiB+6000 as L0_4
    pwrite s0_1 0+1 as L0_5
    pwrite s0_1 0+1 as L0_6
    fsync s0_1

task t1
    sync
    crash

task t2
    open o2_1 /o2
    pwrite o2_1 1048676+56KiB as L2_2
    crash

explore
    strategy random
    schedules 20
`

// truncateInFlightScenario is the other TestPropStack fs-consistent false
// alarm, shrunk: t0's crash lands while t2's truncate holds
// truncate_mutex, after __ext2_truncate_blocks cut the model's record at
// the new end and before it freed the indirect branch, so the tree still
// maps blocks 12 and 13 the record no longer lists. Before fsck excused
// that (blockfs.FsckOptions.Crash), schedule 4 failed.
const truncateInFlightScenario = `wbsim-scenario v1
name fsck-truncate-in-flight

kernel 3.x
arch 32-bit
fixes wb-integrity-error

fs blockfs
    block-size 1024
    layout indirect
    allocator interleaved
    capacity 16MiB
    latency 50us
    file /s size 10000

vm
    memory 4096
    dirty ratio 20 background 10
    flusher on interval 2ms expire 1ms

task t0
    open s0_1 /s
    open o0_1 /o0
    sync
    truncate o0_1 0
    sync
    crash keep-all

task t2
    open s2_1 /s
    open o2_1 /o2
    pwrite o2_1 8KiB+6000 as L2_2
    fsync o2_1
    drop-caches
    truncate o2_1 0

explore
    strategy random
    schedules 20
`

// truncateFailedReadScenario is the third, shrunk: t2's truncate to 16 KiB
// finds its indirect block not uptodate (t1's sync wrote it, the write
// failed while the truncate waited on the buffer), so ext2_get_branch
// returns -EIO, which ext2_find_shared ignores: it detaches the whole
// branch, and ext2_free_branches, reading the block again, frees blocks
// 12 to 15 too, below the new end, which the model's record still lists.
// Before fsck excused a record longer than the tree under faults, whatever
// became of the lost blocks (blockfs.FsckOptions.Faulted), schedule 9
// failed.
const truncateFailedReadScenario = `wbsim-scenario v1
name fsck-truncate-failed-read

kernel 3.x
arch 32-bit
fixes wb-integrity-error

fs blockfs
    block-size 1024
    layout indirect
    allocator fragmented
    capacity 16MiB
    latency 1ms
    file /s size 4KiB

faults
    write: partial 512 EIO

vm
    memory 512
    dirty ratio 2 background 1
    flusher on interval 5s expire 1ms

task t0
    open s0_1 /s
    open o0_1 /o0
    write o0_1 56KiB as L0_5
    read o0_1 0+8KiB
    pwrite o0_1 4KiB+512 as L0_7
    pwrite s0_1 512+56KiB as L0_8
    truncate o0_1 0

task t1
    open s1_1 /s
    open o1_1 /o1
    sync

task t2
    open s2_1 /s
    open o2_1 /o2
    write o2_1 56KiB as L2_3
    sleep 1ms
    truncate o2_1 16KiB

explore
    strategy random
    schedules 20
`

// TestFsckTruncatedDamage: a truncate that frees an indirect block a
// failed write left stale or could not read is the fault's doing, and a
// crash in the middle of a truncate is an operation in flight, not a file
// system inconsistency: fs-consistent stays silent on every schedule of
// each.
func TestFsckTruncatedDamage(t *testing.T) {
	for _, src := range []string{truncatedDamageScenario, truncateInFlightScenario, truncateFailedReadScenario} {
		s, err := scenarios.Parse("fsck.wbs", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		v := Check(s)
		if v.Failure != nil {
			t.Fatalf("%s: %s", s.Name, v.Failure.Report())
		}
		if v.Schedules != 20 {
			t.Fatalf("%s: %d schedules ran, want 20: %s", s.Name, v.Schedules, v.Msg)
		}
	}
}
