package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// longRun is a program of n steps, each in a kernel call, so that its
// trace is long.
func longRun(n int) func(*sim.World) {
	return func(w *sim.World) {
		w.Spawn("looper", func(t *sim.Task) {
			for i := range n {
				t.Enter("do_step")
				t.Point("step", sim.Obj{Class: PageClass, A: 1, B: int64(i % 7)}, int64(i))
				t.Leave()
			}
		})
	}
}

// TestCaptureKeepsHeadAndTail: a long run keeps its first and last events
// and says how many it left out, in every report; its result is the same
// as uncaptured; a short run is kept whole.
func TestCaptureKeepsHeadAndTail(t *testing.T) {
	short := Capture(longRun(10), sim.Config{Seed: 1})
	if !short.Complete || short.Omitted != 0 {
		t.Fatalf("a short run: complete %v, omitted %d", short.Complete, short.Omitted)
	}
	r := Capture(longRun(20000), sim.Config{Seed: 1})
	w := sim.New(sim.Config{Seed: 1})
	longRun(20000)(w)
	plain := w.Run()
	total := w.Trace().Total()
	if r.Complete || r.Gap != CaptureHead || len(r.Events) != CaptureHead+CaptureTail || r.Omitted != total-int64(len(r.Events)) {
		t.Fatalf("gap %d, %d events kept, %d omitted of %d", r.Gap, len(r.Events), r.Omitted, total)
	}
	if r.Result.Hash != plain.Hash {
		t.Fatalf("captured hash %x, plain %x", r.Result.Hash, plain.Hash)
	}
	plainEvs := w.Trace().Events()
	if r.Events[len(r.Events)-1] != plainEvs[len(plainEvs)-1] || r.Events[0].Step > r.Events[CaptureHead].Step {
		t.Errorf("kept events are not the first and the last: first step %d, last %+v, plain last %+v",
			r.Events[0].Step, r.Events[len(r.Events)-1], plainEvs[len(plainEvs)-1])
	}
	files, err := Render(&Report{Title: "long", Result: NewResult("run"), Runs: []*Run{r}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{TraceText, TraceJSON, HTMLFile} {
		if !bytes.Contains(files[name], []byte("events left out")) && !bytes.Contains(files[name], []byte("are left out")) {
			t.Errorf("%s does not say what it left out", name)
		}
	}
	if n := len(files[HTMLFile]); n > 10<<20 {
		t.Errorf("index.html is %d bytes, over 10 MB", n)
	}
	var tj struct{ TraceEvents []map[string]any }
	if err := json.Unmarshal(files[TraceJSON], &tj); err != nil {
		t.Fatal(err)
	}
	depth := map[any]int{}
	for _, e := range tj.TraceEvents {
		switch e["ph"] {
		case "B":
			depth[e["tid"]]++
		case "E":
			if depth[e["tid"]]--; depth[e["tid"]] < 0 {
				t.Fatalf("trace.json ends a call it never began: %v", e)
			}
		}
	}
	if !strings.Contains(string(files[TraceText]), "a long run: the first 5000 and last 5000 events are kept") {
		t.Errorf("trace.txt lacks the note:\n%.600s", files[TraceText])
	}
}

// TestHTMLStaysSmall: however many long runs a report shows, index.html
// stays under 10 MB, each run trimmed to its share, saying so; Trim keeps
// a run's first and last events around the gap Capture left.
func TestHTMLStaysSmall(t *testing.T) {
	r := Capture(longRun(20000), sim.Config{Seed: 1})
	rep := &Report{Title: "many", Result: NewResult("merge"), Runs: []*Run{r, r, r, r, r}}
	var b bytes.Buffer
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 10<<20 || !strings.Contains(b.String(), "are left out") {
		t.Errorf("index.html of 5 long runs: %d bytes", b.Len())
	}
	for _, n := range []int{100, 3001, 9999} {
		c := r.Trim(n)
		if len(c.Events) != n || c.Omitted+int64(n) != r.Omitted+int64(len(r.Events)) ||
			c.Events[0] != r.Events[0] || c.Events[n-1] != r.Events[len(r.Events)-1] ||
			c.Events[c.Gap-1].Step > r.Events[r.Gap-1].Step || c.Events[c.Gap].Step < r.Events[r.Gap].Step {
			t.Errorf("Trim(%d): %d events, gap %d, omitted %d", n, len(c.Events), c.Gap, c.Omitted)
		}
	}
}
