package faultdisk

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/wbsim/wbsim/sim/errno"
)

// planCmp compares plans; nil and empty Rules are the same plan.
var planCmp = cmpopts.EquateEmpty()

// ---------------------------------------------------------------- generators

var (
	genErrno  = rapid.SampledFrom(errno.All())
	genSmall  = rapid.Int64Range(1, 100)
	genCount  = rapid.OneOf(genSmall, rapid.Int64Range(1, math.MaxInt64))
	genNonNeg = rapid.OneOf(rapid.Int64Range(0, 100), rapid.Int64Range(0, math.MaxInt64))
	genDur    = rapid.OneOf(
		rapid.SampledFrom([]int64{1, 999, 1000, 1500, 1e6, 2e6 + 1, 1e9, 1500e6, math.MaxInt64}),
		rapid.Int64Range(1, math.MaxInt64),
	)
	// Names: mostly plain words, sometimes arbitrary bytes that need quoting.
	genName = rapid.OneOf(
		rapid.StringMatching(`[a-z_][a-z0-9_.@-]{0,12}`),
		rapid.SampledFrom([]string{"from", "fail", "+8", "a b", `q"uote`, "x:y", "#h", "é", "\xff\x00", "tab\t", "back\\slash"}),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 1, 24), func(b []byte) string { return string(b) }),
	)
)

func genRange(t *rapid.T, label string) Range {
	start := rapid.OneOf(rapid.Int64Range(0, 1000), rapid.Int64Range(0, math.MaxInt64-1)).Draw(t, label+"Start")
	n := rapid.OneOf(rapid.Int64Range(1, min(64, math.MaxInt64-start)), rapid.Int64Range(1, math.MaxInt64-start)).Draw(t, label+"Len")
	return Range{start, start + n}
}

func genAction(t *rapid.T) Action {
	switch rapid.IntRange(0, 9).Draw(t, "action") {
	case 0:
		return Fail{Errno: genErrno.Draw(t, "errno"), Times: rapid.OneOf(rapid.Just[int64](Always), rapid.Just[int64](Once), genCount).Draw(t, "times")}
	case 1:
		return Transient{Errno: genErrno.Draw(t, "errno")}
	case 2:
		return Latent{Errno: genErrno.Draw(t, "errno")}
	case 3:
		d := rapid.OneOf(rapid.Int64Range(-64, 64), rapid.Int64()).Filter(func(d int64) bool { return d != 0 }).Draw(t, "delta")
		return Misdirect{Delta: d}
	case 4:
		return MisdirectTo{Sector: genNonNeg.Draw(t, "to")}
	case 5:
		return Corrupt{}
	case 6:
		return Latency{Extra: genDur.Draw(t, "extra")}
	case 7:
		return Offline{}
	case 8:
		return Drop{}
	default:
		p := Partial{Bytes: genNonNeg.Draw(t, "bytes")}
		if rapid.Bool().Draw(t, "partialErr") {
			p.Errno = genErrno.Draw(t, "errno")
		}
		return p
	}
}

// subset draws a non-empty subset of s.
func subset(t *rapid.T, s OpSet, label string) OpSet {
	l := s.list()
	var out OpSet
	for out == 0 {
		for _, o := range l {
			if rapid.Bool().Draw(t, label+o.String()) {
				out |= Ops(o)
			}
		}
	}
	return out
}

// genRule draws a valid rule: an action, then a "domain" of conditions the
// action allows, then operations compatible with both.
func genRule(t *rapid.T) Rule {
	var r Rule
	r.Action = genAction(t)
	m := &r.Match
	aops := actionOps(r.Action)
	type domain struct {
		name string
		ops  OpSet
	}
	var ds []domain
	for _, d := range []domain{{"none", allOps}, {"block", blockOps}, {"server", serverOps}, {"alloc", Ops(OpAlloc)}} {
		if d.ops&aops != 0 {
			ds = append(ds, d)
		}
	}
	d := rapid.SampledFrom(ds).Draw(t, "domain")
	cands := aops & d.ops
	switch d.name {
	case "block":
		if rapid.Bool().Draw(t, "hasSectors") {
			m.Sectors = genRange(t, "sectors")
		}
	case "server":
		if rapid.Bool().Draw(t, "hasFile") {
			m.File = rapid.OneOf(rapid.Uint64Range(1, 10), rapid.Uint64Min(1)).Draw(t, "file")
		}
		if rapid.Bool().Draw(t, "hasBytes") {
			m.Bytes = genRange(t, "bytes")
		}
		if rapid.Bool().Draw(t, "hasKey") {
			m.Key = genName.Draw(t, "key")
		}
	case "alloc":
		if rapid.Bool().Draw(t, "hasSite") {
			m.Site = genName.Draw(t, "site")
		}
	}
	if cands&AnyIO != 0 && d.name != "alloc" && rapid.Bool().Draw(t, "anyOps") {
		m.Ops = 0
	} else {
		m.Ops = subset(t, cands, "op_")
	}
	f, isFail := r.Action.(Fail)
	switch rapid.IntRange(0, 2).Draw(t, "counter") {
	case 1:
		if !isFail || f.Times <= 1 {
			m.Nth = genCount.Draw(t, "nth")
		}
	case 2:
		m.After = genCount.Draw(t, "after")
	}
	if rapid.Bool().Draw(t, "hasFrom") {
		m.From = rapid.Int64Range(0, math.MaxInt64-1).Draw(t, "from")
	}
	if rapid.Bool().Draw(t, "hasUntil") {
		m.Until = rapid.Int64Range(m.From+1, math.MaxInt64).Draw(t, "until")
	}
	if rapid.IntRange(0, 3).Draw(t, "hasFlakey") == 0 {
		up := min(genDur.Draw(t, "up"), math.MaxInt64-1)
		m.Flakey = Flakey{up, rapid.Int64Range(1, math.MaxInt64-up).Draw(t, "down")}
	}
	m.Prob = rapid.OneOf(rapid.Just(0.0), rapid.Just(1.0), rapid.Float64Range(math.SmallestNonzeroFloat64, 1)).Draw(t, "prob")
	if e := validateRule(&r); e != nil {
		t.Fatalf("generator made an invalid rule %v: %s: %s", r, e.field, e.msg)
	}
	return r
}

