package reports

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wbsim/wbsim/sim"
)

// ReplayVersion is the newest replay-file format version. v2 adds the keys
// kernel, fixes and no-fixes; v3 adds program-sha256, written for a
// scenario file. A file is written in the oldest version that holds its
// keys, so builds that know only v1 still read a built-in's replay file.
// This code reads v1 to v3.
const ReplayVersion = 3

const replayMagic = "wbsim-replay"

// ProgramSHA256 is the hex SHA-256 of a scenario file's bytes, as
// ReplayFile.ProgramSHA256 records it.
func ProgramSHA256(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// ReplayFile is a failing (or any) schedule of a program, in a small
// versioned text format that replays it exactly:
//
//	wbsim-replay v3
//	# lines starting with # are comments
//	program: testdata/my.wbs
//	program-sha256: 5d41402abc4b2a76b9719d911017c592...
//	strategy: pct depth=2 k=8
//	kernel: 3.x
//	fixes: sector-overflow, wb-integrity
//	no-fixes: fill-page-offset
//	contract: errseq
//	no-checks: no-lost-write
//	max-steps: 1000000
//	max-time: 3600s
//	step-cost: 1us
//	failure: deadlock [progress]: deadlock: 2 tasks blocked, ... (world, t=4us, step 4, seed 1)
//	signature: deadlock|progress||mutex b
//	shrunk-from: 3
//	schedule: wbsim-schedule v1 seed=1 steps=4 hash=a024e2c2c2de0ea5 : 1.2 1/2 0/2 1/2 0/2
//
// One "key: value" per line, each key at most once, in any order. program
// and schedule are required; the rest is optional. program is a built-in's
// name or, with program-sha256 (v3), a scenario file's path as it was given
// on the command line and the SHA-256 of its bytes. kernel, fixes and
// no-fixes (v2 and later), and contract, checks and no-checks (v3) are the
// Variant: fixes, no-fixes, checks and no-checks are lists separated by
// commas. strategy is checked: a strategy name (random, pct,
// dfs, rr) with key=number parameters, then ", shrunk" if shrunk. A value that would not
// survive the line format (leading or trailing space, a newline, a control
// character, a leading quote) is written as a Go-quoted string. Durations
// use Go's syntax (1h, 1.5ms, 250ns).
type ReplayFile struct {
	Program string // the program to run: a built-in name or a scenario file path
	// ProgramSHA256 is, for a scenario file, the hex SHA-256 of its bytes
	// when the file was written: replay warns when the file has changed.
	// A file with it never names a built-in.
	ProgramSHA256 string
	Strategy      string // how the schedule was found, for people; replay ignores it
	// Variant is the kernel version and fix switches the run changed from
	// the program's; replay runs the same.
	Variant Variant
	// Budgets; zero means sim's default.
	MaxSteps int64
	MaxTime  sim.Time
	StepCost sim.Time
	// Failure is the failure's one-line summary, for people; Signature is
	// Failure.Signature(), which replay and shrink compare ("fails the same
	// way").
	Failure   string
	Signature string
	// ShrunkFrom is the preemption count before shrinking, or nil.
	ShrunkFrom *int
	Log        *sim.DecisionLog
}

// Config is the world configuration the file asks for, with a replay
// strategy following its log.
func (f *ReplayFile) Config() sim.Config {
	return sim.Config{Seed: f.Log.Seed, MaxSteps: f.MaxSteps, MaxTime: f.MaxTime, StepCost: f.StepCost,
		Strategy: sim.NewReplay(f.Log)}
}

// Format writes the file's text form.
func (f *ReplayFile) Format() string {
	var b strings.Builder
	version := 1
	if !f.Variant.IsZero() {
		version = 2
	}
	if v := f.Variant; f.ProgramSHA256 != "" || v.Contract != "" || len(v.Checks) > 0 || len(v.NoChecks) > 0 {
		version = 3
	}
	fmt.Fprintf(&b, "%s v%d\n", replayMagic, version)
	b.WriteString("# A wbsim schedule. Reproduce it with: simrun replay FILE\n")
	b.WriteString("#                  shrink it with:    simrun shrink FILE\n")
	b.WriteString("#                  read it with:      simrun explain FILE\n")
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, quoteIfNeeded(v))
		}
	}
	kv("program", f.Program)
	kv("program-sha256", f.ProgramSHA256)
	kv("strategy", f.Strategy)
	kv("kernel", f.Variant.Kernel)
	kv("fixes", strings.Join(f.Variant.Fixes, ", "))
	kv("no-fixes", strings.Join(f.Variant.NoFixes, ", "))
	kv("contract", f.Variant.Contract)
	kv("checks", strings.Join(f.Variant.Checks, ", "))
	kv("no-checks", strings.Join(f.Variant.NoChecks, ", "))
	if f.MaxSteps != 0 {
		kv("max-steps", strconv.FormatInt(f.MaxSteps, 10))
	}
	if f.MaxTime != 0 {
		kv("max-time", formatDuration(f.MaxTime))
	}
	if f.StepCost != 0 {
		kv("step-cost", formatDuration(f.StepCost))
	}
	kv("failure", f.Failure)
	kv("signature", f.Signature)
	if f.ShrunkFrom != nil {
		kv("shrunk-from", strconv.Itoa(*f.ShrunkFrom))
	}
	if f.Log != nil {
		fmt.Fprintf(&b, "# %d decisions, %d preemptions\n", f.Log.Len(), f.Log.Preemptions())
		kv("schedule", f.Log.String())
	}
	return b.String()
}

