package reports

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// TestSeedEnds: every seed line the model cites has its function's last
// line in seedEnds, and on the seed files (when ../shared/seeds is
// there) that line is the function's closing brace (in the numbered
// 2.6.12 copy, which drops brace-only lines, a number missing from it).
func TestSeedEnds(t *testing.T) {
	cite := regexp.MustCompile(`"((?:mpage|afs)[a-z0-9.-]*\.c):(\d+)"`)
	cited := 0
	err := filepath.WalkDir("../model", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(src), -1) {
			cited++
			if _, ok := seedEnds[m[1]+":"+m[2]]; !ok {
				t.Errorf("%s cites %s:%s, which seedEnds lacks", path, m[1], m[2])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 40 {
		t.Fatalf("found %d citations in ../model; the pattern is stale", cited)
	}
	for c, end := range seedEnds {
		file, line, _ := strings.Cut(c, ":")
		start, _ := strconv.Atoi(line)
		if end <= start {
			t.Errorf("%s: ends at %d, before it starts", c, end)
		}
		src, err := os.ReadFile(filepath.Join("..", "..", "shared", "seeds", file))
		if err != nil {
			continue // the seeds are not beside this checkout
		}
		lines := strings.Split(string(src), "\n")
		if strings.Contains(file, "numbered") {
			for _, l := range lines {
				if n, rest, ok := strings.Cut(strings.TrimSpace(l), "|"); ok && n == strconv.Itoa(end) && strings.TrimSpace(rest) != "}" {
					t.Errorf("%s: line %d is %q, not a dropped closing brace", c, end, rest)
				}
			}
			continue
		}
		if end > len(lines) || lines[end-1] != "}" {
			t.Errorf("%s: line %d is not the closing brace", c, end)
		}
	}
}

// TestExplorerData: a recorded failing AFS run gives one frame more than
// events, each task alive from its spawn to its exit, call stacks whose cited functions link to the era's source in
// Elixir with a line range, the failure pinned to its fail event, scenario
// operations, and a page that loads nothing from elsewhere.
func TestExplorerData(t *testing.T) {
	run := recordedFailure(t, "afs-flush-conflict-double-put")
	x := explorerData("run-1", run)
	if len(x.Frames) != len(run.Events)+1 || len(x.Events) != len(run.Events) {
		t.Fatalf("%d frames, %d events for %d trace events", len(x.Frames), len(x.Events), len(run.Events))
	}
	if x.Era != "afs-2.6.3x" {
		t.Errorf("era %q", x.Era)
	}
	cited := 0
	for _, c := range x.Calls {
		if c.File == "" {
			continue
		}
		cited++
		if !strings.HasPrefix(c.URL, "https://elixir.bootlin.com/linux/v2.6.35/source/fs/afs/write.c#L") ||
			!regexp.MustCompile(`^afs-write-2\.6\.3x\.c:\d+-\d+$`).MatchString(c.Seed) {
			t.Errorf("call %+v: want a v2.6.35 fs/afs/write.c link and a seed range", c)
		}
	}
	if cited == 0 {
		t.Error("no call cites its seed")
	}
	if x.Failure == nil || run.Events[x.Failure.Step].Kind != sim.KindFail || x.Failure.Invariant != run.Result.Failure.Invariant {
		t.Errorf("failure %+v: want it pinned to the fail event", x.Failure)
	}
	for id, a := range x.Alive {
		if ev := run.Events[a[0]]; ev.Kind != sim.KindSpawn || ev.Obj.A != int64(id) {
			t.Errorf("task %s alive from step %d, not its spawn", run.TaskName(int32(id)), a[0])
		}
		if ev := run.Events[a[1]]; a[1] != len(run.Events)-1 && (ev.Kind != sim.KindExit || ev.Obj.A != int64(id)) {
			t.Errorf("task %s alive until step %d, neither its exit nor the end", run.TaskName(int32(id)), a[1])
		}
	}
	if len(x.Ops) == 0 {
		t.Error("no scenario operation marked")
	}
	var buf bytes.Buffer
	if err := WriteExplorer(&buf, &Report{Runs: []*Run{run}}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script src", "<link ", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %q: it must be self-contained", bad)
		}
	}
}
