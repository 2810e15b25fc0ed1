package run

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestDocScenarios runs every whole scenario in docs/fault-plans.md and
// docs/scenario-language.md (a code block that starts with the header
// and has an expect line) and checks that it meets its expectation, so
// the examples that teach the language keep working.
func TestDocScenarios(t *testing.T) {
	n := 0
	for _, doc := range []string{"../../docs/fault-plans.md", "../../docs/scenario-language.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(string(text), "```")
		for i := 1; i < len(parts); i += 2 {
			body, ok := strings.CutPrefix(parts[i], "\n")
			if !ok || !strings.HasPrefix(body, "wbsim-scenario v1\n") || !strings.Contains(body, "\nexpect ") {
				continue
			}
			n++
			name := fmt.Sprintf("%s block %d", doc, i/2+1)
			s, err := scenarios.Parse(name, []byte(body))
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if v := Check(s); !v.Pass {
				t.Errorf("%s (%s): %s", name, s.Name, v.Msg)
			}
		}
	}
	if n < 6 {
		t.Errorf("found %d doc scenarios, want at least 6", n)
	}
}
