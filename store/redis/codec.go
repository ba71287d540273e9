package redis

import (
	"errors"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// A record is kept as one string value, so that reading it (the hot path)
// is one GET and the Lua scripts can read and copy it without a second
// format. The layout is a header of decimal numbers followed by the four
// strings, each measured in the header, so any bytes at all (NUL, invalid
// UTF-8, separators) come back exactly:
//
//	<spent 0|1><kind digit>,<expires>,<issued>,<chainEnd>,<authTime>,<len S>,<len P>,<len D>,<len F>;<S><P><D><F>
//
// Times are Unix milliseconds, 0 for the zero time. The first byte is the
// spent flag so that Rotate marks a record spent by rewriting one byte.
// The Lua side of this format is recordPattern in scripts.go.

var errCorrupt = errors.New("redis: stored record is corrupt")

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func encode(r store.Record) []byte {
	b := make([]byte, 0, 80+len(r.Subject)+len(r.Project)+len(r.Device)+len(r.Family))
	b = append(b, '0', '0'+byte(r.Kind), ',')
	for _, ms := range [...]int64{millis(r.ExpiresAt), millis(r.IssuedAt), millis(r.ChainEnd), millis(r.AuthTime)} {
		b = strconv.AppendInt(b, ms, 10)
		b = append(b, ',')
	}
	for i, s := range [...]string{r.Subject, r.Project, r.Device, r.Family} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		if i < 3 {
			b = append(b, ',')
		}
	}
	b = append(b, ';')
	b = append(b, r.Subject...)
	b = append(b, r.Project...)
	b = append(b, r.Device...)
	b = append(b, r.Family...)
	return b
}

// decoded is a record as read back, with the state that is not part of
// store.Record.
type decoded struct {
	rec     store.Record
	spent   bool
	expires int64 // ms, for comparing with the clock without a time.Time
}

func decode(v string) (decoded, error) {
	var d decoded
	if len(v) < 3 || (v[0] != '0' && v[0] != '1') || v[1] < '0' || v[1] > '9' || v[2] != ',' {
		return d, errCorrupt
	}
	d.spent = v[0] == '1'
	d.rec.Kind = store.Kind(v[1] - '0')
	rest := v[3:]
	var nums [8]int64
	for i := range nums {
		end := byte(',')
		if i == len(nums)-1 {
			end = ';'
		}
		j := 0
		for j < len(rest) && rest[j] != end {
			j++
		}
		if j == len(rest) {
			return d, errCorrupt
		}
		n, err := strconv.ParseInt(rest[:j], 10, 64)
		if err != nil || (i >= 4 && n < 0) {
			return d, errCorrupt
		}
		nums[i] = n
		rest = rest[j+1:]
	}
	if int64(len(rest)) != nums[4]+nums[5]+nums[6]+nums[7] {
		return d, errCorrupt
	}
	d.expires = nums[0]
	d.rec.ExpiresAt = fromMillis(nums[0])
	d.rec.IssuedAt = fromMillis(nums[1])
	d.rec.ChainEnd = fromMillis(nums[2])
	d.rec.AuthTime = fromMillis(nums[3])
	s := [4]string{}
	for i := range s {
		s[i], rest = rest[:nums[4+i]], rest[nums[4+i]:]
	}
	d.rec.Subject, d.rec.Project, d.rec.Device, d.rec.Family = s[0], s[1], s[2], s[3]
	return d, nil
}
