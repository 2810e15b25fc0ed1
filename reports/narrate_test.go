package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

func narrate(t *testing.T, r *Run, follow string) string {
	t.Helper()
	var b strings.Builder
	if err := Narrate(&b, r, NarrateOptions{Follow: follow}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestNarrate(t *testing.T) {
	r := firstFailure(t, toyWriteback)
	r.Program = "toy"
	out := narrate(t, r, "")
	for _, want := range []string{
		"wbsim narrated trace of toy", "outcome:   FAILED: invariant [page-state]",
		"=> write_cache_pages", "<= mpage_writepage returns", "the page is now under writeback",
		"the page is no longer dirty", "-- writer runs", "is preempted while runnable", "the run FAILS: invariant [page-state]",
		"The failure:", "schedule:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("narration lacks %q", want)
		}
	}
	// Lines inside a call are indented one level per call.
	if !strings.Contains(out, "  => mpage_writepage") {
		t.Error("nested call not indented")
	}
}

func TestNarrateFollow(t *testing.T) {
	r := Capture(abbaFixture, sim.Config{Seed: 1, Strategy: sim.NewRandom(1)})
	r.Program = "abba"
	out := narrate(t, r, "mutex a")
	if !strings.Contains(out, "following: mutex a") || strings.Contains(out, "mutex b:") || !strings.Contains(out, "mutex_lock mutex a") {
		t.Errorf("follow mutex a:\n%s", out)
	}
	if strings.Contains(out, "-- A runs") {
		t.Error("a followed trace has no switch lines")
	}
	toy := firstFailure(t, toyWriteback)
	for _, name := range []string{"page 1:0", "page 1", "page  1:0 "} {
		if out := narrate(t, toy, name); !strings.Contains(out, "lock_page page 1:0") || strings.Contains(out, "page 1:1") {
			t.Errorf("follow %q:\n%s", name, out)
		}
	}
	objs := strings.Join(toy.Objects(), ",")
	if !strings.Contains(objs, "page 1:0") || !strings.Contains(objs, "bio 1") || !strings.Contains(objs, "task writer") {
		t.Errorf("objects: %s", objs)
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestNarrateGolden: the narrated trace of the toy writeback fixture, with
// kernel-call spans, page states and an interrupt, as a learner reads it.
// Run with -update to accept a change.
func TestNarrateGolden(t *testing.T) {
	r := firstFailure(t, toyWriteback)
	r.Program, r.Title, r.Strategy = "toy-writeback", "first failing schedule", "random"
	for name, follow := range map[string]string{"narrate-toy": "", "narrate-toy-follow-page": "page 1:1"} {
		got := narrate(t, r, follow)
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestNarrateGolden -update to create it)", err)
		}
		if string(want) != got {
			t.Errorf("%s differs from the golden file (-update accepts it):\n%s", name, got)
		}
	}
}

// TestNarrateCitesSeed: a function entered with Task.EnterAt shows its seed
// citation on the "=> fn" line, the header says what it is, and the
// Perfetto span carries it as the "seed" arg.
func TestNarrateCitesSeed(t *testing.T) {
	setup := func(w *sim.World) {
		w.Spawn("reader", func(t *sim.Task) {
			t.EnterAt("do_mpage_readpage", "mpage-2.6.2x.c:150")
			t.Enter("submit_bio")
			t.Point("submit_bio", sim.Obj{Class: "bio", A: 1}, 0)
			t.Leave()
			t.Leave()
		})
	}
	r := Capture(setup, sim.Config{Seed: 1})
	r.Program = "cite"
	out := narrate(t, r, "")
	for _, want := range []string{
		`"=> fn  [file:line]" names the seed file and line where the function starts.`,
		"=> do_mpage_readpage  [mpage-2.6.2x.c:150]\n",
		"  => submit_bio\n",
		"<= do_mpage_readpage returns\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("narration lacks %q:\n%s", want, out)
		}
	}
	if toy := narrate(t, firstFailure(t, toyWriteback), ""); strings.Contains(toy, "[file:line]") {
		t.Error("a run without citations explains them")
	}

	var buf bytes.Buffer
	if err := WriteTraceJSON(&buf, []*Run{r}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range parseChrome(t, buf.Bytes()) {
		if e.Ph == "B" && e.Name == "do_mpage_readpage" {
			found = e.Args["seed"] == "mpage-2.6.2x.c:150" && e.Args["msg"] == nil
		}
	}
	if !found {
		t.Error("the do_mpage_readpage span has no seed arg")
	}
}
