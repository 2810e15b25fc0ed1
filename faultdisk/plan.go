package faultdisk

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/wbsim/wbsim/sim/errno"
)

// SectorSize is the size in bytes of the sectors that Request.Sector and
// Request.Count count (the kernel's 512-byte sector_t unit).
const SectorSize = 512

// Version is the version of the plan vocabulary and of its text form; the
// text form's header line is "faultplan v1". A Plan value is always of the
// current version, so the version is not stored in it.
const Version = 1

// Limits on plans, enforced by Parse and Validate.
const (
	MaxRules     = 10000   // rules in one plan
	MaxNameLen   = 256     // bytes in a key or allocation site name
	MaxPlanBytes = 4 << 20 // bytes of plan text that Parse accepts
)

// Op is the operation a Request performs.
type Op uint8

// Operations. Read, Write, Flush and FUAWrite are block requests to the disk
// (a FUA write is a write with REQ_FUA; a Flush is an empty REQ_PREFLUSH).
// Store and Fetch are the AFS file server's StoreData and FetchData. Alloc is
// a memory allocation point, named by Request.Site (for example "bio_alloc").
const (
	OpRead Op = iota + 1
	OpWrite
	OpFlush
	OpFUAWrite
	OpAlloc
	OpStore
	OpFetch
	opEnd
)

var opNames = [...]string{
	OpRead:     "read",
	OpWrite:    "write",
	OpFlush:    "flush",
	OpFUAWrite: "fua-write",
	OpAlloc:    "alloc",
	OpStore:    "store",
	OpFetch:    "fetch",
}

