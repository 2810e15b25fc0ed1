package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/internal/lex"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// This file parses scenario text. The grammar is in
// docs/scenario-language.md. The parser works line by line: a line's
// indentation says which block it belongs to, its first word says what it
// is. It reports every syntax error it can (up to MaxErrors) with
// file:line:col; a scenario without syntax errors is then validated (see
// validate.go) with the positions the parser recorded, so that semantic
// errors point at the token too.

// Parse parses scenario text. name is the file name used in positions and
// errors ("scenario.wbs"). It returns a valid Scenario, or an error: an
// *Error, or several joined with errors.Join, in source order.
func Parse(name string, src []byte) (*Scenario, error) {
	if len(src) > MaxScenarioBytes {
		return nil, &Error{Pos: Pos{name, 1, 1}, Msg: fmt.Sprintf("the scenario is %d bytes long; the limit is %d", len(src), MaxScenarioBytes)}
	}
	if strings.HasPrefix(string(src), "\xef\xbb\xbf") {
		return nil, &Error{Pos: Pos{name, 1, 1}, Msg: "the file starts with a UTF-8 byte order mark; save it without one"}
	}
	p := &parser{file: name, s: &Scenario{}, fpos: map[string]Pos{}}
	p.split(string(src))
	p.parse()
	if len(p.errs) > 0 {
		return nil, joinErrors(p.errs)
	}
	v := newValidator(p.s, p.fpos, name)
	v.run()
	if err := joinErrors(v.errs); err != nil {
		return nil, err
	}
	return p.s, nil
}

// ---------------------------------------------------------------- lines and tokens

type lineKind uint8

const (
	lineBlank   lineKind = iota // empty or white space only
	lineComment                 // a full-line comment
	lineStmt                    // anything else
)

type srcLine struct {
	num     int
	raw     string // the line without its end ("\n", "\r\n")
	indent  string // leading spaces and tabs
	body    string // raw after the indentation
	kind    lineKind
	comment string // lineComment: the text after "#" and one space
}

type token = lex.Token

const (
	tWord   = lex.Word
	tString = lex.String
	tEOL    = lex.EOL
)

// scenarioLang is the scenario language's tokens: no separators (":" and
// "," are word bytes), and a carriage return only where split strips it,
// at a line's end.
var scenarioLang = lex.Lang{}

// commentText normalises the text after "#": one leading space and all
// trailing white space go.
func commentText(s string) string {
	s = strings.TrimPrefix(s, " ")
	return strings.TrimRight(s, " \t")
}

func isIndent(c byte) bool { return c == ' ' || c == '\t' }

// split cuts the source into lines.
func (p *parser) split(src string) {
	for n := 1; src != ""; n++ {
		var raw string
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			raw, src = src[:i], src[i+1:]
		} else {
			raw, src = src, ""
		}
		raw = strings.TrimSuffix(raw, "\r")
		j := 0
		for j < len(raw) && isIndent(raw[j]) {
			j++
		}
		ln := srcLine{num: n, raw: raw, indent: raw[:j], body: raw[j:]}
		switch {
		case ln.body == "":
			ln.kind = lineBlank
		case ln.body[0] == '#':
			ln.kind = lineComment
			ln.comment = commentText(ln.body[1:])
		default:
			ln.kind = lineStmt
		}
		p.lines = append(p.lines, ln)
	}
}

// lex splits a statement line into tokens ending with tEOL, and returns
// the comment at its end.
func (p *parser) lex(ln *srcLine) (toks []token, trailing string, ok bool) {
	toks, hash, err := scenarioLang.Line(ln.raw)
	if err != nil {
		p.errorf(ln, err.Col, "%s", err.Msg)
		return nil, "", false
	}
	if hash >= 0 {
		trailing = commentText(ln.raw[hash+1:])
		if pr := textProblem(trailing); pr != "" {
			p.errorf(ln, hash+1, "the comment %s", pr)
			return nil, "", false
		}
		if len(trailing) > MaxCommentLen {
			p.errorf(ln, hash+1, "the comment is %d bytes long; the limit is %d", len(trailing), MaxCommentLen)
			return nil, "", false
		}
	}
	return toks, trailing, true
}

// ---------------------------------------------------------------- the parser

type parser struct {
	file  string
	lines []srcLine
	i     int // next line
	errs  []*Error
	pend  []string // comment lines waiting for the next statement
	s     *Scenario
	// fpos maps field paths ("kernel", "tasks[0].ops[2].fd") to the
	// position of their token, for the validator's messages.
	fpos map[string]Pos
}

func (p *parser) pos(ln *srcLine, col int) Pos { return Pos{p.file, ln.num, col} }

func (p *parser) errorf(ln *srcLine, col int, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(ln, col), Msg: fmt.Sprintf(format, args...)})
}

// stop reports whether enough errors have been found.
func (p *parser) stop() bool { return len(p.errs) > MaxErrors }

func (p *parser) takeComments() []string {
	c := p.pend
	p.pend = nil
	return c
}

// comment collects a comment line.
func (p *parser) comment(ln *srcLine) {
	if pr := textProblem(ln.comment); pr != "" {
		p.errorf(ln, len(ln.indent)+1, "the comment %s", pr)
		return
	}
	if len(ln.comment) > MaxCommentLen {
		p.errorf(ln, len(ln.indent)+1, "the comment is %d bytes long; the limit is %d", len(ln.comment), MaxCommentLen)
		return
	}
	p.pend = append(p.pend, ln.comment)
}

// mixHint suggests, when two indentations mix tabs and spaces, that this
// is why they do not match.
func mixHint(a, b string) string {
	if c := a + b; strings.Contains(c, "\t") && strings.Contains(c, " ") {
		return " (tabs and spaces mixed?)"
	}
	return ""
}

// deeper reports whether indentation a is inside indentation b.
func deeper(a, b string) bool { return len(a) > len(b) && strings.HasPrefix(a, b) }

// skipDeeper skips the lines indented more than ind (a statement's block
// that is not parsed), keeping their comments.
func (p *parser) skipDeeper(ind string) {
	for p.i < len(p.lines) {
		ln := &p.lines[p.i]
		switch {
		case ln.kind == lineBlank:
		case ln.kind == lineComment:
			p.comment(ln)
		case !deeper(ln.indent, ind):
			return
		}
		p.i++
	}
}

// children calls fn for each statement line of the block below a statement
// indented by parent, and returns at the first line outside the block.
// Comment lines on the way wait for the next statement.
func (p *parser) children(parent string, fn func(ln *srcLine)) {
	block := ""
	for p.i < len(p.lines) && !p.stop() {
		ln := &p.lines[p.i]
		switch ln.kind {
		case lineBlank:
			p.i++
			continue
		case lineComment:
			p.comment(ln)
			p.i++
			continue
		}
		if !deeper(ln.indent, parent) {
			return
		}
		if block == "" {
			block = ln.indent
		}
		p.i++
		if ln.indent != block {
			if deeper(ln.indent, block) {
				p.errorf(ln, len(ln.indent)+1, "unexpected indentation: this line is indented more than the one above, which takes no block")
			} else {
				p.errorf(ln, len(ln.indent)+1, "the indentation does not match the lines above%s", mixHint(ln.indent, block))
			}
			p.skipDeeper(ln.indent)
			continue
		}
		fn(ln)
	}
}