func genPlan(t *rapid.T) *Plan {
	return &Plan{Rules: rapid.SliceOfN(rapid.Custom(genRule), 0, 8).Draw(t, "rules")}
}

// ---------------------------------------------------------------- text

func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPlan(t)
		if err := p.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		text := p.String()
		q, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		if d := cmp.Diff(p, q, planCmp); d != "" {
			t.Fatalf("round trip of\n%s\nchanged the plan (-printed +parsed):\n%s", text, d)
		}
		if again := q.String(); again != text {
			t.Fatalf("printing is not canonical:\n%s\nthen\n%s", text, again)
		}
	})
}

const docExample = `faultplan v1
# dm-error: everything fails from 100ms to 200ms
offline from 100ms until 200ms
write sectors 1000..2000 after 2: fail EIO times 2
read sectors 0..64: latent EIO
write prob 0.1: misdirect +8
read: corrupt
any from 10ms until 20ms: latency 5ms
write: partial 512
alloc site bio_alloc nth 2: fail ENOMEM
store file 3 bytes 0..4096 key alice: fail EDQUOT always
flakey up 10ms down 2ms: fail EIO
`

func TestParseExample(t *testing.T) {
	p, err := Parse(docExample)
	if err != nil {
		t.Fatal(err)
	}
	const ms = 1_000_000
	want := &Plan{Rules: []Rule{
		{Match{From: 100 * ms, Until: 200 * ms}, Offline{}},
		{Match{Ops: Ops(OpWrite), Sectors: Range{1000, 2000}, After: 2}, Fail{errno.EIO, 2}},
		{Match{Ops: Ops(OpRead), Sectors: Range{0, 64}}, Latent{errno.EIO}},
		{Match{Ops: Ops(OpWrite), Prob: 0.1}, Misdirect{8}},
		{Match{Ops: Ops(OpRead)}, Corrupt{}},
		{Match{From: 10 * ms, Until: 20 * ms}, Latency{5 * ms}},
		{Match{Ops: Ops(OpWrite)}, Partial{Bytes: 512}},
		{Match{Ops: Ops(OpAlloc), Site: "bio_alloc", Nth: 2}, Fail{errno.ENOMEM, Always}},
		{Match{Ops: Ops(OpStore), File: 3, Bytes: Range{0, 4096}, Key: "alice"}, Fail{errno.EDQUOT, Always}},
		{Match{Flakey: Flakey{10 * ms, 2 * ms}}, Fail{errno.EIO, Always}},
	}}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
	const canon = `faultplan v1
offline from 100ms until 200ms
write sectors 1000..2000 after 2: fail EIO times 2
read sectors 0..64: latent EIO
write prob 0.1: misdirect +8
read: corrupt
any from 10ms until 20ms: latency 5ms
write: partial 512
alloc site bio_alloc nth 2: fail ENOMEM
store file 3 bytes 0..4096 key alice: fail EDQUOT
any flakey up 10ms down 2ms: fail EIO
`
	if got := p.String(); got != canon {
		t.Errorf("String:\n%s\nwant\n%s", got, canon)
	}
}

