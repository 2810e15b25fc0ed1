package snapshot

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// rebuild applies frames [0, n] of l: table name -> row key -> cells.
func rebuild(l *Log, n int) map[string]map[string][]string {
	st := map[string]map[string][]string{}
	for i := 0; i <= n; i++ {
		f := l.Frames[i]
		if f.Key {
			st = map[string]map[string][]string{}
		}
		for _, c := range f.Changes {
			name := l.Tables[c.Table].Name
			if c.Cells == nil {
				delete(st[name], c.Key)
				continue
			}
			if st[name] == nil {
				st[name] = map[string][]string{}
			}
			st[name][c.Key] = c.Cells
		}
	}
	for name, rows := range st {
		if len(rows) == 0 {
			delete(st, name)
		}
	}
	return st
}

func asMap(s State) map[string]map[string][]string {
	m := map[string]map[string][]string{}
	for _, t := range s {
		for _, r := range t.Rows {
			if m[t.Name] == nil {
				m[t.Name] = map[string][]string{}
			}
			m[t.Name][r.Key] = r.Cells
		}
	}
	return m
}

// TestKeyframesAndDeltas: for random sequences of states (tables and
// rows coming and going, cells changing), rebuilding frame i from the
// keyframe before it and the changes since gives state i exactly.
func TestKeyframesAndDeltas(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(t, "steps")
		var states []State
		for i := range n {
			var st State
			for ti := range rapid.IntRange(0, 3).Draw(t, fmt.Sprint("tables", i)) {
				tb := Table{Name: fmt.Sprint("t", ti)}
				for _, k := range rapid.SliceOfNDistinct(rapid.IntRange(0, 5), 0, 4, rapid.ID[int]).Draw(t, fmt.Sprint("rows", i, ti)) {
					tb.Rows = append(tb.Rows, Row{Key: fmt.Sprint(k), Cells: []string{rapid.SampledFrom([]string{"", "1", "x"}).Draw(t, "cell")}})
				}
				st = append(st, tb)
			}
			states = append(states, st)
		}
		i := 0
		rec := &Recorder{Limits: Limits{Keyframe: rapid.IntRange(1, 7).Draw(t, "keyframe")}, Capture: func() State { i++; return states[i-1] }}
		for j := range n - 1 {
			rec.Step(j)
		}
		l := rec.Finish()
		if len(l.Frames) != n {
			t.Fatalf("%d frames for %d steps", len(l.Frames), n)
		}
		for j := range n {
			if diff := cmp.Diff(asMap(states[j]), rebuild(l, j)); diff != "" {
				t.Fatalf("frame %d rebuilt wrong (-want +got):\n%s", j, diff)
			}
		}
	})
}

// TestCaps: the frame cap stops recording and says so; the keyframe
// interval makes keyframes; between them only changed rows are stored;
// skipped steps are recorded as unchanged.
func TestCaps(t *testing.T) {
	n := 0
	rec := &Recorder{Limits: Limits{MaxFrames: 10, Keyframe: 4}, Capture: func() State {
		n++
		return State{{Name: "t", Rows: []Row{{Key: "a", Cells: []string{"x"}}, {Key: "b", Cells: []string{fmt.Sprint(n % 3)}}}}}
	}}
	for i := range 20 {
		rec.Step(i)
	}
	l := rec.Finish()
	if len(l.Frames) != 10 || l.Truncated == "" {
		t.Fatalf("%d frames, truncated %q: want 10 and a reason", len(l.Frames), l.Truncated)
	}
	for i, f := range l.Frames {
		if f.Key != (i%4 == 0) {
			t.Errorf("frame %d keyframe %v", i, f.Key)
		}
		if !f.Key && len(f.Changes) != 1 {
			t.Errorf("frame %d: %d changes, want only row b", i, len(f.Changes))
		}
	}

	rec = &Recorder{Limits: Limits{MaxCells: 5}, Capture: func() State {
		return State{{Name: "t", Rows: []Row{{Key: "a", Cells: []string{"x", "y", "z"}}}}}
	}}
	rec.Step(0)
	rec.Step(3)
	rec.Step(4)
	if l := rec.log; len(l.Frames) != 5 || len(l.Frames[1].Changes) != 0 || len(l.Frames[2].Changes) != 0 || l.Truncated != "" {
		t.Fatalf("frames %+v, truncated %q: want steps 1 and 2 padded, no cap yet", l.Frames, l.Truncated)
	}
	rec.Limits.MaxCells = 1
	if l = rec.Finish(); l.Truncated == "" || len(l.Frames) != 5 {
		t.Fatalf("%d frames, truncated %q: want the cell cap to stop the final frame", len(l.Frames), l.Truncated)
	}
}