// formatDuration prints t in Go duration syntax that parses back exactly.
func formatDuration(t sim.Time) string {
	s := t.String()
	if d, err := time.ParseDuration(s); err == nil && sim.Time(d) == t {
		return s
	}
	return strconv.FormatInt(int64(t), 10) + "ns"
}

func quoteIfNeeded(v string) string {
	need := v != strings.TrimSpace(v) || strings.HasPrefix(v, `"`) || !utf8.ValidString(v)
	for _, r := range v {
		if !unicode.IsPrint(r) {
			need = true
			break
		}
	}
	if need {
		return strconv.Quote(v)
	}
	return v
}

// ParseError is a replay-file error at a line and column (1-based,
// columns in characters).
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// maxReplayLine bounds one line of a replay file (a long decision log
// compresses with *R, so this is generous).
const maxReplayLine = 16 << 20

// ParseReplay reads a replay file's text form. Errors are *ParseError.
func ParseReplay(text string) (*ReplayFile, error) {
	f := &ReplayFile{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), maxReplayLine)
	lineNo := 0
	version := 0 // 0 until the magic line
	seen := map[string]int{}
	perr := func(line int, col int, format string, args ...any) error {
		return &ParseError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := runeCol(line, len(line)-len(strings.TrimLeftFunc(line, unicode.IsSpace)))
		if version == 0 {
			fields := strings.Fields(trimmed)
			if fields[0] != replayMagic {
				return nil, perr(lineNo, indent, "not a wbsim replay file: want %q on the first line", replayMagic+" v1")
			}
			if len(fields) != 2 || !strings.HasPrefix(fields[1], "v") {
				return nil, perr(lineNo, indent, "want %q", replayMagic+" v1")
			}
			v, err := strconv.Atoi(fields[1][1:])
			if err != nil {
				return nil, perr(lineNo, strings.Index(line, fields[1])+1, "bad version %q", fields[1])
			}
			if v < 1 || v > ReplayVersion {
				return nil, perr(lineNo, strings.Index(line, fields[1])+1, "replay file version %d not supported (this build reads v1 to v%d)", v, ReplayVersion)
			}
			version = v
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, perr(lineNo, indent, `want "key: value"`)
		}
		key = strings.TrimSpace(key)
		if prev, dup := seen[key]; dup {
			return nil, perr(lineNo, indent, "%s given twice (first on line %d)", key, prev)
		}
		seen[key] = lineNo
		vstart := len(line) - len(strings.TrimLeftFunc(rest, unicode.IsSpace))
		value := strings.TrimSpace(rest)
		vcol := runeCol(line, vstart)
		if strings.HasPrefix(value, `"`) {
			u, err := strconv.Unquote(value)
			if err != nil {
				return nil, perr(lineNo, vcol, "%s: bad quoted string", key)
			}
			value = u
		}
		var err error
		if need := keyVersion[key]; version < need {
			return nil, perr(lineNo, indent, "%s needs %q (this file says v%d)", key, fmt.Sprintf("%s v%d", replayMagic, need), version)
		}
		switch key {
		case "program":
			if value == "" {
				return nil, perr(lineNo, vcol, "program: empty")
			}
			f.Program = value
		case "program-sha256":
			if len(value) != 64 || strings.Trim(value, "0123456789abcdef") != "" {
				return nil, perr(lineNo, vcol, "program-sha256: want 64 lower-case hex digits, got %q", value)
			}
			f.ProgramSHA256 = value
		case "strategy":
			if col, msg := checkStrategy(value); msg != "" {
				return nil, perr(lineNo, vcol+col, "strategy: %s", msg)
			}
			f.Strategy = value
		case "kernel":
			f.Variant.Kernel = value
		case "fixes":
			f.Variant.Fixes, err = parseNames(value)
		case "no-fixes":
			f.Variant.NoFixes, err = parseNames(value)
		case "contract":
			f.Variant.Contract = value
		case "checks":
			f.Variant.Checks, err = parseNames(value)
		case "no-checks":
			f.Variant.NoChecks, err = parseNames(value)
		case "failure":
			f.Failure = value
		case "signature":
			f.Signature = value
		case "max-steps":
			f.MaxSteps, err = strconv.ParseInt(value, 10, 64)
			if err == nil && f.MaxSteps < 0 {
				err = errors.New("negative")
			}
		case "max-time", "step-cost":
			var d time.Duration
			d, err = time.ParseDuration(value)
			if err == nil && d < 0 {
				err = errors.New("negative")
			}
			if key == "max-time" {
				f.MaxTime = sim.Time(d)
			} else {
				f.StepCost = sim.Time(d)
			}
		case "shrunk-from":
			var n int
			n, err = strconv.Atoi(value)
			if err == nil && n < 0 {
				err = errors.New("negative")
			}
			f.ShrunkFrom = &n
		case "schedule":
			log, col, msg := parseSchedule(value)
			if log != nil {
				col, msg = checkScheduleHeader(log, value)
			}
			if msg != "" {
				return nil, perr(lineNo, vcol+col, "schedule: %s", msg)
			}
			f.Log = log
		default:
			return nil, perr(lineNo, indent, "unknown key %q (this build reads program, program-sha256, strategy, kernel, fixes, no-fixes, max-steps, max-time, step-cost, failure, signature, shrunk-from, schedule)", key)
		}
		if err != nil {
			return nil, perr(lineNo, vcol, "%s: bad value %q: %v", key, value, unwrapNum(err))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, perr(lineNo+1, 1, "%v", err)
	}
	if version == 0 {
		return nil, perr(max(lineNo, 1), 1, "empty file: want %q on the first line", replayMagic+" v1")
	}
	if f.Program == "" {
		return nil, perr(lineNo, 1, "no program: line")
	}
	if f.Log == nil {
		return nil, perr(lineNo, 1, "no schedule: line")
	}
	return f, nil
}

