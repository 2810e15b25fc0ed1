package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// LogVersion is the decision-log format version written by this code.
const LogVersion = 1

// Choice is one recorded scheduling decision: candidate C of N.
// Preemptible says the current task could have gone on, so C != 0 was a
// preemption. Points with a single candidate are not recorded.
type Choice struct {
	C, N        uint16
	Preemptible bool
}

// DecisionLog is everything needed to replay a run: the world seed (which
// fixes every draw the model makes) and the strategy's choices. Hash and
// Steps describe the run that produced it, so a replay can confirm it is
// exact.
//
// The choices are kept run-length encoded, as the text form writes them:
// a long serial run (one task writing a 4 GiB file) makes tens of
// millions of decisions, nearly all the same, in a few hundred runs.
type DecisionLog struct {
	Version int
	Seed    uint64
	Hash    uint64
	Steps   int64
	Runs    []ChoiceRun
}

// ChoiceRun is Reps (at least 1) repeats of one choice. A longer stretch
// of one choice is several runs; Append and AppendRun keep that form.
type ChoiceRun struct {
	Choice
	Reps uint16
}

// Append adds one choice.
func (l *DecisionLog) Append(c Choice) { l.AppendRun(c, 1) }

// AppendRun adds reps repeats of c, extending the last run while it has
// the same choice and room.
func (l *DecisionLog) AppendRun(c Choice, reps int) {
	if n := len(l.Runs); n > 0 && l.Runs[n-1].Choice == c {
		last := &l.Runs[n-1]
		add := min(reps, math.MaxUint16-int(last.Reps))
		last.Reps += uint16(add)
		reps -= add
	}
	for reps > 0 {
		r := min(reps, math.MaxUint16)
		l.Runs = append(l.Runs, ChoiceRun{Choice: c, Reps: uint16(r)})
		reps -= r
	}
}

// Len is the number of choices.
func (l *DecisionLog) Len() int {
	n := 0
	for _, r := range l.Runs {
		n += int(r.Reps)
	}
	return n
}

// Choices expands the runs into one choice per decision, for code that
// indexes them (shrinking, exhaustive search); it is a fresh slice.
func (l *DecisionLog) Choices() []Choice {
	out := make([]Choice, 0, l.Len())
	for _, r := range l.Runs {
		for range r.Reps {
			out = append(out, r.Choice)
		}
	}
	return out
}

// Clone copies the log.
func (l *DecisionLog) Clone() *DecisionLog {
	c := *l
	c.Runs = append([]ChoiceRun(nil), l.Runs...)
	return &c
}

// Preemptions counts choices that switched away from a task that could
// have gone on.
func (l *DecisionLog) Preemptions() int {
	n := 0
	for _, r := range l.Runs {
		if r.C != 0 && r.Preemptible {
			n += int(r.Reps)
		}
	}
	return n
}

// merged calls f for each maximal stretch of one choice (runs split at
// 65,535 repeats joined again), as the encodings write them.
func (l *DecisionLog) merged(f func(c Choice, reps int)) {
	for i := 0; i < len(l.Runs); {
		c, reps := l.Runs[i].Choice, 0
		for ; i < len(l.Runs) && l.Runs[i].Choice == c; i++ {
			reps += int(l.Runs[i].Reps)
		}
		f(c, reps)
	}
}

// The text form is one line, stable, small enough for a bug report:
//
//	wbsim-schedule v1 seed=42 steps=311 hash=9f86d081884c7d65 : 0/2*37 1/2 0.3 2/3*4
//
// Each token is C/N (the current task could have gone on) or C.N (it had
// blocked or ended), optionally *R for R repeats.

// LogHelp explains the text form to people; reports and simrun --help
// print it.
const LogHelp = `How to read a schedule line, such as
  wbsim-schedule v1 seed=42 steps=311 hash=9f86d081884c7d65 : 0/2*37 1/2 0.3
v1 is the format; seed fixes every random draw the model makes; steps is how
many scheduling points the run took; hash is a hash of its whole trace, which
a replay must match to be exact. After the colon comes one token per
scheduling point that had more than one runnable task, in order. C/N: the
running task could have gone on and the scheduler picked candidate C of N
(0 lets it go on; any other C is a preemption). C.N: the running task had
blocked or ended, and the scheduler picked C of N. *R repeats a token R
times. "simrun replay FILE" follows the line decision by decision.`

// String encodes the log as text.
func (l *DecisionLog) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wbsim-schedule v%d seed=%d steps=%d hash=%016x :", l.Version, l.Seed, l.Steps, l.Hash)
	l.merged(func(c Choice, reps int) {
		sep := "."
		if c.Preemptible {
			sep = "/"
		}
		fmt.Fprintf(&b, " %d%s%d", c.C, sep, c.N)
		if reps > 1 {
			fmt.Fprintf(&b, "*%d", reps)
		}
	})
	return b.String()
}

// maxLogRuns bounds the runs a decoder builds (8 bytes each), so a hostile
// file cannot make it allocate without limit. It bounds runs, not
// choices: a 1M-page run's 31 million choices are a few hundred runs.
const maxLogRuns = 1 << 24

