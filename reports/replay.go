package reports

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wbsim/wbsim/sim"
)

// ReplayVersion is the newest replay-file format version, the one this
// code writes for a file with a Variant. v2 adds the keys kernel, fixes
// and no-fixes; a file without them is written as v1, which builds that
// know only v1 still read. This code reads both.
const ReplayVersion = 2

const replayMagic = "wbsim-replay"

// ReplayFile is a failing (or any) schedule of a program, in a small
// versioned text format that replays it exactly:
//
//	wbsim-replay v2
//	# lines starting with # are comments
//	program: abba-deadlock
//	strategy: pct depth=2 k=8
//	kernel: 3.x
//	fixes: sector-overflow, wb-integrity
//	no-fixes: fill-page-offset
//	max-steps: 1000000
//	max-time: 3600s
//	step-cost: 1us
//	failure: deadlock [progress]: deadlock: 2 tasks blocked, ... (world, t=4us, step 4, seed 1)
//	signature: deadlock|progress||mutex b
//	shrunk-from: 3
//	schedule: wbsim-schedule v1 seed=1 steps=4 hash=a024e2c2c2de0ea5 : 1.2 1/2 0/2 1/2 0/2
//
// One "key: value" per line, each key at most once, in any order. program
// and schedule are required; the rest is optional. kernel, fixes and
// no-fixes (v2 only) are the Variant: fixes and no-fixes are lists
// separated by commas. A value that would not
// survive the line format (leading or trailing space, a newline, a control
// character, a leading quote) is written as a Go-quoted string. Durations
// use Go's syntax (1h, 1.5ms, 250ns).
type ReplayFile struct {
	Program  string // the program to run: a built-in name or a scenario file path
	Strategy string // how the schedule was found, for people; replay ignores it
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
		version = ReplayVersion
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
		fmt.Fprintf(&b, "# %d decisions, %d preemptions\n", len(f.Log.Choices), f.Log.Preemptions())
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
		switch key {
		case "kernel", "fixes", "no-fixes", "contract", "checks", "no-checks":
			if version < 2 {
				return nil, perr(lineNo, indent, "%s needs %q (this file says v%d)", key, replayMagic+" v2", version)
			}
		}
		switch key {
		case "program":
			if value == "" {
				return nil, perr(lineNo, vcol, "program: empty")
			}
			f.Program = value
		case "strategy":
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
			if log == nil {
				return nil, perr(lineNo, vcol+col, "schedule: %s", msg)
			}
			f.Log = log
		default:
			return nil, perr(lineNo, indent, "unknown key %q (this build reads program, strategy, kernel, fixes, no-fixes, max-steps, max-time, step-cost, failure, signature, shrunk-from, schedule)", key)
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
