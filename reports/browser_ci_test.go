package reports

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBrowserTestFailsInCIWithoutChromium runs TestBrowserReport again, in
// this test binary, with no Chromium on PATH: with CI=true it fails
// ("chromium not found, and CI is set") rather than skipping; with
// CI=false, or CI unset, it skips.
func TestBrowserTestFailsInCIWithoutChromium(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		fail bool
	}{{"true", true}, {"1", true}, {"false", false}, {"", false}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrowserReport$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "CI="+tc.ci, "WBSIM_CHROMIUM=", "PATH="+t.TempDir())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		failed := errors.As(err, &ee) && ee.ExitCode() == 1
		if err != nil && !failed {
			t.Fatalf("CI=%q: %v\n%s", tc.ci, err, out)
		}
		switch {
		case tc.fail && (!failed || !strings.Contains(string(out), "chromium not found, and CI is set")):
			t.Errorf("CI=%q without chromium: want the browser test to fail, got:\n%s", tc.ci, out)
		case !tc.fail && (failed || !strings.Contains(string(out), "--- SKIP: TestBrowserReport")):
			t.Errorf("CI=%q without chromium: want the browser test skipped, got:\n%s", tc.ci, out)
		}
	}
}