func TestParseForms(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Rule
	}{
		{"write sectors 100+8: fail EIO once", Rule{Match{Ops: Ops(OpWrite), Sectors: Range{100, 108}}, Fail{errno.EIO, Once}}},
		{"write sectors 100..108: fail EIO times 1", Rule{Match{Ops: Ops(OpWrite), Sectors: Range{100, 108}}, Fail{errno.EIO, Once}}},
		{"read , write,fua-write: latency 1.5s # comment", Rule{Match{Ops: Ops(OpRead, OpWrite, OpFUAWrite)}, Latency{1500e6}}},
		{"any: latency 250us", Rule{Match{}, Latency{250e3}}},
		{"any: latency 100ns", Rule{Match{}, Latency{100}}},
		{"any: latency 0.000000001s", Rule{Match{}, Latency{1}}},
		{"any: latency 9223372036.854775807s", Rule{Match{}, Latency{math.MaxInt64}}},
		{"write: misdirect -8", Rule{Match{Ops: Ops(OpWrite)}, Misdirect{-8}}},
		{"write: misdirect -9223372036854775808", Rule{Match{Ops: Ops(OpWrite)}, Misdirect{math.MinInt64}}},
		{"write: misdirect to 5000", Rule{Match{Ops: Ops(OpWrite)}, MisdirectTo{5000}}},
		{"write: partial 0", Rule{Match{Ops: Ops(OpWrite)}, Partial{0, 0}}},
		{"store: partial 100 EREMOTEIO", Rule{Match{Ops: Ops(OpStore)}, Partial{100, errno.EREMOTEIO}}},
		{"write: transient EIO", Rule{Match{Ops: Ops(OpWrite)}, Transient{errno.EIO}}},
		{`fetch key "afs@EXAMPLE.COM key": fail EKEYEXPIRED`, Rule{Match{Ops: Ops(OpFetch), Key: "afs@EXAMPLE.COM key"}, Fail{errno.EKEYEXPIRED, Always}}},
		{`fetch key "\xff": corrupt`, Rule{Match{Ops: Ops(OpFetch), Key: "\xff"}, Corrupt{}}},
		{"file 7: fail ENOSPC", Rule{Match{File: 7}, Fail{errno.ENOSPC, Always}}},
		{"prob 0.5 until 1s from 10ms sectors 0..8: fail EIO", Rule{Match{Sectors: Range{0, 8}, From: 10e6, Until: 1e9, Prob: 0.5}, Fail{errno.EIO, Always}}},
		{"read prob 1: corrupt", Rule{Match{Ops: Ops(OpRead), Prob: 1}, Corrupt{}}},
		{"read prob 1e-3: corrupt", Rule{Match{Ops: Ops(OpRead), Prob: 0.001}, Corrupt{}}},
		{"offline", Rule{Match{}, Offline{}}},
		{"offline from 1s", Rule{Match{From: 1e9}, Offline{}}},
		{"write, flush from 1s: offline", Rule{Match{Ops: Ops(OpWrite, OpFlush), From: 1e9}, Offline{}}},
		{"flush: drop", Rule{Match{Ops: Ops(OpFlush)}, Drop{}}},
		{"any from 1s: offline", Rule{Match{From: 1e9}, Offline{}}},
		{"write flakey up 1s down 1ms: partial 0", Rule{Match{Ops: Ops(OpWrite), Flakey: Flakey{1e9, 1e6}}, Partial{}}},
	} {
		p, err := Parse("faultplan v1\n" + tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if d := cmp.Diff([]Rule{tc.want}, p.Rules); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.line, d)
		}
		q, err := Parse(p.String())
		if err != nil || !cmp.Equal(p, q) {
			t.Errorf("%q: reprint %q does not parse back: %v", tc.line, p.String(), err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const h = "faultplan v1\n"
	for _, tc := range []struct{ text, want string }{
		{"", `1:1: expected the header "faultplan v1", got end of input`},
		{"# only a comment\n\n", `3:1: expected the header "faultplan v1", got end of input`},
		{"fault v1\n", `1:1: expected the header "faultplan v1", got "fault"`},
		{"faultplan v2\n", `1:11: unsupported version "v2" (this build reads v1)`},
		{"faultplan\n", `1:10: expected a version such as v1, got end of line`},
		{"faultplan v1 extra\n", `1:14: expected end of line after the header, got "extra"`},
		{h + "write: fail EIOO", `2:13: expected an errno such as EIO, got "EIOO"`},
		{h + "write: fail eio", `2:13: expected an errno such as EIO, got "eio" (errno names are upper case: EIO)`},
		{h + "read: latent", `2:13: expected an errno such as EIO, got end of line`},
		{h + "write sectors 200..100: fail EIO", `2:15: range 200..100 ends before it starts`},
		{h + "write sectors 5..5: fail EIO", `2:15: range 5..5 is empty: the end is exclusive`},
		{h + "write sectors 5+0: fail EIO", `2:15: range 5+0 is empty: the length must be at least 1`},
		{h + "write sectors 9223372036854775807+1: fail EIO", `2:15: range 9223372036854775807+1 is too large (the limit is 9223372036854775807)`},
		{h + "write sectors 100-200: fail EIO", `2:15: expected a range such as 100..200 or 100+8, got "100-200"`},
		{h + "read prob 1.5: corrupt", `2:11: prob 1.5 is outside (0, 1] (a rule that never fires is better deleted)`},
		{h + "read prob 0: corrupt", `2:11: prob 0 is outside (0, 1] (a rule that never fires is better deleted)`},
		{h + "read prob NaN: corrupt", `2:11: expected a probability such as 0.1, got "NaN"`},
		{h + "read prob 1e-400: corrupt", `2:11: prob 1e-400 is outside (0, 1] (a rule that never fires is better deleted)`},
		{h + "write nth 0: fail EIO", `2:11: nth counts from 1`},
		{h + "write nth 3: fail EIO times 2", `2:14: times 2 cannot apply: nth fires on one match only (use after N to fail the matches after the Nth)`},
		{h + "write nth 3 after 1: fail EIO", `2:13: nth and after cannot be combined: nth fires on one match only`},
		{h + "write: corrupt", `2:8: corrupt applies to read, fetch, not write`},
		{h + "read: misdirect +8", `2:7: misdirect applies to write, fua-write, not read`},
		{h + "write file 3: fail EIO", `2:7: file applies to store, fetch, not write`},
		{h + "sectors 0..8 key x: fail EIO", `2:14: no operation can match: key applies to store, fetch, and fail to read, write, fua-write`},
		{h + "site bio_alloc: fail ENOMEM", `2:1: site applies to alloc, which a rule must name: "alloc site ..."`},
		{h + "any from 10ms until 5ms: latency 1ms", `2:15: the window is empty: until 5ms is not after from 10ms`},
		{h + "any until 0s: latency 1ms", `2:11: until 0s is an empty window`},
		{h + "any: latency 1.5ns", `2:14: duration "1.5ns" is not a whole number of nanoseconds`},
		{h + "any: latency 0ms", `2:14: latency 0s adds nothing`},
		{h + "any: latency 10", `2:14: expected a duration such as 10ms, 1.5s, 250us or 100ns, got "10"`},
		{h + "any: latency 10m", `2:14: expected a duration such as 10ms, 1.5s, 250us or 100ns, got "10m"`},
		{h + "any from 9223372037s: latency 1ms", `2:10: duration "9223372037s" is too large (the limit is 9223372036.854775807s)`},
		{h + "any from 9223372036.854775808s: latency 1ms", `2:10: duration "9223372036.854775808s" is too large (the limit is 9223372036.854775807s)`},
		{h + "any from -5ms: latency 1ms", `2:10: duration "-5ms" is negative`},
		{h + "write sectors 0..8 fail EIO", `2:20: expected a condition (sectors, file, bytes, key, site, nth, after, from, until, flakey, prob) or ":" and an action, got "fail"`},
		{h + "write sectors 0..8", `2:19: expected a condition (sectors, file, bytes, key, site, nth, after, from, until, flakey, prob) or ":" and an action, got end of line`},
		{h + "wirte: fail EIO", `2:1: expected an operation (read, write, flush, fua-write, alloc, store, fetch), "any", a condition, or "offline", got "wirte"`},
		{h + ": fail EIO", `2:1: expected an operation (read, write, flush, fua-write, alloc, store, fetch), "any", a condition, or "offline", got ":"`},
		{h + "write: explode", `2:8: expected an action (fail, transient, latent, misdirect, corrupt, latency, offline, partial, drop), got "explode"`},
		{h + "write: fail EIO times 0", `2:23: times must be between 1 and 9223372036854775807`},
		{h + "write: fail EIO extra", `2:17: unexpected "extra" after the action`},
		{h + "write: misdirect 8", `2:18: expected a sector offset such as +8 or -8, or "to" and a sector, got "8"`},
		{h + "write: misdirect +0", `2:18: misdirect by 0 sectors is no misdirect`},
		{h + "write: misdirect +9223372036854775808", `2:18: sector offset +9223372036854775808 is too large`},
		{h + "write: partial -1", `2:16: expected a byte count such as 512, got "-1"`},
		{h + `store key "abc: fail EIO`, `2:11: unterminated quoted string`},
		{h + `store key "\q": fail EIO`, `2:11: invalid quoted string "\q" (use Go string syntax)`},
		{h + `store key "": fail EIO`, `2:11: the key name is empty`},
		{h + "store key é: fail EIO", `2:11: unexpected non-ASCII byte; quote names that are not plain ASCII`},
		{h + "write\x01: fail EIO", `2:6: unexpected control character '\x01'`},
		{h + "write,any: fail EIO", `2:7: "any" cannot be combined with other operations`},
		{h + "any,write: fail EIO", `2:4: "any" cannot be combined with other operations`},
		{h + "write,write: fail EIO", `2:7: operation write given twice`},
		{h + "write,: fail EIO", `2:7: expected an operation (read, write, flush, fua-write, alloc, store, fetch), got ":"`},
		{h + "write sectors 0..8 sectors 0..8: fail EIO", `2:20: sectors given twice`},
		{h + "from 1ms write: fail EIO", `2:10: operations come first, before the conditions, separated by commas: "write"`},
		{h + "offline from 1s: fail EIO", `2:16: "offline" is a whole rule and takes no action after ":"; write "<ops> <conditions>: offline" to limit it to some operations`},
		{h + "flakey up 10ms: fail EIO", `2:15: expected "down" and a duration (flakey up 10ms down 2ms), got ":"`},
		{h + "flakey up 5000000000s down 5000000000s: fail EIO", `2:1: flakey up plus down overflows the clock`},
		{h + "store file 0: fail EIO", `2:12: file ids start at 1`},
		{h + "alloc site " + strings.Repeat("x", MaxNameLen+1) + ": fail ENOMEM", `2:12: the site name is 257 bytes long; the limit is 256`},
		{h + "write: fail EIO\nfaultplan v1", `3:1: expected an operation (read, write, flush, fua-write, alloc, store, fetch), "any", a condition, or "offline", got "faultplan"`},
		{h + strings.Repeat("write: fail EIO\n", MaxRules) + "read: fail EIO\n", fmt.Sprintf("%d:1: too many rules; the limit is %d", MaxRules+2, MaxRules)},
		{strings.Repeat(" ", MaxPlanBytes+1), fmt.Sprintf("1:1: the plan is %d bytes long; the limit is %d", MaxPlanBytes+1, MaxPlanBytes)},
	} {
		p, err := Parse(tc.text)
		name := tc.text
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", name, p, tc.want)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error %T is not a *ParseError", name, err)
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%q) error\n got %s\nwant %s", name, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	w := Match{Ops: Ops(OpWrite)}
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{w, nil}, "rule 0 (action): the rule has no action"},
		{Rule{w, Fail{}}, "rule 0 (action): errno(0) is not an errno this build names (see sim/errno)"},
		{Rule{w, Fail{Errno: 3}}, "rule 0 (action): errno(3) is not an errno this build names (see sim/errno)"},
		{Rule{w, Fail{errno.EIO, -1}}, "rule 0 (action): times -1 is negative"},
		{Rule{Match{Ops: 1 << 12}, Corrupt{}}, "rule 0 (ops): unknown operations in set 0x1000"},
		{Rule{Match{Ops: Ops(OpWrite), Sectors: Range{-1, 5}}, Fail{Errno: errno.EIO}}, "rule 0 (sectors): range start -1 is negative"},
		{Rule{Match{Ops: Ops(OpWrite), Sectors: Range{0, 0}}, Fail{Errno: errno.EIO}}, ""},
		{Rule{Match{Ops: Ops(OpWrite), Sectors: Range{5, 5}}, Fail{Errno: errno.EIO}}, "rule 0 (sectors): range 5..5 is empty: the end must be after the start"},
		{Rule{Match{Ops: Ops(OpStore), Bytes: Range{9, 3}}, Fail{Errno: errno.EIO}}, "rule 0 (bytes): range 9..3 is empty: the end must be after the start"},
		{Rule{Match{Ops: Ops(OpWrite), Nth: -1}, Fail{Errno: errno.EIO}}, "rule 0 (nth): nth -1 is negative"},
		{Rule{Match{Ops: Ops(OpWrite), From: -1}, Fail{Errno: errno.EIO}}, "rule 0 (from): from -1 is negative"},
		{Rule{Match{Ops: Ops(OpWrite), From: 5, Until: 5}, Fail{Errno: errno.EIO}}, "rule 0 (until): the window is empty: until 5ns is not after from 5ns"},
		{Rule{Match{Ops: Ops(OpWrite), Prob: math.NaN()}, Fail{Errno: errno.EIO}}, "rule 0 (prob): prob NaN is outside (0, 1]"},
		{Rule{Match{Ops: Ops(OpWrite), Prob: -0.5}, Fail{Errno: errno.EIO}}, "rule 0 (prob): prob -0.5 is outside (0, 1]"},
		{Rule{Match{Ops: Ops(OpWrite), Flakey: Flakey{Up: 5}}, Fail{Errno: errno.EIO}}, "rule 0 (flakey): flakey needs up and down intervals longer than 0"},
		{Rule{Match{Ops: Ops(OpWrite)}, Misdirect{}}, "rule 0 (action): misdirect by 0 sectors is no misdirect"},
		{Rule{Match{Ops: Ops(OpWrite)}, MisdirectTo{-3}}, "rule 0 (action): misdirect to sector -3, which is negative"},
		{Rule{Match{Ops: Ops(OpWrite)}, Latency{}}, "rule 0 (action): latency 0 ns is not positive"},
		{Rule{Match{Ops: Ops(OpWrite)}, Partial{Bytes: -1}}, "rule 0 (action): partial -1 bytes is negative"},
		{Rule{Match{Ops: Ops(OpFlush)}, Partial{Bytes: 1}}, "rule 0 (action): partial applies to read, write, fua-write, store, fetch, not flush"},
		{Rule{Match{Ops: Ops(OpAlloc)}, Offline{}}, "rule 0 (action): offline applies to read, write, flush, fua-write, store, fetch, not alloc"},
		{Rule{Match{Ops: Ops(OpFetch)}, Latent{errno.EIO}}, "rule 0 (action): latent applies to read, not fetch"},
		{Rule{Match{Ops: Ops(OpFlush), Sectors: Range{0, 8}}, Fail{Errno: errno.EIO}}, "rule 0 (sectors): sectors applies to read, write, fua-write, not flush"},
		{Rule{Match{Ops: Ops(OpStore), Key: strings.Repeat("k", 300)}, Fail{Errno: errno.EIO}}, "rule 0 (key): key is 300 bytes long; the limit is 256"},
		{Rule{Match{Site: "x"}, Fail{Errno: errno.ENOMEM}}, `rule 0 (site): site applies to alloc, which a rule must name: "alloc site ..."`},
		{Rule{Match{Ops: Ops(OpAlloc), Site: "bio_alloc", Nth: 2}, Fail{Errno: errno.ENOMEM}}, ""},
	} {
		p := &Plan{Rules: []Rule{tc.r}}
		err := p.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Validate(%v)\n got %q\nwant %q", tc.r, got, tc.want)
		}
		if _, ierr := NewInjector(p, rand.New(rand.NewPCG(1, 1)), nil); (ierr == nil) != (tc.want == "") {
			t.Errorf("NewInjector(%v) error %v, want %q", tc.r, ierr, tc.want)
		}
	}
	many := &Plan{Rules: make([]Rule, MaxRules+1)}
	if err := many.Validate(); err == nil || !strings.Contains(err.Error(), "limit is 10000") {
		t.Errorf("Validate of %d rules: %v", MaxRules+1, err)
	}
}

