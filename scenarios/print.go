package scenarios

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wbsim/wbsim/sim"
)

// This file prints the canonical text of a scenario. The grammar is in
// docs/scenario-language.md.
//
// The canonical form: statements in a fixed order (header, name, tags,
// description, bug, kernel, arch, fixes, fs, faults, vm, setup, tasks in
// order, check, fsync-contract, explore, expect), one blank line between
// groups, blocks indented by four spaces, settings that are not set left
// out, sizes in the largest binary unit that keeps them exact (4KiB),
// durations likewise (1.5ms), names bare when they can be and Go-quoted
// otherwise, comments where they were. Printing the result of Parse and
// parsing it again gives an equal Scenario, and printing that gives the same
// text.

const indent1, indent2 = "    ", "        "

// String returns the canonical text of s. It prints whatever s holds, valid
// or not; use Format to validate first.
func (s *Scenario) String() string {
	var b strings.Builder
	p := printer{b: &b}
	p.scenario(s)
	return b.String()
}

// WriteTo writes the canonical text of s to w.
func (s *Scenario) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, s.String())
	return int64(n), err
}

// Format validates s and returns its canonical text.
func Format(s *Scenario) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

type printer struct {
	b       *strings.Builder
	printed bool // something has been printed
	gap     bool // print a blank line before the next top-level statement
}

// group starts a new group of top-level statements.
func (p *printer) group() { p.gap = true }

func (p *printer) comments(ind string, lines []string) {
	for _, l := range lines {
		p.b.WriteString(ind)
		p.b.WriteByte('#')
		if l != "" {
			p.b.WriteByte(' ')
			p.b.WriteString(l)
		}
		p.b.WriteByte('\n')
	}
}

// line prints a statement with its comments.
func (p *printer) line(ind, text string, m Meta) {
	if ind == "" && p.gap && p.printed {
		p.b.WriteByte('\n')
	}
	if ind == "" {
		p.gap = false
	}
	p.printed = true
	p.comments(ind, m.Comment)
	p.b.WriteString(ind)
	p.b.WriteString(text)
	if m.Trailing != "" {
		p.b.WriteString(" # ")
		p.b.WriteString(m.Trailing)
	}
	p.b.WriteByte('\n')
}

// text prints the lines of a text block at ind; empty lines stay empty.
func (p *printer) text(ind, text string) {
	for _, l := range strings.Split(text, "\n") {
		if l != "" {
			p.b.WriteString(ind)
			p.b.WriteString(l)
		}
		p.b.WriteByte('\n')
	}
}

// setting prints the statement for key if it is set, or has a comment and
// its zero value has a text form.
func (p *printer) setting(s *Scenario, ind, key string) {
	text, set, zeroOK := settingText(s, key)
	m := s.Settings[key]
	if set || (zeroOK && m.hasComment()) {
		p.line(ind, text, m)
	}
}

func (p *printer) scenario(s *Scenario) {
	p.line("", fmt.Sprintf("wbsim-scenario v%d", Version), s.Meta)
	p.setting(s, "", "name")
	p.setting(s, "", "tags")
	if s.Description != "" {
		p.line("", "description", s.Settings["description"])
		p.text(indent1, s.Description)
	}
	if b := s.Bug; b != nil {
		p.group()
		p.line("", "bug", s.Settings["bug"])
		for _, k := range []string{"bug.id", "bug.fix", "bug.commit", "bug.switch"} {
			p.setting(s, indent1, k)
		}
		if b.Description != "" {
			p.line(indent1, "description", s.Settings["bug.description"])
			p.text(indent2, b.Description)
		}
	}
	p.group()
	p.setting(s, "", "kernel")
	p.setting(s, "", "arch")
	p.setting(s, "", "fixes")
	p.group()
	p.fs(s)
	if f := s.Faults; f != nil {
		p.group()
		p.line("", "faults", s.Settings["faults"])
		if f.Plan != nil {
			for i, r := range f.Plan.Rules {
				p.line(indent1, r.String(), f.RuleMeta.at(i))
			}
		}
	}
	if p.blockWanted(s, "vm") {
		p.group()
		p.line("", "vm", s.Settings["vm"])
		for _, k := range []string{"vm.memory", "vm.reclaim", "vm.dirty", "vm.flusher"} {
			p.setting(s, indent1, k)
		}
	}
	if s.Setup != nil {
		p.group()
		p.line("", "setup", s.Setup.Meta)
		p.ops(indent1, s.Setup.Ops)
	}
	for _, t := range s.Tasks {
		if t == nil {
			continue
		}
		p.group()
		p.line("", "task "+t.Name, t.Meta)
		p.ops(indent1, t.Ops)
	}
	p.group()
	p.setting(s, "", "check")
	p.setting(s, "", "fsync-contract")
	if p.blockWanted(s, "explore") {
		p.group()
		p.line("", "explore", s.Settings["explore"])
		for _, k := range []string{"explore.strategy", "explore.schedules", "explore.steps", "explore.time", "explore.seed", "explore.memory"} {
			p.setting(s, indent1, k)
		}
	}
	p.group()
	p.setting(s, "", "expect")
	p.setting(s, "", "expect.trace")
	if len(s.EndComment) > 0 {
		p.group()
		if p.printed {
			p.b.WriteByte('\n')
		}
		p.comments("", s.EndComment)
	}
}

