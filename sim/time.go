package sim

import "strconv"

// Time is virtual time in nanoseconds since the world started.
type Time int64

// Common durations of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
)

// String prints the time with the largest unit that keeps it exact, so a
// trace reads "1.5ms" rather than "1500000".
func (t Time) String() string {
	switch {
	case t == 0:
		return "0s"
	case t%Second == 0:
		return strconv.FormatInt(int64(t/Second), 10) + "s"
	case t%Millisecond == 0:
		return strconv.FormatInt(int64(t/Millisecond), 10) + "ms"
	case t%Microsecond == 0:
		return strconv.FormatInt(int64(t/Microsecond), 10) + "us"
	case t >= Millisecond || t <= -Millisecond:
		return strconv.FormatFloat(float64(t)/float64(Millisecond), 'f', -1, 64) + "ms"
	case t >= Microsecond || t <= -Microsecond:
		return strconv.FormatFloat(float64(t)/float64(Microsecond), 'f', -1, 64) + "us"
	}
	return strconv.FormatInt(int64(t), 10) + "ns"
}
