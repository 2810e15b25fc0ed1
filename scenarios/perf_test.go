package scenarios

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// worstCaseInputs are large adversarial inputs just over MaxScenarioBytes,
// each aimed at a place where a parser or validator could go quadratic.
func worstCaseInputs() map[string][]byte {
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
	return inputs
}

// TestWorstCaseInputs: every large adversarial input is rejected with an
// error (not a panic or a hang). How fast is BenchmarkWorstCaseInputs's
// job: a quadratic parser shows there as seconds per input.
func TestWorstCaseInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	for name, src := range worstCaseInputs() {
		if _, err := Parse("big.wbs", src); err == nil {
			t.Errorf("%s: no error for an input over the limits", name)
		}
	}
}

func BenchmarkWorstCaseInputs(b *testing.B) {
	inputs := worstCaseInputs()
	names := slices.Sorted(maps.Keys(inputs))
	for _, name := range names {
		b.Run(strings.ReplaceAll(name, " ", "-"), func(b *testing.B) {
			for b.Loop() {
				_, _ = Parse("big.wbs", inputs[name])
			}
		})
	}
}