// blockWanted reports whether the vm or explore block has anything to print.
func (p *printer) blockWanted(s *Scenario, block string) bool {
	if s.Settings[block].hasComment() {
		return true
	}
	for _, k := range settingKeys {
		if strings.HasPrefix(k, block+".") {
			_, set, zeroOK := settingText(s, k)
			if set || (zeroOK && s.Settings[k].hasComment()) {
				return true
			}
		}
	}
	return false
}

func (p *printer) fs(s *Scenario) {
	switch {
	case s.FS.BlockFS != nil:
		p.line("", "fs blockfs", s.Settings["fs"])
		for _, k := range []string{"fs.block-size", "fs.layout", "fs.allocator", "fs.nobh", "fs.fsync-flush", "fs.capacity", "fs.latency"} {
			p.setting(s, indent1, k)
		}
	case s.FS.AFS != nil:
		p.line("", "fs afs", s.Settings["fs"])
		p.setting(s, indent1, "fs.latency")
		for _, k := range s.FS.AFS.Keys {
			text := "key " + quoteName(k.Name)
			if k.State != "" {
				text += " " + string(k.State)
			}
			p.line(indent1, text, k.Meta)
		}
	default:
		p.line("", "fs", s.Settings["fs"])
	}
	for _, f := range s.FS.Files {
		text := "file " + quoteName(f.Path)
		if f.Size != 0 {
			text += " size " + formatSize(f.Size)
		}
		p.line(indent1, text, f.Meta)
	}
	if s.FS.AFS != nil {
		for _, a := range s.FS.AFS.ACL {
			p.line(indent1, "acl "+quoteName(a.Path)+" "+quoteName(a.Key)+" "+string(a.Rights), a.Meta)
		}
	}
}

// ops prints operations indented by ind, a repeat's block four spaces
// deeper than the repeat.
func (p *printer) ops(ind string, ops []Op) {
	for _, op := range ops {
		p.line(ind, op.String(), op.Meta)
		p.ops(ind+indent1, op.Body)
	}
}

// String returns the operation's text form, such as "write f 0+4KiB as A"
// (for a repeat, its line: "repeat 10" or "repeat until w done").
func (op Op) String() string {
	w := []string{string(op.Kind)}
	rng := func() string {
		if op.Offset == AtPos {
			return formatSize(op.Len)
		}
		return formatSize(op.Offset) + "+" + formatSize(op.Len)
	}
	switch op.Kind {
	case OpOpen:
		w = append(w, op.FD, quoteName(op.Path))
		if op.Key != "" {
			w = append(w, "as", quoteName(op.Key))
		}
		if op.Flags != 0 {
			w = append(w, op.Flags.String())
		}
	case OpWrite, OpPWrite, OpMmapWrite:
		w = append(w, op.FD, rng(), "as", op.Label)
	case OpRead:
		w = append(w, op.FD, rng())
	case OpFsync, OpFdatasync, OpClose, OpStat:
		w = append(w, op.FD)
	case OpMsync:
		w = append(w, op.FD)
		if op.Async {
			w = append(w, "async")
		}
	case OpTruncate:
		w = append(w, op.FD, formatSize(op.Size))
	case OpSleep:
		w = append(w, formatDuration(op.Dur))
	case OpSignal:
		w = append(w, op.Task)
	case OpRevokeKey, OpExpireKey:
		w = append(w, quoteName(op.Key))
	case OpDevice, OpServer:
		w = append(w, op.Table.String())
	case OpCrash:
		w = append(w, op.crashArgs()...)
	case OpRepeat:
		if op.Until != "" {
			w = append(w, "until", op.Until, "done")
		} else {
			w = append(w, strconv.FormatInt(op.Count, 10))
		}
	}
	if e := op.Expect.String(); e != "" {
		w = append(w, "expect", e)
	}
	return strings.Join(w, " ")
}

