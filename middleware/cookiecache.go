package middleware

import (
	"sync"
	"sync/atomic"
)

// verifiedCookies remembers cookie values that passed their HMAC check,
// with what they decode to, so that a browser's every request does not pay
// for the HMAC and the decoding again (they were four fifths of a cookie
// request's cost). Only verified values go in, keyed by the whole value, so
// a forged or altered cookie is never found here and is checked in full.
// It holds at most maxVerifiedCookies values, then starts afresh. It is
// safe for concurrent use, and a hit does not allocate.
type verifiedCookies struct {
	m atomic.Pointer[sync.Map] // value → *sessionCookie, never changed
	n atomic.Int64
}

const maxVerifiedCookies = 10000

func (v *verifiedCookies) get(value string) (*sessionCookie, bool) {
	m := v.m.Load()
	if m == nil {
		return nil, false
	}
	got, ok := m.Load(value)
	if !ok {
		return nil, false
	}
	return got.(*sessionCookie), true
}

// put remembers value and what it decoded to, which must not change
// afterwards. value should be a copy (strings.Clone), not a slice of the
// request's Cookie header, which it would keep alive.
func (v *verifiedCookies) put(value string, decoded *sessionCookie) {
	m := v.m.Load()
	if m == nil || v.n.Add(1) > maxVerifiedCookies {
		m = new(sync.Map)
		v.m.Store(m)
		v.n.Store(1)
	}
	m.Store(value, decoded)
}
