package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// builtScenario is the Go-API twin of builtScenarioText.
func builtScenario() *Scenario {
	plan, err := faultdisk.Parse("faultplan v1\nwrite sectors 0..8: fail EIO once\n")
	if err != nil {
		panic(err)
	}
	s := New("eio-fsync", Kernel2_6_2x).
		OnBlockFS(BlockFS{BlockSize: 1024, FsyncFlush: Off}).
		AddFile("/data", 8192).
		WithTags("fsync", "eio").
		WithDescription("A write fails; fsync must say so.").
		WithFixes().
		WithFaults(plan).
		WithVM(VM{Flusher: Flusher{Off: true}}).
		WithContract(ContractErrseq).
		WithExplore(Explore{Strategy: PCT(2), Schedules: 100}).
		ExpectFailure(string(InvFsyncError))
	s.AddTask("writer").
		Open("f", "/data", 0).
		Write("f", 0, 4096, "A").Comment("dirty one page").
		Fsync("f").ExpectErr(errno.EIO).
		Read("f", 0, 8192).ExpectData(Data("A", 4096), Zeros(4096)).
		Close("f")
	s.AddTask("sleeper").Sleep(sim.Millisecond).Signal("writer")
	return s
}

const builtScenarioText = `wbsim-scenario v1
name eio-fsync
tags fsync eio
description
    A write fails; fsync must say so.

kernel 2.6.2x

fs blockfs
    block-size 1024
    fsync-flush off
    file /data size 8KiB

faults
    write sectors 0..8: fail EIO once

vm
    flusher off

task writer
    open f /data
    # dirty one page
    write f 0+4KiB as A
    fsync f expect EIO
    read f 0+8KiB expect A:4KiB zero:4KiB
    close f

task sleeper
    sleep 1ms
    signal writer

fsync-contract errseq

explore
    strategy pct depth 2
    schedules 100

expect failure fsync-error
`

func TestBuilder(t *testing.T) {
	s := builtScenario()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != builtScenarioText {
		t.Errorf("printed:\n%s\nwant:\n%s", got, builtScenarioText)
	}
	p, err := Parse("b.wbs", []byte(builtScenarioText))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, p); d != "" {
		t.Errorf("Go API and text differ (-go +text):\n%s", d)
	}
	b, err := Format(s)
	if err != nil || string(b) != builtScenarioText {
		t.Errorf("Format: %v", err)
	}
	var w strings.Builder
	if n, err := s.WriteTo(&w); err != nil || n != int64(len(builtScenarioText)) || w.String() != builtScenarioText {
		t.Errorf("WriteTo: %d, %v", n, err)
	}
}

// TestValidateGoBuilt: errors in a scenario built in Go name the field.
func TestValidateGoBuilt(t *testing.T) {
	s := New("x", "2.6.99").OnBlockFS(BlockFS{BlockSize: 3})
	s.AddTask("w").Write("f", -7, 0, "A").Signal("ghost").RevokeKey("k")
	s.Tasks = append(s.Tasks, nil)
	s.Settings = Settings{"fs.layout": {Comment: []string{"lost"}}, "bogus": {}}
	s.Checks.Only = []Invariant{"frob"}
	err := s.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`kernel: unknown kernel version "2.6.99"; expected one of 2.6.12, 2.6.2x, 3.x, afs-2.6.3x`,
		`fs.block-size: block size 3 is not one of 512, 1024, 2048, 4096`,
		`tasks[1]: task is nil`,
		`tasks[0].ops[0].range: offset -7 is negative`,
		`tasks[0].ops[0].fd: write uses fd f, which is not open: it was never opened in this task or in setup`,
		`tasks[0].ops[1].task: signal to unknown task "ghost"; the tasks are w`,
		`tasks[0].ops[2]: revoke-key is an AFS operation; the file system is blockfs`,
		`check.only[0]: unknown invariant "frob"; expected one of page-state, page-ref, wb-record, bio-shape, lock, progress, read-correct, fsync-durable, fsync-error, crash, no-lost-write, cyclic-complete, sync-complete, writepages-error, writeback-index, fs-consistent, rpc-shape, fsync-bounded, dirty-expire`,
		`bogus: Settings has an unknown key "bogus"`,
		`fs.layout: a comment on fs.layout, which is not set (it would not be printed)`,
	}
	got := strings.Split(err.Error(), "\n")
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing error %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(got), len(want), err)
	}
}

