// Package problem is what a gatehouse error means to an HTTP client: a
// status, a stable code, a message safe to show, and the request field at
// fault. It imports nothing of gatehouse's, so every package can declare
// its own errors where they are raised and say what they mean here.
//
// An error carries its meaning by implementing [Problemer]. Sentinel
// errors are made with [New], which keeps the package's own error text
// beside the public [Error]; errors that carry data are types of their own
// with a Problem method (auth.LockedError, auth.FieldError). [Of] finds the
// outermost Problemer in an error's chain, so wrapping keeps the meaning,
// and [Write] answers a request with it as JSON.
//
// docs/errors.md lists every code; a test checks it against the code.
package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Error is an error as an HTTP client sees it. Its JSON form is the body
// gatehouse's handlers answer errors with:
//
//	{"code": "locked", "message": "...", "field": "...", "until": "..."}
//
// An *Error is itself an error (its Message), so an app can return one
// from its own handlers and have [Write] answer it as is.
type Error struct {
	// Status is the HTTP status, such as 401.
	Status int `json:"-"`
	// Code is stable and meant for programs, such as "invalid_credentials".
	Code string `json:"code"`
	// Message is meant for people and reveals nothing a client should not
	// know; it may change between versions.
	Message string `json:"message"`
	// Field names the request field at fault, for codes about one field.
	Field string `json:"field,omitempty"`
	// Until is when the refusal ends (a lock, a rate limit); zero when it
	// is not known. Write turns it into a Retry-After header. Errors give
	// it to the second, rounded up, so that it never invites a retry
	// before the refusal is over.
	Until time.Time `json:"until,omitzero"`
	// RetryAfter is how long until the refusal ends, when the error knows
	// it without a clock; Write prefers it to Until for Retry-After.
	RetryAfter time.Duration `json:"-"`
}

// Error returns e.Message.
func (e *Error) Error() string {
	if e == nil {
		return Internal.Message
	}
	return e.Message
}

// Problem returns *e: an *Error is its own problem. A nil *Error is
// Internal.
func (e *Error) Problem() Error {
	if e == nil {
		return Internal
	}
	return *e
}

// Problemer is implemented by errors that know what they mean to an HTTP
// client.
type Problemer interface {
	error
	Problem() Error
}

// New returns a sentinel error whose Error() is text (the package-named
// text Go errors carry, such as "auth: account deactivated") and whose
// Problem is p. Match it with errors.Is, as any sentinel.
func New(text string, p Error) error { return &sentinel{text: text, p: p} }

// NewWrapping is New for a sentinel that is a kind of another: errors.Is
// matches both, and Of gives p (the outer one).
func NewWrapping(text string, p Error, wraps error) error {
	return &sentinel{text: text, p: p, wraps: wraps}
}

type sentinel struct {
	text  string
	p     Error
	wraps error
}

func (s *sentinel) Error() string  { return s.text }
func (s *sentinel) Problem() Error { return s.p }
func (s *sentinel) Unwrap() error  { return s.wraps }

// Internal is the problem of an error that has none: 500, with nothing of
// the error in the message.
var Internal = Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}

// Of returns the problem err stands for: that of the outermost error in
// its chain (as errors.As walks it) that implements [Problemer], or
// [Internal] when none does.
func Of(err error) Error {
	var p Problemer
	if errors.As(err, &p) {
		return p.Problem()
	}
	return Internal
}

// Write answers the request with the problem err stands for, as JSON, and
// with no-store caching. A problem with Until gets a Retry-After of the
// seconds left (at least 1; RetryAfter when set), a 503 one of 1; a 401 gets a Bearer
// WWW-Authenticate challenge.
func Write(w http.ResponseWriter, err error) {
	p := Of(err)
	if p.Status < 100 || p.Status > 599 {
		// An app's own Error without a valid status: net/http would panic.
		p = Internal
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case p.RetryAfter > 0:
		h.Set("Retry-After", strconv.FormatInt(wholeSeconds(p.RetryAfter), 10))
	case !p.Until.IsZero():
		h.Set("Retry-After", strconv.FormatInt(RetryAfter(p.Until, time.Now()), 10))
	case p.Status == http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// UntilSecond returns t in UTC rounded up to the whole second, the
// precision Error.Until is given in: when within a second a refusal began
// is nothing a client needs, and rounding up never invites a retry before
// the refusal is over.
func UntilSecond(t time.Time) time.Time {
	t = t.UTC()
	if s := t.Truncate(time.Second); !s.Equal(t) {
		return s.Add(time.Second)
	}
	return t
}

// RetryAfter returns the whole seconds from now until until, rounded up,
// and at least 1: the value of a Retry-After header.
func RetryAfter(until, now time.Time) int64 { return wholeSeconds(until.Sub(now)) }

// wholeSeconds is d in seconds, rounded up, at least 1.
func wholeSeconds(d time.Duration) int64 {
	secs := int64(d / time.Second)
	if d%time.Second > 0 {
		secs++
	}
	return max(secs, 1)
}
