package reports

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

func renderAll(t *testing.T, rep *Report) map[string][]byte {
	t.Helper()
	files, err := Render(rep)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestHTMLIsSelfContained: index.html fetches nothing: no src, no link,
// no CSS url() or @import, no http(s) address but the SVG namespace.
func TestHTMLIsSelfContained(t *testing.T) {
	page := string(renderAll(t, sampleReport(t))[HTMLFile])
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\ssrc\s*=`), regexp.MustCompile(`(?i)<link\b`), regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\(`), regexp.MustCompile(`(?i)<iframe|<img|<object|<embed`),
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("index.html has %q: %q", bad, page[max(loc[0]-40, 0):min(loc[1]+40, len(page))])
		}
	}
	for _, m := range regexp.MustCompile(`https?://[^\s"'<>]+`).FindAllString(page, -1) {
		if m != "http://www.w3.org/2000/svg" {
			t.Errorf("index.html names an address: %s", m)
		}
	}
	if !strings.Contains(page, "<style>") || !strings.Contains(page, "<script>") {
		t.Error("CSS and JS must be inline")
	}
}

// shownTasks are the tasks of r that have an event beyond entering and
// leaving functions and exiting: the ones the timeline draws a lane for.
func shownTasks(r *Run) []string {
	var out []string
	for _, tk := range r.Tasks {
		if slices.ContainsFunc(r.Events, func(ev sim.Event) bool {
			return ev.Task == tk.ID && ev.Kind != sim.KindEnter && ev.Kind != sim.KindLeave && ev.Kind != sim.KindExit
		}) {
			out = append(out, tk.Name)
		}
	}
	return out
}

// TestHTMLContent: a lane per task with events to show and per page, failures linked to their
// explanations, the minimal schedule, the invariants.
func TestHTMLContent(t *testing.T) {
	rep := sampleReport(t)
	page := string(renderAll(t, rep)[HTMLFile])
	lanes := regexp.MustCompile(`<g class="lane (task|page)-lane" data-lane="([^"]*)"`).FindAllStringSubmatch(page, -1)
	want := 0
	for _, r := range rep.Runs {
		want += len(shownTasks(r))
		pages := map[string]bool{}
		for _, ev := range r.Events {
			if ev.Obj.Class == PageClass {
				pages[ObjString(ev.Obj)] = true
			}
		}
		want += len(pages)
		for p := range pages {
			if !strings.Contains(page, `data-lane="`+p+`"`) {
				t.Errorf("no lane for %s", p)
			}
		}
	}
	if len(lanes) != want {
		t.Errorf("%d lanes, want %d (tasks + pages)", len(lanes), want)
	}
	for _, id := range []string{"failure-1", "failure-2"} {
		if !strings.Contains(page, `href="#`+id+`"`) || !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("failure %s is not linked to its explanation", id)
		}
	}
	for _, want := range []string{"Minimal schedules", "wbsim-schedule v1", "page-state", "Invariants checked", "simrun replay replays/abba.replay",
		"st-dirty", "deadlock", "held by task"} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

// TestReportsAreDeterministic: the same input renders the same bytes.
func TestReportsAreDeterministic(t *testing.T) {
	a := renderAll(t, sampleReport(t))
	b := renderAll(t, sampleReport(t))
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two renders of the same runs", name)
		}
	}
}

func TestJUnit(t *testing.T) {
	rep := sampleReport(t)
	rep.Result.Programs = append(rep.Result.Programs, ProgramResult{Program: "clean", Expect: ExpectPass, Schedules: 10,
		Seeds: SeedRange{First: 1, Count: 10, Shards: 1, Done: []int{0}}, Failures: []FailureInfo{}},
		ProgramResult{Program: "planted", Expect: ExpectFind, Schedules: 10, Seeds: SeedRange{First: 1, Count: 10, Shards: 1, Done: []int{0}}, Failures: []FailureInfo{}})
	for i := range rep.Result.Programs {
		rep.Result.Programs[i].Judge()
	}
	data := renderAll(t, rep)[JUnitFile]
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name  string `xml:"name,attr"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit.xml: %v\n%s", err, data)
	}
	if doc.Tests != 4 || doc.Failures != 3 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 4 {
		t.Fatalf("want 4 cases, 3 failing; got %+v", doc)
	}
	c := doc.Suites[0].Cases[0]
	props := map[string]string{}
	for _, p := range c.Props {
		props[p.Name] = p.Value
	}
	if c.Failure == nil || !strings.Contains(c.Failure.Message, "page-state") || !strings.Contains(c.Failure.Text, "wbsim-schedule v1") {
		t.Errorf("first case's failure: %+v", c.Failure)
	}
	if props["seed"] == "" || props["replay"] != "replays/toy-writeback.replay" {
		t.Errorf("properties: %v", props)
	}
	if doc.Suites[0].Cases[2].Failure != nil || doc.Suites[0].Cases[3].Failure == nil {
		t.Error("a clean program must pass, a planted bug not found must fail")
	}
}

func TestCleanStack(t *testing.T) {
	in := "goroutine 23 [running]:\nruntime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\n" +
		"github.com/wbsim/wbsim/sim.(*Task).BUG(0x5?, {{0x68f6f5, 0x4}, {0x68f6f9, 0x4}, 0x0, 0x0}, {0x68ef63?, 0x40000?}, {0x36fc9da696d8, ...})\n" +
		"\t/work/main/sim/task.go:260 +0x7c\ngithub.com/wbsim/wbsim/sim.(*World).spawn.func1(0x36fc9da69768?)\n" +
		"created by iter.Pull[...] in goroutine 7\n"
	want := "runtime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26\n" +
		"github.com/wbsim/wbsim/sim.(*Task).BUG(...)\n\t/work/main/sim/task.go:260\ngithub.com/wbsim/wbsim/sim.(*World).spawn.func1(...)\n" +
		"created by iter.Pull[...]\n"
	if got := cleanStack(in); got != want {
		t.Errorf("cleanStack:\n%s\nwant\n%s", got, want)
	}
}