// ---------------------------------------------------------------- injector

type recorder struct{ faults []Fault }

func (r *recorder) record(f Fault) { r.faults = append(r.faults, f) }

func mustInjector(t testing.TB, text string, seed uint64) (*Injector, *recorder) {
	t.Helper()
	p, err := Parse("faultplan v1\n" + text)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	inj, err := NewInjector(p, rand.New(rand.NewPCG(seed, 0)), rec.record)
	if err != nil {
		t.Fatal(err)
	}
	return inj, rec
}

func wr(sector, count int64) Request { return Request{Op: OpWrite, Sector: sector, Count: count} }
func rd(sector, count int64) Request { return Request{Op: OpRead, Sector: sector, Count: count} }
func at(r Request, now int64) Request {
	r.Now = now
	return r
}

// TestCounters checks nth, after and times against a reference model on
// random request streams.
func TestCounters(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := Rule{Match: Match{Ops: Ops(OpWrite), Sectors: Range{100, 200}}, Action: Fail{Errno: errno.EIO}}
		times := rapid.OneOf(rapid.Just[int64](Always), rapid.Int64Range(1, 5)).Draw(t, "times")
		switch rapid.IntRange(0, 2).Draw(t, "counter") {
		case 1:
			r.Match.Nth = rapid.Int64Range(1, 10).Draw(t, "nth")
			times = min(times, 1)
		case 2:
			r.Match.After = rapid.Int64Range(1, 10).Draw(t, "after")
		}
		r.Action = Fail{Errno: errno.EIO, Times: times}
		rec := &recorder{}
		inj, err := NewInjector(&Plan{Rules: []Rule{r}}, nil, rec.record)
		if err != nil {
			t.Fatal(err)
		}
		reqs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Request {
			return Request{
				Op:     rapid.SampledFrom([]Op{OpRead, OpWrite, OpFUAWrite, OpFlush}).Draw(t, "op"),
				Sector: rapid.Int64Range(0, 300).Draw(t, "sector"),
				Count:  rapid.Int64Range(1, 16).Draw(t, "count"),
			}
		}), 0, 40).Draw(t, "reqs")
		var k, fired int64
		for i, req := range reqs {
			eff := inj.Eval(req)
			want := false
			if (req.Op == OpWrite || req.Op == OpFUAWrite) && req.Sector < 200 && req.Sector+req.Count > 100 {
				k++
				want = (r.Match.Nth == 0 || k == r.Match.Nth) && k > r.Match.After && (times == Always || fired < times)
			}
			if want {
				fired++
			}
			if got := eff.Err == errno.EIO; got != want {
				t.Fatalf("request %d %v (match %d, fired %d): failed %v, want %v", i, req, k, fired, got, want)
			}
		}
		if int64(len(rec.faults)) != fired {
			t.Fatalf("recorded %d faults, fired %d", len(rec.faults), fired)
		}
	})
}

