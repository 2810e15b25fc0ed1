package reports

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"pgregory.net/rapid"
)

func genLog(t *rapid.T) *sim.DecisionLog {
	l := &sim.DecisionLog{Version: sim.LogVersion, Seed: rapid.Uint64().Draw(t, "seed"),
		Hash: rapid.Uint64().Draw(t, "hash")}
	l.Steps = rapid.Int64Min(0).Draw(t, "steps")
	n := rapid.IntRange(0, 40).Draw(t, "n")
	for range n {
		nn := rapid.Uint16Range(2, 65535).Draw(t, "N")
		c := rapid.Uint16Range(0, nn-1).Draw(t, "C")
		l.Append(sim.Choice{C: c, N: nn, Preemptible: rapid.Bool().Draw(t, "p")})
	}
	return l
}

func genReplay(t *rapid.T) *ReplayFile {
	text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[a-z][a-z0-9 ._/|:-]{0,30}`))
	f := &ReplayFile{
		Program:   rapid.OneOf(rapid.String(), rapid.StringMatching(`[a-z][a-z0-9-]{0,20}`)).Filter(func(s string) bool { return s != "" }).Draw(t, "program"),
		Strategy:  rapid.StringMatching(`(random|pct depth=[1-9] k=[0-9]{1,6}|dfs bound=[0-9]|rr quantum=[0-9]{1,3})(, shrunk)?`).Draw(t, "strategy"),
		MaxSteps:  rapid.Int64Min(0).Draw(t, "maxsteps"),
		MaxTime:   sim.Time(rapid.Int64Min(0).Draw(t, "maxtime")),
		StepCost:  sim.Time(rapid.Int64Range(0, 1e12).Draw(t, "stepcost")),
		Failure:   text.Draw(t, "failure"),
		Signature: text.Draw(t, "signature"),
		Log:       genLog(t),
	}
	if rapid.Bool().Draw(t, "variant") {
		name := rapid.StringMatching(`[a-z][a-z0-9.-]{0,20}`)
		f.Variant = Variant{Kernel: rapid.OneOf(rapid.Just(""), text).Draw(t, "kernel"),
			Fixes: rapid.SliceOf(name).Draw(t, "fixes"), NoFixes: rapid.SliceOf(name).Draw(t, "nofixes")}
		if len(f.Variant.Fixes) == 0 {
			f.Variant.Fixes = nil
		}
		if len(f.Variant.NoFixes) == 0 {
			f.Variant.NoFixes = nil
		}
		f.Variant.Contract = rapid.OneOf(rapid.Just(""), text).Draw(t, "contract")
		f.Variant.Checks = rapid.SliceOf(name).Draw(t, "checks")
		f.Variant.NoChecks = rapid.SliceOf(name).Draw(t, "nochecks")
		if len(f.Variant.Checks) == 0 {
			f.Variant.Checks = nil
		}
		if len(f.Variant.NoChecks) == 0 {
			f.Variant.NoChecks = nil
		}
	}
	if rapid.Bool().Draw(t, "scenario file") {
		f.ProgramSHA256 = rapid.StringMatching(`[0-9a-f]{64}`).Draw(t, "sha256")
	}
	if rapid.Bool().Draw(t, "shrunk") {
		n := rapid.IntRange(0, 1000).Draw(t, "from")
		f.ShrunkFrom = &n
	}
	return f
}

// TestReplayRoundTrip: printing a replay file and parsing it back gives
// the same file, for any content.
func TestReplayRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genReplay(t)
		text := f.Format()
		g, err := ParseReplay(text)
		if err != nil {
			t.Fatalf("parse of printed file: %v\n%s", err, text)
		}
		if !reflect.DeepEqual(f, g) {
			t.Fatalf("round trip changed the file:\n%#v\n%#v\n%s", f, g, text)
		}
		// The oldest version that holds the file's keys, so older builds
		// read it: v3 for a scenario file's hash or changed checks, v2 for
		// another variant.
		want := "wbsim-replay v1\n"
		v := f.Variant
		switch {
		case f.ProgramSHA256 != "" || v.Contract != "" || len(v.Checks) > 0 || len(v.NoChecks) > 0:
			want = "wbsim-replay v3\n"
		case !f.Variant.IsZero():
			want = "wbsim-replay v2\n"
		}
		if !strings.HasPrefix(text, want) {
			t.Fatalf("variant %+v: the file starts %q, want %q", f.Variant, text[:min(len(text), 20)], want)
		}
	})
}

func TestReplayParseErrors(t *testing.T) {
	good := "wbsim-replay v1\nprogram: abba-deadlock\nschedule: wbsim-schedule v1 seed=1 steps=4 hash=a024e2c2c2de0ea5 : 1.2 1/2 0/2\n"
	if _, err := ParseReplay(good); err != nil {
		t.Fatalf("good file: %v", err)
	}
	cases := []struct {
		name, text string
		line, col  int
		msg        string
	}{
		{"empty", "", 1, 1, "empty file"},
		{"comments only", "# hi\n\n", 2, 1, "empty file"},
		{"bad magic", "hello\n", 1, 1, "not a wbsim replay file"},
		{"bad version", "wbsim-replay v9\n", 1, 14, "version 9 not supported"},
		{"no colon", "wbsim-replay v1\nprogram abba\n", 2, 1, `want "key: value"`},
		{"unknown key", "wbsim-replay v1\n  colour: red\n", 2, 3, `unknown key "colour"`},
		{"duplicate", "wbsim-replay v1\nprogram: a\nprogram: b\n", 3, 1, "given twice (first on line 2)"},
		{"bad number", "wbsim-replay v1\nprogram: a\nmax-steps: lots\n", 3, 12, "max-steps: bad value"},
		{"negative", "wbsim-replay v1\nprogram: a\nmax-steps: -1\n", 3, 12, "negative"},
		{"bad duration", "wbsim-replay v1\nprogram: a\nmax-time: 3 parsecs\n", 3, 11, "max-time: bad value"},
		{"bad quote", "wbsim-replay v1\nprogram: \"abc\n", 2, 10, "bad quoted string"},
		{"no program", "wbsim-replay v1\nschedule: wbsim-schedule v1 seed=1 steps=1 hash=0 : 0/2\n", 2, 1, "no program"},
		{"no schedule", "wbsim-replay v1\nprogram: a\n", 2, 1, "no schedule"},
		{"schedule token", "wbsim-replay v1\nprogram: a\nschedule: wbsim-schedule v1 seed=1 : 1.2 1/2 3/2 0/2\n", 3, 46, "need 0 <= C < N"},
		{"schedule header", "wbsim-replay v1\nprogram: a\nschedule: wbsim-schedule v1 seed=x : 1.2\n", 3, 29, `bad header field "seed=x"`},
		{"schedule version", "wbsim-replay v1\nprogram: a\nschedule: wbsim-schedule v7 : 1.2\n", 3, 26, "version 7"},
		{"schedule no colon", "wbsim-replay v1\nprogram: a\nschedule: wbsim-schedule v1\n", 3, 28, `missing ":"`},
		{"schedule magic", "wbsim-replay v1\nprogram: a\nschedule: nope v1 : 1.2\n", 3, 11, `must start with "wbsim-schedule"`},
		{"variant in v1", "wbsim-replay v1\nprogram: a\nfixes: wb-integrity\n", 3, 1, `fixes needs "wbsim-replay v2"`},
		{"empty fix name", "wbsim-replay v2\nprogram: a\nfixes: a,,b\n", 3, 8, "fixes: bad value"},
		{"space in fix name", "wbsim-replay v2\nprogram: a\nno-fixes: a b\n", 3, 11, "no-fixes: bad value"},
		{"unicode columns", "wbsim-replay v1\nprogram: a\nfailure: ünïcode\nschedule: wbsim-schedule v1 : ✗\n", 4, 31, "want C/N"},
		{"unknown strategy", "wbsim-replay v1\nprogram: a\nstrategy: bfs bound=2\n", 3, 11, `unknown strategy "bfs"`},
		{"strategy parameter", "wbsim-replay v1\nprogram: a\nstrategy: pct depth=2 bound=3\n", 3, 23, `pct takes depth=N, k=N, not "bound=3"`},
		{"strategy value", "wbsim-replay v1\nprogram: a\nstrategy: pct depth=x, shrunk\n", 3, 15, `depth: want a number`},
		{"schedule without steps", "wbsim-replay v1\nprogram: a\nschedule: wbsim-schedule v1 seed=1 hash=0 : 0/2\n", 3, 11, "lacks steps=N"},
		{"negative steps", "wbsim-replay v1\nprogram: a\nschedule: wbsim-schedule v1 seed=1 steps=-4 hash=0 :\n", 3, 36, "must be at least 0"},
		{"sha256 in v2", "wbsim-replay v2\nprogram: a.wbs\nprogram-sha256: 00\n", 3, 1, `program-sha256 needs "wbsim-replay v3"`},
		{"bad sha256", "wbsim-replay v3\nprogram: a.wbs\nprogram-sha256: 00\n", 3, 17, "want 64 lower-case hex digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseReplay(c.text)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want a *ParseError, got %v", err)
			}
			if pe.Line != c.line || pe.Col != c.col || !strings.Contains(pe.Msg, c.msg) {
				t.Fatalf("got %v, want %d:%d: ...%s...", err, c.line, c.col, c.msg)
			}
		})
	}
}

// FuzzParseReplay: the parser never panics, and whatever it accepts
// prints and parses back to the same thing.
func FuzzParseReplay(f *testing.F) {
	f.Add("wbsim-replay v1\nprogram: abba-deadlock\nstrategy: pct depth=2 k=8\nmax-steps: 1000000\nmax-time: 3600s\nstep-cost: 1us\n" +
		"failure: deadlock\nsignature: deadlock|progress||mutex b\nshrunk-from: 3\n" +
		"schedule: wbsim-schedule v1 seed=1 steps=4 hash=a024e2c2c2de0ea5 : 1.2 1/2 0/2*3 1/2 0/2\n")
	f.Add("wbsim-replay v1\nprogram: \"a\\nb\"\nschedule: wbsim-schedule v1 : \n")
	f.Add("wbsim-replay v3\nprogram: my.wbs\nprogram-sha256: " + strings.Repeat("0f", 32) + "\nstrategy: dfs bound=2, shrunk\n" +
		"schedule: wbsim-schedule v1 seed=0 steps=9 hash=1 : 0/2\n")
	f.Add("wbsim-replay v1\r\nprogram: x\r\nschedule: wbsim-schedule v1 seed=18446744073709551615 : 65534/65535*16777216\r\n")
	f.Add("wbsim-replay v2\n")
	f.Add("wbsim-replay v2\nprogram: sector-overflow-32bit\nkernel: 2.6.2x\nfixes: sector-overflow, wb-integrity\nno-fixes: x\n" +
		"schedule: wbsim-schedule v1 seed=1 : 1.2\n")
	f.Add("# c\nwbsim-replay   v1  \n  program :  p \nmax-time: 1.5ms\nschedule: wbsim-schedule v1 hash=zz : 0.2\n")
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseReplay(text)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		again, err := ParseReplay(r.Format())
		if err != nil {
			t.Fatalf("printed form does not parse: %v\n%s", err, r.Format())
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("print/parse changed it:\n%#v\n%#v", r, again)
		}
	})
}
