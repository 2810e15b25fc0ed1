package faultdisk

import (
	"errors"
	"fmt"
	"github.com/wbsim/wbsim/sim"
	"math"
	"strconv"
	"strings"

	"github.com/wbsim/wbsim/internal/lex"
	"github.com/wbsim/wbsim/sim/errno"
)

// This file holds the text form of plans: the printer (String methods) and
// the parser (Parse). The grammar is in docs/fault-plans.md.

// ---------------------------------------------------------------- printing

// String returns the canonical text of the plan: the header line, then one
// line per rule. For a valid plan, Parse(p.String()) returns an equal plan.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "faultplan v%d\n", Version)
	for _, r := range p.Rules {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String returns the canonical text of the rule, one line without newline,
// such as "write sectors 1000..2000 after 2: fail EIO times 2". An Offline
// rule on any operation prints in its short form, "offline from 1s until 2s".
func (r Rule) String() string {
	if _, ok := r.Action.(Offline); ok && r.Match.Ops == 0 {
		if c := r.Match.conds(); c != "" {
			return "offline " + c
		}
		return "offline"
	}
	act := "<no action>"
	if r.Action != nil {
		act = r.Action.String()
	}
	return r.Match.String() + ": " + act
}

// String returns the canonical text of the match: the operations ("any" if
// empty), then the conditions in a fixed order.
func (m Match) String() string {
	if c := m.conds(); c != "" {
		return m.Ops.String() + " " + c
	}
	return m.Ops.String()
}

// conds prints the conditions in canonical order.
func (m Match) conds() string {
	var w []string
	if !m.Sectors.IsZero() {
		w = append(w, "sectors "+m.Sectors.String())
	}
	if m.File != 0 {
		w = append(w, "file "+strconv.FormatUint(m.File, 10))
	}
	if !m.Bytes.IsZero() {
		w = append(w, "bytes "+m.Bytes.String())
	}
	if m.Key != "" {
		w = append(w, "key "+quoteName(m.Key))
	}
	if m.Site != "" {
		w = append(w, "site "+quoteName(m.Site))
	}
	if m.Nth != 0 {
		w = append(w, "nth "+strconv.FormatInt(m.Nth, 10))
	}
	if m.After != 0 {
		w = append(w, "after "+strconv.FormatInt(m.After, 10))
	}
	if m.From != 0 {
		w = append(w, "from "+formatDuration(m.From))
	}
	if m.Until != 0 {
		w = append(w, "until "+formatDuration(m.Until))
	}
	if !m.Flakey.IsZero() {
		w = append(w, "flakey up "+formatDuration(m.Flakey.Up)+" down "+formatDuration(m.Flakey.Down))
	}
	if m.Prob != 0 {
		w = append(w, "prob "+strconv.FormatFloat(m.Prob, 'g', -1, 64))
	}
	return strings.Join(w, " ")
}

// String returns "fail EIO", "fail EIO once" or "fail EIO times N".
func (a Fail) String() string {
	switch a.Times {
	case Always:
		return "fail " + a.Errno.String()
	case Once:
		return "fail " + a.Errno.String() + " once"
	}
	return "fail " + a.Errno.String() + " times " + strconv.FormatInt(a.Times, 10)
}

// String returns "transient EIO".
func (a Transient) String() string { return "transient " + a.Errno.String() }

// String returns "latent EIO".
func (a Latent) String() string { return "latent " + a.Errno.String() }

// String returns "misdirect +8" or "misdirect -8".
func (a Misdirect) String() string {
	if a.Delta > 0 {
		return "misdirect +" + strconv.FormatInt(a.Delta, 10)
	}
	return "misdirect " + strconv.FormatInt(a.Delta, 10)
}

// String returns "misdirect to 5000".
func (a MisdirectTo) String() string { return "misdirect to " + strconv.FormatInt(a.Sector, 10) }

// String returns "corrupt".
func (Corrupt) String() string { return "corrupt" }

// String returns "latency 5ms".
func (a Latency) String() string { return "latency " + formatDuration(a.Extra) }

// String returns "offline".
func (Offline) String() string { return "offline" }

// String returns "drop".
func (Drop) String() string { return "drop" }

// String returns "partial 512" or "partial 512 EIO".
func (a Partial) String() string {
	s := "partial " + strconv.FormatInt(a.Bytes, 10)
	if a.Errno != 0 {
		s += " " + a.Errno.String()
	}
	return s
}

// planLang is the fault-plan language's tokens: ":" and "," separate, and
// a stray carriage return is white space.
var planLang = lex.Lang{Separators: true, SkipCR: true}

// quoteName prints a key or site name, bare if it can be, else Go-quoted.
func quoteName(s string) string { return planLang.Quote(s) }

// formatDuration prints ns as sim.Time does: exactly, "1.5s", "250us".
func formatDuration(ns int64) string { return sim.Time(ns).String() }

// ---------------------------------------------------------------- parsing

// ParseError is a syntax or validity error in plan text, at a 1-based line
// and column (counted in bytes). Its message does not include a file name;
// callers prepend one.
type ParseError struct {
	Line, Col int
	Msg       string
}

// Error returns "line:col: msg".
func (e *ParseError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

type token = lex.Token

const (
	tWord   = lex.Word
	tString = lex.String
	tColon  = lex.Colon
	tComma  = lex.Comma
	tEOL    = lex.EOL
)

// lexLine splits one line (without newline) into tokens ending with tEOL; a
// comment is dropped.
func lexLine(line string, lineNo int) ([]token, *ParseError) {
	toks, _, err := planLang.Line(line)
	if err != nil {
		return nil, &ParseError{lineNo, err.Col, err.Msg}
	}
	return toks, nil
}

// Parse parses plan text: a header line "faultplan v1", then one rule per
// line, with blank lines and # comments. The returned plan is valid. An error
// is a *ParseError.
func Parse(text string) (*Plan, error) {
	if len(text) > MaxPlanBytes {
		return nil, &ParseError{1, 1, fmt.Sprintf("the plan is %d bytes long; the limit is %d", len(text), MaxPlanBytes)}
	}
	p := &Plan{}
	header := false
	lineNo := 0
	for rest := text; rest != ""; {
		var line string
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, ""
		}
		lineNo++
		toks, perr := lexLine(line, lineNo)
		if perr != nil {
			return nil, perr
		}
		if toks[0].Kind == tEOL {
			continue
		}
		ps := &lineParser{Tokens: lex.NewTokens(toks, 0), line: lineNo}
		if !header {
			if err := ps.header(); err != nil {
				return nil, err
			}
			header = true
			continue
		}
		if len(p.Rules) == MaxRules {
			return nil, &ParseError{lineNo, toks[0].Col, fmt.Sprintf("too many rules; the limit is %d", MaxRules)}
		}
		r, err := ps.rule()
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, r)
	}
	if !header {
		return nil, &ParseError{lineNo + 1, 1, `expected the header "faultplan v1", got end of input`}
	}
	return p, nil
}