func TestNthExactlyOnce(t *testing.T) {
	inj, rec := mustInjector(t, "write nth 3: fail EIO", 1)
	var failed []int
	for i := range 10 {
		if inj.Eval(rd(0, 1)).Err != 0 {
			t.Fatal("read failed")
		}
		if inj.Eval(wr(int64(i), 1)).Err != 0 {
			failed = append(failed, i)
		}
	}
	if !slices.Equal(failed, []int{2}) || len(rec.faults) != 1 {
		t.Errorf("failed writes %v, faults %v; want only the third", failed, rec.faults)
	}
}

func TestTimeWindow(t *testing.T) {
	inj, _ := mustInjector(t, "write from 10ms until 20ms: fail EIO", 1)
	for _, tc := range []struct {
		now  int64
		fail bool
	}{{0, false}, {10e6 - 1, false}, {10e6, true}, {15e6, true}, {20e6 - 1, true}, {20e6, false}, {30e6, false}} {
		if got := inj.Eval(at(wr(0, 8), tc.now)).Err != 0; got != tc.fail {
			t.Errorf("write at %s: failed %v, want %v", formatDuration(tc.now), got, tc.fail)
		}
	}
}

func TestOffline(t *testing.T) {
	inj, rec := mustInjector(t, "offline from 100ms until 200ms", 1)
	for _, op := range []Op{OpRead, OpWrite, OpFlush, OpFUAWrite, OpStore, OpFetch, OpAlloc} {
		for _, tc := range []struct {
			now  int64
			fail bool
		}{{100e6 - 1, false}, {100e6, true}, {200e6 - 1, true}, {200e6, false}} {
			req := Request{Op: op, Sector: 8, Count: 8, File: 1, Len: 4096, Now: tc.now}
			eff := inj.Eval(req)
			want := tc.fail && op != OpAlloc
			if (eff.Err == errno.EIO) != want || (eff.Err != 0 && eff.Err != errno.EIO) {
				t.Errorf("%v at %s: %v, want failure %v", op, formatDuration(tc.now), eff.Err, want)
			}
		}
	}
	if len(rec.faults) != 12 {
		t.Errorf("%d faults, want 12", len(rec.faults))
	}
	if got, want := rec.faults[0].String(), "t=100ms rules[0]: read sectors 8+8: offline"; got != want {
		t.Errorf("Fault.String = %q, want %q", got, want)
	}
}