// crashArgs are a crash line's words after "crash".
func (op Op) crashArgs() []string {
	var w []string
	if op.Crash != "" {
		w = append(w, string(op.Crash))
	}
	if op.Torn {
		w = append(w, "torn")
	}
	if op.Max != 0 {
		w = append(w, "max", strconv.FormatInt(op.Max, 10))
	}
	return w
}

// String returns the expectation's text after "expect": "ok", "EIO", "eof"
// or runs such as "A:4KiB zero:4KiB"; "" for no expectation.
func (r Result) String() string {
	switch r.Kind {
	case ResultOK:
		return "ok"
	case ResultErrno:
		return r.Errno.String()
	case ResultSize:
		return "size " + formatSize(r.Size)
	case ResultData:
		if len(r.Data) == 0 {
			return "eof"
		}
		w := make([]string, len(r.Data))
		for i, run := range r.Data {
			l := run.Label
			if l == "" {
				l = "zero"
			}
			w[i] = l + ":" + formatSize(run.Len)
		}
		return strings.Join(w, " ")
	case "":
		return ""
	}
	return "result(" + string(r.Kind) + ")"
}

// String returns the strategy's text form, such as "pct depth 3".
func (st Strategy) String() string {
	switch st.Kind {
	case StrategyPCT:
		return "pct depth " + strconv.Itoa(st.Depth)
	case StrategyDFS:
		return "dfs bound " + strconv.Itoa(st.Bound)
	case StrategyRR:
		if st.Quantum != 0 {
			return "rr quantum " + strconv.Itoa(st.Quantum)
		}
	}
	return string(st.Kind)
}

// settingKeys are the keys of Settings, in canonical order.
var settingKeys = []string{
	"name", "tags", "description",
	"bug", "bug.id", "bug.fix", "bug.commit", "bug.switch", "bug.description",
	"kernel", "arch", "fixes",
	"fs", "fs.block-size", "fs.layout", "fs.allocator", "fs.nobh", "fs.fsync-flush", "fs.capacity", "fs.latency",
	"faults",
	"vm", "vm.memory", "vm.reclaim", "vm.dirty", "vm.flusher",
	"check", "fsync-contract",
	"explore", "explore.strategy", "explore.schedules", "explore.steps", "explore.time", "explore.seed", "explore.memory",
	"expect", "expect.trace",
}

// SettingKeys returns the keys a Scenario's Settings may hold, in canonical
// order.
func SettingKeys() []string { return append([]string(nil), settingKeys...) }