type lineParser struct {
	lex.Tokens
	line int
	cols map[string]int // column of each field's keyword, for validation errors
}

func (ps *lineParser) errAt(t token, format string, args ...any) *ParseError {
	return &ParseError{ps.line, t.Col, fmt.Sprintf(format, args...)}
}

func (ps *lineParser) expected(t token, what string) *ParseError {
	return ps.errAt(t, "expected %s, got %s", what, t.Describe())
}

func (ps *lineParser) header() error {
	t := ps.Next()
	if t.Kind != tWord || t.Text != "faultplan" {
		return ps.expected(t, `the header "faultplan v1"`)
	}
	v := ps.Next()
	if v.Kind != tWord || len(v.Text) < 2 || v.Text[0] != 'v' {
		return ps.expected(v, `a version such as v1`)
	}
	if v.Text != "v1" {
		return ps.errAt(v, "unsupported version %s (this build reads v%d)", v.Describe(), Version)
	}
	if t := ps.Next(); t.Kind != tEOL {
		return ps.expected(t, "end of line after the header")
	}
	return nil
}

var opByName = map[string]Op{
	"read": OpRead, "write": OpWrite, "flush": OpFlush, "fua-write": OpFUAWrite,
	"alloc": OpAlloc, "store": OpStore, "fetch": OpFetch,
}

const (
	opList     = "read, write, flush, fua-write, alloc, store, fetch"
	condList   = "sectors, file, bytes, key, site, nth, after, from, until, flakey, prob"
	actionList = "fail, transient, latent, misdirect, corrupt, latency, offline, partial, drop"
)

func isCondKeyword(s string) bool {
	switch s {
	case "sectors", "file", "bytes", "key", "site", "nth", "after", "from", "until", "flakey", "prob":
		return true
	}
	return false
}

