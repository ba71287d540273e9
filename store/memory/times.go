package memory

import (
	"math"
	"time"
)

// noTime stands for the zero time.Time, which unix nanoseconds cannot
// hold. It sorts before every real time, so a zero expiry is in the past.
const noTime = math.MinInt64

// Unix nanoseconds end in 2262; later times are kept as the last one.
const maxSeconds = math.MaxInt64/int64(time.Second) - 1

func nanos(t time.Time) int64 {
	switch sec := t.Unix(); {
	case t.IsZero():
		return noTime
	case sec > maxSeconds:
		return math.MaxInt64
	case sec < -maxSeconds:
		return noTime + 1
	}
	return t.UnixNano()
}

func toTime(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// addNanos returns now+d, stopping at the largest time instead of wrapping.
func addNanos(now int64, d time.Duration) int64 {
	if now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}
