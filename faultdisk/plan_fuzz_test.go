package faultdisk

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzSeeds are valid and broken plans. Inputs that once failed belong in
// testdata/fuzz/FuzzParsePlan, which go test replays.
var fuzzSeeds = []string{
	docExample,
	"faultplan v1\n",
	"faultplan v1 # header comment\n\n# nothing\n",
	"faultplan v1\nwrite sectors 100+8 nth 1: fail EIO once\n",
	"faultplan v1\nread,write,fua-write,flush from 1.5s until 9223372036.854775807s: latency 1ns\n",
	"faultplan v1\nwrite after 3 prob 1e-3: misdirect -9223372036854775808\n",
	"faultplan v1\nwrite: misdirect to 0\nwrite: partial 0\nstore: partial 7 EREMOTEIO\n",
	"faultplan v1\nfetch key \"\\xff\\u00e9 \\\"q\\\"\" file 1 bytes 0+1: corrupt\n",
	"faultplan v1\nwrite: transient EAGAIN\nread sectors 0..8: latent ENODATA\n",
	"faultplan v1\nflakey up 1ns down 1ns: offline\noffline\n",
	"faultplan v1\r\nwrite: fail EIO\r\n",
	// Broken ones.
	"",
	"faultplan v2\n",
	"faultplan v1\nwrite: fail EIOO\n",
	"faultplan v1\nwrite sectors 9..1: fail EIO\n",
	"faultplan v1\nread prob 1.0000001: corrupt\n",
	"faultplan v1\nwrite nth 0: fail EIO\n",
	"faultplan v1\nany: latency 99999999999999999999s\n",
	"faultplan v1\nstore key \"unterminated: fail EIO\n",
	"faultplan v1\nstore key \"\\",
	"faultplan v1\nwrite: corrupt\n",
	"faultplan v1\nflakey up 10ms: fail EIO\n",
	"faultplan v1\nwrite\x00: fail EIO\n",
	"faultplan v1\nwrite,: fail EIO\n",
	"faultplan v1\noffline: fail EIO\n",
	"faultplan v1\nwrite,flush from 1ms: drop\n",
}

func FuzzParsePlan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			if pe.Line < 1 || pe.Col < 1 || pe.Msg == "" {
				t.Fatalf("bad error position or message: %#v", pe)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid plan: %v", err)
		}
		printed := p.String()
		q, err := Parse(printed)
		if err != nil {
			t.Fatalf("printed plan does not parse: %v\n%s", err, printed)
		}
		if d := cmp.Diff(p, q, planCmp); d != "" {
			t.Fatalf("print/parse changed the plan (-parsed +reparsed):\n%s\nprinted:\n%s", d, printed)
		}
		if again := q.String(); again != printed {
			t.Fatalf("printing is not canonical:\n%s\nthen\n%s", printed, again)
		}
		// The plan must also run.
		inj, err := NewInjector(p, rand.New(rand.NewPCG(1, 2)), func(f Fault) { _ = f.String() })
		if err != nil {
			t.Fatalf("NewInjector: %v", err)
		}
		for i, op := range []Op{OpRead, OpWrite, OpFlush, OpFUAWrite, OpAlloc, OpStore, OpFetch} {
			n := int64(i) * 1_000_000
			inj.Eval(Request{Op: op, Sector: n, Count: 8, File: 3, Off: n, Len: 4096, Key: "alice", Site: "bio_alloc", Now: n})
			inj.Eval(Request{Op: op, Sector: n, Count: 8, File: 3, Off: n, Len: 4096, Key: "alice", Site: "bio_alloc", Now: n, Retry: true})
		}
		inj.Rewritten(0, 1<<20, 1e9)
	})
}
