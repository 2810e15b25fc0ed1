package run

import (
	"os"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestCrashDocExample runs the crash section's example of
// docs/scenario-language.md: it fails the crash check (fsync-flush off),
// and passes with fsync-flush on.
func TestCrashDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scenario-language.md")
	if err != nil {
		t.Fatal(err)
	}
	const start = "```\nwbsim-scenario v1\nname crash-states-example\n"
	i := strings.Index(string(doc), start)
	if i < 0 {
		t.Fatal("no crash-states-example in docs/scenario-language.md")
	}
	src := string(doc[i+4:])
	src = src[:strings.Index(src, "```")]
	s, err := scenarios.Parse("crash-example.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v := Check(s)
	if !v.Pass || !strings.Contains(v.Failure.Msg, "[at crash-example.wbs:12:5: crash state 0 of 4; 3 failed: 0, 1, 3]") {
		t.Fatalf("%s: %v", v.Msg, v.Failure)
	}
	on := strings.Replace(src, "fsync-flush off", "fsync-flush on", 1)
	on = strings.Replace(on, "expect failure crash", "expect ok", 1)
	if s, err = scenarios.Parse("crash-example.wbs", []byte(on)); err != nil {
		t.Fatal(err)
	}
	if v := Check(s); !v.Pass {
		t.Fatalf("fsync-flush on: %s", v.Msg)
	}
}
