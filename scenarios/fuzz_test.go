package scenarios

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzSeeds are extra inputs for FuzzParseScenario, besides every built-in
// file and every error case. Inputs that once failed belong in
// testdata/fuzz/FuzzParseScenario, which go test replays.
var fuzzSeeds = []string{
	blockBase + "task w\n    sync\n",
	afsBase + "task w\n    open f /a as alice\n    write f 0+1 as A # x\n",
	"wbsim-scenario v1\n\tname t\n",
	blockBase + "description\n\tx\n  y\n",
	blockBase + "bug\n    description\n        a\n\n        b\n    id x\ntask w\n    sync\n",
	blockBase + "faults\n    faultplan v1\n    write: fail EIO\ntask w\n    sync\n",
	blockBase + "faults\n    write \"#\": fail EIO # c\n",
	blockBase + "task w\n    read f 1..0\n    read f 5\n    write f +1 as A\n",
	blockBase + "vm\n    flusher on interval 1ns expire 1ns\n    flusher off\n",
	"\xef\xbb\xbfwbsim-scenario v1\n",
	blockBase + "task w\n    repeat 2 # r\n        repeat until x done\n            sync\n    sync\ntask x\n    sync\n",
	blockBase + "task w\n    repeat 2\n    \tsync\n      sync\n",
	blockBase + "task w\n    sync\nexplore\n    memory 512MiB # m\n    memory 1\n",
	blockBase + "task w\n    device flakey up 1ns down 1ns # c\n    device error, ok\n    server fail \"store\" EIO expect ok\n",
}

func FuzzParseScenario(f *testing.F) {
	for _, b := range BuiltinFiles() {
		f.Add(b.Src)
	}
	for _, c := range errorCases {
		if len(c.src) < 1<<16 {
			f.Add([]byte(c.src))
		}
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.wbs", src)
		if err != nil {
			errs := []error{err}
			if u, ok := err.(interface{ Unwrap() []error }); ok {
				errs = u.Unwrap()
			}
			for _, e := range errs {
				var pe *Error
				if !errors.As(e, &pe) {
					t.Fatalf("error %T is not an *Error: %v", e, e)
				}
				if !pe.Pos.IsValid() || pe.Pos.Col < 1 || pe.Pos.File != "fuzz.wbs" || pe.Msg == "" {
					t.Fatalf("bad error position or message: %#v", pe)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid scenario: %v", err)
		}
		text := s.String()
		again, err := Parse("fuzz.wbs", []byte(text))
		if err != nil {
			t.Fatalf("the printed scenario does not parse: %v\n%s", err, numbered(text))
		}
		if d := cmp.Diff(s, again); d != "" {
			t.Fatalf("print/parse changed the scenario (-parsed +reparsed):\n%s\nprinted:\n%s", d, numbered(text))
		}
		if again.String() != text {
			t.Fatalf("printing is not canonical:\n%s\nthen\n%s", text, again.String())
		}
		_ = s.WithDefaults()
		_ = s.Invariants()
	})
}