// String returns the name used in plan text, such as "fua-write".
func (o Op) String() string {
	if o >= OpRead && o < opEnd {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// OpSet is a set of operations. The empty set in a Match means any I/O
// operation ([AnyIO]): every operation except OpAlloc, which a rule must name.
type OpSet uint16

// Ops returns the set holding ops.
func Ops(ops ...Op) OpSet {
	var s OpSet
	for _, o := range ops {
		s |= 1 << o
	}
	return s
}

// Useful operation sets.
const (
	// AnyIO is what an empty OpSet in a Match stands for.
	AnyIO  OpSet = 1<<OpRead | 1<<OpWrite | 1<<OpFlush | 1<<OpFUAWrite | 1<<OpStore | 1<<OpFetch
	allOps OpSet = AnyIO | 1<<OpAlloc
)

// Has reports whether o is in s (literally; it does not expand the empty set
// to AnyIO).
func (s OpSet) Has(o Op) bool { return o < 16 && s&(1<<o) != 0 }

// list returns the ops in s in canonical order.
func (s OpSet) list() []Op {
	var l []Op
	for o := OpRead; o < opEnd; o++ {
		if s.Has(o) {
			l = append(l, o)
		}
	}
	return l
}

// String returns the plan-text form: "any" for the empty set, otherwise the
// names in canonical order joined by commas, such as "read,write".
func (s OpSet) String() string {
	if s == 0 {
		return "any"
	}
	var names []string
	for _, o := range s.list() {
		names = append(names, o.String())
	}
	if s&^allOps != 0 {
		names = append(names, fmt.Sprintf("ops(%#x)", uint16(s&^allOps)))
	}
	return strings.Join(names, ",")
}

// Range is a half-open range [Start, End) of sectors or bytes. The zero Range
// means "no condition": a set Range always has 0 <= Start < End.
type Range struct {
	Start, End int64
}

// IsZero reports whether r is the zero Range (no condition).
func (r Range) IsZero() bool { return r == Range{} }

// String returns the plan-text form "Start..End".
func (r Range) String() string { return fmt.Sprintf("%d..%d", r.Start, r.End) }

// Flakey is a dm-flakey style periodic window: starting at the rule's From
// time (0 if unset), the device is up for Up nanoseconds, then down for Down
// nanoseconds, and so on. A rule with a Flakey condition matches only while
// down, that is when (now-From) mod (Up+Down) >= Up. The zero Flakey means no
// condition.
type Flakey struct {
	Up, Down int64
}

// IsZero reports whether f is the zero Flakey (no condition).
func (f Flakey) IsZero() bool { return f == Flakey{} }

// Match says which requests a rule applies to. Every condition that is set
// must hold; the zero value of a field means "no condition".
type Match struct {
	// Ops is the set of operations; empty means AnyIO. A write rule also
	// matches FUA writes; a fua-write rule matches only FUA writes.
	Ops OpSet
	// Sectors matches block requests (read, write, fua-write) whose sectors
	// [Sector, Sector+Count) overlap it.
	Sectors Range
	// File matches server requests (store, fetch) on this file id. File ids
	// are at least 1; 0 means any file.
	File uint64
	// Bytes matches server requests whose bytes [Off, Off+Len) overlap it.
	Bytes Range
	// Key matches server requests made with this key (the AFS key's name).
	Key string
	// Site matches allocations at this allocation point, such as "bio_alloc".
	Site string
	// Nth, if set (>= 1), lets the rule fire only on the Nth request that
	// meets its other conditions (1-based): the rule fires at most once.
	Nth int64
	// After, if set (>= 1), lets the rule fire only from the (After+1)th
	// request that meets its other conditions on. Nth and After exclude each
	// other.
	After int64
	// From and Until bound the virtual time window [From, Until), in
	// nanoseconds: From inclusive, Until exclusive. Until 0 means no end.
	From, Until int64
	// Flakey, if set, restricts the rule to the down phases of a dm-flakey
	// style cycle that starts at From.
	Flakey Flakey
	// Prob is the probability, in (0, 1], that the rule fires on a request
	// that meets every other condition. 0 means unset: always (as 1).
	Prob float64
}

// Action is what a rule does to a request it fires on. The concrete types
// are Fail, Transient, Latent, Misdirect, MisdirectTo, Corrupt, Latency,
// Offline, Partial and Drop; String returns the plan-text form.
type Action interface {
	fmt.Stringer
	action()
}

// Times values for Fail.
const (
	Always = 0 // fail every request the rule fires on
	Once   = 1 // fail the first one only
)

// Fail fails the request with Errno. Times limits how many requests the rule
// fails: Always (0, the default) or N >= 1 (Once is 1): "the next N
// matches". For an alloc rule, the allocation returns NULL (use ENOMEM).
type Fail struct {
	Errno errno.Errno
	Times int64
}

// Transient fails the first attempt of a request with Errno and lets the
// retries of that same request through. A retry is a Request with Retry set
// that is the same request: equal Op, Sector, Count, File, Off, Len, Key and
// Site (not Now). Each time the rule fails a request it remembers that
// request; a retry it remembers passes the rule (without counting as a match
// for Nth, After or Prob) and is forgotten. Any other request, retry or not,
// is a first attempt and fails.
type Transient struct {
	Errno errno.Errno
}

// Latent is a latent sector error: reads of the matched sectors fail with
// Errno from the rule's From time on, until the sectors are rewritten. The
// Disk reports rewrites with (*Injector).Rewritten; a read fails if any sector
// it shares with the rule is still bad. Reads only.
type Latent struct {
	Errno errno.Errno
}

// Misdirect makes a write land Delta sectors away from where it was aimed
// (Effect.MisdirectTo = Sector+Delta); Delta is not 0. A write whose target
// would be negative does not match. Writes only.
type Misdirect struct {
	Delta int64
}

// MisdirectTo makes a write land at Sector instead. Writes only.
type MisdirectTo struct {
	Sector int64
}

// Corrupt corrupts the data a read returns (bit corruption); the Disk (or
// server) decides which bits. Reads and fetches only.
type Corrupt struct{}

// Latency adds Extra nanoseconds (> 0) to the request's service time.
type Latency struct {
	Extra int64
}

// Offline fails every I/O request with EIO, as a dm-error table does: a rule
// "offline from T until T2" is dm-error's error table loaded at T and the
// working table reloaded at T2. I/O only (not alloc).
type Offline struct{}

// Partial completes only the first Bytes bytes of the request (Bytes >= 0);
// the rest has no effect. The request then fails with Errno, or, if Errno is
// 0, reports success: a torn or dropped transfer that the device hides (with
// Bytes 0 on writes, dm-flakey's drop_writes). A request of no more than Bytes
// bytes does not match. Not for flush or alloc.
type Partial struct {
	Bytes int64
	Errno errno.Errno
}

// Drop completes the request successfully without passing it to the
// device: a write changes nothing (dm-flakey's drop_writes), a flush makes
// nothing durable (an empty flush under dm-error, which asks for no flush
// bios). Writes, FUA writes and flushes.
type Drop struct{}

func (Fail) action()        {}
func (Drop) action()        {}
func (Transient) action()   {}
func (Latent) action()      {}
func (Misdirect) action()   {}
func (MisdirectTo) action() {}
func (Corrupt) action()     {}
func (Latency) action()     {}
func (Offline) action()     {}
func (Partial) action()     {}

// Rule is one line of a plan: when Match holds, do Action.
type Rule struct {
	Match  Match
	Action Action
}

// Plan is a fault plan: rules in order. It is pure data, with no counters or
// random state, so one Plan may be shared by many worlds; each world has its
// own Injector. A nil and an empty Rules are the same plan.
type Plan struct {
	Rules []Rule
}

// Operations that conditions and actions apply to.
const (
	blockOps  OpSet = 1<<OpRead | 1<<OpWrite | 1<<OpFUAWrite
	serverOps OpSet = 1<<OpStore | 1<<OpFetch
	writeOps  OpSet = 1<<OpWrite | 1<<OpFUAWrite
)

func actionOps(a Action) OpSet {
	switch a.(type) {
	case Latent:
		return 1 << OpRead
	case Corrupt:
		return 1<<OpRead | 1<<OpFetch
	case Misdirect, MisdirectTo:
		return writeOps
	case Partial:
		return blockOps | serverOps
	case Offline:
		return AnyIO
	case Drop:
		return writeOps | 1<<OpFlush
	default:
		return allOps
	}
}

func actionName(a Action) string {
	switch a.(type) {
	case Fail:
		return "fail"
	case Transient:
		return "transient"
	case Latent:
		return "latent"
	case Misdirect, MisdirectTo:
		return "misdirect"
	case Corrupt:
		return "corrupt"
	case Latency:
		return "latency"
	case Offline:
		return "offline"
	case Partial:
		return "partial"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("%T", a)
}

func opsText(s OpSet) string {
	l := s.list()
	names := make([]string, len(l))
	for i, o := range l {
		names[i] = o.String()
	}
	return strings.Join(names, ", ")
}

// ruleError is a validation failure of one rule, naming the field (the plan
// text keyword, or "ops" or "action") so that Parse can point at its token.
type ruleError struct {
	field, msg string
}

// condition describes a Match condition restricted to some operations.
type condition struct {
	field string
	set   bool
	ops   OpSet
}

func conditions(m *Match) []condition {
	return []condition{
		{"sectors", !m.Sectors.IsZero(), blockOps},
		{"file", m.File != 0, serverOps},
		{"bytes", !m.Bytes.IsZero(), serverOps},
		{"key", m.Key != "", serverOps},
		{"site", m.Site != "", 1 << OpAlloc},
	}
}

// effectiveOps returns the operations the rule can match, before the
// write-implies-fua-write expansion, or an error if the rule names an
// operation its conditions or action do not apply to, or can match nothing.
func effectiveOps(r *Rule) (OpSet, *ruleError) {
	m := &r.Match
	aops := actionOps(r.Action)
	if m.Ops != 0 {
		for _, o := range m.Ops.list() {
			if !aops.Has(o) {
				return 0, &ruleError{"action", fmt.Sprintf("%s applies to %s, not %s", actionName(r.Action), opsText(aops), o)}
			}
		}
		for _, c := range conditions(m) {
			if !c.set {
				continue
			}
			for _, o := range m.Ops.list() {
				if !c.ops.Has(o) {
					return 0, &ruleError{c.field, fmt.Sprintf("%s applies to %s, not %s", c.field, opsText(c.ops), o)}
				}
			}
		}
		return m.Ops, nil
	}
	eff := AnyIO & aops
	for _, c := range conditions(m) {
		if !c.set {
			continue
		}
		if c.field == "site" {
			return 0, &ruleError{"site", `site applies to alloc, which a rule must name: "alloc site ..."`}
		}
		if eff&c.ops == 0 {
			return 0, &ruleError{c.field, fmt.Sprintf("no operation can match: %s applies to %s, and %s to %s", c.field, opsText(c.ops), actionName(r.Action), opsText(eff))}
		}
		eff &= c.ops
	}
	return eff, nil
}

func checkRange(field string, r Range) *ruleError {
	switch {
	case r.IsZero():
		return nil
	case r.Start < 0:
		return &ruleError{field, fmt.Sprintf("range start %d is negative", r.Start)}
	case r.End <= r.Start:
		return &ruleError{field, fmt.Sprintf("range %d..%d is empty: the end must be after the start", r.Start, r.End)}
	}
	return nil
}

func checkErrno(e errno.Errno) *ruleError {
	if !e.Known() {
		return &ruleError{"action", fmt.Sprintf("%s is not an errno this build names (see sim/errno)", e)}
	}
	return nil
}

func checkName(field, s string) *ruleError {
	if len(s) > MaxNameLen {
		return &ruleError{field, fmt.Sprintf("%s is %d bytes long; the limit is %d", field, len(s), MaxNameLen)}
	}
	return nil
}

// validateRule checks one rule; it is shared by Validate and Parse.
func validateRule(r *Rule) *ruleError {
	m := &r.Match
	if r.Action == nil {
		return &ruleError{"action", "the rule has no action"}
	}
	if m.Ops&^allOps != 0 {
		return &ruleError{"ops", fmt.Sprintf("unknown operations in set %#x", uint16(m.Ops))}
	}
	if e := checkRange("sectors", m.Sectors); e != nil {
		return e
	}
	if e := checkRange("bytes", m.Bytes); e != nil {
		return e
	}
	if e := checkName("key", m.Key); e != nil {
		return e
	}
	if e := checkName("site", m.Site); e != nil {
		return e
	}
	switch {
	case m.Nth < 0:
		return &ruleError{"nth", fmt.Sprintf("nth %d is negative", m.Nth)}
	case m.After < 0:
		return &ruleError{"after", fmt.Sprintf("after %d is negative", m.After)}
	case m.Nth > 0 && m.After > 0:
		return &ruleError{"after", "nth and after cannot be combined: nth fires on one match only"}
	case m.From < 0:
		return &ruleError{"from", fmt.Sprintf("from %d is negative", m.From)}
	case m.Until < 0:
		return &ruleError{"until", fmt.Sprintf("until %d is negative", m.Until)}
	case m.Until != 0 && m.Until <= m.From:
		return &ruleError{"until", fmt.Sprintf("the window is empty: until %s is not after from %s", formatDuration(m.Until), formatDuration(m.From))}
	case math.IsNaN(m.Prob) || m.Prob < 0 || m.Prob > 1:
		return &ruleError{"prob", fmt.Sprintf("prob %v is outside (0, 1]", m.Prob)}
	}
	if !m.Flakey.IsZero() {
		f := m.Flakey
		if f.Up <= 0 || f.Down <= 0 {
			return &ruleError{"flakey", "flakey needs up and down intervals longer than 0"}
		}
		if f.Up > math.MaxInt64-f.Down {
			return &ruleError{"flakey", "flakey up plus down overflows the clock"}
		}
	}
	switch a := r.Action.(type) {
	case Fail:
		if e := checkErrno(a.Errno); e != nil {
			return e
		}
		if a.Times < 0 {
			return &ruleError{"action", fmt.Sprintf("times %d is negative", a.Times)}
		}
		if m.Nth > 0 && a.Times > 1 {
			return &ruleError{"action", fmt.Sprintf("times %d cannot apply: nth fires on one match only (use after N to fail the matches after the Nth)", a.Times)}
		}
	case Transient:
		if e := checkErrno(a.Errno); e != nil {
			return e
		}
	case Latent:
		if e := checkErrno(a.Errno); e != nil {
			return e
		}
	case Misdirect:
		if a.Delta == 0 {
			return &ruleError{"action", "misdirect by 0 sectors is no misdirect"}
		}
	case MisdirectTo:
		if a.Sector < 0 {
			return &ruleError{"action", fmt.Sprintf("misdirect to sector %d, which is negative", a.Sector)}
		}
	case Corrupt, Offline, Drop:
	case Latency:
		if a.Extra <= 0 {
			return &ruleError{"action", fmt.Sprintf("latency %d ns is not positive", a.Extra)}
		}
	case Partial:
		if a.Bytes < 0 {
			return &ruleError{"action", fmt.Sprintf("partial %d bytes is negative", a.Bytes)}
		}
		if a.Errno != 0 {
			if e := checkErrno(a.Errno); e != nil {
				return e
			}
		}
	default:
		return &ruleError{"action", fmt.Sprintf("unknown action type %T", a)}
	}
	if _, e := effectiveOps(r); e != nil {
		return e
	}
	return nil
}

// Validate reports the first problem with p, naming the rule by its index in
// p.Rules, or nil. Parse returns only valid plans; a plan built in Go should
// be validated (NewInjector does).
func (p *Plan) Validate() error {
	if len(p.Rules) > MaxRules {
		return fmt.Errorf("plan has %d rules; the limit is %d", len(p.Rules), MaxRules)
	}
	for i := range p.Rules {
		if e := validateRule(&p.Rules[i]); e != nil {
			return fmt.Errorf("rule %d (%s): %s", i, e.field, e.msg)
		}
	}
	return nil
}

// Request describes one operation offered to an Injector.
type Request struct {
	Op Op
	// Sector and Count (in SectorSize units) locate a block request.
	Sector, Count int64
	// File, Off and Len (bytes), and Key, describe a server request.
	File     uint64
	Off, Len int64
	Key      string
	// Site names the allocation point of an OpAlloc request.
	Site string
	// Now is the virtual time in nanoseconds.
	Now int64
	// Retry marks a resubmission of a request that failed (see Transient).
	Retry bool
}

// Effect is everything the rules that fired do to one request. The zero
// Effect means "no fault".
type Effect struct {
	// Err is the error the request completes with, 0 for success. When
	// several rules set an error, the first in plan order wins.
	Err errno.Errno
	// Transient and Latent say that Err came from a Transient or a Latent
	// rule.
	Transient, Latent bool
	// Latency is the extra service time in nanoseconds: the sum over the
	// Latency rules that fired (saturating).
	Latency int64
	// Misdirected says the write lands at sector MisdirectTo (first rule
	// wins). The target may lie past the end of the device; the Disk decides
	// what that means.
	Misdirected bool
	MisdirectTo int64
	// Corrupt says the data a read returns is corrupted.
	Corrupt bool
	// Partial says only the first PartialBytes bytes take effect (first rule
	// wins).
	Partial      bool
	PartialBytes int64
	// Dropped says the request completes without reaching the device (a
	// Drop rule fired): nothing is written, nothing is flushed.
	Dropped bool
}

// Fault records one rule firing, for the trace.
type Fault struct {
	// Rule is the index of the rule in Plan.Rules (0-based).
	Rule   int
	Action Action
	// Req is the request, with its time in Req.Now.
	Req Request
	// Target is where a misdirected write lands (Misdirect, MisdirectTo).
	Target int64
	// Shadowed says an earlier rule already set what this action sets (an
	// error, a misdirect target, corruption, a partial length), so this one
	// changed nothing but its own counters.
	Shadowed bool
	// Table, if set, says the rule is one of a loaded table's
	// ((*Injector).Load), not the plan's; Rule then counts on from the
	// plan's last rule.
	Table string
}

// String returns a one-line description, such as
// "t=1.5ms rules[2]: write sectors 1000+8: fail EIO".
func (f Fault) String() string {
	var b strings.Builder
	if f.Table != "" {
		fmt.Fprintf(&b, "t=%s table %s: %s: ", formatDuration(f.Req.Now), f.Table, f.Req)
	} else {
		fmt.Fprintf(&b, "t=%s rules[%d]: %s: ", formatDuration(f.Req.Now), f.Rule, f.Req)
	}
	if f.Action == nil {
		b.WriteString("<nil action>")
	} else {
		b.WriteString(f.Action.String())
	}
	switch f.Action.(type) {
	case Misdirect, MisdirectTo:
		fmt.Fprintf(&b, " -> sector %d", f.Target)
	}
	if f.Shadowed {
		b.WriteString(" (shadowed by an earlier rule)")
	}
	return b.String()
}

// String returns a short description such as "write sectors 1000+8" or
// "store file 3 bytes 0+4096 key alice".
func (r Request) String() string {
	var b strings.Builder
	b.WriteString(r.Op.String())
	switch r.Op {
	case OpRead, OpWrite, OpFUAWrite:
		fmt.Fprintf(&b, " sectors %d+%d", r.Sector, r.Count)
	case OpStore, OpFetch:
		fmt.Fprintf(&b, " file %d bytes %d+%d", r.File, r.Off, r.Len)
		if r.Key != "" {
			b.WriteString(" key " + quoteName(r.Key))
		}
	case OpAlloc:
		if r.Site != "" {
			b.WriteString(" site " + quoteName(r.Site))
		}
	}
	if r.Retry {
		b.WriteString(" (retry)")
	}
	return b.String()
}

// reqKey identifies "the same request" for Transient.
type reqKey struct {
	op            Op
	sector, count int64
	file          uint64
	off, len      int64
	key, site     string
}

// span is a half-open sector interval; spans is a sorted list of disjoint,
// non-adjacent spans.
type span struct{ start, end int64 }
type spans []span

// add inserts [s, e) and merges.
func (ss *spans) add(s, e int64) {
	if s >= e {
		return
	}
	out := (*ss)[:0:0]
	i := 0
	old := *ss
	for ; i < len(old) && old[i].end < s; i++ {
		out = append(out, old[i])
	}
	for ; i < len(old) && old[i].start <= e; i++ {
		s = min(s, old[i].start)
		e = max(e, old[i].end)
	}
	out = append(out, span{s, e})
	out = append(out, old[i:]...)
	*ss = out
}

// covers reports whether [s, e) lies inside the set.
func (ss spans) covers(s, e int64) bool {
	for _, x := range ss {
		if x.start <= s && e <= x.end {
			return true
		}
		if x.start > s {
			break
		}
	}
	return s >= e
}

type ruleState struct {
	ops     OpSet // operations the rule matches, fua-write expanded
	matches int64 // requests that met the rule's conditions
	fired   int64
	rng     *rand.Rand // own stream, for rules with a probability
	pending map[reqKey]struct{}
	healed  spans // Latent: sectors rewritten since they went bad
}

// Injector evaluates a Plan for one world. It holds the state that the Plan
// does not: match and fire counters, the requests a Transient rule failed,
// the sectors a Latent rule has seen rewritten, and one random stream per
// probabilistic rule. It is not safe for concurrent use (a world runs one
// task at a time).
//
// Random draws: NewInjector draws exactly one value from the world's rng,
// whatever the plan, and seeds from it one PCG stream per rule, keyed by that
// rule's canonical text (and its occurrence among identical rules). A rule
// draws from its own stream, one Float64 per request, and only when the
// request meets every other condition of the rule (and the rule still has
// fires left). So adding, removing or changing one rule never shifts the
// draws of another, and other users of the world's rng never shift them
// either: replays and shrunk plans stay stable.
type Injector struct {
	rules  []Rule // the plan's, then the loaded table's
	st     []ruleState
	record func(Fault)
	// planRules is how many of rules are the plan's; table is the table
	// loaded last (Load).
	planRules int
	table     Table
}

// NewInjector returns an Injector for p (nil means the empty plan) that
// reports each fault to record (nil to discard). It validates p, and it
// draws one value from rng if rng is not nil; rng may be nil only if no rule
// has a probability. The Injector keeps its own copy of the rules.
func NewInjector(p *Plan, rng *rand.Rand, record func(Fault)) (*Injector, error) {
	if p == nil {
		p = &Plan{}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var base uint64
	if rng != nil {
		base = rng.Uint64()
	}
	if record == nil {
		record = func(Fault) {}
	}
	inj := &Injector{
		rules:  append([]Rule(nil), p.Rules...),
		st:     make([]ruleState, len(p.Rules)),
		record: record,

		planRules: len(p.Rules),
	}
	seen := make(map[string]int)
	for i := range inj.rules {
		r := &inj.rules[i]
		ops, _ := effectiveOps(r)
		if ops.Has(OpWrite) {
			ops |= 1 << OpFUAWrite
		}
		inj.st[i].ops = ops
		if p := r.Match.Prob; p > 0 && p < 1 {
			if rng == nil {
				return nil, fmt.Errorf("rule %d has prob %v but the rng is nil", i, p)
			}
			text := r.String()
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\x00%d", text, seen[text])
			seen[text]++
			inj.st[i].rng = rand.New(rand.NewPCG(base, h.Sum64()))
		}
	}
	return inj, nil
}

// end returns start+n for n > 0, saturating at MaxInt64, and start for
// n <= 0.
func end(start, n int64) int64 {
	switch {
	case n <= 0:
		return start
	case start > math.MaxInt64-n:
		return math.MaxInt64
	}
	return start + n
}

// overlaps reports whether [start, start+n) meets r.
func overlaps(r Range, start, n int64) bool {
	return n > 0 && start < r.End && r.Start < end(start, n)
}

// conds reports whether req meets the rule's static conditions: operation,
// sectors, file, bytes, key, site, time window and flakey phase.
func (s *ruleState) conds(m *Match, req *Request) bool {
	switch {
	case !s.ops.Has(req.Op):
		return false
	case !m.Sectors.IsZero() && !overlaps(m.Sectors, req.Sector, req.Count):
		return false
	case m.File != 0 && req.File != m.File:
		return false
	case !m.Bytes.IsZero() && !overlaps(m.Bytes, req.Off, req.Len):
		return false
	case m.Key != "" && req.Key != m.Key:
		return false
	case m.Site != "" && req.Site != m.Site:
		return false
	case req.Now < m.From || (m.Until != 0 && req.Now >= m.Until):
		return false
	case !m.Flakey.IsZero():
		period := m.Flakey.Up + m.Flakey.Down
		return (req.Now-m.From)%period >= m.Flakey.Up
	}
	return true
}

// latentBad returns whether some sector that req shares with the rule has
// not been rewritten since it went bad.
func (s *ruleState) latentBad(m *Match, req *Request) bool {
	lo, hi := req.Sector, end(req.Sector, req.Count)
	if !m.Sectors.IsZero() {
		lo, hi = max(lo, m.Sectors.Start), min(hi, m.Sectors.End)
	}
	return lo < hi && !s.healed.covers(lo, hi)
}

func reqBytes(req *Request) int64 {
	switch req.Op {
	case OpStore, OpFetch:
		return req.Len
	}
	if req.Count > math.MaxInt64/SectorSize {
		return math.MaxInt64
	}
	return req.Count * SectorSize
}

func keyOf(req *Request) reqKey {
	return reqKey{req.Op, req.Sector, req.Count, req.File, req.Off, req.Len, req.Key, req.Site}
}

// Eval offers req to every rule in plan order and returns what the rules
// that fire do to it, calling record once for each rule that fires. Every
// rule is evaluated on its own: a rule's counters and draws depend only on
// the requests that meet its own conditions, never on other rules.
//
// For each rule, in order: the request must meet the rule's conditions
// (operation, sectors, file, bytes, key, site, [From, Until), flakey phase,
// and the action's own: a Transient rule lets its remembered retries
// through, a Latent rule needs a sector still bad, a Partial rule a request
// longer than its Bytes, a Misdirect rule a non-negative target); then it
// counts as a match; then Nth or After must allow this match, a Fail rule
// must have fires left, and a draw from the rule's stream must fall below
// Prob. Then the rule fires.
func (inj *Injector) Eval(req Request) Effect {
	var eff Effect
	for i := range inj.rules {
		r := &inj.rules[i]
		s := &inj.st[i]
		m := &r.Match
		if !s.conds(m, &req) {
			continue
		}
		var target int64
		switch a := r.Action.(type) {
		case Transient:
			if req.Retry {
				k := keyOf(&req)
				if _, ok := s.pending[k]; ok {
					delete(s.pending, k)
					continue
				}
			}
		case Latent:
			if !s.latentBad(m, &req) {
				continue
			}
		case Partial:
			if reqBytes(&req) <= a.Bytes {
				continue
			}
		case Misdirect:
			if (a.Delta > 0 && req.Sector > math.MaxInt64-a.Delta) ||
				(a.Delta < 0 && req.Sector < math.MinInt64-a.Delta) {
				continue
			}
			target = req.Sector + a.Delta
			if target < 0 {
				continue
			}
		case MisdirectTo:
			target = a.Sector
		}
		if s.matches < math.MaxInt64 {
			s.matches++
		}
		if m.Nth > 0 && s.matches != m.Nth {
			continue
		}
		if s.matches <= m.After {
			continue
		}
		if f, ok := r.Action.(Fail); ok && f.Times > 0 && s.fired >= f.Times {
			continue
		}
		if s.rng != nil && s.rng.Float64() >= m.Prob {
			continue
		}
		s.fired++
		shadowed := false
		setErr := func(e errno.Errno) {
			if eff.Err != 0 {
				shadowed = true
				return
			}
			eff.Err = e
			switch r.Action.(type) {
			case Transient:
				eff.Transient = true
			case Latent:
				eff.Latent = true
			}
		}
		switch a := r.Action.(type) {
		case Fail:
			setErr(a.Errno)
		case Transient:
			setErr(a.Errno)
			if s.pending == nil {
				s.pending = make(map[reqKey]struct{})
			}
			s.pending[keyOf(&req)] = struct{}{}
		case Latent:
			setErr(a.Errno)
		case Offline:
			setErr(errno.EIO)
		case Misdirect, MisdirectTo:
			if eff.Misdirected {
				shadowed = true
			} else {
				eff.Misdirected, eff.MisdirectTo = true, target
			}
		case Corrupt:
			shadowed = eff.Corrupt
			eff.Corrupt = true
		case Latency:
			eff.Latency = end(eff.Latency, a.Extra)
		case Partial:
			if eff.Partial {
				shadowed = true
			} else {
				eff.Partial, eff.PartialBytes = true, a.Bytes
				if a.Errno != 0 && eff.Err == 0 {
					eff.Err = a.Errno
				}
			}
		case Drop:
			shadowed = eff.Dropped
			eff.Dropped = true
		}
		f := Fault{Rule: i, Action: r.Action, Req: req, Target: target, Shadowed: shadowed}
		if i >= inj.planRules {
			f.Table = inj.table.String()
		}
		inj.record(f)
	}
	return eff
}

// Rewritten tells the Injector that sectors [sector, sector+count) were
// rewritten on the medium at time now (not merely in a volatile cache). Latent
// sector errors that had appeared by then (now >= the rule's From) are healed
// there: later reads of those sectors pass the Latent rule.
func (inj *Injector) Rewritten(sector, count, now int64) {
	if count <= 0 {
		return
	}
	lo0, hi0 := sector, end(sector, count)
	for i := range inj.rules {
		r := &inj.rules[i]
		if _, ok := r.Action.(Latent); !ok || now < r.Match.From {
			continue
		}
		lo, hi := lo0, hi0
		if !r.Match.Sectors.IsZero() {
			lo, hi = max(lo, r.Match.Sectors.Start), min(hi, r.Match.Sectors.End)
		}
		inj.st[i].healed.add(lo, hi)
	}
}
