package wbsimtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docFiles reads the example module of docs/go-test.md: each heading
// "#### `PATH`" followed by a fenced block is a file.
func docFiles(t *testing.T, doc string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile("^#### `([^`]+)`$")
	files := map[string]string{}
	var name string
	var body *strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case body != nil && line == "```":
			files[name] = body.String()
			name, body = "", nil
		case body != nil:
			body.WriteString(line + "\n")
		case heading.MatchString(line):
			name = heading.FindStringSubmatch(line)[1]
		case name != "" && strings.HasPrefix(line, "```"):
			body = &strings.Builder{}
		}
	}
	return files
}

// writeModule writes files under dir.
func writeModule(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goCmd runs the go command in dir, offline: wbsim's dependencies are in
// the module cache (this test's own build needed them).
func goCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestExampleModule builds the example module of docs/go-test.md, with
// wbsim replaced by this repository, and runs its go test: it passes. Then
// a scenario that fails is added: go test fails, saves the replay file and
// prints the simrun command, and that command, run as printed, reproduces
// the failure (simrun replay: "FAILED the same way"; its exit status is
// simrun's business, tested there).
func TestExampleModule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files := docFiles(t, filepath.Join(root, "docs", "go-test.md"))
	for _, want := range []string{"scenarios_test.go", "testdata/fsync-survives.wbs"} {
		if files[want] == "" {
			t.Fatalf("docs/go-test.md has no example file %s (found %v)", want, files)
		}
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files["go.sum"] = string(sum)
	files["go.mod"] = "module example.com/mydb\n\ngo 1.26.0\n\n" +
		"require github.com/wbsim/wbsim v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/wbsim/wbsim => " + root + "\n"
	dir := t.TempDir()
	writeModule(t, dir, files)
	out, err := goCmd(t, dir, "test", "-count=1", "-v", "./...")
	if err != nil {
		t.Fatalf("go test in the example module: %v\n%s", err, out)
	}
	for _, want := range []string{"--- PASS: TestScenarios/fsync-survives", "--- PASS: TestNoFlushLosesData"} {
		if !strings.Contains(out, want) {
			t.Errorf("go test -v in the example module lacks %q:\n%s", want, out)
		}
	}

	writeModule(t, dir, map[string]string{"testdata/lost-read.wbs": wrongReadExample})
	out, err = goCmd(t, dir, "test", "-count=1", "-run", "TestScenarios/lost-read", "./...")
	if err == nil || !strings.Contains(out, "--- FAIL: TestScenarios/lost-read") {
		t.Fatalf("go test with a failing scenario: want it to fail:\n%s", out)
	}
	m := regexp.MustCompile(`cd (\S+) && go run (\S+) replay (\S+)`).FindStringSubmatch(out)
	if m == nil || m[1] != dir || m[2] != SimrunPackage {
		t.Fatalf("go test output lacks the replay command for %s:\n%s", dir, out)
	}
	out, err = goCmd(t, m[1], "run", m[2], "replay", m[3])
	if !strings.Contains(out, "FAILED the same way") {
		t.Fatalf("%s: want the failure reproduced, got %v:\n%s", m[0], err, out)
	}
}

// wrongReadExample fails on every schedule.
const wrongReadExample = `wbsim-scenario v1
name lost-read
kernel 3.x
fs blockfs
task t
    open f /a
    write f 0+4KiB as A
    read f 0+4KiB expect zero:4KiB
explore
    strategy random
    schedules 3
expect ok
`
