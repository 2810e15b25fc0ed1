package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// This file validates a Scenario: the same checks for one parsed from text
// (where errors carry file:line:col) and one built in Go (where they name
// the field, such as tasks[0].ops[2].fd).

// Error is one problem in a scenario.
type Error struct {
	// Pos is where the problem is, when the scenario came from text.
	Pos Pos
	// Path names the node or field: "kernel", "fs.block-size",
	// "tasks[0].ops[2].fd", "faults.rules[1]", ...
	Path string
	Msg  string
}

// Error returns "file:line:col: msg", or "path: msg" without a position.
func (e *Error) Error() string {
	switch {
	case e.Pos.IsValid():
		return e.Pos.String() + ": " + e.Msg
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// Validate reports every problem with s (up to MaxErrors), or nil. Parse
// returns only valid scenarios. The error is an *Error, or several joined
// with errors.Join, in source order.
func (s *Scenario) Validate() error {
	v := newValidator(s, nil, "")
	v.run()
	return joinErrors(v.errs)
}

// joinErrors sorts errs by position (stable) and joins at most MaxErrors.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	if len(errs) == 1 {
		return errs[0]
	}
	var l []error
	for i, e := range errs {
		if i == MaxErrors {
			l = append(l, &Error{Pos: e.Pos, Path: e.Path, Msg: fmt.Sprintf("too many errors (%d more)", len(errs)-i)})
			break
		}
		l = append(l, e)
	}
	return errors.Join(l...)
}

type validator struct {
	s    *Scenario
	pos  map[string]Pos
	errs []*Error
	// writes maps each write label to the operation that writes it.
	writes map[string]*Op
	// keys holds the declared AFS key names.
	keys map[string]bool
	// tasks maps task names to tasks (the first of a name).
	taskByName map[string]*Task
	// crashes is s.HasOp(OpCrash).
	crashes bool
}

// newValidator makes a validator. fieldPos, from the parser, maps paths of
// fields to the positions of their tokens; node positions come from Metas.
func newValidator(s *Scenario, fieldPos map[string]Pos, file string) *validator {
	v := &validator{s: s, pos: map[string]Pos{}, writes: map[string]*Op{}, keys: map[string]bool{},
		taskByName: map[string]*Task{}, crashes: s.HasOp(OpCrash)}
	for _, t := range s.Tasks {
		if t != nil && v.taskByName[t.Name] == nil {
			v.taskByName[t.Name] = t
		}
	}
	add := func(path string, m Meta) {
		if m.Pos.IsValid() {
			v.pos[path] = m.Pos
		}
	}
	add("", s.Meta)
	for k, m := range s.Settings {
		add(k, m)
	}
	for i, f := range s.FS.Files {
		add(fmt.Sprintf("fs.files[%d]", i), f.Meta)
	}
	if a := s.FS.AFS; a != nil {
		for i, k := range a.Keys {
			add(fmt.Sprintf("fs.keys[%d]", i), k.Meta)
		}
		for i, e := range a.ACL {
			add(fmt.Sprintf("fs.acl[%d]", i), e.Meta)
		}
	}
	if s.Faults != nil {
		for i, m := range s.Faults.RuleMeta {
			add(fmt.Sprintf("faults.rules[%d]", i), m)
		}
	}
	if s.Setup != nil {
		add("setup", s.Setup.Meta)
		EachOp(s.Setup.Ops, "setup.ops", func(op *Op, p string) { add(p, op.Meta) })
	}
	for i, t := range s.Tasks {
		if t == nil {
			continue
		}
		add(fmt.Sprintf("tasks[%d]", i), t.Meta)
		EachOp(t.Ops, fmt.Sprintf("tasks[%d].ops", i), func(op *Op, p string) { add(p, op.Meta) })
	}
	for k, p := range fieldPos {
		v.pos[k] = p
	}
	return v
}

// at returns the position of path, or of its closest ancestor that has one.
func (v *validator) at(path string) Pos {
	for p := path; ; p = parentPath(p) {
		if pos, ok := v.pos[p]; ok {
			return pos
		}
		if p == "" {
			return Pos{}
		}
	}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{Pos: v.at(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) run() {
	s := v.s
	v.header()
	v.bug()
	v.kernel()
	v.fs()
	v.faults()
	v.vm()
	v.tasks()
	v.checks()
	if s.Contract != "" && !slices.Contains(contracts, s.Contract) {
		v.errf("fsync-contract", "unknown fsync-error contract %q; expected %s", s.Contract, oneOf(contracts))
	}
	v.explore()
	v.expect()
	v.comments()
}

// ---------------------------------------------------------------- lexical checks

// identProblem says what is wrong with an identifier, or "".
func identProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	if len(s) > MaxNameLen {
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(s), MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || i > 0 && (c == '-' || c == '.')) {
			return `may hold only letters, digits and "_", and after the first character "-" and "."`
		}
	}
	return ""
}

func (v *validator) ident(path, what, s string) bool {
	if p := identProblem(s); p != "" {
		if s == "" {
			v.errf(path, "the %s is missing", what)
		} else {
			v.errf(path, "invalid %s %q: a %s %s", what, s, what, p)
		}
		return false
	}
	return true
}

// textProblem says what is wrong with one line of free text (a comment or
// a description line), or "".
func textProblem(line string) string {
	if !utf8.ValidString(line) {
		return "is not valid UTF-8"
	}
	for _, r := range line {
		if r < ' ' && r != '\t' || r == 0x7f {
			return fmt.Sprintf("holds the control character %q", r)
		}
	}
	if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
		return "ends with white space"
	}
	return ""
}

// pathProblem says what is wrong with an absolute path, or "".
func pathProblem(p string, absolute bool) string {
	switch {
	case p == "":
		return "is empty"
	case len(p) > MaxPathLen:
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(p), MaxPathLen)
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case absolute && p[0] != '/':
		return `must be absolute (start with "/")`
	case !absolute && p[0] == '/':
		return "must be relative to the scenario file"
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return fmt.Sprintf("holds the control character %q", r)
		}
	}
	rest := p
	if absolute {
		rest = p[1:]
	}
	for _, c := range strings.Split(rest, "/") {
		switch c {
		case "":
			return `has an empty component ("//" or a trailing "/")`
		case ".", "..":
			return fmt.Sprintf("has a %q component", c)
		}
	}
	return ""
}

