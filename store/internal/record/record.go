package record

import (
	_ "embed"
	"errors"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// Version is the first byte of every record this package writes.
const Version = '3'

// Lua is the Lua side of the format, for Redis scripts (Lua 5.1). It
// defines three local functions:
//
//	parse(v)        the record table of v, or nil when v is not a record;
//	                reads versions 1 and 2 too
//	encode(r)       v of a record table
//	successor(r, issued, expires)
//	                the live record that rotating r stores: every field
//	                copied but the times it is given, and never touched
//
// A record table has spent (boolean), kind, assurance, expires, issued,
// chainEnd, authTime, lastSeen (numbers; times in ms, 0 for none),
// subject, project, device and family (strings).
//
//go:embed record.lua
var Lua string

// ErrCorrupt is returned by [Decode] for bytes that are not a record.
var ErrCorrupt = errors.New("record: stored record is corrupt")

// MaxMillis bounds the times of the format: the largest integer Lua's
// numbers (float64) hold exactly. Times beyond ±MaxMillis are written as
// ±MaxMillis.
const MaxMillis = 1<<53 - 1

// Millis returns t as the format writes it: Unix milliseconds, 0 for the
// zero time, held to ±MaxMillis.
func Millis(t time.Time) int64 {
	// Seconds are checked first, with a second to spare, because
	// UnixMilli overflows for times far enough out.
	const maxSec = MaxMillis/1000 + 1
	switch sec := t.Unix(); {
	case t.IsZero():
		return 0
	case sec > maxSec:
		return MaxMillis
	case sec < -maxSec:
		return -MaxMillis
	}
	return max(-MaxMillis, min(MaxMillis, t.UnixMilli()))
}

// Time is the inverse of Millis.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

const hexDigits = "0123456789abcdef"

// Append appends the encoding of r, marked spent or not, to b.
func Append(b []byte, r store.Record, spent bool) []byte {
	flag := byte('0')
	if spent {
		flag = '1'
	}
	b = append(b, Version, flag,
		hexDigits[r.Kind>>4], hexDigits[r.Kind&15],
		hexDigits[r.Assurance>>4], hexDigits[r.Assurance&15], ',')
	for _, ms := range [...]int64{Millis(r.ExpiresAt), Millis(r.IssuedAt), Millis(r.ChainEnd), Millis(r.AuthTime), Millis(r.LastSeen)} {
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

// Encode returns the encoding of r, marked spent or not.
func Encode(r store.Record, spent bool) []byte {
	n := 96 + len(r.Subject) + len(r.Project) + len(r.Device) + len(r.Family)
	return Append(make([]byte, 0, n), r, spent)
}

// Decoded is a record as read back, with the state that is not part of
// store.Record.
type Decoded struct {
	Record store.Record
	Spent  bool
	// Expires is Record.ExpiresAt in ms, for comparing with a clock
	// without building a time.Time.
	Expires int64
}

// Decode reads a record of this format or of versions 1 and 2. Its
// strings share v's bytes. Any input that is not a record is ErrCorrupt;
// none panics.
func Decode(v string) (Decoded, error) {
	var d Decoded
	var rest string
	times := 4 // versions 1 and 2 have no LastSeen
	switch {
	case len(v) >= 7 && (v[0] == Version || v[0] == '2') && v[6] == ',':
		kind, ok1 := hexByte(v[2], v[3])
		level, ok2 := hexByte(v[4], v[5])
		if !ok1 || !ok2 || (v[1] != '0' && v[1] != '1') {
			return d, ErrCorrupt
		}
		d.Spent, d.Record.Kind, d.Record.Assurance = v[1] == '1', store.Kind(kind), level
		rest = v[7:]
		if v[0] == Version {
			times = 5
		}
	case len(v) >= 3 && (v[0] == '0' || v[0] == '1') && isDigit(v[1]) && v[2] == ',':
		d.Spent, d.Record.Kind = v[0] == '1', store.Kind(v[1]-'0')
		rest = v[3:]
	default:
		return d, ErrCorrupt
	}
	// The times, then the four lengths; with 4 times the last slot of
	// the times stays 0 (LastSeen zero).
	var buf [9]int64
	nums := buf[5-times:]
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
			return d, ErrCorrupt
		}
		n, ok := number(rest[:j], i < times)
		if !ok {
			return d, ErrCorrupt
		}
		nums[i] = n
		rest = rest[j+1:]
	}
	if times == 4 {
		// Shift the times down so that buf reads as version 3's: four
		// times, LastSeen 0, four lengths.
		copy(buf[:4], buf[1:5])
		buf[4] = 0
	}
	// Each length is at most MaxMillis, so the sum cannot overflow.
	if int64(len(rest)) != buf[5]+buf[6]+buf[7]+buf[8] {
		return d, ErrCorrupt
	}
	d.Expires = buf[0]
	d.Record.ExpiresAt = Time(buf[0])
	d.Record.IssuedAt = Time(buf[1])
	d.Record.ChainEnd = Time(buf[2])
	d.Record.AuthTime = Time(buf[3])
	d.Record.LastSeen = Time(buf[4])
	var s [4]string
	for i := range s {
		s[i], rest = rest[:buf[5+i]], rest[buf[5+i]:]
	}
	d.Record.Subject, d.Record.Project, d.Record.Device, d.Record.Family = s[0], s[1], s[2], s[3]
	return d, nil
}

// number reads what Lua's patterns %-?%d+ (signed) and %d+ read, within
// ±MaxMillis, as parse in record.lua does.
func number(s string, signed bool) (int64, bool) {
	neg := signed && len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
		if n > MaxMillis {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// hexByte reads two hex digits of either case, as Lua's %x does.
func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexValue(hi)
	l, ok2 := hexValue(lo)
	return h<<4 | l, ok1 && ok2
}

func hexValue(c byte) (byte, bool) {
	switch {
	case isDigit(c):
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
