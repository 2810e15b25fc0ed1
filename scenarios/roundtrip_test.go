package scenarios

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestRoundTrip: a valid scenario built through the Go API prints to text
// that parses back to an equal scenario (positions aside), and printing is
// a fixed point.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genScenario(t)
		if err := s.Validate(); err != nil {
			t.Fatalf("the generator made an invalid scenario: %v\n%s", err, s)
		}
		text := s.String()
		got, err := Parse("gen.wbs", []byte(text))
		if err != nil {
			t.Fatalf("printed scenario does not parse: %v\n%s", err, numbered(text))
		}
		if d := cmp.Diff(s, got); d != "" {
			t.Fatalf("print/parse changed the scenario (-built +parsed):\n%s\ntext:\n%s", d, numbered(text))
		}
		if again := got.String(); again != text {
			t.Fatalf("printing is not canonical:\n%s\nthen\n%s", text, again)
		}
		// Clone is deep and equal; WithDefaults stays valid.
		if d := cmp.Diff(s, s.Clone()); d != "" {
			t.Fatalf("Clone differs:\n%s", d)
		}
		if err := s.WithDefaults().Validate(); err != nil {
			t.Fatalf("WithDefaults made an invalid scenario: %v", err)
		}
	})
}
