//go:build !wbsim_mutants

package mutant

import "testing"

// Without the tag no mutant is ever on.
func TestOffIsAlwaysFalse(t *testing.T) {
	for _, id := range []string{"", "wcp-skip-writeback", "anything"} {
		if On(id) {
			t.Errorf("On(%q) = true in a normal build", id)
		}
	}
}