func (v *validator) text(path, what, text string, block bool) {
	if len(text) > MaxTextLen {
		v.errf(path, "the %s is %d bytes long; the limit is %d", what, len(text), MaxTextLen)
		return
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if p := textProblem(l); p != "" {
			v.errf(path, "line %d of the %s %s", i+1, what, p)
			return
		}
	}
	if !block {
		return
	}
	switch {
	case lines[0] == "" || lines[len(lines)-1] == "":
		v.errf(path, "the %s starts or ends with an empty line", what)
	case lines[0][0] == ' ' || lines[0][0] == '\t':
		v.errf(path, "the first line of the %s starts with white space", what)
	}
}

// ---------------------------------------------------------------- sections

func (v *validator) header() {
	s := v.s
	v.ident("name", "scenario name", s.Name)
	if len(s.Tags) > MaxTags {
		v.errf("tags", "%d tags; the limit is %d", len(s.Tags), MaxTags)
	}
	seen := map[string]bool{}
	for i, t := range s.Tags {
		p := fmt.Sprintf("tags[%d]", i)
		if v.ident(p, "tag", t) && seen[t] {
			v.errf(p, "tag %q given twice", t)
		}
		seen[t] = true
	}
	if s.Description != "" {
		v.text("description", "description", s.Description, true)
	}
}

func (v *validator) bug() {
	b := v.s.Bug
	if b == nil {
		return
	}
	v.ident("bug.id", "bug id", b.ID)
	if b.Fix != "" {
		switch p := textProblem(b.Fix); {
		case len(b.Fix) > MaxTitleLen:
			v.errf("bug.fix", "the fix title is %d bytes long; the limit is %d", len(b.Fix), MaxTitleLen)
		case p != "" && p != "ends with white space":
			v.errf("bug.fix", "the fix title %s", p)
		}
	}
	if b.Commit != "" {
		ok := len(b.Commit) >= 7 && len(b.Commit) <= 40
		for i := 0; ok && i < len(b.Commit); i++ {
			c := b.Commit[i]
			ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
		}
		if !ok {
			v.errf("bug.commit", "invalid commit %q: expected 7 to 40 lower-case hex digits", b.Commit)
		}
	}
	if b.Switch != "" {
		v.fixName("bug.switch", b.Switch)
	}
	if b.Description != "" {
		v.text("bug.description", "bug description", b.Description, true)
	}
}

func (v *validator) kernel() {
	s := v.s
	switch {
	case s.Kernel == "":
		v.errf("kernel", `the kernel version is missing; expected "kernel" and %s`, oneOf(kernelVersions))
	case !s.Kernel.Known():
		v.errf("kernel", "unknown kernel version %q; expected %s", s.Kernel, oneOf(kernelVersions))
	}
	if s.Arch != "" && s.Arch != Arch32 && s.Arch != Arch64 {
		v.errf("arch", "unknown arch %q; expected %s", s.Arch, oneOf([]Arch{Arch32, Arch64}))
	}
	seen := map[string]bool{}
	for i, f := range s.Fixes {
		p := fmt.Sprintf("fixes[%d]", i)
		if v.fixName(p, f) && seen[f] {
			v.errf(p, "fix %q given twice", f)
		}
		seen[f] = true
	}
}

// fixName checks that name is a fix switch of the scenario's kernel.
func (v *validator) fixName(path, name string) bool {
	k := v.s.Kernel
	f, ok := LookupFix(name)
	if !ok {
		if k.Known() {
			v.errf(path, "unknown fix %q; kernel %s takes %s", name, k, oneOf(FixesFor(k)))
		} else {
			var all []string
			for _, f := range fixTable {
				all = append(all, f.Name)
			}
			v.errf(path, "unknown fix %q; expected %s", name, oneOf(all))
		}
		return false
	}
	if !k.Known() {
		return true
	}
	if f.Subsystem != k.Subsystem() {
		v.errf(path, "fix %q belongs to %s, and kernel %s models %s; it takes %s",
			name, f.Subsystem, k, k.Subsystem(), oneOf(FixesFor(k)))
		return false
	}
	if !slices.Contains(f.Versions, k) {
		v.errf(path, "fix %q applies to %s only: kernel %s does not have the bug", name, joinVersions(f.Versions), k)
		return false
	}
	return true
}

func joinVersions(vs []KernelVersion) string {
	w := make([]string, len(vs))
	for i, x := range vs {
		w[i] = string(x)
	}
	return strings.Join(w, ", ")
}

