package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/wbsim/wbsim/sim"
)

// Progress on stderr: --progress auto (the default) draws a live line on
// a terminal, prints a line every linesEvery when stderr is not a
// terminal, and prints nothing when CI is set (CI logs want the summary,
// not a ticker). live, lines and off force a mode.
type progressMode int

const (
	progressOff progressMode = iota
	progressLive
	progressLines
)

const (
	liveEvery  = 250 * time.Millisecond
	linesEvery = 10 * time.Second
)

func progressModeFor(flagValue string, stderr io.Writer) (progressMode, error) {
	switch flagValue {
	case "auto", "":
		switch {
		case inCI():
			return progressOff, nil
		case isTerminal(stderr):
			return progressLive, nil
		}
		return progressLines, nil
	case "live":
		return progressLive, nil
	case "lines":
		return progressLines, nil
	case "off":
		return progressOff, nil
	}
	return 0, usagef("--progress wants auto, live, lines or off, got %q", flagValue)
}

type progressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	mode     progressMode
	label    string
	total    int // 0: unknown (dfs until exhausted)
	deadline time.Time
	last     sim.Progress
	have     bool
	drawn    bool // a live line is on screen
	stop     chan struct{}
	done     chan struct{}
}

func newProgress(w io.Writer, mode progressMode, label string, total int, deadline time.Time) *progressPrinter {
	p := &progressPrinter{w: w, mode: mode, label: label, total: total, deadline: deadline,
		stop: make(chan struct{}), done: make(chan struct{})}
	if mode == progressOff {
		close(p.done)
		return p
	}
	every := liveEvery
	if mode == progressLines {
		every = linesEvery
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

// update records a snapshot; sim calls it from its workers.
func (p *progressPrinter) update(pr sim.Progress) {
	p.mu.Lock()
	p.last, p.have = pr, true
	p.mu.Unlock()
}

func (p *progressPrinter) line() string {
	pr := p.last
	s := fmt.Sprintf("%s: %d", p.label, pr.Done)
	total := pr.Total
	if p.total == 0 {
		total = 0
	}
	if total > 0 {
		s += fmt.Sprintf("/%d schedules (%.0f%%)", total, 100*float64(pr.Done)/float64(total))
	} else {
		s += " schedules"
	}
	rate := pr.Rate()
	prec := 0
	if rate < 10 {
		prec = 1 // slow programs: "0.4 schedules/s", not "0"
	}
	s += fmt.Sprintf(", %.*f schedules/s, %d failure", prec, rate, pr.Failures)
	if pr.Failures != 1 {
		s += "s"
	}
	if total > 0 && rate > 0 {
		eta := time.Duration(float64(total-pr.Done) / rate * float64(time.Second))
		if !p.deadline.IsZero() {
			eta = min(eta, time.Until(p.deadline))
		}
		s += ", ETA " + eta.Round(time.Second).String()
	} else if !p.deadline.IsZero() {
		s += ", time left " + time.Until(p.deadline).Round(time.Second).String()
	}
	return s
}

func (p *progressPrinter) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.have {
		return
	}
	if p.mode == progressLive {
		fmt.Fprintf(p.w, "\r\033[K%s", p.line())
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, p.line())
}

// println prints a message, moving the live line out of the way.
func (p *progressPrinter) println(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// finish stops the ticker and clears the live line.
func (p *progressPrinter) finish() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
