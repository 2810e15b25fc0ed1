package scenarios

import (
	"strings"
	"testing"
	"time"
)

// TestWorstCaseInputs: large adversarial inputs near MaxScenarioBytes parse
// (or fail) quickly: nothing in the parser or the validator is quadratic.
func TestWorstCaseInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	fill := func(prefix, unit string) []byte {
		var b strings.Builder
		b.WriteString(prefix)
		for b.Len()+len(unit) < MaxScenarioBytes {
			b.WriteString(unit)
		}
		return []byte(b.String())
	}
	inputs := map[string][]byte{
		"tags":        fill(blockBase+"tags", " a"),
		"fixes":       fill(blockBase+"fixes", " boundary-ignored"),
		"check":       fill(blockBase+"task w\n    crash\ncheck", " crash"),
		"tasks":       fill(blockBase, "task a\n    signal b\n"),
		"ops":         fill(blockBase+"task w\n    open f /a\n", "    read f 0+1 expect A:1\n"),
		"labels":      fill(blockBase+"task w\n    open f /a\n", "    write f 0+1 as A\n"),
		"comments":    fill(blockBase, "# c\n"),
		"blank":       fill(blockBase, "\n"),
		"rules":       fill(blockBase+"faults\n", "    write: fail EIO\n"),
		"files":       fill(blockBase, "    file /a\n"),
		"indent":      fill(blockBase+"task w\n    sync\n", "        sync\n"),
		"errors":      fill(blockBase+"task w\n", "    frob\n"),
		"long line":   fill(blockBase+"task w\n    sync", " x"),
		"description": fill(blockBase+"description\n", "    text text text\n"),
	}
	for name, src := range inputs {
		// The best of three runs, so that a busy machine does not fail the
		// test; a quadratic parser takes many seconds every time.
		var best time.Duration
		for try := range 3 {
			start := time.Now()
			_, err := Parse("big.wbs", src)
			d := time.Since(start)
			if err == nil {
				t.Errorf("%s: no error for an input over the limits", name)
			}
			if try == 0 || d < best {
				best = d
			}
			if best < 2*time.Second {
				break
			}
		}
		if best >= 2*time.Second {
			t.Errorf("%s: Parse took %v", name, best)
		}
	}
}