func (v *validator) fs() {
	s := v.s
	fs := s.FS
	switch {
	case fs.BlockFS == nil && fs.AFS == nil:
		v.errf("fs", `the file system is missing; expected "fs blockfs" or "fs afs"`)
	case fs.BlockFS != nil && fs.AFS != nil:
		v.errf("fs", "both BlockFS and AFS are set; a scenario has one file system")
	default:
		if want := s.Kernel.FSKind(); want != "" && want != fs.Kind() {
			v.errf("fs", "kernel %s runs on %s, not %s", s.Kernel, want, fs.Kind())
		}
	}
	if b := fs.BlockFS; b != nil {
		if b.BlockSize != 0 && b.BlockSize != 512 && b.BlockSize != 1024 && b.BlockSize != 2048 && b.BlockSize != 4096 {
			v.errf("fs.block-size", "block size %d is not one of 512, 1024, 2048, 4096", b.BlockSize)
		}
		if b.Layout != "" && b.Layout != LayoutIndirect && b.Layout != LayoutExtent {
			v.errf("fs.layout", "unknown layout %q; expected %s", b.Layout, oneOf([]Layout{LayoutIndirect, LayoutExtent}))
		}
		if b.Allocator != "" && b.Allocator != AllocContiguous && b.Allocator != AllocFragmented && b.Allocator != AllocInterleaved {
			v.errf("fs.allocator", "unknown allocator %q; expected %s", b.Allocator, oneOf([]Allocator{AllocContiguous, AllocFragmented, AllocInterleaved}))
		}
		v.switchValue("fs.nobh", "nobh", b.NoBH)
		v.switchValue("fs.fsync-flush", "fsync-flush", b.FsyncFlush)
		if c := b.Capacity; c != 0 {
			bs := int64(cmpOr(b.BlockSize, DefaultBlockSize))
			switch {
			case c < MinCapacity || c > MaxCapacity:
				v.errf("fs.capacity", "capacity %s is outside %s..%s", formatSize(c), formatSize(MinCapacity), formatSize(MaxCapacity))
			case c%bs != 0:
				v.errf("fs.capacity", "capacity %s is not a multiple of the block size %d", formatSize(c), bs)
			}
		}
		v.duration("fs.latency", "latency", b.Latency)
	}
	if a := fs.AFS; a != nil {
		v.duration("fs.latency", "latency", a.Latency)
		if len(a.Keys) > MaxKeys {
			v.errf("fs.keys", "%d keys; the limit is %d", len(a.Keys), MaxKeys)
		}
		for i, k := range a.Keys {
			p := fmt.Sprintf("fs.keys[%d]", i)
			switch {
			case k.Name == "":
				v.errf(p+".name", "the key name is empty")
			case len(k.Name) > MaxKeyLen:
				v.errf(p+".name", "the key name is %d bytes long; the limit is %d", len(k.Name), MaxKeyLen)
			case v.keys[k.Name]:
				v.errf(p+".name", "key %s declared twice", quoteName(k.Name))
			}
			v.keys[k.Name] = true
			switch k.State {
			case "", KeyValid, KeyExpired, KeyRevoked, KeyRejected:
			default:
				v.errf(p+".state", "unknown key state %q; expected %s", k.State, oneOf([]KeyState{KeyValid, KeyExpired, KeyRevoked, KeyRejected}))
			}
		}
	}
	if len(fs.Files) > MaxFiles {
		v.errf("fs.files", "%d files; the limit is %d", len(fs.Files), MaxFiles)
	}
	files := map[string]bool{}
	for i, f := range fs.Files {
		p := fmt.Sprintf("fs.files[%d]", i)
		if pr := pathProblem(f.Path, true); pr != "" {
			v.errf(p+".path", "invalid path %s: it %s", quoteName(f.Path), pr)
		} else if files[f.Path] {
			v.errf(p+".path", "file %s declared twice", quoteName(f.Path))
		}
		files[f.Path] = true
		if f.Size < 0 || f.Size > MaxFileSize {
			v.errf(p+".size", "file size %s is outside 0..%s", formatSize(f.Size), formatSize(MaxFileSize))
		}
	}
	if a := fs.AFS; a != nil {
		if len(a.ACL) > MaxACL {
			v.errf("fs.acl", "%d acl entries; the limit is %d", len(a.ACL), MaxACL)
		}
		type pk struct{ path, key string }
		seen := map[pk]bool{}
		for i, e := range a.ACL {
			p := fmt.Sprintf("fs.acl[%d]", i)
			if !files[e.Path] {
				v.errf(p+".path", "acl on %s, which is not a declared file (declare it with \"file %s\")", quoteName(e.Path), quoteName(e.Path))
			}
			if !v.keys[e.Key] {
				v.errf(p+".key", "acl for key %s, which is not declared (declare it with \"key %s\")", quoteName(e.Key), quoteName(e.Key))
			}
			switch e.Rights {
			case RightsNone, RightsRead, RightsWrite:
			default:
				v.errf(p+".rights", "unknown rights %q; expected %s", e.Rights, oneOf([]Rights{RightsNone, RightsRead, RightsWrite}))
			}
			if seen[pk{e.Path, e.Key}] {
				v.errf(p, "a second acl entry for %s and key %s", quoteName(e.Path), quoteName(e.Key))
			}
			seen[pk{e.Path, e.Key}] = true
		}
	}
}

func (v *validator) switchValue(path, what string, sw Switch) {
	if sw != "" && sw != On && sw != Off {
		v.errf(path, "%s must be on or off, not %q", what, sw)
	}
}

func (v *validator) duration(path, what string, d sim.Time) {
	if d < 0 || d > MaxDuration {
		v.errf(path, "%s %s is outside 0s..%s", what, formatDuration(d), formatDuration(MaxDuration))
	}
}

// Operation sets for checking fault rules against the file system.
var (
	blockDevOps = faultdisk.Ops(faultdisk.OpRead, faultdisk.OpWrite, faultdisk.OpFlush, faultdisk.OpFUAWrite, faultdisk.OpAlloc)
	serverOps   = faultdisk.Ops(faultdisk.OpStore, faultdisk.OpFetch, faultdisk.OpAlloc)
)

// ruleOps returns the operations a valid rule can match: its operations
// narrowed by its conditions and its action.
func ruleOps(r faultdisk.Rule) faultdisk.OpSet {
	m := r.Match
	set := m.Ops
	if set == 0 {
		set = faultdisk.AnyIO
	}
	if set.Has(faultdisk.OpWrite) {
		set |= faultdisk.Ops(faultdisk.OpFUAWrite)
	}
	if !m.Sectors.IsZero() {
		set &= faultdisk.Ops(faultdisk.OpRead, faultdisk.OpWrite, faultdisk.OpFUAWrite)
	}
	if m.File != 0 || !m.Bytes.IsZero() || m.Key != "" {
		set &= faultdisk.Ops(faultdisk.OpStore, faultdisk.OpFetch)
	}
	if m.Site != "" {
		set &= faultdisk.Ops(faultdisk.OpAlloc)
	}
	switch r.Action.(type) {
	case faultdisk.Latent:
		set &= faultdisk.Ops(faultdisk.OpRead)
	case faultdisk.Corrupt:
		set &= faultdisk.Ops(faultdisk.OpRead, faultdisk.OpFetch)
	case faultdisk.Misdirect, faultdisk.MisdirectTo:
		set &= faultdisk.Ops(faultdisk.OpWrite, faultdisk.OpFUAWrite)
	case faultdisk.Partial:
		set &= faultdisk.AnyIO &^ faultdisk.Ops(faultdisk.OpFlush)
	case faultdisk.Offline:
		set &= faultdisk.AnyIO
	}
	return set
}

func opNames(s faultdisk.OpSet) string {
	var w []string
	for o := faultdisk.OpRead; o <= faultdisk.OpFetch; o++ {
		if s.Has(o) {
			w = append(w, o.String())
		}
	}
	return strings.Join(w, ", ")
}