// rule parses one rule line.
func (ps *lineParser) rule() (Rule, error) {
	var r Rule
	ps.cols = map[string]int{}
	first := ps.Peek()
	ps.cols["ops"] = first.Col
	switch {
	case first.Kind == tWord && first.Text == "offline":
		// Short form: "offline <conditions>" is "any <conditions>: offline".
		ps.Next()
		ps.cols["action"] = first.Col
		if err := ps.conditions(&r.Match); err != nil {
			return r, err
		}
		if t := ps.Peek(); t.Kind != tEOL {
			if t.Kind == tColon {
				return r, ps.errAt(t, `"offline" is a whole rule and takes no action after ":"; write "<ops> <conditions>: offline" to limit it to some operations`)
			}
			return r, ps.expected(t, "a condition ("+condList+") or end of line")
		}
		r.Action = Offline{}
	default:
		if first.Kind == tWord && (first.Text == "any" || opByName[first.Text] != 0) {
			ops, err := ps.ops()
			if err != nil {
				return r, err
			}
			r.Match.Ops = ops
		} else if first.Kind != tWord || !isCondKeyword(first.Text) {
			return r, ps.expected(first, "an operation ("+opList+"), \"any\", a condition, or \"offline\"")
		}
		if err := ps.conditions(&r.Match); err != nil {
			return r, err
		}
		if t := ps.Next(); t.Kind != tColon {
			return r, ps.expected(t, `a condition (`+condList+`) or ":" and an action`)
		}
		a, err := ps.action()
		if err != nil {
			return r, err
		}
		r.Action = a
		if t := ps.Peek(); t.Kind != tEOL {
			return r, ps.errAt(t, "unexpected %s after the action", t.Describe())
		}
	}
	if e := validateRule(&r); e != nil {
		col, ok := ps.cols[e.field]
		if !ok {
			col = first.Col
		}
		return r, &ParseError{ps.line, col, e.msg}
	}
	return r, nil
}

// ops parses "any" or op {"," op}.
func (ps *lineParser) ops() (OpSet, *ParseError) {
	t := ps.Next()
	if t.Text == "any" {
		if c := ps.Peek(); c.Kind == tComma {
			return 0, ps.errAt(c, `"any" cannot be combined with other operations`)
		}
		return 0, nil
	}
	s := Ops(opByName[t.Text])
	for ps.Peek().Kind == tComma {
		ps.Next()
		t := ps.Next()
		o := opByName[t.Text]
		if t.Kind != tWord || o == 0 {
			if t.Kind == tWord && t.Text == "any" {
				return 0, ps.errAt(t, `"any" cannot be combined with other operations`)
			}
			return 0, ps.expected(t, "an operation ("+opList+")")
		}
		if s.Has(o) {
			return 0, ps.errAt(t, "operation %s given twice", o)
		}
		s |= Ops(o)
	}
	return s, nil
}

// conditions parses conditions until ":" or end of line.
func (ps *lineParser) conditions(m *Match) *ParseError {
	for {
		t := ps.Peek()
		if t.Kind != tWord || !isCondKeyword(t.Text) {
			if t.Kind == tWord && (opByName[t.Text] != 0 || t.Text == "any") {
				return ps.errAt(t, "operations come first, before the conditions, separated by commas: %s", t.Describe())
			}
			return nil
		}
		ps.Next()
		if _, dup := ps.cols[t.Text]; dup {
			return ps.errAt(t, "%s given twice", t.Text)
		}
		ps.cols[t.Text] = t.Col
		var err *ParseError
		switch t.Text {
		case "sectors":
			m.Sectors, err = ps.rangeArg()
		case "bytes":
			m.Bytes, err = ps.rangeArg()
		case "file":
			a := ps.Next()
			var n uint64
			if n, err = ps.uintArg(a, "a file id such as 3"); err == nil && n == 0 {
				err = ps.errAt(a, "file ids start at 1")
			}
			m.File = n
		case "key", "site":
			var s string
			s, err = ps.nameArg(t.Text)
			if t.Text == "key" {
				m.Key = s
			} else {
				m.Site = s
			}
		case "nth", "after":
			a := ps.Next()
			var n uint64
			n, err = ps.uintArg(a, "a count such as 3")
			if err == nil && n == 0 {
				err = ps.errAt(a, "%s counts from 1", t.Text)
			} else if err == nil && n > math.MaxInt64 {
				err = ps.errAt(a, "%s %s is too large", t.Text, a.Text)
			}
			if t.Text == "nth" {
				m.Nth = int64(n)
			} else {
				m.After = int64(n)
			}
		case "from":
			m.From, err = ps.durationArg()
		case "until":
			a := ps.Peek()
			if m.Until, err = ps.durationArg(); err == nil && m.Until == 0 {
				err = ps.errAt(a, "until 0s is an empty window")
			}
		case "flakey":
			for _, want := range []string{"up", "down"} {
				if w := ps.Next(); w.Kind != tWord || w.Text != want {
					return ps.expected(w, fmt.Sprintf("%q and a duration (flakey up 10ms down 2ms)", want))
				}
				var d int64
				if d, err = ps.durationArg(); err != nil {
					return err
				}
				if want == "up" {
					m.Flakey.Up = d
				} else {
					m.Flakey.Down = d
				}
			}
		case "prob":
			m.Prob, err = ps.probArg()
		}
		if err != nil {
			return err
		}
	}
}

