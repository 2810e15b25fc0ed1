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
fixes sector-overflow wb-integrity cyclic-wrap cyclic-wrap-deadlock wb-integrity-error async-write-eio

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

// TestFsckTruncatedDamage: a truncate that frees an indirect block a
// failed write left stale is the fault's doing, not a file system
// inconsistency: fs-consistent stays silent on every schedule.
func TestFsckTruncatedDamage(t *testing.T) {
	s, err := scenarios.Parse("fsck-truncated-damage.wbs", []byte(truncatedDamageScenario))
	if err != nil {
		t.Fatal(err)
	}
	v := Check(s)
	if v.Failure != nil {
		t.Fatalf("%s", v.Failure.Report())
	}
	if v.Schedules != 20 {
		t.Fatalf("%d schedules ran, want 20: %s", v.Schedules, v.Msg)
	}
}