func (v *validator) faults() {
	f := v.s.Faults
	if f == nil {
		return
	}
	if f.Plan == nil {
		v.errf("faults", "the fault plan is nil")
		return
	}
	if err := f.Plan.Validate(); err != nil {
		v.errf("faults", "invalid fault plan: %v", err)
		return
	}
	if len(f.RuleMeta) > len(f.Plan.Rules) {
		v.errf("faults", "%d rule sources for %d rules", len(f.RuleMeta), len(f.Plan.Rules))
	}
	kind := v.s.FS.Kind()
	var have faultdisk.OpSet
	switch kind {
	case "blockfs":
		have = blockDevOps
	case "afs":
		have = serverOps
	default:
		return
	}
	what := map[string]string{"blockfs": "the blockfs disk", "afs": "the AFS file server"}[kind]
	for i, r := range f.Plan.Rules {
		p := fmt.Sprintf("faults.rules[%d]", i)
		if bad := r.Match.Ops &^ have; bad != 0 {
			v.errf(p, "%s: %s %s not an operation of %s, which has %s", r, opNames(bad),
				map[bool]string{true: "is", false: "are"}[bad&(bad-1) == 0], what, opNames(have))
			continue
		}
		if ops := ruleOps(r); ops&have == 0 {
			v.errf(p, "%s: the rule can never fire on %s: it applies to %s only", r, what, opNames(ops))
			continue
		}
		if kind == "afs" && r.Match.Key != "" && !v.keys[r.Match.Key] {
			v.errf(p, "%s: key %s is not declared in the fs block", r, quoteName(r.Match.Key))
		}
	}
}

func (v *validator) vm() {
	vm := v.s.VM
	mem := cmpOr(vm.MemoryPages, DefaultMemoryPages)
	if vm.MemoryPages != 0 && (vm.MemoryPages < 16 || vm.MemoryPages > MaxMemoryPages) {
		v.errf("vm.memory", "memory %d pages is outside 16..%d", vm.MemoryPages, MaxMemoryPages)
	}
	if r := vm.ReclaimLimit; r != 0 && (r < 1 || r > mem) {
		v.errf("vm.reclaim", "reclaim limit %d pages is outside 1..%d (the memory)", r, mem)
	}
	ratio := vm.DirtyRatio != 0 || vm.DirtyBackgroundRatio != 0
	pages := vm.DirtyPages != 0 || vm.DirtyBackgroundPages != 0
	switch {
	case ratio && pages:
		v.errf("vm.dirty", "dirty thresholds are given both as a ratio and in pages; give one")
	case ratio:
		switch {
		case vm.DirtyRatio < 1 || vm.DirtyRatio > 100:
			v.errf("vm.dirty", "dirty ratio %d is outside 1..100", vm.DirtyRatio)
		case vm.DirtyBackgroundRatio < 0 || vm.DirtyBackgroundRatio >= vm.DirtyRatio:
			v.errf("vm.dirty", "background ratio %d must be below the dirty ratio %d", vm.DirtyBackgroundRatio, vm.DirtyRatio)
		}
	case pages:
		switch {
		case vm.DirtyPages < 1 || vm.DirtyPages > mem:
			v.errf("vm.dirty", "dirty pages %d is outside 1..%d (the memory)", vm.DirtyPages, mem)
		case vm.DirtyBackgroundPages < 0 || vm.DirtyBackgroundPages >= vm.DirtyPages:
			v.errf("vm.dirty", "background pages %d must be below the dirty pages %d", vm.DirtyBackgroundPages, vm.DirtyPages)
		}
	}
	f := vm.Flusher
	if f.Off && (f.Interval != 0 || f.Expire != 0) {
		v.errf("vm.flusher", "the flusher is off but has an interval or expiry")
	}
	for _, d := range []struct {
		what string
		d    sim.Time
	}{{"flusher interval", f.Interval}, {"flusher expire", f.Expire}} {
		if d.d < 0 || d.d > MaxDuration {
			v.errf("vm.flusher", "%s %s is outside 0s..%s", d.what, formatDuration(d.d), formatDuration(MaxDuration))
		}
	}
}

// ---------------------------------------------------------------- tasks and operations

// opShape says which Op fields an operation kind uses.
type opShape struct {
	fd, path, key, flags, rng, label, size, dur, task bool
	async                                             bool // msync's "async"
	repeat                                            bool // Count, Until and Body
	table                                             bool // device, server: Table
	crash                                             bool // Crash, Torn and Max
	after                                             bool // Body (after crash)
	atPos                                             bool // Offset may be AtPos
	results                                           []ResultKind
}

var (
	okErr     = []ResultKind{ResultOK, ResultErrno}
	okErrData = []ResultKind{ResultOK, ResultErrno, ResultData}
	okErrSize = []ResultKind{ResultOK, ResultErrno, ResultSize}
)

var opShapes = map[OpKind]opShape{
	OpOpen:       {fd: true, path: true, key: true, flags: true, results: okErr},
	OpWrite:      {fd: true, rng: true, label: true, atPos: true, results: okErr},
	OpPWrite:     {fd: true, rng: true, label: true, results: okErr},
	OpRead:       {fd: true, rng: true, atPos: true, results: okErrData},
	OpMmapWrite:  {fd: true, rng: true, label: true},
	OpFsync:      {fd: true, results: okErr},
	OpFdatasync:  {fd: true, results: okErr},
	OpMsync:      {fd: true, async: true, results: okErr},
	OpSync:       {},
	OpTruncate:   {fd: true, size: true, results: okErr},
	OpClose:      {fd: true, results: okErr},
	OpSleep:      {dur: true},
	OpCrash:      {crash: true},
	OpDropCaches: {},
	OpSignal:     {task: true},
	OpRevokeKey:  {key: true},
	OpExpireKey:  {key: true},
	OpRepeat:     {repeat: true},
	OpDevice:     {table: true},
	OpServer:     {table: true},
	OpAfterCrash: {after: true},
	OpStat:       {fd: true, results: okErrSize},
}

// opKinds lists the operations in documentation order.
var opKinds = []OpKind{
	OpOpen, OpWrite, OpPWrite, OpRead, OpMmapWrite, OpFsync, OpFdatasync, OpMsync, OpSync,
	OpTruncate, OpClose, OpSleep, OpCrash, OpDropCaches, OpSignal, OpRevokeKey, OpExpireKey, OpRepeat,
	OpDevice, OpServer,
	OpAfterCrash, OpStat,
}