// settingText returns the text of the setting statement key, whether its value is
// set (non-zero), and whether its zero value has a text form (so that a
// comment on it can be printed).
func settingText(s *Scenario, key string) (text string, set, zeroOK bool) {
	bfs := s.FS.BlockFS
	if bfs == nil {
		bfs = &BlockFS{}
	}
	vm := &s.VM
	ex := &s.Explore
	bug := s.Bug
	if bug == nil {
		bug = &Bug{}
	}
	switch key {
	case "name":
		return "name " + s.Name, s.Name != "", false
	case "tags":
		return "tags " + strings.Join(s.Tags, " "), len(s.Tags) > 0, false
	case "description":
		return "description", s.Description != "", false
	case "bug":
		return "bug", s.Bug != nil, false
	case "bug.id":
		return "id " + bug.ID, bug.ID != "", false
	case "bug.fix":
		return "fix " + strconv.Quote(bug.Fix), bug.Fix != "", false
	case "bug.commit":
		return "commit " + bug.Commit, bug.Commit != "", false
	case "bug.switch":
		return "switch " + bug.Switch, bug.Switch != "", false
	case "bug.description":
		return "description", bug.Description != "", false
	case "kernel":
		return "kernel " + string(s.Kernel), s.Kernel != "", false
	case "arch":
		return "arch " + string(s.Arch), s.Arch != "", false
	case "fixes":
		if len(s.Fixes) == 0 {
			return "fixes none", false, true
		}
		return "fixes " + strings.Join(s.Fixes, " "), true, true
	case "fs":
		return "fs " + s.FS.Kind(), s.FS.Kind() != "", false
	case "fs.block-size":
		return "block-size " + strconv.Itoa(bfs.BlockSize), bfs.BlockSize != 0, false
	case "fs.layout":
		return "layout " + string(bfs.Layout), bfs.Layout != "", false
	case "fs.allocator":
		return "allocator " + string(bfs.Allocator), bfs.Allocator != "", false
	case "fs.nobh":
		return "nobh " + string(bfs.NoBH), bfs.NoBH != "", false
	case "fs.fsync-flush":
		return "fsync-flush " + string(bfs.FsyncFlush), bfs.FsyncFlush != "", false
	case "fs.capacity":
		return "capacity " + formatSize(bfs.Capacity), bfs.Capacity != 0, false
	case "fs.latency":
		var d sim.Time
		switch {
		case s.FS.BlockFS != nil:
			d = s.FS.BlockFS.Latency
		case s.FS.AFS != nil:
			d = s.FS.AFS.Latency
		}
		return "latency " + formatDuration(d), d != 0, false
	case "faults":
		return "faults", s.Faults != nil, false
	case "vm", "explore":
		return key, false, true
	case "vm.memory":
		return "memory " + strconv.FormatInt(vm.MemoryPages, 10), vm.MemoryPages != 0, false
	case "vm.reclaim":
		return "reclaim limit " + strconv.FormatInt(vm.ReclaimLimit, 10), vm.ReclaimLimit != 0, false
	case "vm.dirty":
		switch {
		case vm.DirtyRatio != 0 || vm.DirtyBackgroundRatio != 0:
			t := "dirty ratio " + strconv.Itoa(vm.DirtyRatio)
			if vm.DirtyBackgroundRatio != 0 {
				t += " background " + strconv.Itoa(vm.DirtyBackgroundRatio)
			}
			return t, true, false
		case vm.DirtyPages != 0 || vm.DirtyBackgroundPages != 0:
			t := "dirty pages " + strconv.FormatInt(vm.DirtyPages, 10)
			if vm.DirtyBackgroundPages != 0 {
				t += " background " + strconv.FormatInt(vm.DirtyBackgroundPages, 10)
			}
			return t, true, false
		}
		return "dirty", false, false
	case "vm.flusher":
		f := vm.Flusher
		if f.Off {
			return "flusher off", true, true
		}
		t := "flusher on"
		if f.Interval != 0 {
			t += " interval " + formatDuration(f.Interval)
		}
		if f.Expire != 0 {
			t += " expire " + formatDuration(f.Expire)
		}
		return t, f != Flusher{}, true
	case "check":
		switch {
		case len(s.Checks.Only) > 0:
			return "check " + joinIDs(s.Checks.Only), true, true
		case len(s.Checks.Except) > 0:
			return "check all except " + joinIDs(s.Checks.Except), true, true
		}
		return "check all", false, true
	case "fsync-contract":
		return "fsync-contract " + string(s.Contract), s.Contract != "", false
	case "explore.strategy":
		return "strategy " + ex.Strategy.String(), ex.Strategy != Strategy{}, false
	case "explore.schedules":
		return "schedules " + strconv.Itoa(ex.Schedules), ex.Schedules != 0, false
	case "explore.steps":
		return "steps " + strconv.FormatInt(ex.Steps, 10), ex.Steps != 0, false
	case "explore.time":
		return "time " + formatDuration(ex.Time), ex.Time != 0, false
	case "explore.seed":
		return "seed " + strconv.FormatUint(ex.Seed, 10), ex.Seed != 0, true
	case "explore.memory":
		return "memory " + formatSize(ex.Memory), ex.Memory != 0, false
	case "expect":
		switch s.Expect.Outcome {
		case OutcomeFailure:
			return "expect failure " + s.Expect.Failure, true, false
		case "":
			return "expect", false, false
		}
		return "expect " + string(s.Expect.Outcome), true, false
	case "expect.trace":
		return "expect trace " + quoteName(s.Expect.Trace), s.Expect.Trace != "", false
	}
	return key, false, false
}

func joinIDs(ids []Invariant) string {
	w := make([]string, len(ids))
	for i, id := range ids {
		w[i] = string(id)
	}
	return strings.Join(w, " ")
}

// quoteName prints a path, key or file name bare if it can be, else
// Go-quoted.
func quoteName(s string) string { return scenarioLang.Quote(s) }

var sizeUnits = []struct {
	name  string
	bytes int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

// formatSize prints a byte count in the largest binary unit that divides it
// exactly: 4096 is "4KiB", 1000 is "1000".
func formatSize(n int64) string {
	if n > 0 {
		for _, u := range sizeUnits {
			if n%u.bytes == 0 {
				return strconv.FormatInt(n/u.bytes, 10) + u.name
			}
		}
	}
	return strconv.FormatInt(n, 10)
}

// formatDuration prints a duration as sim.Time does: exactly, "1.5s".
func formatDuration(d sim.Time) string { return d.String() }
