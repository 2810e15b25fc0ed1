package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func cmdPlot(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("plot", "[-bench FILE] [-strategies FILE] [-out DIR]",
		"Draws OUT/scale.svg (time per page against file size, from BenchmarkScale's\n"+
			"pages=N sub-benchmarks in go test -bench output, median over the runs) and\n"+
			"OUT/strategies.svg (schedules to find each bug seed per strategy, from the\n"+
			"data file of \"wbbench strategies\"). An empty file name skips its plot.")
	bench := fs.String("bench", "docs/bench/scale.txt", "go test -bench output with BenchmarkScale")
	strat := fs.String("strategies", "docs/bench/strategies.json", "the strategies data file")
	out := fs.String("out", "docs/bench", "the directory to write the SVG files to")
	if code, ok := parseFlags(fs, args, 0, stdout, stderr); !ok {
		return code
	}
	if err := plotAll(*bench, *strat, *out, stdout); err != nil {
		return fail(stderr, "plot", err)
	}
	return exitOK
}

// plotAll draws the plots whose input is named and writes them to out.
func plotAll(bench, strat, out string, stdout io.Writer) error {
	type svgPlot struct {
		name string
		p    *plot.Plot
		w, h vg.Length
	}
	var plots []svgPlot
	if bench != "" {
		b, err := readBenchFile(bench)
		if err != nil {
			return err
		}
		p, err := scalePlot(b)
		if err != nil {
			return fmt.Errorf("%s: %v", bench, err)
		}
		plots = append(plots, svgPlot{"scale.svg", p, 6 * vg.Inch, 4 * vg.Inch})
	}
	if strat != "" {
		st, err := readStudy(strat)
		if err != nil {
			return err
		}
		p, err := strategiesPlot(st)
		if err != nil {
			return fmt.Errorf("%s: %v", strat, err)
		}
		plots = append(plots, svgPlot{"strategies.svg", p, 7 * vg.Inch, vg.Length(len(st.Bugs))*strategiesRowHeight + 1.5*vg.Inch})
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, pl := range plots {
		path := filepath.Join(out, pl.name)
		if err := pl.p.Save(pl.w, pl.h, path); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return nil
}

func readStudy(path string) (*Study, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st Study
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &st, nil
}

// scalePoint is one size of BenchmarkScale.
type scalePoint struct {
	pages     float64
	nsPerPage float64 // median over the runs
}

// scalePoints collects BenchmarkScale's "pages=N" sub-benchmarks' ns/page,
// in ascending size.
func scalePoints(b benchSet) ([]scalePoint, error) {
	var pts []scalePoint
	for name := range b { // sorted below
		arg, ok := strings.CutPrefix(name, "Scale/pages=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("benchmark %s: the page count is not a positive number", name)
		}
		m, err := b.median(name, "ns/page")
		if err != nil {
			return nil, err
		}
		pts = append(pts, scalePoint{float64(n), m})
	}
	if len(pts) == 0 {
		return nil, errors.New("no BenchmarkScale/pages=N results")
	}
	slices.SortFunc(pts, func(a, b scalePoint) int { return cmp.Compare(a.pages, b.pages) })
	return pts, nil
}

// scalePlot is time per page against file size: a line over the sizes, and
// the scale target's limit, twice the smallest size's time per page.
func scalePlot(b benchSet) (*plot.Plot, error) {
	pts, err := scalePoints(b)
	if err != nil {
		return nil, err
	}
	xy := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xy[i] = plotter.XY{X: pt.pages, Y: pt.nsPerPage}
	}
	p := plot.New()
	p.Title.Text = "Dirty a file and fsync it: time per page (median)"
	p.X.Label.Text = "file size, 4 KiB pages"
	p.Y.Label.Text = "ns per page"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = siLogTicks{}
	p.X.Min, p.X.Max = pts[0].pages/1.5, pts[len(pts)-1].pages*1.5
	line, points, err := plotter.NewLinePoints(xy)
	if err != nil {
		return nil, err
	}
	line.Color, points.Color = plotutil.Color(0), plotutil.Color(0)
	limit := 2 * pts[0].nsPerPage
	target, err := plotter.NewLine(plotter.XYs{{X: pts[0].pages, Y: limit}, {X: pts[len(pts)-1].pages, Y: limit}})
	if err != nil {
		return nil, err
	}
	target.Color = plotutil.Color(1)
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(plotter.NewGrid(), line, points, target)
	p.Legend.Add("BenchmarkScale", line, points)
	p.Legend.Add("target limit: 2× the smallest size", target)
	p.Y.Min = 0
	p.Y.Max = 1.15 * max(limit, slices.MaxFunc(pts, func(a, b scalePoint) int {
		return cmp.Compare(a.nsPerPage, b.nsPerPage)
	}).nsPerPage)
	return p, nil
}

// siLogTicks are plot.LogTicks labelled 1, 10, 100, 1k, 10k, ..., 1M.
type siLogTicks struct{}

func (siLogTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.LogTicks{}.Ticks(min, max)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = siLabel(t.Value)
		}
	}
	return ticks
}

func siLabel(v float64) string {
	for _, u := range []struct {
		f float64
		s string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.f {
			return strconv.FormatFloat(v/u.f, 'f', -1, 64) + u.s
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// strategiesRowHeight is the height of one bug's group of bars.
const strategiesRowHeight = 0.5 * vg.Inch

// clampedLog is a log scale that draws values at or below the axis
// minimum at the minimum, so that bars (which start at 0) can use it.
type clampedLog struct{}

func (clampedLog) Normalize(min, max, x float64) float64 {
	return plot.LogScale{}.Normalize(min, max, math.Max(x, min))
}

// strategiesPlot is schedules to find each bug per strategy: horizontal
// bars grouped by bug (the first bug at the top), a log axis of the
// median schedules; no bar where no seed found the bug within the budget.
func strategiesPlot(st *Study) (*plot.Plot, error) {
	if len(st.Bugs) == 0 || len(st.Strategies) == 0 {
		return nil, errors.New("no bugs or no strategies in the study")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Schedules to find each bug seed: median over the seeds that found it (of %d)", st.Seeds)
	p.X.Label.Text = "schedules to the first failure (log scale)"
	p.X.Scale = clampedLog{}
	p.X.Tick.Marker = siLogTicks{}
	p.Add(plotter.NewGrid())
	n := len(st.Bugs)
	names := make([]string, n)
	top := 1.0
	width := strategiesRowHeight * 0.7 / vg.Length(len(st.Strategies))
	for si, s := range st.Strategies {
		vals := make(plotter.Values, n)
		for bi, b := range st.Bugs {
			names[n-1-bi] = b.ID
			if si >= len(b.Results) || b.Results[si].Strategy != s {
				return nil, fmt.Errorf("bug %s: results do not follow the strategies %v", b.ID, st.Strategies)
			}
			if r := b.Results[si]; r.Found > 0 {
				vals[n-1-bi] = r.Median
				top = max(top, r.Median)
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.Horizontal = true
		bars.Color = plotutil.Color(si)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(len(st.Strategies)-1)/2-float64(si)) * width
		p.Add(bars)
		p.Legend.Add(s, bars)
	}
	p.NominalY(names...)
	// Bars start at half a schedule, so that a median of 1 shows; the
	// right-hand room keeps the legend off the bars.
	p.X.Min, p.X.Max = 0.5, top*50
	return p, nil
}