// rawBlock reads the text block below a statement indented by parent: the
// lines indented more than parent, without the block's indentation, with
// trailing white space removed and empty lines kept between text lines.
func (p *parser) rawBlock(parent string) string {
	var out []string
	block, blanks := "", 0
	for p.i < len(p.lines) {
		ln := &p.lines[p.i]
		if ln.kind == lineBlank {
			blanks++
			p.i++
			continue
		}
		if !deeper(ln.indent, parent) {
			break
		}
		if block == "" {
			block = ln.indent
		}
		p.i++
		if !strings.HasPrefix(ln.indent, block) {
			p.errorf(ln, len(ln.indent)+1, "the indentation does not match the first line of the text%s", mixHint(ln.indent, block))
			continue
		}
		text := strings.TrimRight(ln.raw[len(block):], " \t")
		if pr := textProblem(text); pr != "" {
			p.errorf(ln, len(block)+1, "this line %s", pr)
			continue
		}
		if len(out) > 0 {
			for ; blanks > 0; blanks-- {
				out = append(out, "")
			}
		}
		blanks = 0
		out = append(out, text)
	}
	return strings.Join(out, "\n")
}

// stmt is one statement line being parsed.
type stmt struct {
	p  *parser
	ln *srcLine
	lex.Tokens
	kw token // the first token
	tr string
}

func (p *parser) stmt(ln *srcLine) (*stmt, bool) {
	toks, tr, ok := p.lex(ln)
	if !ok {
		return nil, false
	}
	return &stmt{p: p, ln: ln, Tokens: lex.NewTokens(toks, 1), kw: toks[0], tr: tr}, true
}

func (st *stmt) errAt(t token, format string, args ...any) bool {
	st.p.errorf(st.ln, t.Col, format, args...)
	return false
}

func (st *stmt) expected(t token, what string) bool {
	return st.errAt(t, "expected %s, got %s", what, t.Describe())
}

// end checks that the line has no more tokens.
func (st *stmt) end() bool {
	if t := st.Peek(); t.Kind != tEOL {
		return st.errAt(t, "unexpected %s at the end of %s", t.Describe(), st.kw.Text)
	}
	return true
}

// meta returns the statement's Meta, taking the pending comments.
func (st *stmt) meta() Meta {
	return Meta{Pos: st.p.pos(st.ln, st.kw.Col), Comment: st.p.takeComments(), Trailing: st.tr}
}

// at records the position of token t for path.
func (st *stmt) at(path string, t token) { st.p.fpos[path] = st.p.pos(st.ln, t.Col) }

// value returns the next token, a word or a string, or reports its absence.
func (st *stmt) value(what string) (token, bool) {
	t := st.Next()
	if t.Kind == tEOL {
		return t, st.expected(t, what)
	}
	return t, true
}

// setting records the Meta of a setting statement, or reports a duplicate.
func (st *stmt) setting(key string) bool {
	s := st.p.s
	if m, dup := s.Settings[key]; dup {
		return st.errAt(st.kw, "%s given twice (first at %d:%d)", strings.ReplaceAll(key, ".", " "), m.Pos.Line, m.Pos.Col)
	}
	if s.Settings == nil {
		s.Settings = Settings{}
	}
	s.Settings[key] = st.meta()
	return true
}

// ---------------------------------------------------------------- numbers

// count parses a non-negative decimal integer up to max.
func (st *stmt) count(t token, what string, max int64) (int64, bool) {
	if t.Kind != tWord || !lex.AllDigits(strings.TrimPrefix(t.Text, "-")) {
		return 0, st.expected(t, what)
	}
	if t.Text[0] == '-' {
		return 0, st.errAt(t, "%s must not be negative", t.Text)
	}
	n, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil || n > max {
		return 0, st.errAt(t, "%s is too large (the limit is %d)", t.Text, max)
	}
	return n, true
}

// parseSize parses a byte count: digits with an optional binary unit
// (KiB, MiB, GiB, TiB). msg is "bad" for a malformed size.
func parseSize(s string) (n int64, msg string) {
	num, mul := s, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.name) {
			num, mul = s[:len(s)-len(u.name)], u.bytes
			break
		}
	}
	if strings.HasPrefix(num, "-") && lex.AllDigits(num[1:]) {
		return 0, "is negative"
	}
	if !lex.AllDigits(num) {
		return 0, "bad"
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v > math.MaxInt64/mul {
		return 0, "is too large"
	}
	return v * mul, ""
}

const sizeWant = "a size such as 4096 or 4KiB (units KiB, MiB, GiB, TiB)"

func (st *stmt) size(t token, what string) (int64, bool) {
	n, msg := parseSize(t.Text)
	switch {
	case t.Kind != tWord || msg == "bad":
		return 0, st.expected(t, what+", "+sizeWant)
	case msg != "":
		return 0, st.errAt(t, "%s %s %s", what, t.Text, msg)
	}
	return n, true
}

// rangeArg parses OFF+LEN or OFF..END, or, if lenOnly is allowed, a bare
// LEN (returning AtPos as the offset).
func (st *stmt) rangeArg(t token, lenOnly bool) (off, n int64, ok bool) {
	want := "a range such as 0+4KiB or 0..4KiB"
	if lenOnly {
		want = "a length such as 4KiB, or " + want
	}
	if t.Kind != tWord {
		return 0, 0, st.expected(t, want)
	}
	a, b, dots := strings.Cut(t.Text, "..")
	plus := false
	if !dots {
		// The first "+" not at the start: "-5+3" is a negative offset.
		if i := strings.IndexByte(t.Text[min(1, len(t.Text)):], '+'); i >= 0 {
			a, b, plus = t.Text[:i+1], t.Text[i+2:], true
		}
	}
	if !dots && !plus {
		if !lenOnly {
			if _, msg := parseSize(t.Text); msg == "" {
				return 0, 0, st.errAt(t, "expected %s, got %s: %s needs an offset", want, t.Describe(), st.kw.Text)
			}
			return 0, 0, st.expected(t, want)
		}
		n, msg := parseSize(t.Text)
		switch {
		case msg == "bad":
			return 0, 0, st.expected(t, want)
		case msg != "":
			return 0, 0, st.errAt(t, "length %s %s", t.Text, msg)
		}
		return AtPos, n, true
	}
	x, msgA := parseSize(a)
	y, msgB := parseSize(b)
	switch {
	case msgA == "bad" || msgB == "bad":
		return 0, 0, st.expected(t, want)
	case msgA != "":
		return 0, 0, st.errAt(t, "offset %s %s", a, msgA)
	case msgB != "" && dots:
		return 0, 0, st.errAt(t, "end %s %s", b, msgB)
	case msgB != "":
		return 0, 0, st.errAt(t, "length %s %s", b, msgB)
	case dots && y <= x:
		return 0, 0, st.errAt(t, "range %s is empty or ends before it starts", t.Text)
	case plus && x > math.MaxInt64-y:
		return 0, 0, st.errAt(t, "range %s is too large", t.Text)
	}
	if dots {
		return x, y - x, true
	}
	return x, y, true
}