// keyVersion is the replay-file version a key first appeared in (v1 when
// absent).
var keyVersion = map[string]int{"kernel": 2, "fixes": 2, "no-fixes": 2,
	"program-sha256": 3, "contract": 3, "checks": 3, "no-checks": 3}

// strategyParams are the parameters each strategy's text may carry.
var strategyParams = map[string][]string{"random": nil, "pct": {"depth", "k"}, "dfs": {"bound"}, "rr": {"quantum"}}

// checkStrategy checks a strategy line as simrun writes it: a name, its
// key=number parameters, then ", shrunk" if the schedule was shrunk. It
// returns "" or the message and the 0-based character offset of the
// problem.
func checkStrategy(s string) (int, string) {
	body := strings.TrimSuffix(s, ", shrunk")
	fs := fieldsWithOffsets(body)
	if len(fs) == 0 {
		return 0, "empty"
	}
	params, ok := strategyParams[fs[0].text]
	if !ok {
		return 0, fmt.Sprintf("unknown strategy %q (want random, pct, dfs or rr, then its parameters and \", shrunk\" if shrunk)", fs[0].text)
	}
	for _, fl := range fs[1:] {
		k, v, _ := strings.Cut(fl.text, "=")
		col := utf8.RuneCountInString(body[:fl.off])
		if !slices.Contains(params, k) {
			return col, fmt.Sprintf("%s takes %s, not %q", fs[0].text, orNone(params), fl.text)
		}
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
			return col, fmt.Sprintf("%s: want a number at least 0, got %q", k, v)
		}
	}
	return 0, ""
}