func TestFixTable(t *testing.T) {
	want := map[Subsystem][]string{
		SubsysMpage: {"sector-overflow", "wb-integrity", "cyclic-wrap", "cyclic-wrap-deadlock", "boundary-ignored", "wb-integrity-error", "async-write-eio", "towrite-tagging"},
		SubsysAFS: {"kill-pages-loop", "writepages-missing-put", "write-begin-leak", "enospc-stuck-writeback", "key-error-silent-loss",
			"fill-page-offset", "candidate-list-init", "flush-conflict-double-put", "flush-conflict-wait-writeback",
			"store-io-lock", "secondary-page-writeback", "fsync-marker-wait", "flush-conflict-page-leak",
			"setattr-truncate-pagecache", "writepages-sync-error", "store-data-maths", "writepages-towrite"},
	}
	got := map[Subsystem][]string{}
	seen := map[string]bool{}
	for _, f := range KnownFixes() {
		if seen[f.Name] {
			t.Errorf("fix %s listed twice", f.Name)
		}
		seen[f.Name] = true
		got[f.Subsystem] = append(got[f.Subsystem], f.Name)
		if len(f.Versions) == 0 || f.Summary == "" {
			t.Errorf("fix %s has no versions or summary", f.Name)
		}
		for _, v := range f.Versions {
			if v.Subsystem() != f.Subsystem {
				t.Errorf("fix %s (%s) lists kernel %s of subsystem %s", f.Name, f.Subsystem, v, v.Subsystem())
			}
		}
		if g, ok := LookupFix(f.Name); !ok || g.Name != f.Name {
			t.Errorf("LookupFix(%s)", f.Name)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fix table (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"sector-overflow", "wb-integrity", "cyclic-wrap", "cyclic-wrap-deadlock", "boundary-ignored", "wb-integrity-error", "async-write-eio", "towrite-tagging"}, FixesFor(Kernel2_6_12)); d != "" {
		t.Errorf("FixesFor(2.6.12): %s", d)
	}
	// KnownFixes returns copies.
	KnownFixes()[0].Versions[0] = "x"
	if f, _ := LookupFix("sector-overflow"); f.Versions[0] != Kernel2_6_12 {
		t.Errorf("KnownFixes shares the table")
	}
}

func TestInvariants(t *testing.T) {
	if d := cmp.Diff([]string{"page-state", "page-ref", "wb-record", "bio-shape", "lock", "progress",
		"read-correct", "fsync-durable", "fsync-error", "crash", "no-lost-write", "cyclic-complete", "sync-complete", "writepages-error", "writeback-index", "fs-consistent", "rpc-shape", "fsync-bounded", "dirty-expire"}, toStrings(AllInvariants())); d != "" {
		t.Errorf("invariant ids (the registry): %s", d)
	}
	s := builtScenario()
	if d := cmp.Diff([]Invariant{InvPageState, InvPageRef, InvBioShape, InvLock, InvProgress, InvReadCorrect,
		InvFsyncDurable, InvFsyncError, InvNoLostWrite, InvCyclicComplete, InvSyncComplete, InvWritepagesError,
		InvWritebackIndex, InvFsConsistent, InvFsyncBounded}, s.Invariants()); d != "" {
		t.Errorf("all that apply on blockfs without a crash: %s", d)
	}
	s.CheckAllExcept(InvLock, InvWBRecord)
	if slices.Contains(s.Invariants(), InvLock) {
		t.Errorf("except lock still checks lock")
	}
	s.Check(InvFsyncError, InvPageState)
	if d := cmp.Diff([]Invariant{InvPageState, InvFsyncError}, s.Invariants()); d != "" {
		t.Errorf("only: %s", d)
	}
}

func TestWithDefaultsAndClone(t *testing.T) {
	s := builtScenario()
	d := s.WithDefaults()
	b := d.FS.BlockFS
	if b.BlockSize != 1024 || b.Layout != LayoutIndirect || b.Allocator != AllocContiguous || b.NoBH != Off ||
		b.FsyncFlush != Off || b.Capacity != DefaultCapacity || b.Latency != DefaultDiskLatency {
		t.Errorf("blockfs defaults: %+v", b)
	}
	if d.Arch != Arch64 || d.Contract != ContractErrseq || d.Explore.Strategy != PCT(2) || d.Explore.Steps != DefaultSteps ||
		d.Explore.Time != DefaultTime || d.VM.MemoryPages != DefaultMemoryPages {
		t.Errorf("defaults: %+v %+v", d.Explore, d.VM)
	}
	if s.FS.BlockFS.Layout != "" {
		t.Errorf("WithDefaults changed the original")
	}
	c := s.Clone()
	c.Tasks[0].Ops[0].FD = "g"
	c.Tasks[0].Ops[3].Expect.Data[0].Label = "B"
	c.Faults.Plan.Rules[0].Action = faultdisk.Corrupt{}
	c.FS.Files[0].Path = "/other"
	if s.Tasks[0].Ops[0].FD != "f" || s.Tasks[0].Ops[3].Expect.Data[0].Label != "A" ||
		s.Faults.Plan.Rules[0].Action != (faultdisk.Fail{Errno: errno.EIO, Times: faultdisk.Once}) || s.FS.Files[0].Path != "/data" {
		t.Errorf("Clone shares data with the original")
	}
}

// TestCommentsKept: comments survive a round trip where they are, and a
// comment on a default value is printed with the default's text.
func TestCommentsKept(t *testing.T) {
	src := `# before the header
wbsim-scenario v1 # on the header
name c
kernel 3.x
# fixes none is the default, but its comment keeps it
fixes none
fs blockfs
vm
    # the flusher, as the kernel has it
    flusher on
task w
    #
    #  indented comment
    sync # trailing
explore
    # seed 0 is the default
    seed 0
# check all is the default
check all
# at the end
`
	s, err := Parse("c.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := `# before the header
wbsim-scenario v1 # on the header
name c

kernel 3.x
# fixes none is the default, but its comment keeps it
fixes none

fs blockfs

vm
    # the flusher, as the kernel has it
    flusher on

task w
    #
    #  indented comment
    sync # trailing

# check all is the default
check all

explore
    # seed 0 is the default
    seed 0

# at the end
`
	if got := s.String(); got != want {
		t.Errorf("printed:\n%s\nwant:\n%s", got, want)
	}
	if c := s.Tasks[0].Ops[0].Meta.Comment; !cmp.Equal(c, []string{"", " indented comment"}) {
		t.Errorf("op comment %q", c)
	}
}
