package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// TestHelpExplainsSchedules: simrun --help explains the one-line schedule
// that every failure prints.
func TestHelpExplainsSchedules(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != exitOK || !strings.Contains(out, sim.LogHelp) {
		t.Errorf("--help: exit %d; want 0 and the schedule line explained:\n%s", code, out)
	}
}

// junitTimes matches junit.xml's time attributes, the file's only
// non-deterministic part.
var junitTimes = regexp.MustCompile(` time="[0-9.]+"`)

// TestJUnitCarriesTime: explore's junit.xml gives every test case, and the
// suite, a time in seconds.
func TestJUnitCarriesTime(t *testing.T) {
	out := t.TempDir()
	exploreCLI(t, out, "abba-deadlock", "--schedules", "50")
	data, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := strings.Count(string(data), "<testcase ")
	if n := len(regexp.MustCompile(`<testcase [^>]* time="[0-9]+\.[0-9]{3}"`).FindAll(data, -1)); cases == 0 || n != cases {
		t.Errorf("%d of %d test cases carry a time:\n%s", n, cases, data)
	}
	if !regexp.MustCompile(`<testsuite [^>]* time="[0-9]+\.[0-9]{3}"`).Match(data) {
		t.Errorf("the suite carries no time:\n%s", data)
	}
}