func TestFlakey(t *testing.T) {
	// Up 10ms, down 2ms, cycle starting at 5ms: down during [15,17), [27,29), ...
	inj, _ := mustInjector(t, "write from 5ms flakey up 10ms down 2ms: fail EIO", 1)
	const ms = 1_000_000
	for _, tc := range []struct {
		now  int64
		fail bool
	}{{0, false}, {14*ms + 999_999, false}, {15 * ms, true}, {17*ms - 1, true}, {17 * ms, false}, {27 * ms, true}, {29 * ms, false}, {1200*ms + 15*ms, true}, {1217 * ms, false}} {
		if got := inj.Eval(at(wr(0, 8), tc.now)).Err != 0; got != tc.fail {
			t.Errorf("write at %s: failed %v, want %v", formatDuration(tc.now), got, tc.fail)
		}
	}
}

func TestAlwaysAndOnce(t *testing.T) {
	inj, _ := mustInjector(t, "write sectors 8..16: fail ENOSPC\nwrite sectors 0..8: fail EIO once", 1)
	for i := range 5 {
		if e := inj.Eval(wr(8, 1)).Err; e != errno.ENOSPC {
			t.Fatalf("write %d to sector 8: %v, want ENOSPC always", i, e)
		}
		want := errno.Errno(0)
		if i == 0 {
			want = errno.EIO
		}
		if e := inj.Eval(wr(0, 1)).Err; e != want {
			t.Fatalf("write %d to sector 0: %v, want %v", i, e, want)
		}
	}
}

func TestProbDeterministic(t *testing.T) {
	const text = "write prob 0.3: fail EIO\nread prob 0.5: corrupt"
	run := func(seed uint64) []int {
		inj, _ := mustInjector(t, text, seed)
		var hits []int
		for i := range 10000 {
			if inj.Eval(wr(int64(i), 1)).Err != 0 {
				hits = append(hits, i)
			}
			inj.Eval(rd(int64(i), 1))
		}
		return hits
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Error("same seed, different faults")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same faults")
	}
	if n := len(a); n < 2700 || n > 3300 {
		t.Errorf("prob 0.3 fired %d times in 10000", n)
	}
}

// TestDrawsIndependent: a rule's decisions do not change when other rules
// are added anywhere in the plan, nor when requests it does not match are
// interleaved.
func TestDrawsIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Rule{Match{Ops: Ops(OpWrite), Sectors: Range{0, 100}, Prob: rapid.Float64Range(0.05, 0.95).Draw(t, "p")}, Fail{Errno: errno.EIO}}
		seed := rapid.Uint64().Draw(t, "seed")
		n := rapid.IntRange(1, 60).Draw(t, "n")
		// Alone, on writes it matches only.
		alone := func() []bool {
			inj, err := NewInjector(&Plan{Rules: []Rule{a}}, rand.New(rand.NewPCG(seed, 9)), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out []bool
			for i := range n {
				out = append(out, inj.Eval(wr(int64(i%100), 1)).Err == errno.EIO)
			}
			return out
		}()
		extra := rapid.SliceOfN(rapid.Custom(genRule), 0, 6).Draw(t, "extra")
		for _, r := range extra {
			if r.String() == a.String() {
				t.Skip("identical twin")
			}
		}
		pos := rapid.IntRange(0, len(extra)).Draw(t, "pos")
		rules := slices.Insert(slices.Clone(extra), pos, a)
		var mine []bool
		hit := false
		rec := func(f Fault) {
			if f.Rule == pos {
				hit = true
			}
		}
		inj, err := NewInjector(&Plan{Rules: rules}, rand.New(rand.NewPCG(seed, 9)), rec)
		if err != nil {
			t.Fatal(err)
		}
		genOther := rapid.Custom(func(t *rapid.T) Request {
			return Request{
				Op:     rapid.SampledFrom([]Op{OpRead, OpFlush, OpStore, OpFetch, OpAlloc, OpWrite}).Draw(t, "op"),
				Sector: rapid.Int64Range(100, 1000).Draw(t, "sector"),
				Count:  rapid.Int64Range(1, 8).Draw(t, "count"),
				File:   rapid.Uint64Range(1, 3).Draw(t, "file"),
				Len:    rapid.Int64Range(0, 8192).Draw(t, "len"),
				Site:   "bio_alloc",
				Now:    rapid.Int64Range(0, 1e9).Draw(t, "now"),
			}
		})
		for i := range n {
			for range rapid.IntRange(0, 2).Draw(t, "others") {
				hit = false
				inj.Eval(genOther.Draw(t, "other"))
				if hit {
					t.Fatalf("rule fired on a request it does not match")
				}
			}
			hit = false
			inj.Eval(wr(int64(i%100), 1))
			mine = append(mine, hit)
		}
		if !slices.Equal(alone, mine) {
			t.Fatalf("decisions changed by other rules or requests:\nalone %v\nmixed %v", alone, mine)
		}
	})
}

func TestNewInjectorDrawsOnce(t *testing.T) {
	for _, text := range []string{"", "write: fail EIO", "write prob 0.5: fail EIO\nread prob 0.1: corrupt\nany: latency 1ms"} {
		p, err := Parse("faultplan v1\n" + text)
		if err != nil {
			t.Fatal(err)
		}
		r1, r2 := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
		if _, err := NewInjector(p, r1, nil); err != nil {
			t.Fatal(err)
		}
		r2.Uint64()
		if r1.Uint64() != r2.Uint64() {
			t.Errorf("plan %q: NewInjector did not draw exactly one value", text)
		}
	}
	if _, err := NewInjector(&Plan{Rules: []Rule{{Match{Ops: Ops(OpRead), Prob: 0.5}, Corrupt{}}}}, nil, nil); err == nil {
		t.Error("prob rule with nil rng accepted")
	}
	if inj, err := NewInjector(nil, nil, nil); err != nil || inj.Eval(wr(0, 1)) != (Effect{}) {
		t.Errorf("nil plan: %v", err)
	}
}

