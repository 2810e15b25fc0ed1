package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
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
type DecisionLog struct {
	Version int
	Seed    uint64
	Hash    uint64
	Steps   int64
	Choices []Choice
}

// Clone copies the log.
func (l *DecisionLog) Clone() *DecisionLog {
	c := *l
	c.Choices = append([]Choice(nil), l.Choices...)
	return &c
}

// Preemptions counts choices that switched away from a task that could
// have gone on.
func (l *DecisionLog) Preemptions() int {
	n := 0
	for _, c := range l.Choices {
		if c.C != 0 && c.Preemptible {
			n++
		}
	}
	return n
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
	for i := 0; i < len(l.Choices); {
		c := l.Choices[i]
		j := i + 1
		for j < len(l.Choices) && l.Choices[j] == c {
			j++
		}
		sep := "."
		if c.Preemptible {
			sep = "/"
		}
		fmt.Fprintf(&b, " %d%s%d", c.C, sep, c.N)
		if j-i > 1 {
			fmt.Fprintf(&b, "*%d", j-i)
		}
		i = j
	}
	return b.String()
}

// maxLogChoices bounds what a decoder accepts, so a hostile file cannot
// make it allocate without limit.
const maxLogChoices = 1 << 24

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
		if len(l.Choices)+c.reps > maxLogChoices {
			return nil, fmt.Errorf("decision log: more than %d choices", maxLogChoices)
		}
		for range c.reps {
			l.Choices = append(l.Choices, c.Choice)
		}
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
	var runs [][2]int
	for i := 0; i < len(l.Choices); {
		j := i + 1
		for j < len(l.Choices) && l.Choices[j] == l.Choices[i] {
			j++
		}
		runs = append(runs, [2]int{i, j - i})
		i = j
	}
	b = binary.AppendUvarint(b, uint64(len(runs)))
	for _, r := range runs {
		c := l.Choices[r[0]]
		v := uint64(c.C) << 1
		if c.Preemptible {
			v |= 1
		}
		b = binary.AppendUvarint(b, v)
		b = binary.AppendUvarint(b, uint64(c.N))
		b = binary.AppendUvarint(b, uint64(r[1]))
	}
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
		if n < 2 || n > 65535 || c >= n || reps == 0 || uint64(len(out.Choices))+reps > maxLogChoices {
			return errors.New("decision log: corrupt choice run")
		}
		for range reps {
			out.Choices = append(out.Choices, Choice{C: uint16(c), N: uint16(n), Preemptible: v&1 == 1})
		}
	}
	if r.Len() != 0 {
		return errors.New("decision log: trailing bytes")
	}
	*l = out
	return nil
}
