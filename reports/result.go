package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wbsim/wbsim/sim"
)

// Schema and SchemaVersion identify result.json. A reader must reject a
// version it does not know; fields are only added within a version.
const (
	Schema        = "wbsim-result"
	SchemaVersion = 1
)

// Result is the content of result.json: the deterministic outcome of one
// simrun command over one or more programs. It has no wall-clock field;
// those are in Timing (timing.json).
type Result struct {
	Schema   string          `json:"schema"`
	Version  int             `json:"version"`
	Command  string          `json:"command"` // tour, run, explore, merge
	Programs []ProgramResult `json:"programs"`
}

// NewResult makes an empty result of the current schema.
func NewResult(command string) *Result {
	return &Result{Schema: Schema, Version: SchemaVersion, Command: command, Programs: []ProgramResult{}}
}

// Expectations of a program result.
const (
	ExpectPass = "pass" // a failure found is a failure (the usual case)
	ExpectFind = "find" // a failure must be found (a planted bug, a scenario's "expect failure ID")
	ExpectAny  = "any"  // informational: either outcome is fine
)

// Reasons a run stopped before its budget (ProgramResult.Stopped): such a
// run is incomplete, and a verdict of "no failure" from it means nothing.
const (
	StoppedInterrupted   = "interrupted"    // SIGINT or SIGTERM
	StoppedTimeLimit     = "time-limit"     // --time ran out
	StoppedNoSchedules   = "no-schedules"   // no schedule ran at all
	StoppedMissingShards = "missing-shards" // a merge lacks some shards
)

