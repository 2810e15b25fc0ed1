package reports

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// recordedFailure captures, with its state recorded, the first failing seed
// (random walk) of a built-in scenario, as simrun's traced replay does.
func recordedFailure(t testing.TB, name string) *Run {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	_, cfg, err := srun.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 200; seed++ {
		cfg.Seed, cfg.Strategy = seed, sim.NewRandom(seed)
		rec := &snapshot.Recorder{}
		run := Capture(srun.BuildRecording(s, srun.Options{}, rec), cfg)
		run.States = rec.Finish()
		if run.Failed() {
			run.Program, run.Title, run.Strategy = name, "first failing schedule", "random"
			return run
		}
	}
	t.Fatalf("%s: no failure in 200 seeds", name)
	return nil
}

// stackAt is the innermost kernel function event i's task is in after
// event i, from the Enter and Leave events: what the explorer must show.
func stackAt(r *Run, i int) string {
	task := r.Events[i].Task
	var stack []string
	for _, ev := range r.Events[:i+1] {
		if ev.Task != task {
			continue
		}
		switch ev.Kind {
		case sim.KindEnter:
			stack = append(stack, ev.Op)
		case sim.KindLeave:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1]
}

// TestBrowserExplorer opens explorer.html of an AFS scenario's failing run
// in headless Chromium: it loads at step 0; opened at a step K given in
// the URL, three presses of → show step K+3's task and innermost kernel
// function; Shift+→ goes to the next event of the same task;
// with a page row selected, Shift+← goes to the previous event on it; f goes to the failing step and pins the invariant there; the
// page logs no error and asks for nothing beyond the file; a 1280x800
// screenshot shows the two columns (run, stack and invariant on the left,
// the state tables on the right) and is not blank.
func TestBrowserExplorer(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if inCI(os.Getenv("CI")) {
			t.Fatal("chromium not found, and CI is set: install it (apt-get install -y chromium) or set WBSIM_CHROMIUM")
		}
		t.Skip("chromium not found (apt-get install -y chromium); not in CI, so skipping")
	}
	run := recordedFailure(t, "afs-flush-conflict-double-put")
	rep := &Report{Title: "explorer test", Result: NewResult("explore"), Runs: []*Run{run}}
	dir := t.TempDir()
	if _, err := WriteDir(dir, rep); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join(dir, ExplorerFile))
	ctx, problems := startChromium(t, bin)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate("file://"+abs),
		chromedp.WaitReady(chromedp.CSS("#state"))); err != nil {
		t.Fatal(err)
	}
	type view struct {
		Info, Event, Top, Failure, FailClass, State string
		Tables                                      int
	}
	const look = `(() => {
		const top = document.querySelector("#stack-body li .fn");
		return {Info: document.getElementById("stepinfo").textContent,
			Event: document.getElementById("event-body").textContent,
			Top: top ? top.textContent : "",
			Failure: document.getElementById("failure-body").textContent,
			FailClass: document.getElementById("failure").className,
			State: document.getElementById("state").textContent,
			Tables: document.querySelectorAll("#state section.tbl").length};
	})()`
	get := func() view {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[view](look))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := get()
	if !strings.HasPrefix(v.Info, "step 0 of ") || !strings.Contains(v.Event, run.TaskName(run.Events[0].Task)+" runs") ||
		v.Tables+len(v.State) == 0 {
		t.Errorf("on load: %+v; want step 0, its task and its state", v)
	}

	// From a step K given in the URL (#run-1/K), chosen so that step
	// K+3's task is inside a kernel function, → three times.
	k := 0
	for k+3 < len(run.Events) && stackAt(run, k+3) == "" {
		k++
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate("file://"+abs+"#run-1/"+strconv.Itoa(k)),
		chromedp.WaitReady(chromedp.CSS("#state"))); err != nil {
		t.Fatal(err)
	}
	if v = get(); !strings.HasPrefix(v.Info, "step "+strconv.Itoa(k)+" of ") {
		t.Fatalf("opened at #run-1/%d: %q", k, v.Info)
	}
	for range 3 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
			t.Fatal(err)
		}
	}
	v = get()
	ev := run.Events[k+3]
	if !strings.HasPrefix(v.Info, "step "+strconv.Itoa(k+3)+" of ") || !strings.Contains(v.Event, run.TaskName(ev.Task)+" runs") ||
		v.Top != stackAt(run, k+3) {
		t.Errorf("after → three times: %+v; want step %d, task %s in %q", v, k+3, run.TaskName(ev.Task), stackAt(run, k+3))
	}

	// Shift+→: the next event of the same task.
	next := -1
	for i := k + 4; i < len(run.Events); i++ {
		if run.Events[i].Task == ev.Task {
			next = i
			break
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight, chromedp.KeyModifiers(chromedp.ModifierShift))); err != nil {
		t.Fatal(err)
	}
	if v = get(); next >= 0 && !strings.HasPrefix(v.Info, "step "+strconv.Itoa(next)+" of ") {
		t.Errorf("after Shift+→: %q; want step %d, the next event of %s", v.Info, next, run.TaskName(ev.Task))
	}

	fail := -1
	for i, e := range run.Events {
		if e.Kind == sim.KindFail {
			fail = i
			break
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("f")); err != nil {
		t.Fatal(err)
	}
	v = get()
	inv := run.Result.Failure.Invariant
	if !strings.HasPrefix(v.Info, "step "+strconv.Itoa(fail)+" of ") || !strings.Contains(v.Failure, inv+" fired at step "+strconv.Itoa(fail)) ||
		!strings.Contains(v.FailClass, "here") || v.Tables == 0 {
		t.Errorf("at the failure: %+v; want step %d with %s pinned to it", v, fail, inv)
	}

	// Select the first page row, then Shift+←: the previous event on it.
	obj, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const tr = document.querySelector("#state tr.page"); tr.click(); return tr.dataset.obj; })()`))
	if err != nil {
		t.Fatal(err)
	}
	prev := -1
	for i := fail - 1; i >= 0; i-- {
		if ObjString(run.Events[i].Obj) == obj {
			prev = i
			break
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowLeft, chromedp.KeyModifiers(chromedp.ModifierShift))); err != nil {
		t.Fatal(err)
	}
	if v = get(); prev < 0 || !strings.HasPrefix(v.Info, "step "+strconv.Itoa(prev)+" of ") || !strings.Contains(v.Event, obj) {
		t.Errorf("%s selected, Shift+← from step %d: %+v; want step %d, the previous event on it", obj, fail, v, prev)
	}

	// The layout at 1280x800: two columns side by side, a table in view.
	type box struct{ LeftW, RightX, RightW, TableTop float64 }
	b, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => {
		const l = document.getElementById("left").getBoundingClientRect(), r = document.getElementById("right").getBoundingClientRect();
		const tb = document.querySelector("#state table").getBoundingClientRect();
		return {LeftW: l.width, RightX: r.x, RightW: r.width, TableTop: tb.top};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if b.LeftW < 300 || b.RightX < b.LeftW || b.RightW < 600 || b.TableTop > 800 {
		t.Errorf("layout at 1280x800: %+v; want a left column, a wide right one beside it, a table in view", b)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("WBSIM_EXPLORER_SCREENSHOT"); p != "" {
		_ = os.WriteFile(p, shot, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 1280 || h != 800 {
		t.Errorf("screenshot is %dx%d, want 1280x800", w, h)
	}
	if sd := lumaStdDev(img); sd < 20 {
		t.Errorf("screenshot looks blank: luminance standard deviation %.1f", sd)
	}
	time.Sleep(50 * time.Millisecond) // let late console messages arrive
	for _, p := range problems() {
		t.Errorf("page problem: %s", p)
	}
}