func TestSharedPlan(t *testing.T) {
	p, err := Parse("faultplan v1\nwrite nth 2: fail EIO\nwrite: transient EAGAIN")
	if err != nil {
		t.Fatal(err)
	}
	before := p.String()
	i1, _ := NewInjector(p, nil, nil)
	i2, _ := NewInjector(p, nil, nil)
	i1.Eval(wr(0, 1))
	i1.Eval(wr(0, 1))
	if e := i2.Eval(wr(0, 1)); e.Err != errno.EAGAIN {
		t.Errorf("second world's first write: %v, want EAGAIN (counters shared?)", e.Err)
	}
	if p.String() != before {
		t.Error("Injector changed the plan")
	}
}

func TestTransient(t *testing.T) {
	inj, rec := mustInjector(t, "write sectors 0..100: transient EAGAIN", 1)
	w := wr(8, 8)
	retry := w
	retry.Retry = true
	steps := []struct {
		req  Request
		want errno.Errno
		why  string
	}{
		{w, errno.EAGAIN, "first attempt fails"},
		{retry, 0, "retry of the same request passes"},
		{retry, errno.EAGAIN, "a second retry is not remembered: a first attempt"},
		{retry, 0, "and its retry passes"},
		{w, errno.EAGAIN, "a new request of the same shape fails"},
		{at(retry, 5e6), 0, "retry identity ignores the time"},
		{wr(16, 8), errno.EAGAIN, "another request fails"},
		{Request{Op: OpWrite, Sector: 8, Count: 4, Retry: true}, errno.EAGAIN, "a retry of a different request is a first attempt"},
		{Request{Op: OpWrite, Sector: 16, Count: 8, Retry: true}, 0, "the other request's retry passes"},
		{wr(200, 8), 0, "outside the range"},
	}
	for _, s := range steps {
		eff := inj.Eval(s.req)
		if eff.Err != s.want || eff.Transient != (s.want != 0) {
			t.Errorf("%s: %v: %+v, want %v", s.why, s.req, eff, s.want)
		}
	}
	if len(rec.faults) != 5 {
		t.Errorf("%d faults, want 5", len(rec.faults))
	}
}

func TestLatent(t *testing.T) {
	inj, rec := mustInjector(t, "read sectors 100..110 from 1ms: latent ENODATA", 1)
	check := func(req Request, want errno.Errno, why string) {
		t.Helper()
		eff := inj.Eval(req)
		if eff.Err != want || eff.Latent != (want != 0) {
			t.Errorf("%s: %v: %+v, want %v", why, req, eff, want)
		}
	}
	check(at(rd(100, 4), 0), 0, "before the sectors go bad")
	inj.Rewritten(100, 10, 0) // a rewrite before they went bad does not heal
	check(at(rd(100, 4), 1e6), errno.ENODATA, "bad from 1ms")
	check(at(rd(100, 4), 2e6), errno.ENODATA, "still bad")
	check(at(wr(100, 4), 2e6), 0, "writes are not affected")
	check(at(rd(96, 4), 2e6), 0, "neighbours are fine")
	inj.Rewritten(100, 4, 3e6)
	check(at(rd(100, 4), 4e6), 0, "rewritten sectors read fine")
	check(at(rd(96, 8), 4e6), 0, "overlap rewritten")
	check(at(rd(100, 5), 4e6), errno.ENODATA, "sector 104 is still bad")
	inj.Rewritten(103, 100, 5e6)
	check(at(rd(0, 1000), 6e6), 0, "all rewritten")
	if len(rec.faults) != 3 {
		t.Errorf("%d faults, want 3", len(rec.faults))
	}
}

func TestSpans(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ss spans
		var model [64]bool
		for range rapid.IntRange(0, 20).Draw(t, "n") {
			s := rapid.Int64Range(0, 63).Draw(t, "s")
			e := rapid.Int64Range(s, 64).Draw(t, "e")
			ss.add(s, e)
			for i := s; i < e; i++ {
				model[i] = true
			}
			for i := 1; i < len(ss); i++ {
				if ss[i-1].end >= ss[i].start {
					t.Fatalf("spans not disjoint and sorted: %v", ss)
				}
			}
		}
		s := rapid.Int64Range(0, 63).Draw(t, "qs")
		e := rapid.Int64Range(s, 64).Draw(t, "qe")
		want := true
		for i := s; i < e; i++ {
			want = want && model[i]
		}
		if got := ss.covers(s, e); got != want {
			t.Fatalf("covers(%d,%d) = %v, want %v, spans %v", s, e, got, want, ss)
		}
	})
}

