package reports

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// inCI says whether $CI says the tests run in CI: CI systems set CI=true
// (GitHub Actions, GitLab, CircleCI, Travis, Buildkite) or CI=1; unset,
// empty, "0" and "false" mean not.
func inCI(ci string) bool {
	switch strings.ToLower(strings.TrimSpace(ci)) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// findChromium looks for a Chromium or Chrome binary; $WBSIM_CHROMIUM wins.
func findChromium() string {
	if p := os.Getenv("WBSIM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserReport opens index.html in headless Chromium (the network is
// closed, and the page must not need it): the page loads with no console
// error, no exception and no request beyond the file itself; the timeline
// draws a visible lane for every task with events to show and every page
// of every run; clicking a
// failure scrolls to its explanation; and a screenshot is not blank.
//
// It skips only when Chromium is absent outside CI; in CI (inCI) a missing
// Chromium fails it (install it with: apt-get install -y chromium).
func TestBrowserReport(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if inCI(os.Getenv("CI")) {
			t.Fatal("chromium not found, and CI is set: install it (apt-get install -y chromium) or set WBSIM_CHROMIUM")
		}
		t.Skip("chromium not found (apt-get install -y chromium); not in CI, so skipping")
	}
	rep := sampleReport(t)
	dir := t.TempDir()
	index, err := WriteDir(dir, rep)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(index)
	url := "file://" + abs

	ctx, problems := startChromium(t, bin)
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}

	// A lane for every task and page, each drawn with a non-empty box.
	type lane struct {
		Name, Kind string
		W, H       float64
	}
	lanes, err := chromedp.Run(ctx, chromedp.Evaluate[[][]lane](`Array.from(document.querySelectorAll("svg.timeline")).map(svg =>
		Array.from(svg.querySelectorAll("g.lane")).map(g => {
			const b = g.getBoundingClientRect();
			return {Name: g.dataset.lane, Kind: g.dataset.kind, W: b.width, H: b.height};
		}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(lanes) != len(rep.Runs) {
		t.Fatalf("%d timelines drawn, want %d", len(lanes), len(rep.Runs))
	}
	for i, r := range rep.Runs {
		var want, got []string
		for _, name := range shownTasks(r) {
			want = append(want, "task "+name)
		}
		seen := map[string]bool{}
		for _, ev := range r.Events {
			if ev.Obj.Class == PageClass && !seen[ObjString(ev.Obj)] {
				seen[ObjString(ev.Obj)] = true
				want = append(want, "page "+ObjString(ev.Obj))
			}
		}
		for _, l := range lanes[i] {
			got = append(got, l.Kind+" "+l.Name)
			if l.W < 100 || l.H < 10 {
				t.Errorf("run %d: lane %s %s is drawn %.0fx%.0f px", i, l.Kind, l.Name, l.W, l.H)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("run %d (%s): lanes %v, want %v", i, r.Program, got, want)
		}
	}

	// The screenshot of the top of the page is not blank.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`), chromedp.Sleep(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("WBSIM_SCREENSHOT"); p != "" {
		_ = os.WriteFile(p, shot, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if sd := lumaStdDev(img); sd < 20 {
		t.Errorf("screenshot looks blank: luminance standard deviation %.1f", sd)
	}

	// Clicking the second failure scrolls to its explanation.
	type pos struct {
		Top, Height, ScrollY float64
		Hash                 string
	}
	const where = `(() => { const r = document.getElementById("failure-2").getBoundingClientRect();
		return {Top: r.top, Height: window.innerHeight, ScrollY: window.scrollY, Hash: location.hash}; })()`
	before, err := chromedp.Run(ctx, chromedp.Evaluate[pos](where))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#failures a.failure-link[data-target="failure-2"]`)),
		chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(ctx, chromedp.Evaluate[pos](where))
	if err != nil {
		t.Fatal(err)
	}
	if before.Top < before.Height {
		t.Fatalf("the explanation is visible before the click (top %.0f of %.0f); the test proves nothing", before.Top, before.Height)
	}
	if after.Hash != "#failure-2" || after.Top < 0 || after.Top > after.Height/2 || after.ScrollY <= before.ScrollY {
		t.Errorf("after the click: %+v (before %+v); want the explanation near the top of the window", after, before)
	}

	for _, p := range problems() {
		t.Errorf("page problem: %s", p)
	}
}

// startChromium starts headless Chromium (bin) in a 1280x800 window and
// returns a tab's context, closed when t ends, and problems: what the
// tab has logged so far that a page must not (console errors and
// warnings, exceptions, browser log errors, requests beyond file:, data:
// and about: URLs).
func startChromium(t *testing.T, bin string) (context.Context, func() []string) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)

	var mu sync.Mutex
	var problems []string
	note := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// The listener sees every event of the tab from its start (it runs in
	// the tab's read loop: it only records).
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning ||
				e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				note("console.%s: %s", e.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			note("exception at %d:%d: %s", d.LineNumber+1, d.ColumnNumber+1, text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				note("browser log %s: %s (%s)", e.Entry.Level, e.Entry.Text, e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "about:") {
				note("network request: %s", u)
			}
		}
	}))
	t.Cleanup(cancelC)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)

	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

func lumaStdDev(img image.Image) float64 {
	b := img.Bounds()
	var sum, sum2, n float64
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sum2 += l * l
			n++
		}
	}
	mean := sum / n
	return math.Sqrt(max(sum2/n-mean*mean, 0))
}
