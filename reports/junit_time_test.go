package reports

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestJUnitTime: every test case carries its program result's wall-clock
// time in seconds, and the suite their sum; an unknown time (a merged
// result) is 0.
func TestJUnitTime(t *testing.T) {
	r := NewResult("explore")
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"a", 1234 * time.Millisecond}, {"b", 250 * time.Microsecond}, {"merged", 0}} {
		pr := ProgramResult{Program: p.name, Expect: ExpectPass, Schedules: 1, Failures: []FailureInfo{}, Elapsed: p.d}
		pr.Judge()
		r.Programs = append(r.Programs, pr)
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Time  *string `xml:"time,attr"`
			Cases []struct {
				Time *string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	type times struct {
		Suite string
		Cases []string
	}
	got := times{}
	for _, s := range doc.Suites {
		if s.Time != nil {
			got.Suite = *s.Time
		}
		for _, c := range s.Cases {
			if c.Time == nil {
				got.Cases = append(got.Cases, "(none)")
			} else {
				got.Cases = append(got.Cases, *c.Time)
			}
		}
	}
	if diff := cmp.Diff(times{"1.234", []string{"1.234", "0.000", "0.000"}}, got); diff != "" {
		t.Errorf("junit.xml times (-want +got):\n%s\n%s", diff, buf.String())
	}
}