func TestEffects(t *testing.T) {
	inj, rec := mustInjector(t, `
write sectors 0..8: misdirect +8
write: misdirect to 5000
write: misdirect -100
read: corrupt
fetch: corrupt
any: latency 1ms
write: latency 2ms
write: partial 1024 EIO
store: partial 100
fua-write: fail EROFS
alloc site bio_alloc after 1: fail ENOMEM
store file 3 bytes 4096..8192 key alice: fail EDQUOT
`, 1)
	for _, tc := range []struct {
		req  Request
		want Effect
	}{
		{wr(0, 1), Effect{Misdirected: true, MisdirectTo: 8, Latency: 3e6}},
		{wr(0, 8), Effect{Misdirected: true, MisdirectTo: 8, Latency: 3e6, Partial: true, PartialBytes: 1024, Err: errno.EIO}},
		{wr(50, 8), Effect{Misdirected: true, MisdirectTo: 5000, Latency: 3e6, Partial: true, PartialBytes: 1024, Err: errno.EIO}},
		{Request{Op: OpFUAWrite, Sector: 50, Count: 1}, Effect{Misdirected: true, MisdirectTo: 5000, Latency: 3e6, Err: errno.EROFS}},
		{rd(0, 8), Effect{Corrupt: true, Latency: 1e6}},
		{Request{Op: OpFlush}, Effect{Latency: 1e6}},
		{Request{Op: OpFetch, File: 1, Len: 10}, Effect{Corrupt: true, Latency: 1e6}},
		{Request{Op: OpStore, File: 1, Len: 100}, Effect{Latency: 1e6}},
		{Request{Op: OpStore, File: 1, Len: 101}, Effect{Latency: 1e6, Partial: true, PartialBytes: 100}},
		{Request{Op: OpStore, File: 3, Off: 8000, Len: 10, Key: "alice"}, Effect{Latency: 1e6, Err: errno.EDQUOT}},
		{Request{Op: OpStore, File: 3, Off: 8192, Len: 10, Key: "alice"}, Effect{Latency: 1e6}},
		{Request{Op: OpStore, File: 3, Off: 8000, Len: 10, Key: "bob"}, Effect{Latency: 1e6}},
		{Request{Op: OpAlloc, Site: "bio_alloc"}, Effect{}},
		{Request{Op: OpAlloc, Site: "bio_alloc"}, Effect{Err: errno.ENOMEM}},
		{Request{Op: OpAlloc, Site: "kmalloc"}, Effect{}},
	} {
		if got := inj.Eval(tc.req); got != tc.want {
			t.Errorf("%v:\n got %+v\nwant %+v", tc.req, got, tc.want)
		}
	}
	var lines []string
	for _, f := range rec.faults[:5] {
		lines = append(lines, f.String())
	}
	want := []string{
		"t=0s rules[0]: write sectors 0+1: misdirect +8 -> sector 8",
		"t=0s rules[1]: write sectors 0+1: misdirect to 5000 -> sector 5000 (shadowed by an earlier rule)",
		"t=0s rules[5]: write sectors 0+1: latency 1ms",
		"t=0s rules[6]: write sectors 0+1: latency 2ms",
		"t=0s rules[0]: write sectors 0+8: misdirect +8 -> sector 8",
	}
	if d := cmp.Diff(want, lines); d != "" {
		t.Errorf("fault strings (-want +got):\n%s", d)
	}
}

func TestErrPrecedence(t *testing.T) {
	inj, rec := mustInjector(t, "write: fail ENOSPC once\nwrite: fail EIO\nwrite: transient EAGAIN", 1)
	if e := inj.Eval(wr(0, 1)); e.Err != errno.ENOSPC || e.Transient {
		t.Errorf("first: %+v", e)
	}
	if e := inj.Eval(wr(0, 1)); e.Err != errno.EIO || e.Transient {
		t.Errorf("second: %+v", e)
	}
	var shadowed []bool
	for _, f := range rec.faults {
		shadowed = append(shadowed, f.Shadowed)
	}
	if !slices.Equal(shadowed, []bool{false, true, true, false, true}) {
		t.Errorf("shadowed flags %v", shadowed)
	}
}

func TestMisdirectBounds(t *testing.T) {
	inj, _ := mustInjector(t, "write: misdirect -8\nwrite sectors 9223372036854775000..9223372036854775807: misdirect +9223372036854775000", 1)
	if e := inj.Eval(wr(4, 1)); e.Misdirected {
		t.Errorf("negative target misdirected: %+v", e)
	}
	if e := inj.Eval(wr(8, 1)); !e.Misdirected || e.MisdirectTo != 0 {
		t.Errorf("%+v, want sector 0", e)
	}
	if e := inj.Eval(wr(9223372036854775000, 1)); e.Misdirected && e.MisdirectTo < 0 {
		t.Errorf("overflowed target %+v", e)
	}
	if e := inj.Eval(Request{Op: OpWrite, Sector: math.MinInt64, Count: 1}); e.Misdirected {
		t.Errorf("underflowed target %+v", e)
	}
}

func TestFUAMatching(t *testing.T) {
	inj, _ := mustInjector(t, "fua-write: fail EROFS\nwrite: fail EIO", 1)
	if e := inj.Eval(wr(0, 1)).Err; e != errno.EIO {
		t.Errorf("plain write: %v, want EIO (fua-write rules skip plain writes)", e)
	}
	if e := inj.Eval(Request{Op: OpFUAWrite, Count: 1}).Err; e != errno.EROFS {
		t.Errorf("FUA write: %v, want EROFS", e)
	}
	inj, _ = mustInjector(t, "write: fail EIO", 1)
	if e := inj.Eval(Request{Op: OpFUAWrite, Count: 1}).Err; e != errno.EIO {
		t.Errorf("FUA write under a write rule: %v, want EIO", e)
	}
}

func TestRequestString(t *testing.T) {
	for _, tc := range []struct {
		r    Request
		want string
	}{
		{wr(8, 8), "write sectors 8+8"},
		{Request{Op: OpFlush}, "flush"},
		{Request{Op: OpStore, File: 3, Off: 0, Len: 4096, Key: "a b"}, `store file 3 bytes 0+4096 key "a b"`},
		{Request{Op: OpAlloc, Site: "bio_alloc", Retry: true}, "alloc site bio_alloc (retry)"},
		{Request{Op: 99}, "op(99)"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

// TestDocExamples parses every plan example in docs/fault-plans.md: code
// blocks without a language are plans (whole, with a header) or rule lines
// (each on its own); blocks of trace lines or error messages are skipped.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/fault-plans.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	parts := strings.Split(string(doc), "```")
	for i := 1; i < len(parts); i += 2 {
		block := parts[i]
		if !strings.HasPrefix(block, "\n") { // a language tag: ebnf, go
			continue
		}
		body := strings.TrimPrefix(block, "\n")
		first, _, _ := strings.Cut(body, "\n")
		switch {
		case strings.HasPrefix(first, "faultplan"):
			if _, err := Parse(body); err != nil {
				t.Errorf("doc plan example: %v\n%s", err, body)
			}
		case strings.HasPrefix(first, "t="), first != "" && first[0] >= '0' && first[0] <= '9',
			strings.HasPrefix(first, "wbsim-scenario"): // scenarios/run's TestDocScenarios runs these
			continue
		default:
			for _, line := range strings.Split(body, "\n") {
				if strings.TrimSpace(line) == "" {
					continue
				}
				if _, err := Parse("faultplan v1\n" + line); err != nil {
					t.Errorf("doc example %q: %v", line, err)
				}
			}
		}
		blocks++
	}
	if blocks < 8 {
		t.Errorf("found only %d example blocks", blocks)
	}
}