// ProgramResult is one program explored with one strategy over one seed
// range (or one shard of it).
type ProgramResult struct {
	Program string `json:"program"`
	// Path and ProgramSHA256 are, for a scenario file, its path as given on
	// the command line and the hex SHA-256 of its bytes (as in replay
	// files): merge re-runs that file, never a built-in of the same name.
	Path          string   `json:"path,omitempty"`
	ProgramSHA256 string   `json:"program_sha256,omitempty"`
	Description   string   `json:"description,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	// Label tells runs of one program apart within a result (the tour runs
	// each program with several strategies); "" when there is one.
	Label string `json:"label,omitempty"`
	// Variant is the kernel version and fix switches the run changed from
	// the program's own (absent: none).
	Variant   Variant      `json:"variant,omitzero"`
	Strategy  StrategyInfo `json:"strategy"`
	Seeds     SeedRange    `json:"seeds"`
	Budget    Budget       `json:"budget"`
	KeepGoing bool         `json:"keep_going"`
	Expect    string       `json:"expect"`
	// ExpectFailure is, with Expect "find", the failure the scenario's
	// "expect failure ID" names (an invariant id or a failure kind); ""
	// when any failure will do.
	ExpectFailure string `json:"expect_failure,omitempty"`
	// Schedules is the number of schedules that count: every one run, or
	// without keep_going, those up to the first failure.
	Schedules int `json:"schedules"`
	// Exhausted is set for exhaustive search: every schedule within the
	// bound was run.
	Exhausted *bool `json:"exhausted,omitempty"`
	// Stopped is "" for a run that finished, or why it stopped before its
	// budget (the Stopped* constants): the run is incomplete.
	Stopped string `json:"stopped,omitempty"`
	// FailuresFound counts every failing schedule; Failures lists them, or
	// with keep_going at most MaxFailures of them, the lowest seeds.
	FailuresFound int             `json:"failures_found"`
	MaxFailures   int             `json:"max_failures,omitempty"`
	Failures      []FailureInfo   `json:"failures"`
	Minimal       *Minimal        `json:"minimal,omitempty"`
	Invariants    []InvariantInfo `json:"invariants,omitempty"`
	// Elapsed is the wall-clock time the run took, for junit.xml's time
	// attributes; result.json leaves it out, to stay deterministic.
	Elapsed time.Duration `json:"-"`
	// TraceGolden is the golden file of a scenario's "expect trace FILE"
	// the run was compared with; TraceDiff is the difference (want -, got
	// +), "" when the narrated trace matched.
	TraceGolden string `json:"trace_golden,omitempty"`
	TraceDiff   string `json:"trace_diff,omitempty"`
	// Reproduced is set by replay: whether the recorded outcome was
	// reproduced exactly (same trace hash, same failure or pass). False
	// makes the verdict FAIL.
	Reproduced *bool `json:"reproduced,omitempty"`
	// Warnings are what a reader of the verdict must know: a replayed
	// scenario file that changed since, a replay that did not reproduce.
	Warnings []string `json:"warnings,omitempty"`
	OK       bool     `json:"ok"`
}

// Key identifies a program result for merging shards: everything but the
// shard index and the outcome.
func (p *ProgramResult) Key() string {
	return fmt.Sprintf("%s|%s|%s|%s|%d|%d|%d|%v|%d|%+v", p.Program, p.Label, p.Variant.Flags(), p.Strategy.Text, p.Seeds.First,
		p.Seeds.Count, p.Seeds.Shards, p.KeepGoing, p.MaxFailures, p.Budget)
}

// Name is the program, label and variant, for headings.
func (p *ProgramResult) Name() string {
	s := p.Program
	if p.Label != "" {
		s += " [" + p.Label + "]"
	}
	if !p.Variant.IsZero() {
		s += " (" + p.Variant.Flags() + ")"
	}
	return s
}

// Variant is how a run changes a scenario's kernel version and fix
// switches (simrun's --version, --fix and --no-fix). The zero Variant runs
// the program as it is. A replay file records it, so that a replay runs
// the same code.
type Variant struct {
	Kernel  string   `json:"kernel,omitempty"`   // the kernel version instead of the scenario's
	Fixes   []string `json:"fixes,omitempty"`    // fix switches turned on
	NoFixes []string `json:"no_fixes,omitempty"` // fix switches left off
	// Contract, Checks and NoChecks are simrun's --contract, --check and
	// --no-check: the fsync-error contract and invariants instead of the
	// scenario's.
	Contract string   `json:"contract,omitempty"`
	Checks   []string `json:"checks,omitempty"`
	NoChecks []string `json:"no_checks,omitempty"`
}

// IsZero reports whether v changes nothing.
func (v Variant) IsZero() bool {
	return v.Kernel == "" && len(v.Fixes) == 0 && len(v.NoFixes) == 0 &&
		v.Contract == "" && len(v.Checks) == 0 && len(v.NoChecks) == 0
}

// Flags is v as simrun's flags: "--version 3.x --fix a --no-fix b".
func (v Variant) Flags() string {
	var parts []string
	if v.Kernel != "" {
		parts = append(parts, "--version "+v.Kernel)
	}
	for _, f := range v.Fixes {
		parts = append(parts, "--fix "+f)
	}
	for _, f := range v.NoFixes {
		parts = append(parts, "--no-fix "+f)
	}
	if v.Contract != "" {
		parts = append(parts, "--contract "+v.Contract)
	}
	for _, c := range v.Checks {
		parts = append(parts, "--check "+c)
	}
	for _, c := range v.NoChecks {
		parts = append(parts, "--no-check "+c)
	}
	return strings.Join(parts, " ")
}

// Judge sets OK from Expect, Failures and Stopped: an expected failure
// found is a pass, an unexpected one a failure, and a run that stopped
// before its budget without a verdict either way is not OK (incomplete).
func (p *ProgramResult) Judge() {
	switch p.Verdict() {
	case VerdictOK, VerdictExpected:
		p.OK = true
	default:
		p.OK = false
	}
}

// Verdicts of a program result.
const (
	VerdictOK         = "ok"         // no failure, as expected, in a complete run
	VerdictExpected   = "expected"   // the expected failure was found
	VerdictFail       = "FAIL"       // an unexpected failure, or the expected one not found in a complete run
	VerdictIncomplete = "INCOMPLETE" // stopped before its budget with no failure that decides
)

// Verdict judges the result (Judge sets OK from it). With Expect "find"
// and no ExpectFailure, every failure is the expected kind.
func (p *ProgramResult) Verdict() string {
	expected, unexpected := 0, 0
	for i := range p.Failures {
		if p.IsExpected(&p.Failures[i]) {
			expected++
		} else {
			unexpected++
		}
	}
	switch {
	case p.Reproduced != nil && !*p.Reproduced:
		return VerdictFail
	case p.Expect == ExpectAny:
		return VerdictOK
	case unexpected > 0, p.TraceDiff != "":
		return VerdictFail
	case expected > 0:
		return VerdictExpected
	case p.Incomplete() != "":
		return VerdictIncomplete
	case p.Expect == ExpectFind:
		return VerdictFail // complete, and the expected failure was not found
	}
	return VerdictOK
}

// Incomplete says why the result covers less than its budget, or "": the
// run stopped early (Stopped), or, when a failure must be found, it is
// one shard of a seed range (the other shards may find it; merge judges).
func (p *ProgramResult) Incomplete() string {
	switch {
	case p.Stopped != "":
		return "stopped (" + p.Stopped + ") after " + strconv.Itoa(p.Schedules) + " schedules, before its budget"
	case p.Expect == ExpectFind && len(p.Seeds.Done) < p.Seeds.Shards:
		return "shard " + p.Seeds.ShardText() + " of the seed range only: the expected failure is not in it, and merge judges the whole"
	}
	return ""
}

// IsExpected says whether failure f is what the program expects to find.
func (p *ProgramResult) IsExpected(f *FailureInfo) bool {
	return p.Expect == ExpectFind && (f.Expected || p.ExpectFailure == "")
}

// StrategyInfo names the strategy and its parameters.
type StrategyInfo struct {
	Name    string `json:"name"` // random, pct, rr, dfs, replay
	Depth   int    `json:"depth,omitempty"`
	K       int64  `json:"k,omitempty"`
	Bound   int    `json:"bound,omitempty"`
	Quantum int    `json:"quantum,omitempty"`
	Text    string `json:"text"` // all of it in one line: "pct depth=2 k=8"
}

// Line is the strategy in one line, as Text and a replay file's strategy
// line give it ("pct depth=2 k=8", "dfs bound=2", "rr quantum=3",
// "random"); K 0 (not measured) is left out.
func (in StrategyInfo) Line() string {
	switch in.Name {
	case "pct":
		if in.K > 0 {
			return fmt.Sprintf("pct depth=%d k=%d", in.Depth, in.K)
		}
		return fmt.Sprintf("pct depth=%d", in.Depth)
	case "dfs":
		return fmt.Sprintf("dfs bound=%d", in.Bound)
	case "rr":
		return fmt.Sprintf("rr quantum=%d", in.Quantum)
	}
	return in.Name
}

// SeedRange is the seeds a result covers: First .. First+Count-1, of
// which this result ran the positions i with i % Shards in Done.
type SeedRange struct {
	First  uint64 `json:"first"`
	Count  int    `json:"count"`
	Shards int    `json:"shards"`
	Done   []int  `json:"done"` // shard indices included, sorted
}

// Budget is the per-world budgets.
type Budget struct {
	MaxSteps   int64 `json:"max_steps"`
	MaxTimeNS  int64 `json:"max_time_ns"`
	StepCostNS int64 `json:"step_cost_ns"`
}

// BudgetOf gives cfg's budgets with sim's defaults filled in.
func BudgetOf(cfg sim.Config) Budget {
	b := Budget{MaxSteps: cfg.MaxSteps, MaxTimeNS: int64(cfg.MaxTime), StepCostNS: int64(cfg.StepCost)}
	if b.MaxSteps == 0 {
		b.MaxSteps = sim.DefaultMaxSteps
	}
	if b.MaxTimeNS == 0 {
		b.MaxTimeNS = int64(sim.DefaultMaxTime)
	}
	if b.StepCostNS == 0 {
		b.StepCostNS = int64(sim.DefaultStepCost)
	}
	return b
}

// Config turns the budget back into a sim.Config.
func (b Budget) Config() sim.Config {
	return sim.Config{MaxSteps: b.MaxSteps, MaxTime: sim.Time(b.MaxTimeNS), StepCost: sim.Time(b.StepCostNS)}
}

// FailureInfo is one failing schedule.
type FailureInfo struct {
	Kind        string   `json:"kind"`
	Invariant   string   `json:"invariant,omitempty"`
	Message     string   `json:"message"`
	Summary     string   `json:"summary"` // Failure.Error(): kind, invariant, message, task, time, step, seed
	Explain     string   `json:"explain,omitempty"`
	Waits       []string `json:"waits,omitempty"`
	Task        string   `json:"task,omitempty"`
	Object      string   `json:"object,omitempty"`
	TimeNS      int64    `json:"time_ns"`
	Time        string   `json:"time"`
	Step        int64    `json:"step"`
	Seed        uint64   `json:"seed"`
	Hash        string   `json:"hash"`
	Preemptions int      `json:"preemptions"`
	Decisions   int      `json:"decisions"`
	Signature   string   `json:"signature"`
	// Expected is set when the failure is the one the scenario's
	// "expect failure ID" names: a finding, not a regression.
	Expected bool   `json:"expected,omitempty"`
	Replay   string `json:"replay,omitempty"` // path relative to the output directory
	Schedule string `json:"schedule"`         // DecisionLog.String()
}

// NewFailureInfo summarises a failing result. The Go stack of a panic or
// BUG is left out: it holds addresses that change from run to run.
func NewFailureInfo(r *sim.Result) FailureInfo {
	f := r.Failure
	fi := FailureInfo{
		Kind: string(f.Kind), Invariant: f.Invariant, Message: f.Msg, Summary: f.Error(), Explain: f.Explain,
		Waits: f.Waits, Task: f.Task, Object: f.Obj.String(), TimeNS: int64(f.Time), Time: f.Time.String(),
		Step: f.Step, Seed: r.Seed, Hash: fmt.Sprintf("%016x", r.Hash), Signature: f.Signature(),
	}
	if r.Log != nil {
		fi.Schedule = r.Log.String()
		fi.Preemptions = r.Log.Preemptions()
		fi.Decisions = r.Log.Len()
	}
	return fi
}

// Text is the failure's report as plain text: summary, object,
// explanation, waits and schedule.
func (f *FailureInfo) Text() string {
	var b bytes.Buffer
	b.WriteString(f.Summary)
	b.WriteByte('\n')
	if f.Object != "" {
		fmt.Fprintf(&b, "  object: %s\n", f.Object)
	}
	if f.Explain != "" {
		fmt.Fprintf(&b, "  %s\n", f.Explain)
	}
	for _, w := range f.Waits {
		fmt.Fprintf(&b, "  %s\n", w)
	}
	fmt.Fprintf(&b, "  schedule: %d decision%s, %d preemption%s\n  %s\n", f.Decisions, plural(f.Decisions), f.Preemptions, plural(f.Preemptions), f.Schedule)
	if f.Replay != "" {
		fmt.Fprintf(&b, "  replay: simrun replay %s (a path in the report's directory)\n", f.Replay)
	}
	return b.String()
}

// Minimal is the shrunk form of the first failure.
type Minimal struct {
	Seed              uint64 `json:"seed"`
	PreemptionsBefore int    `json:"preemptions_before"`
	PreemptionsAfter  int    `json:"preemptions_after"`
	Decisions         int    `json:"decisions"`
	Hash              string `json:"hash"`
	Signature         string `json:"signature"`
	Schedule          string `json:"schedule"`
	Replay            string `json:"replay,omitempty"`
}

// InvariantInfo is an invariant the program checks.
type InvariantInfo struct {
	ID   string `json:"id"`
	What string `json:"what"`
}

// Timing is timing.json: the wall-clock figures, kept apart so that
// result.json stays byte-identical between runs.
type Timing struct {
	ElapsedSeconds     float64 `json:"elapsed_seconds"`
	Schedules          int     `json:"schedules"`
	SchedulesPerSecond float64 `json:"schedules_per_second"`
	Steps              int64   `json:"steps"`
	Workers            int     `json:"workers"`
}

// MarshalResult encodes r as indented JSON with a final newline.
func MarshalResult(r *Result) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseResult decodes result.json, checking the schema and version.
func ParseResult(data []byte) (*Result, error) {
	var probe struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a result.json: %v", jsonErrorWithLine(data, err))
	}
	if probe.Schema != Schema {
		return nil, fmt.Errorf("not a result.json: schema is %q, want %q", probe.Schema, Schema)
	}
	if probe.Version != SchemaVersion {
		return nil, fmt.Errorf("result.json version %d not supported (this build reads version %d)", probe.Version, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("bad result.json: %v", jsonErrorWithLine(data, err))
	}
	return &r, nil
}

// ReadResult reads and parses a result.json file.
func ReadResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseResult(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// jsonErrorWithLine adds line:col to a JSON syntax or type error.
func jsonErrorWithLine(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d:%d: %v", line, col, err)
}

// WriteJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ShardText prints a seed range's shards as "i/n" or "all".
func (s SeedRange) ShardText() string {
	if s.Shards <= 1 {
		return "all"
	}
	if len(s.Done) == s.Shards {
		return "all " + strconv.Itoa(s.Shards) + " shards"
	}
	out := ""
	for i, d := range s.Done {
		if i > 0 {
			out += ","
		}
		out += strconv.Itoa(d)
	}
	return out + "/" + strconv.Itoa(s.Shards)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
