package sim

import (
	"errors"
	"math"
	"testing"

	"pgregory.net/rapid"
)

func TestTimeText(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		text string
	}{
		{0, "0s"}, {1, "1ns"}, {999, "999ns"}, {1000, "1us"}, {1001, "1.001us"},
		{250e3, "250us"}, {1e6, "1ms"}, {1500e6, "1.5s"}, {10e9, "10s"},
		{1_000_000_001, "1.000000001s"}, {math.MaxInt64, "9223372036.854775807s"},
	} {
		if got := Time(tc.ns).String(); got != tc.text {
			t.Errorf("Time(%d).String() = %q, want %q", tc.ns, got, tc.text)
		}
		if got, err := ParseTime(tc.text); int64(got) != tc.ns || err != nil {
			t.Errorf("ParseTime(%q) = %d, %v", tc.text, got, err)
		}
	}
	for in, want := range map[string]int64{"1.50ms": 1500e3, "0.5us": 500, "007ms": 7e6, "2.000s": 2e9} {
		if got, err := ParseTime(in); int64(got) != want || err != nil {
			t.Errorf("ParseTime(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "s", "ms", ".5s", "1.s", "1e3ns", "1.5", "1,5s", "1_000ns", "+1s", "0x10ns", "1h", "1m"} {
		if _, err := ParseTime(in); !errors.Is(err, ErrTimeSyntax) {
			t.Errorf("ParseTime(%q) error %v, want ErrTimeSyntax", in, err)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		ns := rapid.Int64Min(0).Draw(t, "ns")
		if got, err := ParseTime(Time(ns).String()); int64(got) != ns || err != nil {
			t.Fatalf("%d -> %q -> %d %v", ns, Time(ns).String(), got, err)
		}
	})
}
