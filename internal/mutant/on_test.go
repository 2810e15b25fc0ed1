//go:build wbsim_mutants

package mutant

import "testing"

// Under the tag exactly the active mutant is on, and its evaluations are
// counted.
func TestSetSelectsOneMutant(t *testing.T) {
	defer Set("")
	Set("a")
	if !On("a") || On("b") || On("") {
		t.Fatalf("with a active: On(a)=%v On(b)=%v On('')=%v", On("a"), On("b"), On(""))
	}
	if got := Reached(); got != 1 { // On("a") once above; On("b") and On("") are not counted
		t.Fatalf("Reached() = %d, want 1", got)
	}
	Set("")
	if On("a") || On("") || Reached() != 0 {
		t.Fatal("Set(\"\") must turn every mutant off and reset the count")
	}
}
