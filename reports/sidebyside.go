package reports

import (
	_ "embed"
	"encoding/json"
	"html"
	"io"
	"strconv"
	"strings"
)

// SideBySideFile is the page of `simrun diff-versions --html`: one
// scenario on two eras at once, each in the explorer, aligned by
// scenario operation.
const SideBySideFile = "side-by-side.html"

//go:embed sidebyside.html.tmpl
var sideBySidePage string

type sideRun struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// sideRow is one scenario operation and the step at which each run began
// it (-1: that run never did).
type sideRow struct {
	Task  string `json:"task"`
	Op    string `json:"op"`
	N     int    `json:"n"`
	Steps []int  `json:"steps"`
}

// WriteSideBySide writes side-by-side.html for rep's runs (the same
// scenario on several eras; labels name them): a table of the scenario's
// operations with the step each run began it, and two frames of
// explorer.html (written next to it) that move together to an operation.
func WriteSideBySide(w io.Writer, title string, labels []string, rep *Report) error {
	var runs []sideRun
	var rows []sideRow
	index := map[string]int{}
	for i, r := range rep.Runs {
		id := "run-" + strconv.Itoa(i+1)
		label := r.Title
		if i < len(labels) {
			label = labels[i]
		}
		runs = append(runs, sideRun{ID: id, Label: label})
		if r.States == nil {
			continue
		}
		for _, m := range opMarks(r.States) {
			k, ok := index[m.Key()]
			if !ok {
				k = len(rows)
				index[m.Key()] = k
				steps := make([]int, len(rep.Runs))
				for j := range steps {
					steps[j] = -1
				}
				rows = append(rows, sideRow{Task: m.Task, Op: m.Op, N: m.N, Steps: steps})
			}
			rows[k].Steps[i] = m.Step
		}
	}
	data, err := json.Marshal(struct {
		Runs []sideRun `json:"runs"`
		Rows []sideRow `json:"rows"`
	}{runs, rows})
	if err != nil {
		return err
	}
	page := strings.NewReplacer("{{TITLE}}", html.EscapeString(title), "{{DATA}}", string(data)).Replace(sideBySidePage)
	_, err = io.WriteString(w, page)
	return err
}