// duration parses a duration such as 10ms, exactly.
func (st *stmt) duration(t token) (sim.Time, bool) {
	d, err := sim.ParseTime(t.Text)
	switch {
	case t.Kind != tWord || errors.Is(err, sim.ErrTimeSyntax):
		return 0, st.expected(t, "a duration such as 10ms, 1.5s, 250us or 100ns")
	case err != nil:
		return 0, st.errAt(t, "duration %s %s", t.Text, err)
	}
	return d, true
}

// ---------------------------------------------------------------- top level

var topKeywords = []string{
	"name", "tags", "description", "bug", "kernel", "arch", "fixes", "fs", "faults", "vm",
	"setup", "task", "check", "fsync-contract", "explore", "expect",
}

// blockOf says in which block a misplaced statement belongs.
var blockOf = map[string]string{
	"block-size": "fs", "layout": "fs", "allocator": "fs", "nobh": "fs", "fsync-flush": "fs",
	"capacity": "fs", "latency": "fs", "file": "fs", "key": "fs", "acl": "fs",
	"reclaim": "vm", "dirty": "vm", "flusher": "vm",
	"strategy": "explore", "schedules": "explore", "steps": "explore", "time": "explore", "seed": "explore",
	"id": "bug", "fix": "bug", "commit": "bug", "switch": "bug",
}

func (p *parser) parse() {
	// The header: the first line that is not blank or a comment.
	for p.i < len(p.lines) && p.lines[p.i].kind != lineStmt {
		if p.lines[p.i].kind == lineComment {
			p.comment(&p.lines[p.i])
		}
		p.i++
	}
	if p.i == len(p.lines) {
		p.errs = append(p.errs, &Error{Pos: Pos{p.file, len(p.lines) + 1, 1}, Msg: `expected the header "wbsim-scenario v1", got end of input`})
		return
	}
	ln := &p.lines[p.i]
	p.i++
	if !p.header(ln) {
		return
	}
	for p.i < len(p.lines) && !p.stop() {
		ln := &p.lines[p.i]
		p.i++
		switch {
		case ln.kind == lineBlank:
			continue
		case ln.kind == lineComment:
			p.comment(ln)
			continue
		case ln.indent != "":
			p.errorf(ln, len(ln.indent)+1, "unexpected indentation: a top-level statement starts at column 1")
			p.skipDeeper("")
			continue
		}
		st, ok := p.stmt(ln)
		if !ok {
			p.skipDeeper("")
			continue
		}
		if !p.top(st) {
			p.skipDeeper("")
		}
	}
	p.s.EndComment = p.takeComments()
}

func (p *parser) header(ln *srcLine) bool {
	st, ok := p.stmt(ln)
	if !ok {
		return false
	}
	t := st.kw
	if t.Kind != tWord || t.Text != "wbsim-scenario" {
		return st.expected(t, `the header "wbsim-scenario v1" (the first line that is not blank or a comment)`)
	}
	v := st.Next()
	if v.Kind != tWord || len(v.Text) < 2 || v.Text[0] != 'v' || !lex.AllDigits(v.Text[1:]) {
		return st.expected(v, "a version such as v1")
	}
	if v.Text != "v"+strconv.Itoa(Version) {
		return st.errAt(v, "unsupported version %s (this build reads v%d)", v.Text, Version)
	}
	if !st.end() {
		return false
	}
	if ln.indent != "" {
		return st.errAt(t, "the header starts at column 1")
	}
	p.s.Meta = st.meta()
	return true
}

// top parses a top-level statement and its block. It returns false if the
// statement's block (if any) was not consumed.
func (p *parser) top(st *stmt) bool {
	s := p.s
	kw := st.kw
	if kw.Kind != tWord {
		return st.expected(kw, "a statement ("+strings.Join(topKeywords, ", ")+")")
	}
	switch kw.Text {
	case "name":
		t, ok := st.value("a scenario name")
		if ok && st.end() && st.setting("name") {
			s.Name = t.Text
			st.at("name", t)
		}
	case "tags":
		if st.Peek().Kind == tEOL {
			return st.expected(st.Peek(), "one or more tags")
		}
		var tags []string
		for st.Peek().Kind != tEOL {
			t := st.Next()
			st.at(fmt.Sprintf("tags[%d]", len(tags)), t)
			tags = append(tags, t.Text)
		}
		if st.setting("tags") {
			s.Tags = tags
		}
	case "description":
		if !st.end() || !st.setting("description") {
			return false
		}
		s.Description = p.rawBlock("")
		if s.Description == "" {
			st.errAt(kw, "the description has no text: write it on the lines below, indented")
		}
	case "bug":
		if !st.end() || !st.setting("bug") {
			return false
		}
		s.Bug = &Bug{}
		p.children("", p.bugStmt)
	case "kernel":
		t, ok := st.value("a kernel version (" + strings.Join(toStrings(kernelVersions), ", ") + ")")
		if ok && st.end() && st.setting("kernel") {
			s.Kernel = KernelVersion(t.Text)
			st.at("kernel", t)
		}
	case "arch":
		t, ok := st.value("32-bit or 64-bit")
		if ok && st.end() && st.setting("arch") {
			s.Arch = Arch(t.Text)
			st.at("arch", t)
		}
	case "fixes":
		if st.Peek().Kind == tEOL {
			return st.expected(st.Peek(), `fix names, or "none"`)
		}
		var fixes []string
		if t := st.Peek(); t.Kind == tWord && t.Text == "none" {
			st.Next()
			if !st.end() {
				return true
			}
		}
		for st.Peek().Kind != tEOL {
			t := st.Next()
			if t.Kind == tWord && t.Text == "none" {
				return st.errAt(t, `"none" cannot be combined with fix names`)
			}
			st.at(fmt.Sprintf("fixes[%d]", len(fixes)), t)
			fixes = append(fixes, t.Text)
		}
		if st.setting("fixes") {
			s.Fixes = fixes
		}
	case "fs":
		return p.fsStmt(st)
	case "faults":
		if !st.end() || !st.setting("faults") {
			return false
		}
		p.faultsBlock(st)
	case "vm":
		if !st.end() || !st.setting("vm") {
			return false
		}
		p.children("", p.vmStmt)
	case "explore":
		if !st.end() || !st.setting("explore") {
			return false
		}
		p.children("", p.exploreStmt)
	case "setup":
		if !st.end() {
			return false
		}
		if s.Setup != nil {
			return st.errAt(kw, "setup given twice (first at %d:%d)", s.Setup.Meta.Pos.Line, s.Setup.Meta.Pos.Col)
		}
		s.Setup = &Task{Meta: st.meta()}
		if p.taskBlock(s.Setup, "setup") == 0 {
			st.errAt(kw, "the setup block has no operations: write them on the lines below, indented")
		}
	case "task":
		t, ok := st.value("a task name")
		if !ok || !st.end() {
			return false
		}
		task := &Task{Meta: st.meta(), Name: t.Text}
		path := fmt.Sprintf("tasks[%d]", len(s.Tasks))
		st.at(path+".name", t)
		s.Tasks = append(s.Tasks, task)
		if p.taskBlock(task, path) == 0 {
			st.errAt(kw, "task %s has no operations: write them on the lines below, indented", t.Text)
		}
	case "check":
		return p.checkStmt(st)
	case "fsync-contract":
		t, ok := st.value("linux-2.6, errseq or errseq-once")
		if ok && st.end() && st.setting("fsync-contract") {
			s.Contract = Contract(t.Text)
			st.at("fsync-contract", t)
		}
	case "expect":
		return p.expectStmt(st)
	case "wbsim-scenario":
		return st.errAt(kw, "the header is given twice")
	default:
		if kw.Text == "memory" {
			return st.errAt(kw, "memory belongs in the vm block (memory N, in pages) or the explore block (memory SIZE, the memory budget)")
		}
		if b := blockOf[kw.Text]; b != "" {
			return st.errAt(kw, "%s belongs in the %s block (indented below %q)", kw.Text, b, b)
		}
		if _, isOp := opShapes[OpKind(kw.Text)]; isOp {
			return st.errAt(kw, "%s is an operation: put it in a task (indented below \"task NAME\")", kw.Text)
		}
		return st.errAt(kw, "unknown statement %q; expected one of %s", kw.Text, strings.Join(topKeywords, ", "))
	}
	return true
}

