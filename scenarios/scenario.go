package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// This file holds the scenario data structure and its Go builder API. The
// text form is in parse.go and print.go, validation in validate.go, the
// tables of kernel versions, fixes and invariants in fixes.go. The language
// is documented in docs/scenario-language.md.
//
// A Scenario is plain data: exported fields, no pointers into the model, no
// hidden state. The text form and the Go API are two faces of it: Parse
// returns a valid Scenario, String prints the canonical text, and for a valid
// Scenario s, Parse(name, s.String()) gives a Scenario equal to s under
// go-cmp (cmp.Diff(s, t) is empty). Positions are not part of that equality:
// [Meta.Equal] ignores them.
//
// The zero value of a setting means "not set": the default applies (see
// [Scenario.WithDefaults]). Every statement of the text form sets a non-zero
// value, except the four whose text names the zero value: "fixes none",
// "check all", "flusher on" and "seed 0".

// Version is the version of the scenario text form: the header line is
// "wbsim-scenario v1". A Scenario value is always of the current version.
const Version = 1

// Limits enforced by Parse and Validate. Text that exceeds them is an error,
// never a panic, a hang or a huge allocation.
const (
	MaxScenarioBytes = 1 << 20 // bytes of scenario text
	MaxErrors        = 20      // errors reported by one Parse before it gives up
	MaxTasks         = 64      // tasks, not counting setup
	MaxOpsPerTask    = 10_000  // operations in one task (or setup)
	MaxOps           = 100_000 // operations in the whole scenario
	MaxFiles         = 256     // pre-existing files
	MaxKeys          = 64      // AFS keys
	MaxACL           = 1024    // AFS acl entries
	MaxTags          = 32      // tags
	MaxNameLen       = 64      // bytes in an identifier: name, tag, task, fd, label, bug id
	MaxPathLen       = 256     // bytes in a path or a trace file name
	MaxKeyLen        = faultdisk.MaxNameLen
	MaxTitleLen      = 256      // bytes in a bug's fix title
	MaxTextLen       = 64 << 10 // bytes in a description
	MaxCommentLen    = 1024     // bytes in one comment line
	MaxFileSize      = 1 << 44  // 16 TiB: file offsets, sizes, truncate sizes
	MaxIOLen         = 1 << 30  // 1 GiB: the length of one read or write
	MinCapacity      = 64 << 10 // smallest disk
	MaxCapacity      = 1 << 44  // largest disk (16 TiB)
	MaxDuration      = 24 * 3600 * sim.Second
	MaxMemoryPages   = 1 << 22 // 16 GiB of 4 KiB pages
	MaxSchedules     = 100_000_000
	MaxSteps         = 10_000_000_000
	MaxDepth         = 16 // PCT depth
	MaxBound         = 16 // DFS preemption bound
	MaxQuantum       = 1_000_000
	MaxRepeat        = 1_000_000 // iterations of "repeat N"
	MaxRepeatDepth   = 4         // repeat blocks inside repeat blocks
	MinMemoryBudget  = 1 << 20   // explore memory: 1 MiB
	MaxMemoryBudget  = 1 << 40   // explore memory: 1 TiB
)

// Defaults for settings left at their zero value. VM settings that are not
// listed here (dirty ratios, flusher intervals) default to the modelled
// kernel's own defaults.
const (
	DefaultBlockSize     = 4096
	DefaultLayout        = LayoutIndirect
	DefaultAllocator     = AllocContiguous
	DefaultCapacity      = 64 << 20
	DefaultDiskLatency   = 100 * sim.Microsecond
	DefaultServerLatency = 1 * sim.Millisecond
	DefaultMemoryPages   = 1 << 18 // 1 GiB
	DefaultArch          = Arch64
	DefaultContract      = ContractLinux26
	DefaultStrategy      = StrategyRandom
	DefaultSchedules     = 100
	DefaultSteps         = sim.DefaultMaxSteps
	DefaultTime          = sim.DefaultMaxTime
)

// ---------------------------------------------------------------- positions