func (v *validator) tasks() {
	s := v.s
	if len(s.Tasks) == 0 {
		v.errf("", `the scenario has no task; add one with "task NAME" and its operations`)
	}
	if len(s.Tasks) > MaxTasks {
		v.errf("tasks", "%d tasks; the limit is %d", len(s.Tasks), MaxTasks)
	}
	total := 0
	names := map[string]bool{}
	type tp struct {
		t    *Task
		path string
	}
	var all []tp
	if s.Setup != nil {
		if s.Setup.Name != "" {
			v.errf("setup", "the setup task has a name (%q); it must be empty", s.Setup.Name)
		}
		all = append(all, tp{s.Setup, "setup"})
	}
	for i, t := range s.Tasks {
		p := fmt.Sprintf("tasks[%d]", i)
		if t == nil {
			v.errf(p, "task is nil")
			continue
		}
		if v.ident(p+".name", "task name", t.Name) {
			switch {
			case t.Name == "setup":
				v.errf(p+".name", `"setup" is not a task name: it is the setup block's`)
			case names[t.Name]:
				v.errf(p+".name", "task %s declared twice", t.Name)
			}
		}
		names[t.Name] = true
		all = append(all, tp{t, p})
	}
	// Labels first: a read may expect data from a write in a later task.
	for _, x := range all {
		EachOp(x.t.Ops, x.path+".ops", func(op *Op, p string) {
			if sh, ok := opShapes[op.Kind]; !ok || !sh.label {
				return
			}
			p += ".label"
			if !v.ident(p, "label", op.Label) {
				return
			}
			if op.Label == "zero" {
				v.errf(p, `"zero" is not a label: it stands for zero bytes in read expectations`)
				return
			}
			if w := v.writes[op.Label]; w != nil {
				where := ""
				if w.Meta.Pos.IsValid() {
					where = " (" + strings.TrimPrefix(at(w.Meta.Pos), " ") + ")"
				}
				v.errf(p, "label %s is already used by another %s%s; every write has its own label", op.Label, w.Kind, where)
				return
			}
			v.writes[op.Label] = op
		})
	}
	var setupOpen map[string]string
	for _, x := range all {
		n := 0
		EachOp(x.t.Ops, "", func(*Op, string) { n++ })
		total += n
		switch {
		case n == 0 && x.t == s.Setup:
			v.errf(x.path, "the setup block has no operations")
		case n == 0:
			v.errf(x.path, "task %s has no operations", x.t.Name)
		case n > MaxOpsPerTask:
			v.errf(x.path, "%d operations; the limit is %d per task", n, MaxOpsPerTask)
		}
		open := map[string]string{} // fd -> "" when open, else why it is closed
		for fd := range setupOpen {
			open[fd] = ""
		}
		v.opSeq(x.t.Ops, x.path+".ops", x.t, x.t == s.Setup, 0, open)
		if x.t == s.Setup {
			setupOpen = map[string]string{}
			for fd, why := range open {
				if why == "" {
					setupOpen[fd] = ""
				}
			}
		}
	}
	if total > MaxOps {
		v.errf("tasks", "%d operations; the limit is %d", total, MaxOps)
	}
}

// opSeq checks ops, the operations of a task (or setup) or of a repeat
// block depth repeats deep, in order; open tracks the file descriptors: ""
// when open, else why not.
func (v *validator) opSeq(ops []Op, prefix string, t *Task, setup bool, depth int, open map[string]string) {
	isOpen := func(fd string) bool { r, ok := open[fd]; return ok && r == "" }
	for j := range ops {
		op := &ops[j]
		p := fmt.Sprintf("%s[%d]", prefix, j)
		v.op(op, p, t, setup, depth)
		sh := opShapes[op.Kind]
		where := op.Meta.Pos
		if sh.fd && identProblem(op.FD) == "" {
			switch {
			case op.Kind == OpOpen && isOpen(op.FD):
				v.errf(p+".fd", "fd %s is already open; close it first or use another name", op.FD)
			case op.Kind == OpOpen:
				open[op.FD] = ""
			case !isOpen(op.FD):
				why, ok := open[op.FD]
				if !ok {
					why = "it was never opened"
					if !setup {
						why += " in this task or in setup"
					}
				}
				v.errf(p+".fd", "%s uses fd %s, which is not open: %s", op.Kind, op.FD, why)
			case op.Kind == OpClose:
				open[op.FD] = "it was closed" + at(where)
			}
		}
		if op.Kind == OpCrash {
			for fd, why := range open {
				if why == "" {
					open[fd] = "the crash" + at(where) + " closed it"
				}
			}
		}
		if op.Kind == OpAfterCrash {
			if j == 0 || ops[j-1].Kind != OpCrash {
				v.errf(p, "after crash without a crash: the block must come right after a crash operation")
			}
			// The block's fds are its own: it runs on each crash state
			// and ends there.
			v.opSeq(op.Body, p+".body", t, setup, depth, maps.Clone(open))
		}
		if op.Kind == OpRepeat && depth < MaxRepeatDepth {
			before := maps.Clone(open)
			v.opSeq(op.Body, p+".body", t, setup, depth+1, open)
			crashes := false
			EachOp(op.Body, "", func(o *Op, _ string) { crashes = crashes || o.Kind == OpCrash })
			if op.Count != 1 && !crashes {
				v.sameFDs(p, before, open)
			}
		}
	}
}

// sameFDs reports, for the repeat at p, each fd its block leaves open or
// closed when it was not, so that its next iteration would open it again
// or use it closed.
func (v *validator) sameFDs(p string, before, after map[string]string) {
	fds := slices.Sorted(maps.Keys(after))
	for _, fd := range fds {
		was, now := before[fd], after[fd]
		_, known := before[fd]
		switch {
		case now == "" && (!known || was != ""):
			v.errf(p, "the repeat block opens fd %s and leaves it open, so its next iteration would open it again; close it in the block", fd)
		case now != "" && known && was == "":
			v.errf(p, "the repeat block closes fd %s and does not open it again, so its next iteration would use it closed (%s)", fd, now)
		}
	}
}