func (p *parser) bugStmt(ln *srcLine) {
	st, ok := p.stmt(ln)
	if !ok {
		return
	}
	b := p.s.Bug
	kw := st.kw
	field := func(key, what string, set func(string)) {
		t, ok := st.value(what)
		if ok && st.end() && st.setting(key) {
			set(t.Text)
			st.at(key, t)
		}
	}
	switch kw.Text {
	case "id":
		field("bug.id", "a bug id", func(v string) { b.ID = v })
	case "fix":
		t, ok := st.value(`the fix title as a quoted string: fix "afs: fix ..."`)
		if ok && t.Kind != tString {
			st.expected(t, `the fix title as a quoted string: fix "afs: fix ..."`)
			return
		}
		if ok && st.end() && st.setting("bug.fix") {
			b.Fix = t.Text
			st.at("bug.fix", t)
		}
	case "commit":
		field("bug.commit", "a commit id", func(v string) { b.Commit = v })
	case "switch":
		field("bug.switch", "a fix switch name", func(v string) { b.Switch = v })
	case "description":
		if st.end() && st.setting("bug.description") {
			b.Description = p.rawBlock(ln.indent)
			if b.Description == "" {
				st.errAt(kw, "the description has no text: write it on the lines below, indented")
			}
		} else {
			p.skipDeeper(ln.indent)
		}
	default:
		st.errAt(kw, "unknown bug field %q; expected id, fix, commit, switch or description", kw.Text)
	}
}

// ---------------------------------------------------------------- fs

func (p *parser) fsStmt(st *stmt) bool {
	s := p.s
	t, ok := st.value("blockfs or afs")
	if !ok || !st.end() {
		return false
	}
	switch t.Text {
	case "blockfs":
		if !st.setting("fs") {
			return false
		}
		s.FS.BlockFS = &BlockFS{}
	case "afs":
		if !st.setting("fs") {
			return false
		}
		s.FS.AFS = &AFS{}
	default:
		return st.errAt(t, "unknown file system %q; expected blockfs or afs", t.Text)
	}
	st.at("fs", t)
	p.children("", p.fsChild)
	return true
}

// fsChild parses one setting of the fs block: it checks that the setting
// belongs to the block's file system and hands it to its step.
func (p *parser) fsChild(ln *srcLine) {
	st, ok := p.stmt(ln)
	if !ok {
		return
	}
	fs := &p.s.FS
	b, a := fs.BlockFS, fs.AFS
	switch st.kw.Text {
	case "block-size":
		if st.blockOnly(b) {
			st.fsBlockSize(b)
		}
	case "layout":
		if st.blockOnly(b) {
			st.enum("fs.layout", "indirect or extent", func(v string) { b.Layout = Layout(v) })
		}
	case "allocator":
		if st.blockOnly(b) {
			st.enum("fs.allocator", "contiguous, fragmented or interleaved", func(v string) { b.Allocator = Allocator(v) })
		}
	case "nobh":
		if st.blockOnly(b) {
			st.enum("fs.nobh", "on or off", func(v string) { b.NoBH = Switch(v) })
		}
	case "fsync-flush":
		if st.blockOnly(b) {
			st.enum("fs.fsync-flush", "on or off", func(v string) { b.FsyncFlush = Switch(v) })
		}
	case "capacity":
		if st.blockOnly(b) {
			st.fsCapacity(b)
		}
	case "latency":
		st.fsLatency(fs)
	case "file":
		st.fsFile(fs)
	case "key":
		if st.afsOnly(a) {
			st.fsKey(a)
		}
	case "acl":
		if st.afsOnly(a) {
			st.fsACL(a)
		}
	default:
		want := "block-size, layout, allocator, nobh, fsync-flush, capacity, latency or file"
		if a != nil {
			want = "latency, key, file or acl"
		}
		st.errAt(st.kw, "unknown fs setting %q; expected %s", st.kw.Text, want)
	}
}

// blockOnly reports whether the fs block is blockfs, and else says that
// the setting belongs to blockfs.
func (st *stmt) blockOnly(b *BlockFS) bool {
	if b == nil {
		return st.errAt(st.kw, "%s is a blockfs setting; the file system is afs", st.kw.Text)
	}
	return true
}

// afsOnly reports whether the fs block is afs, and else says that the
// setting belongs to afs.
func (st *stmt) afsOnly(a *AFS) bool {
	if a == nil {
		return st.errAt(st.kw, "%s is an afs setting; the file system is blockfs", st.kw.Text)
	}
	return true
}

// enum parses a one-word setting key, whose word the validator checks,
// and stores it with set.
func (st *stmt) enum(key, what string, set func(string)) {
	t, ok := st.value(what)
	if ok && st.end() && st.setting(key) {
		set(t.Text)
		st.at(key, t)
	}
}

// nonZero parses a numeric setting "KEYWORD VALUE" stored at key: want
// names the value, parse reads it, and zero says why 0 is refused. It
// reports whether the setting is to be set.
func (st *stmt) nonZero(key, want string, parse func(token) (int64, bool), zero string) (int64, bool) {
	t, ok := st.value(want)
	if !ok {
		return 0, false
	}
	n, ok := parse(t)
	if ok && n == 0 {
		ok = st.errAt(t, "%s", zero)
	}
	if !ok || !st.end() || !st.setting(key) {
		return 0, false
	}
	st.at(key, t)
	return n, true
}