func orNone(params []string) string {
	if len(params) == 0 {
		return "no parameters"
	}
	return strings.Join(params, "=N, ") + "=N"
}

// checkScheduleHeader checks what the decision-log parser leaves open: a
// replay needs the seed, steps and hash fields, and steps is a count.
func checkScheduleHeader(log *sim.DecisionLog, s string) (int, string) {
	head, _, _ := strings.Cut(s, ":")
	for _, k := range []string{"seed=", "steps=", "hash="} {
		if !strings.Contains(head, " "+k) {
			return 0, fmt.Sprintf("the header lacks %sN", k)
		}
	}
	col := utf8.RuneCountInString(s[:strings.Index(s, " steps=")+1])
	if log.Steps < 0 {
		return col, fmt.Sprintf("steps=%d: must be at least 0", log.Steps)
	}
	return 0, ""
}

// parseNames parses a fixes list: names separated by commas, none empty,
// none with a space inside.
func parseNames(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" || strings.ContainsFunc(n, unicode.IsSpace) {
			return nil, errors.New("want names separated by commas")
		}
		out = append(out, n)
	}
	return out, nil
}

func unwrapNum(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// runeCol is the 1-based character column of byte offset off in line.
func runeCol(line string, off int) int {
	return utf8.RuneCountInString(line[:off]) + 1
}

var nearColumn = regexp.MustCompile(` near column \d+`)

// parseSchedule parses a decision log and, on error, finds the offending
// field or token: it returns the log, or nil with the 0-based character
// offset of the error in s and a message.
func parseSchedule(s string) (*sim.DecisionLog, int, string) {
	log, err := sim.ParseDecisionLog(s)
	if err == nil {
		return log, 0, ""
	}
	msg := nearColumn.ReplaceAllString(err.Error(), "")
	head, body, ok := strings.Cut(s, ":")
	if !ok {
		return nil, utf8.RuneCountInString(s), msg
	}
	for i, fld := range fieldsWithOffsets(head) {
		var probe string
		switch {
		case i == 0:
			probe = fld.text + " v1 :"
		case strings.HasPrefix(fld.text, "v") && !strings.Contains(fld.text, "="):
			probe = "wbsim-schedule " + fld.text + " :"
		default:
			probe = "wbsim-schedule v1 " + fld.text + " :"
		}
		if _, err := sim.ParseDecisionLog(probe); err != nil {
			return nil, utf8.RuneCountInString(s[:fld.off]), nearColumn.ReplaceAllString(err.Error(), "")
		}
	}
	bodyOff := len(head) + 1
	for _, tok := range fieldsWithOffsets(body) {
		if _, err := sim.ParseDecisionLog("wbsim-schedule v1 : " + tok.text); err != nil {
			return nil, utf8.RuneCountInString(s[:bodyOff+tok.off]), nearColumn.ReplaceAllString(err.Error(), "")
		}
	}
	return nil, 0, msg
}

type field struct {
	text string
	off  int
}

func fieldsWithOffsets(s string) []field {
	var out []field
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		out = append(out, field{s[i:j], i})
		i = j
	}
	return out
}
