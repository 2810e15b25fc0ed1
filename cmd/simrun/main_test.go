package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestTourFindsEveryExpectedBug(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "--schedules", "300")
	if code != exitOK {
		t.Fatalf("tour exit %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{"abba-deadlock", "lost-update", "pct-hard-case", "exact (trace hash matches)", "wbsim-schedule v1"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour output lacks %q", want)
		}
	}
}

func TestTourIsDeterministic(t *testing.T) {
	_, a, _ := runCLI(t, "--schedules", "200", "--workers", "1")
	_, b, _ := runCLI(t, "--schedules", "200", "--workers", "3")
	if a != b {
		t.Fatalf("same seeds, different output with 1 and 3 workers:\n%s\n---\n%s", a, b)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"tour", "--schedules", "zero"},
		{"tour", "--schedules", "0"},
		{"tour", "extra"},
		{"list", "--nope"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d with stderr %q, want exit 2 and a message", args, code, errs)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"tour", "--help"}, {"list", "-h"}} {
		code, out, _ := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d, output %q; want 0 and usage", args, code, out)
		}
	}
}

func TestList(t *testing.T) {
	code, out, _ := runCLI(t, "list")
	if code != exitOK || !strings.Contains(out, "abba-deadlock") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
}

// TestBinary builds simrun and runs it as a user would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "simrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "bogus")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage {
		t.Fatalf("bogus command: %v, want exit 2", err)
	}
	if strings.Contains(errb.String(), "goroutine") {
		t.Fatalf("usage error printed a stack trace:\n%s", errb.String())
	}
	out, err := exec.Command(bin, "--schedules", "100").Output()
	if err != nil {
		t.Fatalf("tour: %v\n%s", err, out)
	}
	_ = os.Remove(bin)
}
