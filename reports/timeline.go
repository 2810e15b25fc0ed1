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

// tlBuilder holds what the steps of buildTimeline share.
type tlBuilder struct {
	r        *Run
	tl       *timeline
	evs      []sim.Event // the events drawn
	xs       []float64   // each event's position on the compressed axis, unscaled
	scale    float64
	endX     float64
	laneOf   map[int32]int   // task id -> lane
	pages    []sim.Obj       // page lanes, in order
	pageLane map[sim.Obj]int // page -> lane
}

// buildTimeline lays out a run's timeline.
func buildTimeline(r *Run) *timeline {
	b := &tlBuilder{r: r, tl: &timeline{LabelW: tlLabelW, Legend: PageStates}}
	b.chooseEvents()
	b.layOutAxis()
	b.addTicks()
	b.tl.AxisY = tlAxisH
	y := b.addTaskLanes(tlAxisH + 4)
	y = b.addPageLanes(y)
	b.tl.Height = y + 4
	b.drawTaskLanes()
	b.drawPageLanes()
	b.sortRects()
	return b.tl
}

// chooseEvents keeps the last tlMaxEvents events of a long run.
func (b *tlBuilder) chooseEvents() {
	b.evs = b.r.Events
	if len(b.evs) > tlMaxEvents {
		b.tl.Truncated = len(b.evs) - tlMaxEvents
		b.evs = b.evs[len(b.evs)-tlMaxEvents:]
	}
}

// step is the smallest positive gap between instants: one step.
func (b *tlBuilder) step() sim.Time {
	var unit sim.Time
	evs := b.evs
	for i := 1; i < len(evs); i++ {
		if d := evs[i].Time - evs[i-1].Time; d > 0 && (unit == 0 || d < unit) {
			unit = d
		}
	}
	if unit == 0 {
		unit = 1
	}
	return unit
}

// layOutAxis places each event on the compressed time axis, marks the cut
// gaps, and scales the axis to the timeline's width.
func (b *tlBuilder) layOutAxis() {
	tl, evs := b.tl, b.evs
	unit := b.step()
	b.xs = make([]float64, len(evs))
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
		b.xs[i] = x
	}
	end := x + tlStepPx
	// Short runs are stretched to a readable width, long ones squeezed.
	b.scale = 1.0
	switch {
	case end > tlMaxWidth:
		b.scale = tlMaxWidth / end
	case end < tlMinWidth:
		b.scale = min(tlMinWidth/end, 6)
	}
	b.endX = b.X(end)
	for i := range tl.Breaks {
		tl.Breaks[i] = b.X(tl.Breaks[i])
	}
	tl.Width = b.endX + 16
}

// X maps a position on the unscaled axis to the drawing.
func (b *tlBuilder) X(v float64) float64 { return r1(tlLabelW + 8 + v*b.scale) }

// addTicks labels the axis: at most one label per 90 px, at instants.
func (b *tlBuilder) addTicks() {
	evs := b.evs
	lastTick := -1e9
	for i := range evs {
		if i > 0 && evs[i].Time == evs[i-1].Time {
			continue
		}
		if xi := b.X(b.xs[i]); xi-lastTick >= 90 {
			b.tl.Ticks = append(b.tl.Ticks, tlTick{X: xi, Label: evs[i].Time.String()})
			lastTick = xi
		}
	}
}

// addTaskLanes adds the task lanes from y down, by id, for the tasks with
// events to show: a task that only entered and left functions and exited
// (a flusher with nothing to do), or whose events fell in a long run's
// left-out start, would be an empty lane. It returns the y below them.
func (b *tlBuilder) addTaskLanes(y float64) float64 {
	tl := b.tl
	active := map[int32]bool{}
	for i := range b.evs {
		switch b.evs[i].Kind {
		case sim.KindEnter, sim.KindLeave, sim.KindExit:
		default:
			active[b.evs[i].Task] = true
		}
	}
	b.laneOf = map[int32]int{}
	for _, t := range b.r.Tasks {
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
		b.laneOf[t.ID] = len(tl.Lanes)
		tl.Lanes = append(tl.Lanes, tlLane{Kind: "task", Name: t.Name, Label: label, Y: y, H: tlTaskH, LabelY: y + tlTaskH/2 + 4})
		y += tlTaskH + 4
	}
	return y
}

