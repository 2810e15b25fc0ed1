package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/wbsim/wbsim/internal/lex"
)

// Time is virtual time in nanoseconds since the world started.
type Time int64

// Common durations of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
)

var timeUnits = []struct {
	name string
	ns   int64
}{{"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}}

// String prints the time exactly, in the largest unit not greater than it,
// with a decimal fraction where needed: "1.5s", "250us", "0s". ParseTime
// reads it back; fault plans and scenario files use the same form.
func (t Time) String() string {
	ns := int64(t)
	switch {
	case ns == 0:
		return "0s"
	case ns == math.MinInt64:
		return strconv.FormatInt(ns, 10) + "ns"
	case ns < 0:
		return "-" + Time(-ns).String()
	}
	for _, u := range timeUnits {
		if ns < u.ns {
			continue
		}
		s := strconv.FormatInt(ns/u.ns, 10)
		if f := ns % u.ns; f != 0 {
			digits := len(strconv.FormatInt(u.ns, 10)) - 1
			s += "." + strings.TrimRight(fmt.Sprintf("%0*d", digits, f), "0")
		}
		return s + u.name
	}
	panic("unreachable")
}

// ErrTimeSyntax is the error ParseTime returns for text that is not a
// duration at all; other errors describe a well-formed but unacceptable
// one ("is negative", "is too large ...").
var ErrTimeSyntax = errors.New("not a duration")

// ParseTime parses a duration such as 10ms, 1.5s, 250us or 100ns exactly:
// a decimal number and a unit, a whole number of nanoseconds, not negative,
// within int64.
func ParseTime(s string) (Time, error) {
	num, unit := s, int64(0)
	for _, u := range slices.Backward(timeUnits) { // "ms" before "s"
		if strings.HasSuffix(s, u.name) {
			num, unit = s[:len(s)-len(u.name)], u.ns
			break
		}
	}
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("is negative")
	}
	whole, frac, dot := strings.Cut(num, ".")
	if unit == 0 || !lex.AllDigits(whole) || (dot && !lex.AllDigits(frac)) {
		return 0, ErrTimeSyntax
	}
	tooLarge := errors.New("is too large (the limit is 9223372036.854775807s)")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/unit {
		return 0, tooLarge
	}
	ns := w * unit
	frac = strings.TrimRight(frac, "0")
	if frac != "" {
		if len(frac) > 9 {
			return 0, errors.New("is not a whole number of nanoseconds")
		}
		f, _ := strconv.ParseInt(frac, 10, 64) // < 1e9
		scale := int64(1)
		for range len(frac) {
			scale *= 10
		}
		// f/scale of a unit, exactly: f*unit < 1e18 fits.
		if (f*unit)%scale != 0 {
			return 0, errors.New("is not a whole number of nanoseconds")
		}
		add := f * unit / scale
		if ns > math.MaxInt64-add {
			return 0, tooLarge
		}
		ns += add
	}
	return Time(ns), nil
}