// fsBlockSize parses "block-size N".
func (st *stmt) fsBlockSize(b *BlockFS) {
	const want = "a block size (512, 1024, 2048 or 4096)"
	count := func(t token) (int64, bool) { return st.count(t, want, math.MaxInt32) }
	if n, ok := st.nonZero("fs.block-size", want, count, "block size 0 is not one of 512, 1024, 2048, 4096"); ok {
		b.BlockSize = int(n)
	}
}

// fsCapacity parses "capacity SIZE".
func (st *stmt) fsCapacity(b *BlockFS) {
	size := func(t token) (int64, bool) { return st.size(t, "a disk size") }
	if n, ok := st.nonZero("fs.capacity", "a disk size such as 64MiB", size, "capacity 0 is no disk"); ok {
		b.Capacity = n
	}
}

// fsLatency parses "latency DURATION", a setting of both file systems.
func (st *stmt) fsLatency(fs *FS) {
	duration := func(t token) (int64, bool) {
		d, ok := st.duration(t)
		return int64(d), ok
	}
	n, ok := st.nonZero("fs.latency", "a duration such as 100us", duration,
		"latency 0s is not modelled (requests always complete later); leave it out for the default")
	if !ok {
		return
	}
	if fs.BlockFS != nil {
		fs.BlockFS.Latency = sim.Time(n)
	} else {
		fs.AFS.Latency = sim.Time(n)
	}
}

// fsFile parses "file PATH [size SIZE]".
func (st *stmt) fsFile(fs *FS) {
	path := fmt.Sprintf("fs.files[%d]", len(fs.Files))
	t, ok := st.value("a path such as /data")
	if !ok {
		return
	}
	f := File{Path: t.Text}
	st.at(path+".path", t)
	if w := st.Peek(); w.Kind == tWord && w.Text == "size" {
		st.Next()
		z, ok := st.value("a size")
		if !ok {
			return
		}
		n, ok := st.size(z, "a file size")
		if !ok {
			return
		}
		f.Size = n
		st.at(path+".size", z)
	}
	if !st.end() {
		return
	}
	f.Meta = st.meta()
	fs.Files = append(fs.Files, f)
}

// fsKey parses "key NAME [STATE]".
func (st *stmt) fsKey(a *AFS) {
	path := fmt.Sprintf("fs.keys[%d]", len(a.Keys))
	t, ok := st.value("a key name")
	if !ok {
		return
	}
	k := Key{Name: t.Text}
	st.at(path+".name", t)
	if w := st.Peek(); w.Kind != tEOL {
		st.Next()
		k.State = KeyState(w.Text)
		st.at(path+".state", w)
	}
	if !st.end() {
		return
	}
	k.Meta = st.meta()
	a.Keys = append(a.Keys, k)
}

// fsACL parses "acl PATH KEY RIGHTS".
func (st *stmt) fsACL(a *AFS) {
	path := fmt.Sprintf("fs.acl[%d]", len(a.ACL))
	var e ACL
	for i, what := range []string{"a declared file's path", "a key name", "rights: none, read or write"} {
		t, ok := st.value(what)
		if !ok {
			return
		}
		switch i {
		case 0:
			e.Path = t.Text
			st.at(path+".path", t)
		case 1:
			e.Key = t.Text
			st.at(path+".key", t)
		case 2:
			e.Rights = Rights(t.Text)
			st.at(path+".rights", t)
		}
	}
	if !st.end() {
		return
	}
	e.Meta = st.meta()
	a.ACL = append(a.ACL, e)
}

// ---------------------------------------------------------------- faults

// faultsBlock parses the fault plan below "faults" with faultdisk.Parse,
// mapping its errors to this file's lines and columns.
func (p *parser) faultsBlock(st *stmt) {
	start := p.i
	type ruleLine struct {
		idx  int // index in p.lines
		meta Meta
	}
	var rules []ruleLine
	header := -1 // the index of a "faultplan v1" line, if the block has one
	p.children("", func(ln *srcLine) {
		if len(rules) == 0 && header < 0 && strings.HasPrefix(ln.body, "faultplan") &&
			(len(ln.body) == len("faultplan") || isIndent(ln.body[len("faultplan")]) || ln.body[len("faultplan")] == '#') {
			header = ln.num - 1
			return
		}
		m := Meta{Pos: p.pos(ln, len(ln.indent)+1), Comment: p.takeComments()}
		if c, ok := trailingComment(ln.body); ok {
			if pr := textProblem(c); pr != "" {
				p.errorf(ln, len(ln.indent)+1, "the comment %s", pr)
			}
			m.Trailing = c
		}
		rules = append(rules, ruleLine{idx: ln.num - 1, meta: m})
	})
	end := p.i
	isRule := map[int]bool{}
	for _, r := range rules {
		isRule[r.idx] = true
	}
	var b strings.Builder
	if header < 0 {
		fmt.Fprintf(&b, "faultplan v%d\n", faultdisk.Version)
	}
	for i := start; i < end; i++ {
		if isRule[i] || i == header {
			b.WriteString(p.lines[i].body)
		}
		b.WriteByte('\n')
	}
	plan, err := faultdisk.Parse(b.String())
	if err != nil {
		var pe *faultdisk.ParseError
		if !errors.As(err, &pe) {
			st.errAt(st.kw, "fault plan: %v", err)
			return
		}
		idx := start + pe.Line - 1
		if header < 0 {
			idx--
		}
		if idx < start || idx >= end {
			st.errAt(st.kw, "fault plan: %s", pe.Msg)
			return
		}
		ln := &p.lines[idx]
		p.errorf(ln, len(ln.indent)+pe.Col, "%s", pe.Msg)
		return
	}
	if len(plan.Rules) != len(rules) {
		st.errAt(st.kw, "fault plan: %d rules for %d rule lines", len(plan.Rules), len(rules))
		return
	}
	fp := &FaultPlan{Plan: plan}
	for _, r := range rules {
		fp.RuleMeta = append(fp.RuleMeta, r.meta)
	}
	p.s.Faults = fp
}

// trailingComment returns the comment at the end of a fault rule line (a
// "#" outside a quoted string), normalised.
func trailingComment(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '#':
			return commentText(s[i+1:]), true
		}
	}
	return "", false
}

// ---------------------------------------------------------------- vm and explore