// action parses the action after ":".
func (ps *lineParser) action() (Action, *ParseError) {
	t := ps.Next()
	ps.cols["action"] = t.Col
	if t.Kind != tWord {
		return nil, ps.expected(t, "an action ("+actionList+")")
	}
	switch t.Text {
	case "fail":
		e, err := ps.errnoArg()
		if err != nil {
			return nil, err
		}
		f := Fail{Errno: e}
		switch w := ps.Peek(); {
		case w.Kind == tWord && w.Text == "always":
			ps.Next()
		case w.Kind == tWord && w.Text == "once":
			ps.Next()
			f.Times = Once
		case w.Kind == tWord && w.Text == "times":
			ps.Next()
			a := ps.Next()
			n, err := ps.uintArg(a, "a count such as 2")
			if err != nil {
				return nil, err
			}
			if n == 0 || n > math.MaxInt64 {
				return nil, ps.errAt(a, "times must be between 1 and %d", int64(math.MaxInt64))
			}
			f.Times = int64(n)
		}
		return f, nil
	case "transient":
		e, err := ps.errnoArg()
		return Transient{Errno: e}, err
	case "latent":
		e, err := ps.errnoArg()
		return Latent{Errno: e}, err
	case "misdirect":
		a := ps.Next()
		if a.Kind == tWord && a.Text == "to" {
			s := ps.Next()
			n, err := ps.uintArg(s, "a sector such as 5000")
			if err == nil && n > math.MaxInt64 {
				err = ps.errAt(s, "sector %s is too large", s.Text)
			}
			return MisdirectTo{Sector: int64(n)}, err
		}
		if a.Kind != tWord || len(a.Text) < 2 || (a.Text[0] != '+' && a.Text[0] != '-') || !lex.AllDigits(a.Text[1:]) {
			return nil, ps.expected(a, `a sector offset such as +8 or -8, or "to" and a sector`)
		}
		d, perr := strconv.ParseInt(a.Text, 10, 64)
		if perr != nil {
			return nil, ps.errAt(a, "sector offset %s is too large", a.Text)
		}
		if d == 0 {
			return nil, ps.errAt(a, "misdirect by 0 sectors is no misdirect")
		}
		return Misdirect{Delta: d}, nil
	case "corrupt":
		return Corrupt{}, nil
	case "latency":
		a := ps.Peek()
		d, err := ps.durationArg()
		if err == nil && d == 0 {
			err = ps.errAt(a, "latency 0s adds nothing")
		}
		return Latency{Extra: d}, err
	case "offline":
		return Offline{}, nil
	case "drop":
		return Drop{}, nil
	case "partial":
		a := ps.Next()
		n, err := ps.uintArg(a, "a byte count such as 512")
		if err == nil && n > math.MaxInt64 {
			err = ps.errAt(a, "byte count %s is too large", a.Text)
		}
		if err != nil {
			return nil, err
		}
		p := Partial{Bytes: int64(n)}
		if w := ps.Peek(); w.Kind != tEOL {
			if p.Errno, err = ps.errnoArg(); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	return nil, ps.expected(t, "an action ("+actionList+")")
}

// uintArg parses a decimal number in token a (already consumed).
func (ps *lineParser) uintArg(a token, what string) (uint64, *ParseError) {
	if a.Kind != tWord || !lex.AllDigits(a.Text) {
		return 0, ps.expected(a, what)
	}
	n, err := strconv.ParseUint(a.Text, 10, 64)
	if err != nil {
		return 0, ps.errAt(a, "number %s is too large", a.Text)
	}
	return n, nil
}

// rangeArg parses "A..B" or "A+N".
func (ps *lineParser) rangeArg() (Range, *ParseError) {
	a := ps.Next()
	const want = "a range such as 100..200 or 100+8"
	if a.Kind != tWord {
		return Range{}, ps.expected(a, want)
	}
	lo, hi, dots := strings.Cut(a.Text, "..")
	plus := false
	if !dots {
		lo, hi, plus = strings.Cut(a.Text, "+")
	}
	if (!dots && !plus) || !lex.AllDigits(lo) || !lex.AllDigits(hi) {
		return Range{}, ps.expected(a, want)
	}
	start, err1 := strconv.ParseInt(lo, 10, 64)
	n, err2 := strconv.ParseInt(hi, 10, 64)
	if err1 != nil || err2 != nil {
		return Range{}, ps.errAt(a, "range %s is too large (the limit is %d)", a.Text, int64(math.MaxInt64))
	}
	if plus {
		if n == 0 {
			return Range{}, ps.errAt(a, "range %s is empty: the length must be at least 1", a.Text)
		}
		if start > math.MaxInt64-n {
			return Range{}, ps.errAt(a, "range %s is too large (the limit is %d)", a.Text, int64(math.MaxInt64))
		}
		return Range{start, start + n}, nil
	}
	if n < start {
		return Range{}, ps.errAt(a, "range %s ends before it starts", a.Text)
	}
	if n == start {
		return Range{}, ps.errAt(a, "range %s is empty: the end is exclusive", a.Text)
	}
	return Range{start, n}, nil
}

// nameArg parses a key or site name, a bare word or a quoted string.
func (ps *lineParser) nameArg(field string) (string, *ParseError) {
	a := ps.Next()
	if a.Kind != tWord && a.Kind != tString {
		return "", ps.expected(a, "a "+field+" name, a word or a quoted string")
	}
	if a.Text == "" {
		return "", ps.errAt(a, "the %s name is empty", field)
	}
	if len(a.Text) > MaxNameLen {
		return "", ps.errAt(a, "the %s name is %d bytes long; the limit is %d", field, len(a.Text), MaxNameLen)
	}
	return a.Text, nil
}

// errnoArg parses an errno name such as EIO.
func (ps *lineParser) errnoArg() (errno.Errno, *ParseError) {
	a := ps.Next()
	if a.Kind != tWord {
		return 0, ps.expected(a, "an errno such as EIO")
	}
	e, err := errno.Parse(a.Text)
	if err != nil {
		if u, err2 := errno.Parse(strings.ToUpper(a.Text)); err2 == nil {
			return 0, ps.errAt(a, "expected an errno such as EIO, got %s (errno names are upper case: %s)", a.Describe(), u)
		}
		return 0, ps.expected(a, "an errno such as EIO")
	}
	return e, nil
}

// probArg parses a probability in (0, 1].
func (ps *lineParser) probArg() (float64, *ParseError) {
	a := ps.Next()
	const want = "a probability such as 0.1"
	if a.Kind != tWord || strings.Trim(a.Text, "0123456789.eE+-") != "" || !strings.ContainsAny(a.Text[:1], "0123456789.") {
		return 0, ps.expected(a, want)
	}
	p, err := strconv.ParseFloat(a.Text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, ps.expected(a, want)
	}
	if !(p > 0 && p <= 1) {
		return 0, ps.errAt(a, "prob %s is outside (0, 1] (a rule that never fires is better deleted)", a.Text)
	}
	return p, nil
}

// durationArg parses a duration: a decimal number and a unit, ns, us, ms or
// s, exact to the nanosecond.
func (ps *lineParser) durationArg() (int64, *ParseError) {
	a := ps.Next()
	d, err := sim.ParseTime(a.Text)
	switch {
	case a.Kind != tWord || errors.Is(err, sim.ErrTimeSyntax):
		return 0, ps.expected(a, "a duration such as 10ms, 1.5s, 250us or 100ns")
	case err != nil:
		return 0, ps.errAt(a, "duration %s %s", a.Describe(), err)
	}
	return int64(d), nil
}
