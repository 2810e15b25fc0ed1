package reports

import (
	"fmt"
	"math"
	"slices"

	"github.com/wbsim/wbsim/sim"
)

// The timeline is an SVG drawn on the server side: one swim lane per task
// and one per page (Obj.Class == "page"), over virtual time.
//
// The time axis is compressed so that a run reads at any length: events at
// one virtual instant are drawn side by side in recording order, a gap of
// one step (the smallest gap between two instants) takes tlStepPx, and a
// longer gap at most tlMaxGapSteps steps, with a "≈" mark where time was
// cut. The axis labels give the exact virtual times.

const (
	tlLabelW      = 130.0 // lane label column
	tlSamePx      = 5.0   // events at one instant
	tlStepPx      = 14.0  // one step of virtual time
	tlMaxGapSteps = 4.0   // longer gaps are cut to this many steps
	tlMaxWidth    = 24000.0
	tlMinWidth    = 900.0
	tlTaskH       = 34.0
	tlStripeH     = 6.0
	tlAxisH       = 22.0
	tlMaxEvents   = 20000 // beyond this the timeline shows the last events only
)

type tlRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type tlMark struct {
	X, Y1, Y2 float64
	Class     string
	Title     string
}

type tlLane struct {
	Kind   string // "task" or "page"
	Name   string
	Label  string
	Y, H   float64
	LabelY float64
	Rects  []tlRect
	Marks  []tlMark
}

type tlTick struct {
	X     float64
	Label string
}

type timeline struct {
	Width, Height float64
	LabelW        float64
	Lanes         []tlLane
	Ticks         []tlTick
	AxisY         float64
	Breaks        []float64
	Truncated     int // events left out at the start
	// Hidden are the labels of the tasks with no event to show among the
	// events drawn: they get no lane, and the report lists them.
	Hidden []string
	// The failure, drawn as a red line across every lane.
	HasFail   bool
	FailX     float64
	FailTitle string
	Legend    []PageState
}

func r1(v float64) float64 { return math.Round(v*10) / 10 }

