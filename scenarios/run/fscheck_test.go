package run

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/afs"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// mutLowerISize is a mutant task that, once the file's pages are written
// back, lowers i_size to one byte without freeing a block (a truncate
// that forgets ext2_truncate): the blocks past the first stay mapped past
// i_size.
func mutLowerISize(m *machine) {
	m.w.Spawn("mutant", func(t *sim.Task) {
		t.Sleep(8 * sim.Millisecond)
		mm.ISizeWrite(t, m.files["/f"].ino, 1)
	})
}

// TestMutationFsConsistent: the blocks left past i_size are found by
// fsck once every task is done, on every era.
func TestMutationFsConsistent(t *testing.T) {
	for _, v := range []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x} {
		t.Run(string(v), func(t *testing.T) {
			s := mutBlockScenario("mut-isize-without-truncate", v, func(tk *scenarios.Task) {
				tk.Open("f", "/f", 0).Write("f", 0, 3*4096, "A").Sleep(10 * sim.Millisecond)
			})
			s.CheckAllExcept(scenarios.InvNoLostWrite) // which sees the size first
			mutationCase(t, s, blockfs.InvFsConsistent, mutLowerISize)
		})
	}
}

// TestMutationNoLostWriteSize: the same lowered i_size, seen by
// no-lost-write's size comparison (the bytes up to the expected size
// are all on disk).
func TestMutationNoLostWriteSize(t *testing.T) {
	s := mutBlockScenario("mut-isize-lowered", scenarios.Kernel3x, func(tk *scenarios.Task) {
		tk.Open("f", "/f", 0).Write("f", 0, 3*4096, "A").Sleep(10 * sim.Millisecond)
	})
	mutationCase(t, s, "no-lost-write", mutLowerISize)
}

// TestMutationFsConsistentAtCrash: the same damage, found on the image the
// crash leaves (no task holds the inode's i_mutex then, so nothing
// excuses it).
func TestMutationFsConsistentAtCrash(t *testing.T) {
	s := mutBlockScenario("mut-isize-without-truncate-crash", scenarios.Kernel3x, func(tk *scenarios.Task) {
		tk.Open("f", "/f", 0).Write("f", 0, 3*4096, "A").Sleep(10 * sim.Millisecond).Crash()
	})
	mutationCase(t, s, blockfs.InvFsConsistent, mutLowerISize)
}

// mutAFSScenario is a one-task afs scenario with every fix on (no
// flusher) whose task does add.
func mutAFSScenario(name string, add func(tk *scenarios.Task)) *scenarios.Scenario {
	s := scenarios.New(name, scenarios.KernelAFS).OnAFS(scenarios.AFS{}).AddKey("alice", "")
	s.WithFixes(propAllFixes(scenarios.KernelAFS)...)
	s.WithVM(scenarios.VM{Flusher: scenarios.Flusher{Off: true}})
	add(s.AddTask("t"))
	return s
}

// TestMutationRPCShape: a store whose length is not the bytes it carries
// (afs_fs_store_data's length computed in unsigned int, as the era did),
// and a page fill that fetches another part of the file (afs_fill_page
// fetching (0, eof)), each planted by turning its fix off in the built
// machine.
func TestMutationRPCShape(t *testing.T) {
	t.Run("store-length", func(t *testing.T) {
		s := mutAFSScenario("mut-store-length", func(tk *scenarios.Task) {
			tk.OpenAs("f", "/f", "alice", 0).PWrite("f", 200, 4000, "A").Fsync("f")
		})
		mutationCase(t, s, afs.InvRPCShape, func(m *machine) { m.afs.Fixes.StoreDataMaths = false })
	})
	t.Run("fill-page", func(t *testing.T) {
		s := mutAFSScenario("mut-fill-other-page", func(tk *scenarios.Task) {
			tk.OpenAs("f", "/f", "alice", 0).PWrite("f", 5000, 100, "A").Fsync("f")
		})
		s.AddFile("/f", 2048)
		mutationCase(t, s, afs.InvRPCShape, func(m *machine) { m.afs.Fixes.FillPageOffset = false })
	})
}

// TestAFSInitialContents: the oracle knows an AFS "file ... size N" as it
// knows one on blockfs (buildAFS tells it of the server's initial bytes):
// a run that only opens the file ends clean under no-lost-write, which
// compares the server's file, size included, with the oracle; a server
// copy cut short behind the oracle's back is caught.
func TestAFSInitialContents(t *testing.T) {
	s := mutAFSScenario("afs-initial-contents", func(tk *scenarios.Task) {
		tk.OpenAs("f", "/f", "alice", 0).Sleep(sim.Millisecond).Close("f")
	})
	s.AddFile("/f", 3*4096+100)
	mutationCase(t, s, "no-lost-write", func(m *machine) {
		m.srv.File(m.files["/f"].id).Data.Truncate(4096)
	})
}

// TestMutationNoLostWriteWithFaults: no-lost-write runs when the scenario
// injects faults, outside what they touched. The first disk write fails
// (EIO): unmutated, that is the one request of both pages, and the check
// excuses them both; with writepages cleaning page 0 without writing it,
// the failing request is page 1's alone, and page 0, which no fault
// touched, is found missing.
func TestMutationNoLostWriteWithFaults(t *testing.T) {
	s := mutBlockScenario("mut-lost-write-faults", scenarios.Kernel3x, func(tk *scenarios.Task) {
		tk.Open("f", "/f", 0).Write("f", 0, 8192, "A").Sleep(10 * sim.Millisecond)
	})
	s.WithFaults(&faultdisk.Plan{Rules: []faultdisk.Rule{{Match: faultdisk.Match{Ops: faultdisk.Ops(faultdisk.OpWrite), Nth: 1},
		Action: faultdisk.Fail{Errno: errno.EIO, Times: faultdisk.Once}}}})
	mutationCase(t, s, "no-lost-write", func(m *machine) {
		mutInstallAOps(m, &mutAOps{writepages: mutLostWritepages(false)})
	})
}

// TestRPCShapeDeselected: a scenario that leaves rpc-shape out runs the
// era's bad store to the server, which aborts it (EREMOTEIO), and the
// run goes on to other checks.
func TestRPCShapeDeselected(t *testing.T) {
	s := mutAFSScenario("store-length-unchecked", func(tk *scenarios.Task) {
		tk.OpenAs("f", "/f", "alice", 0).PWrite("f", 200, 4000, "A").Fsync("f")
	})
	s.CheckAllExcept(scenarios.InvRPCShape)
	r := mutRun(t, s, &sim.RoundRobin{}, func(m *machine) { m.afs.Fixes.StoreDataMaths = false })
	if r.Failure == nil || r.Failure.Invariant == afs.InvRPCShape {
		t.Fatalf("want another invariant to see the aborted store, got %v", r.Failure)
	}
	t.Logf("%s: %s", FailureID(r.Failure), r.Failure.Msg)
}