// taskNames lists the tasks' names for a message, at most ten.
func (v *validator) taskNames() string {
	var names []string
	for _, t := range v.s.Tasks {
		if t == nil {
			continue
		}
		if len(names) == 10 {
			names = append(names, "...")
			break
		}
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func at(p Pos) string {
	if p.IsValid() {
		return " at " + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	}
	return ""
}

func (v *validator) op(op *Op, p string, t *Task, setup bool, depth int) {
	sh, ok := opShapes[op.Kind]
	if !ok {
		v.errf(p, "unknown operation %q; expected %s", op.Kind, oneOf(opKinds))
		return
	}
	afs := v.s.FS.AFS != nil
	// Fields the operation does not take.
	unused := func(used bool, set bool, what string) {
		if !used && set {
			v.errf(p, "%s takes no %s", op.Kind, what)
		}
	}
	unused(sh.fd, op.FD != "", "fd")
	unused(sh.path, op.Path != "", "path")
	unused(sh.key, op.Key != "", "key")
	unused(sh.flags, op.Flags != 0, "flags")
	unused(sh.rng, op.Offset != 0 || op.Len != 0, "offset or length")
	unused(sh.label, op.Label != "", "label")
	unused(sh.size, op.Size != 0, "size")
	unused(sh.dur, op.Dur != 0, "duration")
	unused(sh.task, op.Task != "", "task")
	unused(sh.async, op.Async, "async")
	unused(sh.table, op.Table != (faultdisk.Table{}), "table")
	unused(sh.repeat, op.Count != 0 || op.Until != "" || (op.Body != nil && !sh.after), "count, until or block (only repeat has them)")
	unused(sh.crash, op.Crash != "" || op.Torn || op.Max != 0, "crash mode")
	if sh.fd {
		v.ident(p+".fd", "fd name", op.FD)
	}
	if sh.path {
		if pr := pathProblem(op.Path, true); pr != "" {
			v.errf(p+".path", "invalid path %s: it %s", quoteName(op.Path), pr)
		}
	}
	switch op.Kind {
	case OpOpen:
		switch {
		case op.Key != "" && !afs:
			v.errf(p+".key", `"as KEY" opens with an AFS key; the file system is %s`, v.s.FS.Kind())
		case op.Key == "" && afs:
			v.errf(p, `open on afs needs a key: "open %s %s as KEY"`, op.FD, quoteName(op.Path))
		case op.Key != "" && !v.keys[op.Key]:
			v.errf(p+".key", "key %s is not declared in the fs block", quoteName(op.Key))
		}
		if op.Flags&^(openFlagsEnd-1) != 0 {
			v.errf(p+".flags", "unknown open flags %#x", uint8(op.Flags&^(openFlagsEnd-1)))
		}
		if op.Flags&RdOnly != 0 && op.Flags&WrOnly != 0 {
			v.errf(p+".flags", "rdonly and wronly exclude each other")
		}
	case OpRevokeKey, OpExpireKey:
		switch {
		case !afs:
			v.errf(p, "%s is an AFS operation; the file system is %s", op.Kind, v.s.FS.Kind())
		case !v.keys[op.Key]:
			v.errf(p+".key", "key %s is not declared in the fs block", quoteName(op.Key))
		}
	case OpSleep:
		if op.Dur <= 0 || op.Dur > MaxDuration {
			v.errf(p+".dur", "sleep %s is outside 1ns..%s", formatDuration(op.Dur), formatDuration(MaxDuration))
		}
	case OpSignal:
		switch {
		case setup:
			v.errf(p, "setup cannot signal a task: the tasks start after it")
		case op.Task == t.Name:
			v.errf(p+".task", "task %s signals itself", op.Task)
		case v.taskByName[op.Task] == nil:
			v.errf(p+".task", "signal to unknown task %q; the tasks are %s", op.Task, v.taskNames())
		}
	case OpCrash:
		if depth > 0 {
			v.errf(p, "a crash ends the run, so a repeat block cannot repeat it; put it after the block")
		}
		v.crash(op, p)
	case OpAfterCrash:
		v.afterCrash(op, p)
	case OpRepeat:
		v.repeat(op, p, t, setup, depth)
	case OpDevice, OpServer:
		v.table(op, p)
	case OpTruncate:
		if op.Size < 0 || op.Size > MaxFileSize {
			v.errf(p+".size", "truncate size %s is outside 0..%s", formatSize(op.Size), formatSize(MaxFileSize))
		}
	}
	if sh.rng {
		switch {
		case op.Offset == AtPos && !sh.atPos:
			v.errf(p+".range", "%s needs an offset", op.Kind)
		case op.Offset < 0 && op.Offset != AtPos:
			v.errf(p+".range", "offset %d is negative", op.Offset)
		case op.Len < 1 || op.Len > MaxIOLen:
			v.errf(p+".range", "length %s is outside 1..%s", formatSize(op.Len), formatSize(MaxIOLen))
		case op.Offset > MaxFileSize-op.Len:
			v.errf(p+".range", "%s+%s ends beyond the file size limit %s", formatSize(op.Offset), formatSize(op.Len), formatSize(MaxFileSize))
		}
	}
	v.result(op, p, sh)
}

// crash checks a crash's mode and enumerate options: the file system
// must be one whose machine can crash.
func (v *validator) crash(op *Op, p string) {
	if v.s.FS.AFS != nil {
		v.errf(p, "crash on afs: the file server does not crash, and the client keeps nothing a power loss could lose that the server has not; crash a blockfs machine")
	}
	switch {
	case op.Crash != "" && !slices.Contains(crashModes, op.Crash):
		v.errf(p+".crash", "unknown crash mode %q; expected %s", op.Crash, oneOf(crashModes))
	case op.Crash != CrashEnumerate && (op.Torn || op.Max != 0):
		v.errf(p, "torn and max are options of crash enumerate, not of crash %s", cmpOr(op.Crash, CrashDropAll))
	case op.Max < 0 || op.Max > MaxCrashStates:
		v.errf(p+".max", "crash enumerate max %d is outside 1..%d", op.Max, MaxCrashStates)
	}
}

// afterCrashOps are the operations an after crash block may run.
var afterCrashOps = []OpKind{OpOpen, OpRead, OpWrite, OpPWrite, OpStat, OpFsync, OpFdatasync, OpClose}

// afterCrash checks an after crash block's operations.
func (v *validator) afterCrash(op *Op, p string) {
	if len(op.Body) == 0 {
		v.errf(p, "the after crash block has no operations")
	}
	for i := range op.Body {
		if k := op.Body[i].Kind; !slices.Contains(afterCrashOps, k) {
			v.errf(fmt.Sprintf("%s.body[%d]", p, i), "%s cannot run after a crash: an after crash block runs %s", k, oneOf(afterCrashOps))
		}
	}
}

// repeat checks a repeat's count or until, and its block's size and depth.
func (v *validator) repeat(op *Op, p string, t *Task, setup bool, depth int) {
	switch {
	case op.Until != "" && op.Count != 0:
		v.errf(p, "repeat has both a count (%d) and until %s; give one", op.Count, op.Until)
	case op.Until == "" && (op.Count < 1 || op.Count > MaxRepeat):
		v.errf(p+".count", "repeat count %d is outside 1..%d", op.Count, MaxRepeat)
	case op.Until == "":
	case setup:
		v.errf(p, "setup cannot repeat until a task is done: the tasks start when setup ends")
	case op.Until == t.Name:
		v.errf(p+".until", "task %s repeats until it is itself done, which it cannot be while it repeats", op.Until)
	case v.taskByName[op.Until] == nil:
		v.errf(p+".until", "repeat until unknown task %q; the tasks are %s", op.Until, v.taskNames())
	}
	if len(op.Body) == 0 {
		v.errf(p, "the repeat block has no operations")
	}
	if depth >= MaxRepeatDepth {
		v.errf(p, "repeat blocks nest more than %d deep", MaxRepeatDepth)
	}
}

// expectKinds says what an operation can expect: "ok or an errno".
func expectKinds(l []ResultKind) string {
	names := map[ResultKind]string{ResultOK: "ok", ResultErrno: "an errno", ResultData: "data", ResultSize: "a size"}
	var w []string
	for _, k := range l {
		w = append(w, names[k])
	}
	if len(w) < 2 {
		return strings.Join(w, "")
	}
	return strings.Join(w[:len(w)-1], ", ") + " or " + w[len(w)-1]
}

func (v *validator) result(op *Op, p string, sh opShape) {
	r := op.Expect
	p += ".expect"
	if r.Kind == "" {
		if r.Errno != 0 || r.Data != nil {
			v.errf(p, "an expectation without a kind")
		}
		return
	}
	if !slices.Contains(sh.results, r.Kind) {
		switch {
		case len(sh.results) == 0:
			v.errf(p, "%s returns nothing to expect", op.Kind)
		case r.Kind == ResultData:
			v.errf(p, "only a read can expect data; %s can expect %s", op.Kind, expectKinds(sh.results))
		case r.Kind == ResultSize:
			v.errf(p, "only stat can expect a size; %s can expect %s", op.Kind, expectKinds(sh.results))
		default:
			v.errf(p, "unknown expectation kind %q", r.Kind)
		}
		return
	}
	if r.Kind != ResultErrno && r.Errno != 0 || r.Kind != ResultData && r.Data != nil || r.Kind != ResultSize && r.Size != 0 {
		v.errf(p, "expectation %s has fields its kind does not use", r.Kind)
		return
	}
	switch r.Kind {
	case ResultSize:
		if r.Size < 0 || r.Size > MaxFileSize {
			v.errf(p, "size %s is outside 0..%s", formatSize(r.Size), formatSize(MaxFileSize))
		}
	case ResultErrno:
		if e, err := errno.Parse(r.Errno.String()); err != nil || e != r.Errno {
			v.errf(p, "unknown errno %d", int(r.Errno))
		} else if r.Errno == errno.ERESTARTSYS {
			v.errf(p, "ERESTARTSYS never reaches user space (a system call returns EINTR)")
		}
	case ResultData:
		var total int64
		for k, run := range r.Data {
			rp := fmt.Sprintf("%s.data[%d]", p, k)
			if run.Len < 1 || run.Len > MaxIOLen {
				v.errf(rp, "run length %s is outside 1..%s", formatSize(run.Len), formatSize(MaxIOLen))
				return
			}
			start := total
			total += run.Len
			if run.Label == "" {
				continue
			}
			w := v.writes[run.Label]
			if w == nil {
				v.errf(rp, "no write is labelled %s", run.Label)
				continue
			}
			// Where both offsets are known, the write must cover the run.
			if op.Offset >= 0 && w.Offset >= 0 {
				s, e := op.Offset+start, op.Offset+total
				if s < w.Offset || e > w.Offset+w.Len {
					v.errf(rp, "%s:%s is file bytes %d..%d, but write %s covers %d..%d", run.Label, formatSize(run.Len), s, e, run.Label, w.Offset, w.Offset+w.Len)
				}
			}
		}
		if total > op.Len {
			v.errf(p, "the expected runs add up to %s, more than the %s read", formatSize(total), formatSize(op.Len))
		}
	}
}

// ---------------------------------------------------------------- checks, explore, expect

func (v *validator) checks() {
	c := v.s.Checks
	if len(c.Only) > 0 && len(c.Except) > 0 {
		v.errf("check", "Checks has both Only and Except; give one")
	}
	for _, l := range []struct {
		name string
		ids  []Invariant
	}{{"only", c.Only}, {"except", c.Except}} {
		seen := map[Invariant]bool{}
		for i, id := range l.ids {
			p := fmt.Sprintf("check.%s[%d]", l.name, i)
			switch {
			case !id.Known():
				v.errf(p, "unknown invariant %q; expected %s", id, oneOf(AllInvariants()))
			case seen[id]:
				v.errf(p, "invariant %s given twice", id)
			case l.name == "only":
				if why := v.s.applies(id, v.crashes); why != "" {
					v.errf(p, "invariant %s does not apply: %s", id, why)
				}
			}
			seen[id] = true
		}
	}
}

func (v *validator) explore() {
	e := v.s.Explore
	st := e.Strategy
	switch st.Kind {
	case "":
		if st != (Strategy{}) {
			v.errf("explore.strategy", "strategy parameters without a strategy")
		}
	case StrategyRandom, StrategyPCT, StrategyDFS, StrategyRR:
		other := func(name string, x int) {
			if x != 0 {
				v.errf("explore.strategy", "strategy %s takes no %s", st.Kind, name)
			}
		}
		if st.Kind != StrategyPCT {
			other("depth", st.Depth)
		}
		if st.Kind != StrategyDFS {
			other("bound", st.Bound)
		}
		if st.Kind != StrategyRR {
			other("quantum", st.Quantum)
		}
		switch {
		case st.Kind == StrategyPCT && (st.Depth < 1 || st.Depth > MaxDepth):
			v.errf("explore.strategy.depth", "pct depth %d is outside 1..%d", st.Depth, MaxDepth)
		case st.Kind == StrategyDFS && (st.Bound < 0 || st.Bound > MaxBound):
			v.errf("explore.strategy.bound", "dfs bound %d is outside 0..%d", st.Bound, MaxBound)
		case st.Kind == StrategyRR && (st.Quantum < 0 || st.Quantum > MaxQuantum):
			v.errf("explore.strategy.quantum", "rr quantum %d is outside 0..%d", st.Quantum, MaxQuantum)
		}
	default:
		v.errf("explore.strategy", "unknown strategy %q; expected %s", st.Kind,
			oneOf([]StrategyKind{StrategyRandom, StrategyPCT, StrategyDFS, StrategyRR}))
	}
	if e.Schedules < 0 || e.Schedules > MaxSchedules {
		v.errf("explore.schedules", "schedules %d is outside 1..%d", e.Schedules, MaxSchedules)
	}
	if e.Steps < 0 || e.Steps > MaxSteps {
		v.errf("explore.steps", "steps %d is outside 1..%d", e.Steps, int64(MaxSteps))
	}
	v.duration("explore.time", "time", e.Time)
	if e.Memory != 0 && (e.Memory < MinMemoryBudget || e.Memory > MaxMemoryBudget) {
		v.errf("explore.memory", "memory %s is outside %s..%s", formatSize(e.Memory), formatSize(MinMemoryBudget), formatSize(MaxMemoryBudget))
	}
}

func (v *validator) expect() {
	x := v.s.Expect
	switch x.Outcome {
	case "", OutcomeOK:
		if x.Failure != "" {
			v.errf("expect", "a failure id (%q) without outcome failure", x.Failure)
		}
	case OutcomeFailure:
		switch {
		case x.Failure == "":
			v.errf("expect", "expect failure needs an invariant id or a failure kind")
		case !knownFailure(x.Failure):
			v.errf("expect.failure", "unknown failure %q; expected an invariant (%s) or a failure kind (%s)",
				x.Failure, strings.Join(toStrings(AllInvariants()), ", "), strings.Join(failureKinds, ", "))
		default:
			if inv := failureInvariant(x.Failure); inv != "" && !slices.Contains(v.s.Invariants(), inv) {
				why := v.s.applies(inv, v.crashes)
				if why == "" {
					why = "the check statement leaves it out"
				}
				v.errf("expect.failure", "expects failure %s, but invariant %s is not checked: %s", x.Failure, inv, why)
			}
		}
	default:
		v.errf("expect", "unknown outcome %q; expected ok or failure", x.Outcome)
	}
	if x.Trace != "" {
		if pr := pathProblem(x.Trace, false); pr != "" {
			v.errf("expect.trace", "invalid trace file %s: it %s", quoteName(x.Trace), pr)
		}
	}
}

func toStrings[T ~string](l []T) []string {
	s := make([]string, len(l))
	for i, x := range l {
		s[i] = string(x)
	}
	return s
}

// comments checks every comment, and that no setting that is not set
// carries a comment that printing would lose.
func (v *validator) comments() {
	s := v.s
	check := func(path string, m Meta) {
		for i, l := range m.Comment {
			if p := textProblem(l); p != "" {
				v.errf(path, "comment line %d %s", i+1, p)
				return
			}
			if len(l) > MaxCommentLen {
				v.errf(path, "comment line %d is %d bytes long; the limit is %d", i+1, len(l), MaxCommentLen)
				return
			}
		}
		if p := textProblem(m.Trailing); p != "" {
			v.errf(path, "the comment at the end of the line %s", p)
		} else if len(m.Trailing) > MaxCommentLen {
			v.errf(path, "the comment at the end of the line is %d bytes long; the limit is %d", len(m.Trailing), MaxCommentLen)
		}
	}
	check("", s.Meta)
	check("", Meta{Comment: s.EndComment})
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range s.Settings {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		m := s.Settings[k]
		if !slices.Contains(settingKeys, k) {
			v.errf(k, "Settings has an unknown key %q", k)
			continue
		}
		check(k, m)
		if !m.hasComment() {
			continue
		}
		_, set, zeroOK := settingText(s, k)
		if !set && !zeroOK && !v.printedBlock(k) {
			v.errf(k, "a comment on %s, which is not set (it would not be printed)", k)
		}
	}
	for i, f := range s.FS.Files {
		check(fmt.Sprintf("fs.files[%d]", i), f.Meta)
	}
	if a := s.FS.AFS; a != nil {
		for i, k := range a.Keys {
			check(fmt.Sprintf("fs.keys[%d]", i), k.Meta)
		}
		for i, e := range a.ACL {
			check(fmt.Sprintf("fs.acl[%d]", i), e.Meta)
		}
	}
	if s.Faults != nil {
		for i, m := range s.Faults.RuleMeta {
			check(fmt.Sprintf("faults.rules[%d]", i), m)
		}
	}
	if s.Setup != nil {
		check("setup", s.Setup.Meta)
		EachOp(s.Setup.Ops, "setup.ops", func(op *Op, p string) { check(p, op.Meta) })
	}
	for i, t := range s.Tasks {
		if t == nil {
			continue
		}
		check(fmt.Sprintf("tasks[%d]", i), t.Meta)
		EachOp(t.Ops, fmt.Sprintf("tasks[%d].ops", i), func(op *Op, p string) { check(p, op.Meta) })
	}
}

// printedBlock reports whether key is a block statement printed anyway:
// "fs" (always), "bug" and "faults" when set, which stmt already covers.
func (v *validator) printedBlock(key string) bool {
	if key == "fs" {
		return true
	}
	// A setting of the other file system (fs.nobh on afs) is never printed;
	// fs.latency is printed for both.
	return false
}