// buildTimeline lays out a run's timeline.
func buildTimeline(r *Run) *timeline {
	tl := &timeline{LabelW: tlLabelW, Legend: PageStates}
	evs := r.Events
	if len(evs) > tlMaxEvents {
		tl.Truncated = len(evs) - tlMaxEvents
		evs = evs[len(evs)-tlMaxEvents:]
	}
	// The smallest positive gap between instants is one step.
	var unit sim.Time
	for i := 1; i < len(evs); i++ {
		if d := evs[i].Time - evs[i-1].Time; d > 0 && (unit == 0 || d < unit) {
			unit = d
		}
	}
	if unit == 0 {
		unit = 1
	}
	xs := make([]float64, len(evs))
	x := 0.0
	for i := range evs {
		if i > 0 {
			d := evs[i].Time - evs[i-1].Time
			switch {
			case d == 0:
				x += tlSamePx
			default:
				steps := float64(d) / float64(unit)
				if steps > tlMaxGapSteps {
					tl.Breaks = append(tl.Breaks, x+tlStepPx*tlMaxGapSteps/2)
					steps = tlMaxGapSteps
				}
				x += tlStepPx * steps
			}
		}
		xs[i] = x
	}
	end := x + tlStepPx
	// Short runs are stretched to a readable width, long ones squeezed.
	scale := 1.0
	switch {
	case end > tlMaxWidth:
		scale = tlMaxWidth / end
	case end < tlMinWidth:
		scale = min(tlMinWidth/end, 6)
	}
	X := func(v float64) float64 { return r1(tlLabelW + 8 + v*scale) }
	endX := X(end)
	for i := range tl.Breaks {
		tl.Breaks[i] = X(tl.Breaks[i])
	}
	tl.Width = endX + 16

	// Axis ticks: at most one label per 90 px, at instants.
	lastTick := -1e9
	for i := range evs {
		if i > 0 && evs[i].Time == evs[i-1].Time {
			continue
		}
		if xi := X(xs[i]); xi-lastTick >= 90 {
			tl.Ticks = append(tl.Ticks, tlTick{X: xi, Label: evs[i].Time.String()})
			lastTick = xi
		}
	}

	tl.AxisY = tlAxisH
	y := tlAxisH + 4
	// Task lanes, by id, for the tasks with events to show: a task that
	// only entered and left functions and exited (a flusher with nothing
	// to do), or whose events fell in a long run's left-out start, would
	// be an empty lane.
	active := map[int32]bool{}
	for i := range evs {
		switch evs[i].Kind {
		case sim.KindEnter, sim.KindLeave, sim.KindExit:
		default:
			active[evs[i].Task] = true
		}
	}
	laneOf := map[int32]int{}
	for _, t := range r.Tasks {
		label := t.Name
		switch {
		case t.IRQ:
			label += " (irq)"
		case t.Daemon:
			label += " (daemon)"
		}
		if !active[t.ID] {
			tl.Hidden = append(tl.Hidden, label)
			continue
		}
		laneOf[t.ID] = len(tl.Lanes)
		tl.Lanes = append(tl.Lanes, tlLane{Kind: "task", Name: t.Name, Label: label, Y: y, H: tlTaskH, LabelY: y + tlTaskH/2 + 4})
		y += tlTaskH + 4
	}
	// Page lanes, sorted by (A, B, Name).
	var pages []sim.Obj
	seenPage := map[sim.Obj]bool{}
	for i := range evs {
		if o := evs[i].Obj; o.Class == PageClass && !seenPage[o] {
			seenPage[o] = true
			pages = append(pages, o)
		}
	}
	slices.SortFunc(pages, func(a, b sim.Obj) int {
		switch {
		case a.A != b.A:
			return cmpInt(a.A, b.A)
		case a.B != b.B:
			return cmpInt(a.B, b.B)
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	pageLane := map[sim.Obj]int{}
	pageH := tlStripeH*float64(len(PageStates)) + 4
	for _, p := range pages {
		pageLane[p] = len(tl.Lanes)
		tl.Lanes = append(tl.Lanes, tlLane{Kind: "page", Name: ObjString(p), Label: ObjString(p), Y: y, H: pageH, LabelY: y + pageH/2 + 4})
		y += pageH + 4
	}
	tl.Height = y + 4

	title := func(ev *sim.Event) string {
		return fmt.Sprintf("%s #%d %s: %s", ev.Time, ev.Step, r.TaskName(ev.Task), describe(ev))
	}

	// Task lanes: running segments, blocked spans, kernel-call spans, marks.
	type open struct {
		x  float64
		fn string
	}
	blockedAt := map[int32]float64{}
	blockedWhat := map[int32]string{}
	calls := map[int32][]open{}
	runStart, runTask := 0.0, int32(-1)
	flushRun := func(upto float64) {
		if li, ok := laneOf[runTask]; ok && runTask >= 0 && upto > runStart {
			l := &tl.Lanes[li]
			l.Rects = append(l.Rects, tlRect{X: runStart, Y: l.Y + 2, W: r1(upto - runStart), H: 10, Class: "run",
				Title: r.TaskName(runTask) + " runs"})
		}
	}
	for i := range evs {
		ev := &evs[i]
		xi := X(xs[i])
		if ev.Task >= 0 && ev.Task != runTask {
			flushRun(xi)
			runStart, runTask = xi, ev.Task
		}
		li, isTask := laneOf[ev.Task]
		switch ev.Kind {
		case sim.KindBlock:
			blockedAt[ev.Task] = xi
			blockedWhat[ev.Task] = ev.Op + " " + ObjString(ev.Obj)
		case sim.KindWake:
			if ev.Obj.Class == "task" {
				id := int32(ev.Obj.A)
				if bx, ok := blockedAt[id]; ok {
					if wl, ok := laneOf[id]; ok {
						l := &tl.Lanes[wl]
						l.Rects = append(l.Rects, tlRect{X: bx, Y: l.Y + 14, W: r1(max(xi-bx, 1)), H: 6, Class: "blocked",
							Title: r.TaskName(id) + " sleeps in " + blockedWhat[id]})
					}
					delete(blockedAt, id)
				}
			}
		case sim.KindEnter:
			fn := ev.Op
			if ev.Msg != "" { // Task.EnterAt's seed citation
				fn += " [" + ev.Msg + "]"
			}
			calls[ev.Task] = append(calls[ev.Task], open{xi, fn})
		case sim.KindLeave:
			st := calls[ev.Task]
			if n := len(st); n > 0 && isTask {
				o := st[n-1]
				calls[ev.Task] = st[:n-1]
				l := &tl.Lanes[li]
				d := float64(min(n-1, 2))
				l.Rects = append(l.Rects, tlRect{X: o.x, Y: l.Y + 22 + d*4, W: r1(max(xi-o.x, 2)), H: 4, Class: fmt.Sprintf("call d%d", int(d)),
					Title: o.fn})
			}
		}
		if isTask && ev.Kind != sim.KindEnter && ev.Kind != sim.KindLeave {
			l := &tl.Lanes[li]
			cls := "mark " + ev.Kind.String()
			l.Marks = append(l.Marks, tlMark{X: xi, Y1: l.Y, Y2: l.Y + 14, Class: cls, Title: title(ev)})
		}
		if ev.Kind == sim.KindFail && !tl.HasFail {
			tl.HasFail, tl.FailX, tl.FailTitle = true, xi, title(ev)
		}
		if pl, ok := pageLane[ev.Obj]; ok {
			l := &tl.Lanes[pl]
			l.Marks = append(l.Marks, tlMark{X: xi, Y1: l.Y, Y2: l.Y + l.H, Class: "mark page-op", Title: title(ev)})
		}
	}
	flushRun(endX)
	for id, bx := range blockedAt {
		if wl, ok := laneOf[id]; ok {
			l := &tl.Lanes[wl]
			l.Rects = append(l.Rects, tlRect{X: bx, Y: l.Y + 14, W: r1(max(endX-bx, 1)), H: 6, Class: "blocked",
				Title: r.TaskName(id) + " sleeps in " + blockedWhat[id] + " until the end"})
		}
	}
	for id, st := range calls {
		if li, ok := laneOf[id]; ok {
			for n, o := range st {
				l := &tl.Lanes[li]
				d := float64(min(n, 2))
				l.Rects = append(l.Rects, tlRect{X: o.x, Y: l.Y + 22 + d*4, W: r1(max(endX-o.x, 2)), H: 4, Class: fmt.Sprintf("call d%d", int(d)),
					Title: o.fn + " (unfinished)"})
			}
		}
	}

	// Page lanes: one stripe per state, on while the flag is set.
	for _, p := range pages {
		l := &tl.Lanes[pageLane[p]]
		on := make([]float64, len(PageStates))
		for k := range on {
			on[k] = -1
		}
		for i := range evs {
			ev := &evs[i]
			if ev.Obj != p {
				continue
			}
			st, set, ok := pageChange(ev)
			if !ok {
				continue
			}
			xi := X(xs[i])
			switch {
			case set && on[st] < 0:
				on[st] = xi
			case !set && on[st] >= 0:
				l.Rects = append(l.Rects, stateRect(l, st, on[st], xi, p))
				on[st] = -1
			}
		}
		for st, x0 := range on {
			if x0 >= 0 {
				l.Rects = append(l.Rects, stateRect(l, st, x0, endX, p))
			}
		}
	}
	// Deterministic order of rectangles within a lane (maps above).
	for i := range tl.Lanes {
		slices.SortStableFunc(tl.Lanes[i].Rects, func(a, b tlRect) int {
			switch {
			case a.X < b.X:
				return -1
			case a.X > b.X:
				return 1
			case a.Y < b.Y:
				return -1
			case a.Y > b.Y:
				return 1
			}
			return 0
		})
	}
	return tl
}

func stateRect(l *tlLane, st int, x0, x1 float64, p sim.Obj) tlRect {
	return tlRect{X: x0, Y: l.Y + 2 + float64(st)*tlStripeH, W: r1(max(x1-x0, 2)), H: tlStripeH - 1,
		Class: "state st-" + PageStates[st].Name, Title: ObjString(p) + " " + PageStates[st].Name}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
