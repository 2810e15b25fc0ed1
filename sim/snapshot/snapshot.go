// Package snapshot records, step by step, the state of a simulated
// machine as plain tables, for the report's step-through explorer. It
// knows nothing of pages or disks: a model-side capture function turns
// the model into named tables of rows of text cells, and the Recorder
// keeps them compactly, as keyframes plus the rows that changed.
//
// Recording happens only when a run is replayed for a report; explored
// schedules never record.
package snapshot

import (
	"slices"
	"strconv"
	"strings"
)

// Col is a column of a table: its short name and a sentence for a
// learner (shown on hover).
type Col struct {
	Name string `json:"name"`
	Help string `json:"help,omitempty"`
}

// Table is one table of state at one step.
type Table struct {
	Name string // e.g. "pages of /f"; tables are matched by name
	Help string // what the table shows
	Cols []Col
	Rows []Row // in display order
	// Omitted says what was left out of Rows (a cap), or "".
	Omitted string
}

// Row is a row of a table, known across steps by its key.
type Row struct {
	// Key names the row across steps; the explorer orders rows by key,
	// so keys sort as the rows should show (zero-padded numbers).
	Key   string
	Cells []string
}

// State is every table at one step.
type State []Table

// TableInfo is a table's fixed description in a Log.
type TableInfo struct {
	Name string `json:"name"`
	Help string `json:"help,omitempty"`
	Cols []Col  `json:"cols"`
}

// Change is one row of a frame: the row's cells, or nil when the row is
// gone. A keyframe lists every row.
type Change struct {
	Table int
	Key   string
	Cells []string
}

// Frame is the state at one step: a keyframe (every row, in order) or
// the changes since the previous frame.
type Frame struct {
	Key     bool
	Changes []Change
	Omitted map[int]string // table -> what its cap left out (keyframes and changes)
}

// Log is a recorded run: frame i is the state when event i of the trace
// was recorded; the last frame is the state when the run ended.
type Log struct {
	Tables []TableInfo
	Frames []Frame
	// Truncated says why recording stopped early ("" if it did not):
	// frames after the last one are not recorded.
	Truncated string
	// Cells counts the cells stored, keyframes and changes together.
	Cells int
}

// Limits bound a recording.
type Limits struct {
	MaxFrames int // steps recorded (default DefaultMaxFrames)
	MaxCells  int // cells stored in all (default DefaultMaxCells)
	Keyframe  int // a keyframe every this many frames (default DefaultKeyframe)
}

// Defaults of Limits: a minimal failing schedule has a few hundred to a
// few thousand steps, and a page of about 16 cells a row.
const (
	DefaultMaxFrames = 20_000
	DefaultMaxCells  = 3_000_000
	DefaultKeyframe  = 500
)

// Recorder builds a Log, one frame per call of Step.
type Recorder struct {
	// Capture reads the model's state. It must only read: no scheduling
	// point, no trace event, no random draw.
	Capture func() State
	Limits  Limits

	log   Log
	index map[string]int              // table name -> index in log.Tables
	prev  map[int]map[string][]string // table -> row key -> last cells
	stop  bool
}

func (r *Recorder) limits() Limits {
	l := r.Limits
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	if l.MaxCells <= 0 {
		l.MaxCells = DefaultMaxCells
	}
	if l.Keyframe <= 0 {
		l.Keyframe = DefaultKeyframe
	}
	return l
}

// Step records the state as frame n (the index of the event being
// recorded). Frames skipped since the last call (an event whose
// observers did not all run, because one of them failed the run) are
// recorded as unchanged.
func (r *Recorder) Step(n int) {
	if r.stop || r.Capture == nil || n < len(r.log.Frames) {
		return
	}
	l := r.limits()
	for len(r.log.Frames) < n {
		r.log.Frames = append(r.log.Frames, Frame{})
	}
	switch {
	case n >= l.MaxFrames:
		r.log.Truncated = "the state is recorded for the first " + strconv.Itoa(l.MaxFrames) + " steps only"
		r.stop = true
		return
	case r.log.Cells >= l.MaxCells:
		r.log.Truncated = "the state is recorded up to step " + strconv.Itoa(n) + " only: the report's size cap (" + strconv.Itoa(l.MaxCells) + " cells) was reached"
		r.stop = true
		return
	}
	r.add(r.Capture(), n%l.Keyframe == 0)
}

// Finish records the final state (after the last event) and returns the
// log.
func (r *Recorder) Finish() *Log {
	r.Step(len(r.log.Frames))
	return &r.log
}

func (r *Recorder) add(st State, key bool) {
	if r.index == nil {
		r.index, r.prev = map[string]int{}, map[int]map[string][]string{}
	}
	f := Frame{Key: key}
	seen := map[int]bool{}
	for _, t := range st {
		ti, ok := r.index[t.Name]
		if !ok {
			ti = len(r.log.Tables)
			r.index[t.Name] = ti
			r.log.Tables = append(r.log.Tables, TableInfo{Name: t.Name, Help: t.Help, Cols: t.Cols})
		}
		seen[ti] = true
		if t.Omitted != "" {
			if f.Omitted == nil {
				f.Omitted = map[int]string{}
			}
			f.Omitted[ti] = t.Omitted
		}
		old := r.prev[ti]
		now := make(map[string][]string, len(t.Rows))
		for _, row := range t.Rows {
			now[row.Key] = row.Cells
			if p, ok := old[row.Key]; key || !ok || !slices.Equal(p, row.Cells) {
				f.Changes = append(f.Changes, Change{Table: ti, Key: row.Key, Cells: row.Cells})
				r.log.Cells += len(row.Cells) + 1
			}
		}
		if !key {
			for k := range old {
				if _, ok := now[k]; !ok {
					f.Changes = append(f.Changes, Change{Table: ti, Key: k})
					r.log.Cells++
				}
			}
		}
		r.prev[ti] = now
	}
	// A table that vanished (a file unlinked) loses its rows.
	for ti, old := range r.prev {
		if seen[ti] {
			continue
		}
		if !key {
			for k := range old {
				f.Changes = append(f.Changes, Change{Table: ti, Key: k})
			}
		}
		delete(r.prev, ti)
	}
	// Map order is random: the frame lists changes by table, then key.
	slices.SortFunc(f.Changes, func(a, b Change) int {
		if a.Table != b.Table {
			return a.Table - b.Table
		}
		return strings.Compare(a.Key, b.Key)
	})
	r.log.Frames = append(r.log.Frames, f)
}