// ParseDecisionLog decodes the text form. Errors name the token and its
// column.
func ParseDecisionLog(s string) (*DecisionLog, error) {
	s = strings.TrimSpace(s)
	head, body, ok := strings.Cut(s, ":")
	if !ok {
		return nil, errors.New(`decision log: missing ":" between header and choices`)
	}
	l := &DecisionLog{}
	fields := strings.Fields(head)
	if len(fields) == 0 || fields[0] != "wbsim-schedule" {
		return nil, errors.New(`decision log: must start with "wbsim-schedule"`)
	}
	for _, f := range fields[1:] {
		var err error
		switch k, v, _ := strings.Cut(f, "="); {
		case strings.HasPrefix(f, "v") && v == "":
			l.Version, err = strconv.Atoi(f[1:])
			if err == nil && l.Version != LogVersion {
				return nil, fmt.Errorf("decision log: version %d not supported (this build reads v%d)", l.Version, LogVersion)
			}
		case k == "seed":
			l.Seed, err = strconv.ParseUint(v, 10, 64)
		case k == "steps":
			l.Steps, err = strconv.ParseInt(v, 10, 64)
		case k == "hash":
			l.Hash, err = strconv.ParseUint(v, 16, 64)
		default:
			return nil, fmt.Errorf("decision log: unknown header field %q", f)
		}
		if err != nil {
			return nil, fmt.Errorf("decision log: bad header field %q: %v", f, err)
		}
	}
	if l.Version == 0 {
		return nil, errors.New("decision log: missing version (v1)")
	}
	col := len(head) + 2
	for _, tok := range strings.Fields(body) {
		c, err := parseChoiceToken(tok)
		if err != nil {
			return nil, fmt.Errorf("decision log: token %q near column %d: %v", tok, col, err)
		}
		if len(l.Runs)+c.reps/math.MaxUint16 >= maxLogRuns {
			return nil, fmt.Errorf("decision log: more than %d runs of choices", maxLogRuns)
		}
		l.AppendRun(c.Choice, c.reps)
		col += len(tok) + 1
	}
	return l, nil
}

type choiceRun struct {
	Choice
	reps int
}

func parseChoiceToken(tok string) (choiceRun, error) {
	r := choiceRun{reps: 1}
	if base, reps, ok := strings.Cut(tok, "*"); ok {
		n, err := strconv.Atoi(reps)
		if err != nil || n < 1 {
			return r, errors.New("repeat count must be a positive integer")
		}
		r.reps, tok = n, base
	}
	i := strings.IndexAny(tok, "/.")
	if i < 0 {
		return r, errors.New(`want C/N or C.N`)
	}
	r.Preemptible = tok[i] == '/'
	c, err1 := strconv.ParseUint(tok[:i], 10, 16)
	n, err2 := strconv.ParseUint(tok[i+1:], 10, 16)
	if err1 != nil || err2 != nil {
		return r, errors.New("choice and count must be integers below 65536")
	}
	if n < 2 || c >= n {
		return r, errors.New("need 0 <= C < N and N >= 2")
	}
	r.C, r.N = uint16(c), uint16(n)
	return r, nil
}

var binaryMagic = []byte("WBSL")

// MarshalBinary encodes the log compactly: a magic, the version, then
// uvarints: seed, steps, hash, the number of runs, and per run
// (C<<1|preemptible), N, repeats.
func (l *DecisionLog) MarshalBinary() ([]byte, error) {
	b := append([]byte(nil), binaryMagic...)
	b = binary.AppendUvarint(b, uint64(l.Version))
	b = binary.AppendUvarint(b, l.Seed)
	b = binary.AppendUvarint(b, uint64(l.Steps))
	b = binary.AppendUvarint(b, l.Hash)
	n := 0
	l.merged(func(Choice, int) { n++ })
	b = binary.AppendUvarint(b, uint64(n))
	l.merged(func(c Choice, reps int) {
		v := uint64(c.C) << 1
		if c.Preemptible {
			v |= 1
		}
		b = binary.AppendUvarint(b, v)
		b = binary.AppendUvarint(b, uint64(c.N))
		b = binary.AppendUvarint(b, uint64(reps))
	})
	return b, nil
}

// UnmarshalBinary decodes MarshalBinary's form.
func (l *DecisionLog) UnmarshalBinary(data []byte) error {
	if !bytes.HasPrefix(data, binaryMagic) {
		return errors.New("decision log: not a binary wbsim schedule (bad magic)")
	}
	r := bytes.NewReader(data[len(binaryMagic):])
	next := func() (uint64, error) { return binary.ReadUvarint(r) }
	var hdr [5]uint64
	for i := range hdr {
		v, err := next()
		if err != nil {
			return fmt.Errorf("decision log: truncated header: %w", err)
		}
		hdr[i] = v
	}
	if hdr[0] != LogVersion {
		return fmt.Errorf("decision log: version %d not supported (this build reads v%d)", hdr[0], LogVersion)
	}
	out := DecisionLog{Version: int(hdr[0]), Seed: hdr[1], Steps: int64(hdr[2]), Hash: hdr[3]}
	for range hdr[4] {
		v, err1 := next()
		n, err2 := next()
		reps, err3 := next()
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("decision log: truncated choices: %w", err)
		}
		c := v >> 1
		if n < 2 || n > 65535 || c >= n || reps == 0 || uint64(len(out.Runs))+reps/math.MaxUint16 >= maxLogRuns {
			return errors.New("decision log: corrupt choice run")
		}
		out.AppendRun(Choice{C: uint16(c), N: uint16(n), Preemptible: v&1 == 1}, int(reps))
	}
	if r.Len() != 0 {
		return errors.New("decision log: trailing bytes")
	}
	*l = out
	return nil
}