func (p *parser) vmStmt(ln *srcLine) {
	st, ok := p.stmt(ln)
	if !ok {
		return
	}
	vm := &p.s.VM
	kw := st.kw
	pages := func(key string, t token, what string) (int64, bool) {
		n, ok := st.count(t, what, math.MaxInt64)
		if ok && n == 0 {
			ok = st.errAt(t, "%s 0 is not allowed; leave the setting out for the default", kw.Text)
		}
		if ok {
			st.at(key, t)
		}
		return n, ok
	}
	switch kw.Text {
	case "memory":
		t, ok := st.value("a number of pages")
		if !ok {
			return
		}
		if _, msg := parseSize(t.Text); msg == "" && !lex.AllDigits(t.Text) {
			st.errAt(t, "vm memory is a number of pages, not %s; a memory budget in bytes is \"memory SIZE\" in the explore block", t.Text)
			return
		}
		n, ok := pages("vm.memory", t, "a number of pages")
		if ok && st.end() && st.setting("vm.memory") {
			vm.MemoryPages = n
		}
	case "reclaim":
		if t := st.Next(); t.Kind != tWord || t.Text != "limit" {
			st.expected(t, `"limit" and a number of pages (reclaim limit 256)`)
			return
		}
		t, ok := st.value("a number of pages")
		if !ok {
			return
		}
		n, ok := pages("vm.reclaim", t, "a number of pages")
		if ok && st.end() && st.setting("vm.reclaim") {
			vm.ReclaimLimit = n
		}
	case "dirty":
		unit := st.Next()
		if unit.Kind != tWord || unit.Text != "ratio" && unit.Text != "pages" {
			st.expected(unit, `"ratio" or "pages" (dirty ratio 20 background 10)`)
			return
		}
		t, ok := st.value("a number")
		if !ok {
			return
		}
		n, ok := pages("vm.dirty", t, "a number")
		if !ok {
			return
		}
		var bg int64
		if w := st.Peek(); w.Kind == tWord && w.Text == "background" {
			st.Next()
			t, ok := st.value("a number")
			if !ok {
				return
			}
			if bg, ok = pages("vm.dirty.background", t, "a number"); !ok {
				return
			}
		}
		if !st.end() || !st.setting("vm.dirty") {
			return
		}
		if unit.Text == "ratio" {
			if n > 100 || bg > 100 {
				st.errAt(t, "a ratio is a percentage, at most 100")
				return
			}
			vm.DirtyRatio, vm.DirtyBackgroundRatio = int(n), int(bg)
		} else {
			vm.DirtyPages, vm.DirtyBackgroundPages = n, bg
		}
	case "flusher":
		var f Flusher
		seen := map[string]bool{}
		if w := st.Peek(); w.Kind == tWord && (w.Text == "on" || w.Text == "off") {
			st.Next()
			f.Off = w.Text == "off"
		}
		for !f.Off && st.Peek().Kind != tEOL {
			w := st.Next()
			if w.Kind != tWord || w.Text != "interval" && w.Text != "expire" {
				st.expected(w, `"interval" or "expire" and a duration`)
				return
			}
			if seen[w.Text] {
				st.errAt(w, "%s given twice", w.Text)
				return
			}
			seen[w.Text] = true
			t, ok := st.value("a duration")
			if !ok {
				return
			}
			d, ok := st.duration(t)
			if !ok {
				return
			}
			if d == 0 {
				st.errAt(t, "a flusher %s of 0s; leave it out for the default", w.Text)
				return
			}
			st.at("vm.flusher."+w.Text, t)
			if w.Text == "interval" {
				f.Interval = d
			} else {
				f.Expire = d
			}
		}
		if st.end() && st.setting("vm.flusher") {
			vm.Flusher = f
		}
	default:
		st.errAt(kw, "unknown vm setting %q; expected memory, reclaim, dirty or flusher", kw.Text)
	}
}

func (p *parser) exploreStmt(ln *srcLine) {
	st, ok := p.stmt(ln)
	if !ok {
		return
	}
	e := &p.s.Explore
	kw := st.kw
	number := func(key, what string, max int64, set func(int64)) {
		t, ok := st.value(what)
		if !ok {
			return
		}
		n, ok := st.count(t, what, max)
		if !ok {
			return
		}
		if n == 0 {
			st.errAt(t, "%s 0 is not allowed; leave it out for the default", kw.Text)
			return
		}
		if st.end() && st.setting(key) {
			set(n)
			st.at(key, t)
		}
	}
	switch kw.Text {
	case "strategy":
		t, ok := st.value("random, pct depth D, dfs bound P or rr [quantum Q]")
		if !ok {
			return
		}
		s := Strategy{Kind: StrategyKind(t.Text)}
		st.at("explore.strategy", t)
		param := func(name string, min int64, set func(int)) bool {
			w := st.Next()
			if w.Kind != tWord || w.Text != name {
				return st.expected(w, fmt.Sprintf("%q and a number (strategy %s %s N)", name, t.Text, name))
			}
			a, ok := st.value("a number")
			if !ok {
				return false
			}
			n, ok := st.count(a, "a number", math.MaxInt32)
			if !ok {
				return false
			}
			st.at("explore.strategy."+name, a)
			set(int(n))
			return true
		}
		switch s.Kind {
		case StrategyRandom:
		case StrategyPCT:
			ok = param("depth", 1, func(n int) { s.Depth = n })
		case StrategyDFS:
			ok = param("bound", 0, func(n int) { s.Bound = n })
		case StrategyRR:
			if st.Peek().Kind != tEOL {
				ok = param("quantum", 0, func(n int) { s.Quantum = n })
			}
		default:
			st.errAt(t, "unknown strategy %q; expected %s", t.Text, oneOf([]StrategyKind{StrategyRandom, StrategyPCT, StrategyDFS, StrategyRR}))
			return
		}
		if ok && st.end() && st.setting("explore.strategy") {
			e.Strategy = s
		}
	case "schedules":
		number("explore.schedules", "a number of schedules", math.MaxInt32, func(n int64) { e.Schedules = int(n) })
	case "steps":
		number("explore.steps", "a number of steps", math.MaxInt64, func(n int64) { e.Steps = n })
	case "time":
		t, ok := st.value("a duration such as 10s")
		if !ok {
			return
		}
		d, ok := st.duration(t)
		if !ok {
			return
		}
		if d == 0 {
			st.errAt(t, "time 0s is not allowed; leave it out for the default")
			return
		}
		if st.end() && st.setting("explore.time") {
			e.Time = d
			st.at("explore.time", t)
		}
	case "seed":
		t, ok := st.value("a seed (a number)")
		if !ok {
			return
		}
		if t.Kind != tWord || !lex.AllDigits(t.Text) {
			st.expected(t, "a seed (a number from 0 to 18446744073709551615)")
			return
		}
		n, err := strconv.ParseUint(t.Text, 10, 64)
		if err != nil {
			st.errAt(t, "seed %s is too large (the limit is %d)", t.Text, uint64(math.MaxUint64))
			return
		}
		if st.end() && st.setting("explore.seed") {
			e.Seed = n
			st.at("explore.seed", t)
		}
	case "memory":
		t, ok := st.value("a memory budget such as 512MiB")
		if !ok {
			return
		}
		n, ok := st.size(t, "a memory budget")
		if !ok {
			return
		}
		if n == 0 {
			st.errAt(t, "memory 0 is not allowed; leave it out for the default")
			return
		}
		if st.end() && st.setting("explore.memory") {
			e.Memory = n
			st.at("explore.memory", t)
		}
	default:
		st.errAt(kw, "unknown explore setting %q; expected strategy, schedules, steps, time, seed or memory", kw.Text)
	}
}