// addPageLanes adds the page lanes from y down, sorted by (A, B, Name),
// and returns the y below them.
func (b *tlBuilder) addPageLanes(y float64) float64 {
	tl := b.tl
	seenPage := map[sim.Obj]bool{}
	for i := range b.evs {
		if o := b.evs[i].Obj; o.Class == PageClass && !seenPage[o] {
			seenPage[o] = true
			b.pages = append(b.pages, o)
		}
	}
	slices.SortFunc(b.pages, func(p, q sim.Obj) int {
		switch {
		case p.A != q.A:
			return cmpInt(p.A, q.A)
		case p.B != q.B:
			return cmpInt(p.B, q.B)
		case p.Name < q.Name:
			return -1
		case p.Name > q.Name:
			return 1
		}
		return 0
	})
	b.pageLane = map[sim.Obj]int{}
	pageH := tlStripeH*float64(len(PageStates)) + 4
	for _, p := range b.pages {
		b.pageLane[p] = len(tl.Lanes)
		tl.Lanes = append(tl.Lanes, tlLane{Kind: "page", Name: ObjString(p), Label: ObjString(p), Y: y, H: pageH, LabelY: y + pageH/2 + 4})
		y += pageH + 4
	}
	return y
}

func (b *tlBuilder) title(ev *sim.Event) string {
	return fmt.Sprintf("%s #%d %s: %s", ev.Time, ev.Step, b.r.TaskName(ev.Task), describe(ev))
}

// openCall is a kernel call entered and not yet left.
type openCall struct {
	x  float64
	fn string
}

// taskSpans is the state of drawTaskLanes' walk over the events.
type taskSpans struct {
	blockedAt   map[int32]float64
	blockedWhat map[int32]string
	calls       map[int32][]openCall
	runStart    float64
	runTask     int32
}

// drawTaskLanes draws the task lanes: running segments, blocked spans,
// kernel-call spans and marks, the failure line, and the page lanes' marks.
func (b *tlBuilder) drawTaskLanes() {
	sp := &taskSpans{blockedAt: map[int32]float64{}, blockedWhat: map[int32]string{}, calls: map[int32][]openCall{}, runTask: -1}
	for i := range b.evs {
		b.drawEvent(sp, &b.evs[i], b.X(b.xs[i]))
	}
	b.flushRun(sp, b.endX)
	b.closeSpans(sp)
}

// flushRun draws the running segment of sp.runTask up to upto.
func (b *tlBuilder) flushRun(sp *taskSpans, upto float64) {
	if li, ok := b.laneOf[sp.runTask]; ok && sp.runTask >= 0 && upto > sp.runStart {
		l := &b.tl.Lanes[li]
		l.Rects = append(l.Rects, tlRect{X: sp.runStart, Y: l.Y + 2, W: r1(upto - sp.runStart), H: 10, Class: "run",
			Title: b.r.TaskName(sp.runTask) + " runs"})
	}
}

