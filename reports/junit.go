package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Error      *junitFailure   `xml:"error,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes junit.xml: one test case per program result (a
// planted race, scenario or bug seed, with each strategy or fix setting
// the command ran), failing when the result is not OK. A
// failure's text is its report; properties give the seed, the replay file
// and the schedule. Each case's time is its program result's Elapsed in
// seconds, the suite's their sum (0 when not known, as after a merge): the
// time attributes are the file's only non-deterministic part.
func WriteJUnit(w io.Writer, r *Result) error {
	s := junitSuite{Name: "wbsim " + r.Command}
	var total time.Duration
	for _, p := range r.Programs {
		c := junitCase{Name: p.Name(), Classname: "wbsim." + classOf(p), Time: junitSeconds(p.Elapsed)}
		total += p.Elapsed
		prop := func(k, v string) { c.Properties = append(c.Properties, junitProperty{k, v}) }
		prop("strategy", p.Strategy.Text)
		prop("seeds", fmt.Sprintf("%d..%d", p.Seeds.First, p.Seeds.First+uint64(max(p.Seeds.Count, 1))-1))
		prop("shards", p.Seeds.ShardText())
		prop("schedules", strconv.Itoa(p.Schedules))
		prop("expect", p.Expect)
		if p.ExpectFailure != "" {
			prop("expect-failure", p.ExpectFailure)
		}
		prop("verdict", p.Verdict())
		if p.Stopped != "" {
			prop("stopped", p.Stopped)
		}
		for i, f := range p.Failures {
			sfx := ""
			if i > 0 {
				sfx = "." + strconv.Itoa(i+1)
			}
			prop("seed"+sfx, strconv.FormatUint(f.Seed, 10))
			if f.Replay != "" {
				prop("replay"+sfx, f.Replay)
			}
		}
		if p.Minimal != nil && p.Minimal.Replay != "" {
			prop("replay.minimal", p.Minimal.Replay)
		}
		var text strings.Builder
		for i, f := range p.Failures {
			if i > 0 {
				text.WriteString("\n")
			}
			text.WriteString(f.Text())
		}
		for _, w := range p.Warnings {
			text.WriteString("warning: " + w + "\n")
		}
		switch p.Verdict() {
		case VerdictFail:
			s.Failures++
			var unexpected []FailureInfo
			for i := range p.Failures {
				if !p.IsExpected(&p.Failures[i]) && p.Expect != ExpectAny {
					unexpected = append(unexpected, p.Failures[i])
				}
			}
			switch {
			case p.Reproduced != nil && !*p.Reproduced:
				c.Failure = &junitFailure{Message: "the replay did not reproduce the recorded outcome", Type: "not-reproduced",
					Text: text.String()}
			case p.TraceDiff != "" && len(unexpected) == 0:
				c.Failure = &junitFailure{Message: "the narrated trace differs from the golden file " + p.TraceGolden,
					Type: "trace-diff", Text: p.TraceDiff}
			case len(unexpected) > 0:
				f := unexpected[0]
				msg := f.Summary
				if len(unexpected) > 1 {
					msg = fmt.Sprintf("%d unexpected failures; first: %s", len(unexpected), f.Summary)
				}
				c.Failure = &junitFailure{Message: msg, Type: f.Kind, Text: text.String()}
			default:
				want := "a failure"
				if p.ExpectFailure != "" {
					want = "failure " + p.ExpectFailure
				}
				c.Failure = &junitFailure{Message: fmt.Sprintf("expected %s; none found in %d schedules", want, p.Schedules),
					Type: "not-found", Text: "The program has a known bug that this exploration was expected to find.\n" + text.String()}
			}
		case VerdictIncomplete:
			s.Errors++
			typ := "incomplete-" + p.Stopped
			if p.Stopped == "" {
				typ = "incomplete-shard"
			}
			c.Error = &junitFailure{Message: "incomplete: " + p.Incomplete() + "; no verdict", Type: typ, Text: text.String()}
		default:
			if text.Len() > 0 {
				c.SystemOut = text.String()
			}
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	s.Time = junitSeconds(total)
	out := junitSuites{Name: "wbsim", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitSeconds is a JUnit time attribute: seconds, to the millisecond.
func junitSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

func classOf(p ProgramResult) string {
	for _, t := range p.Tags {
		if t == "planted" {
			return "planted"
		}
	}
	return "program"
}