// ---------------------------------------------------------------- check and expect

func (p *parser) checkStmt(st *stmt) bool {
	if st.Peek().Kind == tEOL {
		return st.expected(st.Peek(), `"all", "all except" and invariant ids, or invariant ids`)
	}
	var c Checks
	list := &c.Only
	path := "check.only"
	if t := st.Peek(); t.Kind == tWord && t.Text == "all" {
		st.Next()
		if w := st.Peek(); w.Kind != tEOL {
			if w.Kind != tWord || w.Text != "except" {
				return st.expected(w, `"except" and invariant ids, or end of line`)
			}
			st.Next()
			if st.Peek().Kind == tEOL {
				return st.expected(st.Peek(), "invariant ids after except")
			}
			list, path = &c.Except, "check.except"
		}
	}
	for st.Peek().Kind != tEOL {
		t := st.Next()
		if t.Kind == tWord && (t.Text == "all" || t.Text == "except") {
			return st.errAt(t, `%q comes first: "check all except ID..."`, t.Text)
		}
		st.at(fmt.Sprintf("%s[%d]", path, len(*list)), t)
		*list = append(*list, Invariant(t.Text))
	}
	if st.setting("check") {
		p.s.Checks = c
	}
	return true
}

func (p *parser) expectStmt(st *stmt) bool {
	x := &p.s.Expect
	t := st.Next()
	if t.Kind != tWord {
		return st.expected(t, `ok, failure and an invariant id, or trace and a file`)
	}
	switch t.Text {
	case "ok":
		if st.end() && st.setting("expect") {
			x.Outcome = OutcomeOK
			st.at("expect", t)
		}
	case "failure":
		id, ok := st.value("an invariant id (such as fsync-error) or a failure kind (deadlock, livelock, time-budget, bug)")
		if ok && st.end() && st.setting("expect") {
			x.Outcome, x.Failure = OutcomeFailure, id.Text
			st.at("expect.failure", id)
		}
	case "trace":
		f, ok := st.value("a trace file name, relative to this file")
		if ok && st.end() && st.setting("expect.trace") {
			x.Trace = f.Text
			st.at("expect.trace", f)
		}
	default:
		return st.expected(t, `ok, failure and an invariant id, or trace and a file`)
	}
	return true
}

// ---------------------------------------------------------------- tasks

func (p *parser) taskBlock(t *Task, path string) (lines int) {
	t.Ops, lines = p.opBlock("", path+".ops", 0)
	return lines
}

// opBlock parses the operations of the block below a statement indented
// by parent: a task's, or a repeat's at depth (the repeats around it).
// prefix is the field path of the list ("tasks[0].ops").
func (p *parser) opBlock(parent, prefix string, depth int) (ops []Op, lines int) {
	p.children(parent, func(ln *srcLine) {
		lines++
		st, ok := p.stmt(ln)
		if !ok {
			return
		}
		op, ok := p.op(st, fmt.Sprintf("%s[%d]", prefix, len(ops)), depth)
		if ok {
			ops = append(ops, op)
		}
	})
	return ops, lines
}

// repeat parses the rest of a repeat line, "N" or "until TASK done", and
// its block. It consumes the block even when the line is wrong.
func (p *parser) repeat(st *stmt, op *Op, path string, depth int) bool {
	ok := p.repeatHead(st, op, path)
	if ok && depth >= MaxRepeatDepth {
		ok = st.errAt(st.kw, "repeat blocks nest more than %d deep", MaxRepeatDepth)
	}
	if !ok {
		p.skipDeeper(st.ln.indent)
		return false
	}
	return p.body(st, op, path, depth, "repeat", "repeat")
}

func (p *parser) repeatHead(st *stmt, op *Op, path string) bool {
	const want = `a count such as 10, or "until TASK done"`
	t := st.Next()
	switch {
	case t.Kind == tWord && t.Text == "until":
		n, ok := st.value("a task name")
		if !ok {
			return false
		}
		op.Until = n.Text
		st.at(path+".until", n)
		if d := st.Next(); d.Kind != tWord || d.Text != "done" {
			return st.expected(d, `"done" (repeat until TASK done)`)
		}
	case t.Kind == tWord && lex.AllDigits(strings.TrimPrefix(t.Text, "-")):
		n, ok := st.count(t, "a repeat count", MaxRepeat)
		if !ok {
			return false
		}
		op.Count = n
		st.at(path+".count", t)
	default:
		return st.expected(t, want)
	}
	return st.end()
}