// drawEvent draws what one event, at xi, adds to the lanes.
func (b *tlBuilder) drawEvent(sp *taskSpans, ev *sim.Event, xi float64) {
	tl := b.tl
	if ev.Task >= 0 && ev.Task != sp.runTask {
		b.flushRun(sp, xi)
		sp.runStart, sp.runTask = xi, ev.Task
	}
	li, isTask := b.laneOf[ev.Task]
	switch ev.Kind {
	case sim.KindBlock:
		sp.blockedAt[ev.Task] = xi
		sp.blockedWhat[ev.Task] = ev.Op + " " + ObjString(ev.Obj)
	case sim.KindWake:
		if ev.Obj.Class == "task" {
			id := int32(ev.Obj.A)
			if bx, ok := sp.blockedAt[id]; ok {
				if wl, ok := b.laneOf[id]; ok {
					l := &tl.Lanes[wl]
					l.Rects = append(l.Rects, tlRect{X: bx, Y: l.Y + 14, W: r1(max(xi-bx, 1)), H: 6, Class: "blocked",
						Title: b.r.TaskName(id) + " sleeps in " + sp.blockedWhat[id]})
				}
				delete(sp.blockedAt, id)
			}
		}
	case sim.KindEnter:
		fn := ev.Op
		if ev.Msg != "" { // Task.EnterAt's seed citation
			fn += " [" + ev.Msg + "]"
		}
		sp.calls[ev.Task] = append(sp.calls[ev.Task], openCall{xi, fn})
	case sim.KindLeave:
		st := sp.calls[ev.Task]
		if n := len(st); n > 0 && isTask {
			o := st[n-1]
			sp.calls[ev.Task] = st[:n-1]
			l := &tl.Lanes[li]
			d := float64(min(n-1, 2))
			l.Rects = append(l.Rects, tlRect{X: o.x, Y: l.Y + 22 + d*4, W: r1(max(xi-o.x, 2)), H: 4, Class: fmt.Sprintf("call d%d", int(d)),
				Title: o.fn})
		}
	}
	if isTask && ev.Kind != sim.KindEnter && ev.Kind != sim.KindLeave {
		l := &tl.Lanes[li]
		cls := "mark " + ev.Kind.String()
		l.Marks = append(l.Marks, tlMark{X: xi, Y1: l.Y, Y2: l.Y + 14, Class: cls, Title: b.title(ev)})
	}
	if ev.Kind == sim.KindFail && !tl.HasFail {
		tl.HasFail, tl.FailX, tl.FailTitle = true, xi, b.title(ev)
	}
	if pl, ok := b.pageLane[ev.Obj]; ok {
		l := &tl.Lanes[pl]
		l.Marks = append(l.Marks, tlMark{X: xi, Y1: l.Y, Y2: l.Y + l.H, Class: "mark page-op", Title: b.title(ev)})
	}
}

// closeSpans draws the sleeps and calls still open at the end to the end.
func (b *tlBuilder) closeSpans(sp *taskSpans) {
	endX := b.endX
	for id, bx := range sp.blockedAt {
		if wl, ok := b.laneOf[id]; ok {
			l := &b.tl.Lanes[wl]
			l.Rects = append(l.Rects, tlRect{X: bx, Y: l.Y + 14, W: r1(max(endX-bx, 1)), H: 6, Class: "blocked",
				Title: b.r.TaskName(id) + " sleeps in " + sp.blockedWhat[id] + " until the end"})
		}
	}
	for id, st := range sp.calls {
		if li, ok := b.laneOf[id]; ok {
			for n, o := range st {
				l := &b.tl.Lanes[li]
				d := float64(min(n, 2))
				l.Rects = append(l.Rects, tlRect{X: o.x, Y: l.Y + 22 + d*4, W: r1(max(endX-o.x, 2)), H: 4, Class: fmt.Sprintf("call d%d", int(d)),
					Title: o.fn + " (unfinished)"})
			}
		}
	}
}

// drawPageLanes draws the page lanes: one stripe per state, on while the
// flag is set.
func (b *tlBuilder) drawPageLanes() {
	for _, p := range b.pages {
		l := &b.tl.Lanes[b.pageLane[p]]
		on := make([]float64, len(PageStates))
		for k := range on {
			on[k] = -1
		}
		for i := range b.evs {
			ev := &b.evs[i]
			if ev.Obj != p {
				continue
			}
			st, set, ok := pageChange(ev)
			if !ok {
				continue
			}
			xi := b.X(b.xs[i])
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
				l.Rects = append(l.Rects, stateRect(l, st, x0, b.endX, p))
			}
		}
	}
}

// sortRects puts the rectangles of each lane in a deterministic order
// (the spans still open at the end come from maps).
func (b *tlBuilder) sortRects() {
	for i := range b.tl.Lanes {
		slices.SortStableFunc(b.tl.Lanes[i].Rects, func(p, q tlRect) int {
			switch {
			case p.X < q.X:
				return -1
			case p.X > q.X:
				return 1
			case p.Y < q.Y:
				return -1
			case p.Y > q.Y:
				return 1
			}
			return 0
		})
	}
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