// Pos is a position in scenario text: the file name given to Parse, a 1-based
// line and a 1-based column counted in bytes. The zero Pos means "not from
// text" (a Scenario built in Go).
type Pos struct {
	File      string
	Line, Col int
}

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "file:line:col", "line:col" without a file name, or "-" for
// the zero Pos.
func (p Pos) String() string {
	switch {
	case !p.IsValid():
		return "-"
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Meta is what a statement keeps of its source: where it starts, the
// full-line comments just before it (without "#" and one following space),
// and the comment at the end of its own line. Comments are content: they
// are printed back and take part in equality; the position does not.
type Meta struct {
	Pos      Pos
	Comment  []string
	Trailing string
}

// Equal reports whether m and o have the same comments. Positions are
// ignored, so go-cmp compares scenarios from different text (or from Go)
// by content; nil and empty Comment are equal.
func (m Meta) Equal(o Meta) bool {
	return slices.Equal(m.Comment, o.Comment) && m.Trailing == o.Trailing
}

// hasComment reports whether m carries any comment.
func (m Meta) hasComment() bool { return len(m.Comment) > 0 || m.Trailing != "" }

// Metas is a list of Meta parallel to another list (the rules of a fault
// plan). A missing entry is the same as an entry without comments.
type Metas []Meta

// Equal compares element-wise by comments; missing entries count as empty.
func (m Metas) Equal(o Metas) bool {
	for i := range max(len(m), len(o)) {
		var a, b Meta
		if i < len(m) {
			a = m[i]
		}
		if i < len(o) {
			b = o[i]
		}
		if !a.Equal(b) {
			return false
		}
	}
	return true
}

// at returns m[i], or the zero Meta.
func (m Metas) at(i int) Meta {
	if i < len(m) {
		return m[i]
	}
	return Meta{}
}

// Settings holds the Meta of statements that set a field rather than add a
// node: "kernel", "fs.block-size", "vm.flusher", "explore.seed", ... (the
// keys are listed in docs/scenario-language.md and [SettingKeys]). Parse
// records one for every such statement it reads. A missing key is the same
// as a Meta without comments.
type Settings map[string]Meta

// Equal compares the comments of every key in either map; missing keys
// count as empty.
func (s Settings) Equal(o Settings) bool {
	for k, m := range s {
		if !m.Equal(o[k]) {
			return false
		}
	}
	for k, m := range o {
		if !m.Equal(s[k]) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- the scenario

// Scenario is one scenario: what to set up, what the tasks do, what to
// check, how to explore, and what to expect.
type Scenario struct {
	// Meta is the header line "wbsim-scenario v1"; its Comment holds the
	// comment lines before it.
	Meta Meta
	// Name identifies the scenario (letters, digits, "_", "-", "."). Required.
	Name string
	// Tags classify it, for listing and filtering.
	Tags []string
	// Description is free text, lines separated by "\n".
	Description string
	// Bug is the bug-seed catalogue entry, if this scenario is one.
	Bug *Bug

	// Kernel is the modelled kernel version. Required.
	Kernel KernelVersion
	// Arch is 32-bit or 64-bit (the default).
	Arch Arch
	// Fixes names the fix switches that are on, from [KnownFixes]; each must
	// belong to Kernel. Order is kept as written.
	Fixes []string
	// FS is the file system. Required.
	FS FS
	// Faults is the disk's (blockfs) or the file server's (afs) fault plan.
	Faults *FaultPlan
	// VM holds memory, reclaim, dirty thresholds and the flusher.
	VM VM

	// Setup runs to completion before the tasks start; file descriptors it
	// leaves open are shared by every task. Its Name is empty.
	Setup *Task
	// Tasks run concurrently. At least one is required.
	Tasks []*Task

	// Checks selects the invariants; the zero value checks all that apply.
	Checks Checks
	// Contract is the fsync-error contract level.
	Contract Contract
	// Explore is the exploration budget and strategy.
	Explore Explore
	// Expect is the expected outcome.
	Expect Expect

	// Settings holds the source and comments of setting statements.
	Settings Settings
	// EndComment holds the comment lines after the last statement.
	EndComment []string
}

// Bug is a bug-seed catalogue entry: which kernel bug the scenario shows and
// which fix switch makes it pass.
type Bug struct {
	ID          string // catalogue id, an identifier such as "afs-kill-pages-loop"
	Fix         string // title of the fixing commit
	Commit      string // the fixing commit id, 7 to 40 lower-case hex digits
	Switch      string // the fix switch (a name from KnownFixes) that fixes it
	Description string // free text
}

// KernelVersion names a modelled kernel (ARCHITECTURE.md, "Kernel eras and
// fix switches").
type KernelVersion string

// The modelled kernel versions.
const (
	Kernel2_6_12 KernelVersion = "2.6.12"
	Kernel2_6_2x KernelVersion = "2.6.2x"
	Kernel3x     KernelVersion = "3.x"
	KernelAFS    KernelVersion = "afs-2.6.3x"
)

// Arch is the modelled word size.
type Arch string

// Architectures.
const (
	Arch32 Arch = "32-bit"
	Arch64 Arch = "64-bit"
)

// FS is the file system: exactly one of BlockFS and AFS is set.
type FS struct {
	BlockFS *BlockFS
	AFS     *AFS
	// Files exist before the scenario starts, with Size bytes of data
	// already on stable storage. On afs, the Nth file is the server's file
	// id N (the fault plan's "file N").
	Files []File
}

// Kind returns "blockfs", "afs", or "" when neither is set.
func (f FS) Kind() string {
	switch {
	case f.BlockFS != nil:
		return "blockfs"
	case f.AFS != nil:
		return "afs"
	}
	return ""
}

// BlockFS configures the small ext2-like file system and its disk. Zero
// fields take the defaults.
type BlockFS struct {
	BlockSize  int       // 512, 1024, 2048 or 4096
	Layout     Layout    // indirect or extent block mapping
	Allocator  Allocator // how blocks are placed
	NoBH       Switch    // "nobh on": no buffer heads on the write path
	FsyncFlush Switch    // whether fsync issues a disk cache flush (default on)
	Capacity   int64     // disk size in bytes, a multiple of the block size
	Latency    sim.Time  // disk request latency
}

// Layout is the block mapping of blockfs.
type Layout string

// Layouts.
const (
	LayoutIndirect Layout = "indirect"
	LayoutExtent   Layout = "extent"
)

// Allocator is the blockfs block allocator.
type Allocator string

// Allocators.
const (
	AllocContiguous  Allocator = "contiguous"
	AllocFragmented  Allocator = "fragmented"
	AllocInterleaved Allocator = "interleaved"
)

// Switch is an on/off setting; the zero value takes the default.
type Switch string

// Switch values.
const (
	On  Switch = "on"
	Off Switch = "off"
)

// AFS configures the AFS client and the simulated file server.
type AFS struct {
	Latency sim.Time // server round-trip latency
	Keys    []Key
	ACL     []ACL
}

// Key is an AFS key (a user's token) known to the server.
type Key struct {
	Meta  Meta
	Name  string
	State KeyState // the key's state when the scenario starts
}

// KeyState is the state of a key; the zero value is valid.
type KeyState string

// Key states. An expired, revoked or rejected key makes the server refuse
// requests with EKEYEXPIRED, EKEYREVOKED or EKEYREJECTED.
const (
	KeyValid    KeyState = "valid"
	KeyExpired  KeyState = "expired"
	KeyRevoked  KeyState = "revoked"
	KeyRejected KeyState = "rejected"
)

// ACL grants a key rights on a declared file. A file without acl entries is
// open to every key; a file with some is open only to the keys they name.
type ACL struct {
	Meta   Meta
	Path   string
	Key    string
	Rights Rights
}

// Rights are the rights an ACL entry grants; write implies read.
type Rights string

// Rights.
const (
	RightsNone  Rights = "none"
	RightsRead  Rights = "read"
	RightsWrite Rights = "write"
)

// File is a file that exists when the scenario starts.
type File struct {
	Meta Meta
	Path string
	Size int64
}

// FaultPlan is the fault plan of the disk (blockfs) or of the file server
// (afs), in faultdisk's vocabulary.
type FaultPlan struct {
	Plan *faultdisk.Plan
	// RuleMeta holds the source of each rule, parallel to Plan.Rules (it
	// may be shorter, or nil, for a plan built in Go).
	RuleMeta Metas
}

// VM holds the memory-management settings. Zero fields take the modelled
// kernel's defaults (memory: DefaultMemoryPages).
type VM struct {
	MemoryPages  int64 // total RAM in pages; sizes the dirty thresholds
	ReclaimLimit int64 // page-cache pages allowed before direct reclaim; 0: no reclaim
	// Dirty thresholds, either as a percentage of memory (dirty_ratio,
	// dirty_background_ratio) or in pages (dirty_bytes / page size), not both.
	DirtyRatio           int
	DirtyBackgroundRatio int
	DirtyPages           int64
	DirtyBackgroundPages int64
	Flusher              Flusher
}

// Flusher configures the periodic writeback flusher (pdflush, later the bdi
// flusher threads). The zero value is the kernel's flusher with its default
// intervals.
type Flusher struct {
	Off      bool     // no periodic writeback at all
	Interval sim.Time // dirty_writeback_interval
	Expire   sim.Time // dirty_expire_interval
}

// Task is a modelled kernel task: a process running a sequence of system
// calls.
type Task struct {
	Meta Meta
	Name string
	Ops  []Op
}

// OpKind is the kind of an operation, as written in the text form.
type OpKind string

// Operations.
const (
	OpOpen       OpKind = "open"
	OpWrite      OpKind = "write"
	OpPWrite     OpKind = "pwrite"
	OpRead       OpKind = "read"
	OpMmapWrite  OpKind = "mmap-write"
	OpFsync      OpKind = "fsync"
	OpFdatasync  OpKind = "fdatasync"
	OpMsync      OpKind = "msync"
	OpSync       OpKind = "sync"
	OpTruncate   OpKind = "truncate"
	OpClose      OpKind = "close"
	OpSleep      OpKind = "sleep"
	OpCrash      OpKind = "crash"
	OpDropCaches OpKind = "drop-caches"
	OpSignal     OpKind = "signal"
	OpRevokeKey  OpKind = "revoke-key"
	OpExpireKey  OpKind = "expire-key"
	OpRepeat     OpKind = "repeat"
	OpDevice     OpKind = "device"
	OpServer     OpKind = "server"
	OpAfterCrash OpKind = "after crash"
	OpStat       OpKind = "stat"
)

// CrashMode is what a crash op keeps of the disk's volatile cache and of
// the writes in flight (faultdisk's crash modes), or CrashEnumerate: every
// crash state, each checked.
type CrashMode string

// Crash modes. The zero CrashMode is CrashDropAll.
const (
	CrashDropAll    CrashMode = "drop-all"    // every write not yet durable is lost
	CrashKeepAll    CrashMode = "keep-all"    // every completed write is kept (a battery-backed cache)
	CrashKeepRandom CrashMode = "keep-random" // each non-durable write kept whole or lost (seeded)
	CrashTear       CrashMode = "tear"        // each also torn at sector granularity (seeded)
	CrashEnumerate  CrashMode = "enumerate"   // every distinct crash state (faultdisk.CrashStates)
)

// crashModes lists the crash modes in documentation order.
var crashModes = []CrashMode{CrashDropAll, CrashKeepAll, CrashKeepRandom, CrashTear, CrashEnumerate}

// Crash enumeration limits: "crash enumerate" checks at most
// DefaultCrashStates states, "crash enumerate max N" at most N, 1 to
// MaxCrashStates.
const (
	DefaultCrashStates = 10_000
	MaxCrashStates     = 100_000
)

// AtPos as an Op's Offset means "at the file position" (write and read
// without an offset).
const AtPos int64 = -1

// Op is one operation of a task. Which fields are used depends on Kind:
//
//	open        FD Path [Key] [Flags]     Key (as KEY) on afs only, and required there
//	write       FD [Offset] Len Label     Offset AtPos: at the file position
//	pwrite      FD Offset Len Label       does not move the file position
//	read        FD [Offset] Len           Offset AtPos: at the file position
//	mmap-write  FD Offset Len Label       a store through a shared mapping
//	fsync       FD
//	fdatasync   FD
//	msync       FD [Async]                msync of a shared mapping of the whole file: MS_SYNC, or MS_ASYNC
//	sync
//	truncate    FD Size                   ftruncate
//	close       FD
//	sleep       Dur
//	crash                                 power loss, then remount; every fd is closed
//	drop-caches                           echo 1 > /proc/sys/vm/drop_caches
//	signal      Task                      interrupts the task's interruptible sleeps
//	revoke-key  Key                       afs only
//	expire-key  Key                       afs only
//	repeat      Count | Until, Body       runs Body Count times, or until task Until is done
//	device      Table                     loads a disk table now (blockfs): ok, error, offline, flakey, drop-writes
//	server      Table                     loads a server table now (afs): ok, fail OPS ERRNO
//	crash       [Crash [Torn] [Max]]      the mode; enumerate: Torn, and Max states at most
//	after crash Body                      right after a crash: Body runs on the remounted file system
//	stat        FD                        fstat: "expect size N" judges st_size
//
// A repeat runs its Body, the operations of its block, Count times
// ("repeat N"), or again and again until the task named Until has run
// all its operations ("repeat until TASK done"; the body runs at least
// once, as Pascal's repeat-until, and the run's step and time budgets
// bound it). Each write of a repeated body writes fresh data; its label
// names the last iteration's.
//
// Expect, if set, is what the call must return.
type Op struct {
	Meta   Meta
	Kind   OpKind
	FD     string
	Path   string
	Key    string
	Flags  OpenFlags
	Offset int64
	Len    int64
	Label  string
	Size   int64
	Dur    sim.Time
	Task   string
	Async  bool            // msync: MS_ASYNC instead of MS_SYNC
	Count  int64           // repeat N
	Until  string          // repeat until TASK done
	Body   []Op            // repeat, after crash: the block's operations
	Table  faultdisk.Table // device, server: the faults from now on
	// crash
	Crash  CrashMode // "" is drop-all
	Torn   bool      // enumerate torn: sectors of a write in flight land or not
	Max    int64     // enumerate max N (0: DefaultCrashStates)
	Expect Result
}

// OpenFlags are open(2) flags. Without RdOnly or WrOnly a file is opened
// O_RDWR; open always has O_CREAT.
type OpenFlags uint8

// Open flags.
const (
	RdOnly OpenFlags = 1 << iota
	WrOnly
	Trunc
	Append
	OSync
	openFlagsEnd
)

var openFlagNames = []struct {
	f    OpenFlags
	name string
}{{RdOnly, "rdonly"}, {WrOnly, "wronly"}, {Trunc, "trunc"}, {Append, "append"}, {OSync, "sync"}}

// String returns the flags in text form, space-separated in canonical order.
func (f OpenFlags) String() string {
	var w []string
	for _, n := range openFlagNames {
		if f&n.f != 0 {
			w = append(w, n.name)
		}
	}
	if rest := f &^ (openFlagsEnd - 1); rest != 0 {
		w = append(w, fmt.Sprintf("flags(%#x)", uint8(rest)))
	}
	return strings.Join(w, " ")
}

// ResultKind says what an expectation on an operation's result is.
type ResultKind string

// Result kinds. The zero ResultKind means no expectation.
const (
	ResultOK    ResultKind = "ok"    // the call succeeds
	ResultErrno ResultKind = "errno" // the call fails with Errno
	ResultData  ResultKind = "data"  // a read returns exactly Data (no runs: 0 bytes, EOF)
	ResultSize  ResultKind = "size"  // a stat finds the file Size bytes long
)

// Result is an expected result of an operation.
type Result struct {
	Kind  ResultKind
	Errno errno.Errno
	Data  []Run
	Size  int64 // ResultSize
}

// Run is a run of bytes in an expected read: Len bytes written by the write
// labelled Label (the byte at file offset x being that write's byte for x),
// or zeros if Label is "".
type Run struct {
	Label string
	Len   int64
}

// Checks selects invariants. With neither list set, every invariant that
// applies to the scenario is checked; Only checks just those; Except checks
// all that apply but those.
type Checks struct {
	Only   []Invariant
	Except []Invariant
}

// Contract is the fsync-error contract level that the fsync-error
// invariant checks.
type Contract string

// Contract levels.
const (
	// ContractLinux26: the first fsync (or close) after a writeback error
	// sees AS_EIO/AS_ENOSPC, once, whoever calls it.
	ContractLinux26 Contract = "linux-2.6"
	// ContractErrseq: every open file description sees each writeback
	// error once (errseq_t, Linux 4.13).
	ContractErrseq Contract = "errseq"
	// ContractErrseqOnce: errseq, and a description opened after an error
	// that no description has seen yet sees it once too (Linux 4.17,
	// b4678df184b3 "errseq: Always report a writeback error once").
	ContractErrseqOnce Contract = "errseq-once"
)

// contracts lists the contract levels, oldest first.
var contracts = []Contract{ContractLinux26, ContractErrseq, ContractErrseqOnce}

// Contracts lists the fsync-error contract levels, oldest first.
func Contracts() []Contract { return slices.Clone(contracts) }

// Explore is the exploration budget and strategy.
type Explore struct {
	Strategy  Strategy
	Schedules int      // schedules (seeds) to run
	Steps     int64    // scheduling points per schedule
	Time      sim.Time // virtual time per schedule
	Seed      uint64   // the first seed
	// Memory is the memory, in bytes, that all the worlds of one command
	// may need at once (simrun's --memory-budget, which overrides it). 0:
	// the command's default.
	Memory int64
}

// StrategyKind names a scheduling strategy.
type StrategyKind string

// Strategies.
const (
	StrategyRandom StrategyKind = "random" // random walk
	StrategyPCT    StrategyKind = "pct"    // probabilistic concurrency testing, Depth
	StrategyDFS    StrategyKind = "dfs"    // bounded exhaustive search, Bound preemptions
	StrategyRR     StrategyKind = "rr"     // round-robin, Quantum (0: no preemption)
)

// Strategy is a scheduling strategy and its parameter.
type Strategy struct {
	Kind    StrategyKind
	Depth   int // pct: bug depth, at least 1
	Bound   int // dfs: preemption bound
	Quantum int // rr: scheduling points per turn, 0 for none
}

// Outcome is an expected outcome.
type Outcome string

// Outcomes. The zero Outcome means nothing is expected.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeFailure Outcome = "failure"
)

// Expect is what the scenario is expected to do under exploration.
type Expect struct {
	Outcome Outcome
	// Failure is, for OutcomeFailure, the invariant id or the failure kind
	// (deadlock, livelock, time-budget, bug) that some schedule must hit.
	Failure string
	// Trace is a golden trace file, relative to the scenario file.
	Trace string
}

// ---------------------------------------------------------------- builders

// New returns a scenario with a name and a kernel version. Add a file
// system with OnBlockFS or OnAFS, and tasks with AddTask.
func New(name string, kernel KernelVersion) *Scenario {
	return &Scenario{Name: name, Kernel: kernel}
}

// OnBlockFS sets the file system to blockfs with options b (zero fields take
// the defaults).
func (s *Scenario) OnBlockFS(b BlockFS) *Scenario {
	s.FS.BlockFS, s.FS.AFS = &b, nil
	return s
}

// OnAFS sets the file system to AFS with options a.
func (s *Scenario) OnAFS(a AFS) *Scenario {
	s.FS.AFS, s.FS.BlockFS = &a, nil
	return s
}

// AddFile declares a file that exists with size bytes when the scenario
// starts.
func (s *Scenario) AddFile(path string, size int64) *Scenario {
	s.FS.Files = append(s.FS.Files, File{Path: path, Size: size})
	return s
}

// AddKey declares an AFS key (state "" is valid). OnAFS must come first.
func (s *Scenario) AddKey(name string, state KeyState) *Scenario {
	if s.FS.AFS == nil {
		s.FS.AFS = &AFS{}
	}
	s.FS.AFS.Keys = append(s.FS.AFS.Keys, Key{Name: name, State: state})
	return s
}

// Grant adds an AFS acl entry: key has rights on path.
func (s *Scenario) Grant(path, key string, rights Rights) *Scenario {
	if s.FS.AFS == nil {
		s.FS.AFS = &AFS{}
	}
	s.FS.AFS.ACL = append(s.FS.AFS.ACL, ACL{Path: path, Key: key, Rights: rights})
	return s
}

// WithTags appends tags.
func (s *Scenario) WithTags(tags ...string) *Scenario {
	s.Tags = append(s.Tags, tags...)
	return s
}

// WithDescription sets the description.
func (s *Scenario) WithDescription(text string) *Scenario {
	s.Description = text
	return s
}

// WithFixes turns fix switches on.
func (s *Scenario) WithFixes(names ...string) *Scenario {
	s.Fixes = append(s.Fixes, names...)
	return s
}

// WithArch sets the word size.
func (s *Scenario) WithArch(a Arch) *Scenario {
	s.Arch = a
	return s
}

// WithFaults sets the fault plan.
func (s *Scenario) WithFaults(p *faultdisk.Plan) *Scenario {
	s.Faults = &FaultPlan{Plan: p}
	return s
}

// WithVM sets the memory-management settings.
func (s *Scenario) WithVM(vm VM) *Scenario {
	s.VM = vm
	return s
}

// AddTask appends a task and returns it, for chaining its operations.
func (s *Scenario) AddTask(name string) *Task {
	t := &Task{Name: name}
	s.Tasks = append(s.Tasks, t)
	return t
}

// SetupTask returns the setup task, creating it if needed.
func (s *Scenario) SetupTask() *Task {
	if s.Setup == nil {
		s.Setup = &Task{}
	}
	return s.Setup
}

// Check checks only the given invariants.
func (s *Scenario) Check(ids ...Invariant) *Scenario {
	s.Checks = Checks{Only: ids}
	return s
}

// CheckAllExcept checks every invariant that applies but ids.
func (s *Scenario) CheckAllExcept(ids ...Invariant) *Scenario {
	s.Checks = Checks{Except: ids}
	return s
}

// WithContract sets the fsync-error contract level.
func (s *Scenario) WithContract(c Contract) *Scenario {
	s.Contract = c
	return s
}

// WithExplore sets the exploration budget and strategy.
func (s *Scenario) WithExplore(e Explore) *Scenario {
	s.Explore = e
	return s
}

// ExpectOK expects every explored schedule to pass.
func (s *Scenario) ExpectOK() *Scenario {
	s.Expect.Outcome, s.Expect.Failure = OutcomeOK, ""
	return s
}

// ExpectFailure expects some schedule to fail on the invariant (or failure
// kind) id.
func (s *Scenario) ExpectFailure(id string) *Scenario {
	s.Expect.Outcome, s.Expect.Failure = OutcomeFailure, id
	return s
}

// ExpectTrace names a golden trace file, relative to the scenario file.
func (s *Scenario) ExpectTrace(path string) *Scenario {
	s.Expect.Trace = path
	return s
}

// Random, PCT, DFS and RR make strategies.
func Random() Strategy               { return Strategy{Kind: StrategyRandom} }
func PCT(depth int) Strategy         { return Strategy{Kind: StrategyPCT, Depth: depth} }
func DFS(bound int) Strategy         { return Strategy{Kind: StrategyDFS, Bound: bound} }
func RR(quantum int) Strategy        { return Strategy{Kind: StrategyRR, Quantum: quantum} }
func Data(label string, n int64) Run { return Run{Label: label, Len: n} }
func Zeros(n int64) Run              { return Run{Len: n} }

func (t *Task) add(op Op) *Task {
	t.Ops = append(t.Ops, op)
	return t
}

// Open opens path as fd (creating it if needed).
func (t *Task) Open(fd, path string, flags OpenFlags) *Task {
	return t.add(Op{Kind: OpOpen, FD: fd, Path: path, Flags: flags})
}

// OpenAs opens path as fd with an AFS key.
func (t *Task) OpenAs(fd, path, key string, flags OpenFlags) *Task {
	return t.add(Op{Kind: OpOpen, FD: fd, Path: path, Key: key, Flags: flags})
}

// Write writes n bytes labelled label at off (AtPos: at the file position).
func (t *Task) Write(fd string, off, n int64, label string) *Task {
	return t.add(Op{Kind: OpWrite, FD: fd, Offset: off, Len: n, Label: label})
}

// PWrite writes n bytes labelled label at off without moving the position.
func (t *Task) PWrite(fd string, off, n int64, label string) *Task {
	return t.add(Op{Kind: OpPWrite, FD: fd, Offset: off, Len: n, Label: label})
}

// Read reads n bytes at off (AtPos: at the file position).
func (t *Task) Read(fd string, off, n int64) *Task {
	return t.add(Op{Kind: OpRead, FD: fd, Offset: off, Len: n})
}

// MmapWrite stores n bytes labelled label at off through a shared mapping.
func (t *Task) MmapWrite(fd string, off, n int64, label string) *Task {
	return t.add(Op{Kind: OpMmapWrite, FD: fd, Offset: off, Len: n, Label: label})
}

// Fsync calls fsync(fd).
func (t *Task) Fsync(fd string) *Task { return t.add(Op{Kind: OpFsync, FD: fd}) }

// Fdatasync calls fdatasync(fd).
func (t *Task) Fdatasync(fd string) *Task { return t.add(Op{Kind: OpFdatasync, FD: fd}) }

// Msync calls msync(2) on a shared mapping of the whole file: MS_SYNC, or
// MS_ASYNC if async.
func (t *Task) Msync(fd string, async bool) *Task {
	return t.add(Op{Kind: OpMsync, FD: fd, Async: async})
}

// Sync calls sync().
func (t *Task) Sync() *Task { return t.add(Op{Kind: OpSync}) }

// Truncate calls ftruncate(fd, size).
func (t *Task) Truncate(fd string, size int64) *Task {
	return t.add(Op{Kind: OpTruncate, FD: fd, Size: size})
}

// Close calls close(fd).
func (t *Task) Close(fd string) *Task { return t.add(Op{Kind: OpClose, FD: fd}) }

// Sleep sleeps for d of virtual time.
func (t *Task) Sleep(d sim.Time) *Task { return t.add(Op{Kind: OpSleep, Dur: d}) }

// Crash crashes the machine (power loss) and remounts.
func (t *Task) Crash() *Task { return t.add(Op{Kind: OpCrash}) }

// Stat calls fstat(fd).
func (t *Task) Stat(fd string) *Task { return t.add(Op{Kind: OpStat, FD: fd}) }

// CrashMode crashes the machine in mode ("crash keep-random").
func (t *Task) CrashMode(mode CrashMode) *Task { return t.add(Op{Kind: OpCrash, Crash: mode}) }

// CrashEnumerate checks every crash state ("crash enumerate [torn] [max
// N]"; max 0: the default cap).
func (t *Task) CrashEnumerate(torn bool, max int64) *Task {
	return t.add(Op{Kind: OpCrash, Crash: CrashEnumerate, Torn: torn, Max: max})
}

// AfterCrash adds "after crash" with the operations body adds to its
// block: they run on the remounted file system of each crash state.
func (t *Task) AfterCrash(body func(b *Task)) *Task {
	b := &Task{}
	body(b)
	return t.add(Op{Kind: OpAfterCrash, Body: b.Ops})
}

// DropCaches drops clean page-cache pages.
func (t *Task) DropCaches() *Task { return t.add(Op{Kind: OpDropCaches}) }

// Device loads a disk fault table now (blockfs), as dmsetup load + resume.
func (t *Task) Device(tab faultdisk.Table) *Task { return t.add(Op{Kind: OpDevice, Table: tab}) }

// Server loads an AFS server fault table now (afs).
func (t *Task) Server(tab faultdisk.Table) *Task { return t.add(Op{Kind: OpServer, Table: tab}) }

// Signal sends a signal to the task named task.
func (t *Task) Signal(task string) *Task { return t.add(Op{Kind: OpSignal, Task: task}) }

// RevokeKey revokes an AFS key.
func (t *Task) RevokeKey(key string) *Task { return t.add(Op{Kind: OpRevokeKey, Key: key}) }

// ExpireKey expires an AFS key.
func (t *Task) ExpireKey(key string) *Task { return t.add(Op{Kind: OpExpireKey, Key: key}) }

// Repeat adds "repeat n" with the operations body adds to its block.
func (t *Task) Repeat(n int64, body func(b *Task)) *Task {
	b := &Task{}
	body(b)
	return t.add(Op{Kind: OpRepeat, Count: n, Body: b.Ops})
}

// RepeatUntil adds "repeat until task done" with the operations body adds
// to its block.
func (t *Task) RepeatUntil(task string, body func(b *Task)) *Task {
	b := &Task{}
	body(b)
	return t.add(Op{Kind: OpRepeat, Until: task, Body: b.Ops})
}

// last returns the last operation, or nil.
func (t *Task) last() *Op {
	if len(t.Ops) == 0 {
		return nil
	}
	return &t.Ops[len(t.Ops)-1]
}

// ExpectOK expects the last operation to succeed.
func (t *Task) ExpectOK() *Task {
	if op := t.last(); op != nil {
		op.Expect = Result{Kind: ResultOK}
	}
	return t
}

// ExpectErr expects the last operation to fail with e.
func (t *Task) ExpectErr(e errno.Errno) *Task {
	if op := t.last(); op != nil {
		op.Expect = Result{Kind: ResultErrno, Errno: e}
	}
	return t
}

// ExpectData expects the last operation, a read, to return exactly runs (no
// runs: 0 bytes, end of file).
func (t *Task) ExpectData(runs ...Run) *Task {
	if op := t.last(); op != nil {
		op.Expect = Result{Kind: ResultData, Data: runs}
	}
	return t
}

// Comment sets the comment lines before the last operation (before the task
// line if it has no operation yet).
func (t *Task) Comment(lines ...string) *Task {
	if op := t.last(); op != nil {
		op.Meta.Comment = lines
	} else {
		t.Meta.Comment = lines
	}
	return t
}

// ---------------------------------------------------------------- accessors

// AllTasks returns the setup task (if any) followed by the tasks (nil
// entries left out).
func (s *Scenario) AllTasks() []*Task {
	var ts []*Task
	if s.Setup != nil {
		ts = append(ts, s.Setup)
	}
	for _, t := range s.Tasks {
		if t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}

// TaskByName returns the task named name, or nil.
func (s *Scenario) TaskByName(name string) *Task {
	for _, t := range s.Tasks {
		if t != nil && t.Name == name {
			return t
		}
	}
	return nil
}

// HasFix reports whether the fix switch name is on.
func (s *Scenario) HasFix(name string) bool { return slices.Contains(s.Fixes, name) }

// HasOp reports whether some task (or setup) performs an operation of kind k.
func (s *Scenario) HasOp(k OpKind) bool {
	found := false
	for _, t := range s.AllTasks() {
		EachOp(t.Ops, "", func(op *Op, _ string) { found = found || op.Kind == k })
	}
	return found
}

// EachOp calls fn for every operation of ops in text order, the block of
// a repeat right after the repeat, with the operation's field path below
// prefix ("tasks[0].ops" gives "tasks[0].ops[2]" and, in the block of
// that repeat, "tasks[0].ops[2].body[0]").
func EachOp(ops []Op, prefix string, fn func(op *Op, path string)) {
	for i := range ops {
		p := fmt.Sprintf("%s[%d]", prefix, i)
		fn(&ops[i], p)
		EachOp(ops[i].Body, p+".body", fn)
	}
}

// Invariants returns the invariants to check, in the order of
// [AllInvariants]: Checks applied to the ones that apply to the scenario.
func (s *Scenario) Invariants() []Invariant {
	crashes := s.HasOp(OpCrash)
	if len(s.Checks.Only) > 0 {
		var l []Invariant
		for _, id := range AllInvariants() {
			if slices.Contains(s.Checks.Only, id) {
				l = append(l, id)
			}
		}
		return l
	}
	var l []Invariant
	for _, id := range AllInvariants() {
		if s.applies(id, crashes) == "" && !slices.Contains(s.Checks.Except, id) {
			l = append(l, id)
		}
	}
	return l
}

// applies returns "" if invariant id applies to s, else why not. crashes
// is s.HasOp(OpCrash).
func (s *Scenario) applies(id Invariant, crashes bool) string {
	switch id {
	case InvWBRecord:
		if s.FS.AFS == nil {
			return "it checks AFS writeback records and the file system is not afs"
		}
	case InvBioShape:
		if s.FS.BlockFS == nil {
			return "it checks block I/O and the file system is not blockfs"
		}
	case InvFsConsistent:
		if s.FS.BlockFS == nil {
			return "it checks blockfs's metadata and the file system is not blockfs"
		}
	case InvRPCShape:
		if s.FS.AFS == nil {
			return "it checks AFS requests and the file system is not afs"
		}
	case InvCrash:
		if !crashes {
			return "no task crashes"
		}
	case InvDirtyExpire:
		if s.VM.Flusher.Off {
			return "it judges the periodic flusher, and the flusher is off"
		}
	}
	return ""
}

// WithDefaults returns a deep copy of s with every unset setting that has a
// language default filled in: block size, layout, allocator, switches,
// capacity, latencies, memory, arch, contract and the exploration budget. The
// VM thresholds and flusher intervals stay zero: the model supplies the
// kernel's own.
func (s *Scenario) WithDefaults() *Scenario {
	c := s.Clone()
	if b := c.FS.BlockFS; b != nil {
		b.BlockSize = cmpOr(b.BlockSize, DefaultBlockSize)
		b.Layout = cmpOr(b.Layout, DefaultLayout)
		b.Allocator = cmpOr(b.Allocator, DefaultAllocator)
		b.NoBH = cmpOr(b.NoBH, Off)
		b.FsyncFlush = cmpOr(b.FsyncFlush, On)
		b.Capacity = cmpOr(b.Capacity, DefaultCapacity)
		b.Latency = cmpOr(b.Latency, DefaultDiskLatency)
	}
	if a := c.FS.AFS; a != nil {
		a.Latency = cmpOr(a.Latency, DefaultServerLatency)
		for i := range a.Keys {
			a.Keys[i].State = cmpOr(a.Keys[i].State, KeyValid)
		}
	}
	c.VM.MemoryPages = cmpOr(c.VM.MemoryPages, DefaultMemoryPages)
	c.Arch = cmpOr(c.Arch, DefaultArch)
	c.Contract = cmpOr(c.Contract, DefaultContract)
	c.Explore.Strategy.Kind = cmpOr(c.Explore.Strategy.Kind, DefaultStrategy)
	c.Explore.Schedules = cmpOr(c.Explore.Schedules, DefaultSchedules)
	c.Explore.Steps = cmpOr(c.Explore.Steps, DefaultSteps)
	c.Explore.Time = cmpOr(c.Explore.Time, DefaultTime)
	return c
}

func cmpOr[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// Clone returns a deep copy of s. The fault plan's rules are copied; their
// actions are immutable values and are shared.
func (s *Scenario) Clone() *Scenario {
	c := *s
	c.Meta = s.Meta.clone()
	c.Tags = slices.Clone(s.Tags)
	if s.Bug != nil {
		b := *s.Bug
		c.Bug = &b
	}
	c.Fixes = slices.Clone(s.Fixes)
	if s.FS.BlockFS != nil {
		b := *s.FS.BlockFS
		c.FS.BlockFS = &b
	}
	if s.FS.AFS != nil {
		a := *s.FS.AFS
		a.Keys = slices.Clone(a.Keys)
		for i := range a.Keys {
			a.Keys[i].Meta = a.Keys[i].Meta.clone()
		}
		a.ACL = slices.Clone(a.ACL)
		for i := range a.ACL {
			a.ACL[i].Meta = a.ACL[i].Meta.clone()
		}
		c.FS.AFS = &a
	}
	c.FS.Files = slices.Clone(s.FS.Files)
	for i := range c.FS.Files {
		c.FS.Files[i].Meta = c.FS.Files[i].Meta.clone()
	}
	if s.Faults != nil {
		f := FaultPlan{RuleMeta: slices.Clone(s.Faults.RuleMeta)}
		for i := range f.RuleMeta {
			f.RuleMeta[i] = f.RuleMeta[i].clone()
		}
		if s.Faults.Plan != nil {
			f.Plan = &faultdisk.Plan{Rules: slices.Clone(s.Faults.Plan.Rules)}
		}
		c.Faults = &f
	}
	c.Setup = s.Setup.clone()
	c.Tasks = make([]*Task, len(s.Tasks))
	for i, t := range s.Tasks {
		c.Tasks[i] = t.clone()
	}
	if s.Tasks == nil {
		c.Tasks = nil
	}
	c.Checks = Checks{Only: slices.Clone(s.Checks.Only), Except: slices.Clone(s.Checks.Except)}
	if s.Settings != nil {
		c.Settings = make(Settings, len(s.Settings))
		for k, m := range s.Settings {
			c.Settings[k] = m.clone()
		}
	}
	c.EndComment = slices.Clone(s.EndComment)
	return &c
}

func (m Meta) clone() Meta {
	m.Comment = slices.Clone(m.Comment)
	return m
}

func (t *Task) clone() *Task {
	if t == nil {
		return nil
	}
	return &Task{Meta: t.Meta.clone(), Name: t.Name, Ops: cloneOps(t.Ops)}
}

func cloneOps(ops []Op) []Op {
	c := slices.Clone(ops)
	for i := range c {
		c[i].Meta = c[i].Meta.clone()
		c[i].Expect.Data = slices.Clone(c[i].Expect.Data)
		c[i].Body = cloneOps(c[i].Body)
	}
	return c
}