func (p *parser) op(st *stmt, path string, depth int) (Op, bool) {
	kw := st.kw
	op := Op{Kind: OpKind(kw.Text)}
	if kw.Kind == tWord && op.Kind == OpRepeat {
		ok := p.repeat(st, &op, path, depth)
		return op, ok
	}
	if kw.Kind == tWord && kw.Text == "after" {
		op.Kind = OpAfterCrash
		ok := p.afterCrash(st, &op, path, depth)
		return op, ok
	}
	sh, ok := opShapes[op.Kind]
	if kw.Kind != tWord || !ok {
		if kw.Kind == tWord && slices.Contains(topKeywords, kw.Text) {
			return op, st.errAt(kw, "%s is a top-level statement: it starts at column 1", kw.Text)
		}
		return op, st.expected(kw, "an operation ("+strings.Join(toStrings(opKinds), ", ")+")")
	}
	if sh.fd {
		t, ok := st.value("an fd name such as f")
		if !ok {
			return op, false
		}
		op.FD = t.Text
		st.at(path+".fd", t)
	}
	switch op.Kind {
	case OpOpen:
		t, ok := st.value("a path such as /data")
		if !ok {
			return op, false
		}
		op.Path = t.Text
		st.at(path+".path", t)
		for {
			w := st.Peek()
			if w.Kind != tWord || w.Text == "expect" {
				break
			}
			st.Next()
			if w.Text == "as" {
				if op.Key != "" {
					return op, st.errAt(w, "as given twice")
				}
				k, ok := st.value("an AFS key name")
				if !ok {
					return op, false
				}
				op.Key = k.Text
				st.at(path+".key", k)
				continue
			}
			i := -1
			for k, n := range openFlagNames {
				if n.name == w.Text {
					i = k
				}
			}
			if i < 0 {
				return op, st.expected(w, `"as KEY", an open flag (rdonly, wronly, trunc, append, sync) or "expect"`)
			}
			if op.Flags&openFlagNames[i].f != 0 {
				return op, st.errAt(w, "flag %s given twice", w.Text)
			}
			op.Flags |= openFlagNames[i].f
			st.at(path+".flags", w)
		}
	case OpWrite, OpPWrite, OpMmapWrite, OpRead:
		t, ok := st.value("a range such as 0+4KiB")
		if !ok {
			return op, false
		}
		if op.Offset, op.Len, ok = st.rangeArg(t, sh.atPos); !ok {
			return op, false
		}
		st.at(path+".range", t)
		if sh.label {
			if w := st.Next(); w.Kind != tWord || w.Text != "as" {
				return op, st.expected(w, `"as" and a label (the write's name in expectations and traces)`)
			}
			l, ok := st.value("a label such as A")
			if !ok {
				return op, false
			}
			op.Label = l.Text
			st.at(path+".label", l)
		}
	case OpMsync:
		switch w := st.Peek(); {
		case w.Kind == tWord && w.Text == "async":
			st.Next()
			op.Async = true
			st.at(path+".async", w)
		case w.Kind != tEOL && !(w.Kind == tWord && w.Text == "expect"):
			return op, st.expected(w, `"async" (MS_ASYNC; without it, MS_SYNC), "expect" or end of line`)
		}
	case OpTruncate:
		t, ok := st.value("a size")
		if !ok {
			return op, false
		}
		if op.Size, ok = st.size(t, "a file size"); !ok {
			return op, false
		}
		st.at(path+".size", t)
	case OpSleep:
		t, ok := st.value("a duration such as 10ms")
		if !ok {
			return op, false
		}
		if op.Dur, ok = st.duration(t); !ok {
			return op, false
		}
		st.at(path+".dur", t)
	case OpSignal:
		t, ok := st.value("a task name")
		if !ok {
			return op, false
		}
		op.Task = t.Text
		st.at(path+".task", t)
	case OpRevokeKey, OpExpireKey:
		t, ok := st.value("an AFS key name")
		if !ok {
			return op, false
		}
		op.Key = t.Text
		st.at(path+".key", t)
	case OpDevice, OpServer:
		if !st.table(&op, path) {
			return op, false
		}
	case OpCrash:
		if !st.crashArgs(&op, path) {
			return op, false
		}
	}
	if w := st.Peek(); w.Kind == tWord && w.Text == "expect" {
		st.Next()
		st.at(path+".expect", w)
		r, ok := st.result(path + ".expect")
		if !ok {
			return op, false
		}
		op.Expect = r
	}
	if !st.end() {
		return op, false
	}
	op.Meta = st.meta()
	return op, true
}

// crashArgs parses the rest of a crash line: a mode, and for enumerate
// "torn" and "max N".
func (st *stmt) crashArgs(op *Op, path string) bool {
	w := st.Peek()
	if w.Kind != tWord || w.Text == "expect" {
		return true
	}
	st.Next()
	if !slices.Contains(crashModes, CrashMode(w.Text)) {
		return st.expected(w, "a crash mode ("+strings.Join(toStrings(crashModes), ", ")+") or end of line")
	}
	op.Crash = CrashMode(w.Text)
	st.at(path+".crash", w)
	if o := st.Peek(); o.Kind == tWord && (o.Text == "torn" || o.Text == "max") && op.Crash != CrashEnumerate {
		return st.errAt(o, "%s is an option of crash enumerate, not of crash %s", o.Text, op.Crash)
	}
	for op.Crash == CrashEnumerate {
		w := st.Peek()
		switch {
		case w.Kind == tWord && w.Text == "torn" && !op.Torn:
			st.Next()
			op.Torn = true
			st.at(path+".torn", w)
		case w.Kind == tWord && w.Text == "max" && op.Max == 0:
			st.Next()
			t := st.Next()
			n, ok := st.count(t, "the most crash states to check, such as 100", MaxCrashStates)
			if !ok {
				return false
			}
			if n == 0 {
				return st.errAt(t, "crash enumerate max 0 checks no state; the cap is 1 to %d", MaxCrashStates)
			}
			op.Max = n
			st.at(path+".max", t)
		default:
			return true
		}
	}
	return true
}

// afterCrash parses "after crash" and its block, the operations that run
// on the remounted file system. It consumes the block even when the line
// is wrong.
func (p *parser) afterCrash(st *stmt, op *Op, path string, depth int) bool {
	if w := st.Next(); w.Kind != tWord || w.Text != "crash" {
		p.skipDeeper(st.ln.indent)
		return st.expected(w, `"crash" (after crash, then the block of operations that run after it)`)
	}
	if !st.end() {
		p.skipDeeper(st.ln.indent)
		return false
	}
	return p.body(st, op, path, depth, "after crash", "after")
}

// body reads the block of operations indented below st's line (a repeat's
// or an after crash's) into op.Body; what and kw name the statement and
// its keyword in the error for an empty block.
func (p *parser) body(st *stmt, op *Op, path string, depth int, what, kw string) bool {
	op.Meta = st.meta()
	var lines int
	op.Body, lines = p.opBlock(st.ln.indent, path+".body", depth+1)
	if lines == 0 {
		return st.errAt(st.kw, "the %s block has no operations: write them on the lines below, indented more than %s", what, kw)
	}
	return true
}

const resultWant = "ok, eof, an errno such as EIO, or runs such as A:4KiB zero:4KiB"

// result parses what follows "expect" on an operation.
func (st *stmt) result(path string) (Result, bool) {
	t := st.Next()
	if t.Kind != tWord {
		return Result{}, st.expected(t, resultWant)
	}
	if !strings.Contains(t.Text, ":") {
		switch t.Text {
		case "ok":
			return Result{Kind: ResultOK}, true
		case "eof":
			return Result{Kind: ResultData}, true
		case "size":
			n := st.Next()
			sz, ok := st.size(n, "a file size")
			return Result{Kind: ResultSize, Size: sz}, ok
		}
		e, err := errno.Parse(t.Text)
		if err != nil {
			if u, err2 := errno.Parse(strings.ToUpper(t.Text)); err2 == nil {
				return Result{}, st.errAt(t, "expected %s, got %s (errno names are upper case: %s)", resultWant, t.Describe(), u)
			}
			return Result{}, st.expected(t, resultWant)
		}
		return Result{Kind: ResultErrno, Errno: e}, true
	}
	r := Result{Kind: ResultData}
	for {
		label, size, _ := strings.Cut(t.Text, ":")
		n, msg := parseSize(size)
		switch {
		case label == "":
			return r, st.expected(t, "a run LABEL:SIZE such as A:4KiB or zero:4KiB")
		case msg == "bad":
			return r, st.expected(t, "a run LABEL:SIZE such as A:4KiB ("+sizeWant+")")
		case msg != "":
			return r, st.errAt(t, "run length %s %s", size, msg)
		}
		if label == "zero" {
			label = ""
		}
		st.at(fmt.Sprintf("%s.data[%d]", path, len(r.Data)), t)
		r.Data = append(r.Data, Run{Label: label, Len: n})
		if st.Peek().Kind == tEOL {
			return r, true
		}
		t = st.Next()
		if t.Kind != tWord || !strings.Contains(t.Text, ":") {
			return r, st.expected(t, "another run LABEL:SIZE or end of line")
		}
	}
}
