package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrInsufficientAuthentication: the request's session is valid but was
// not authenticated strongly enough, or recently enough, for the route
// (401 insufficient_user_authentication, in the spirit of RFC 9470). The
// error a step-up check reports is an *AssuranceError that matches it.
var ErrInsufficientAuthentication = errors.New("middleware: insufficient user authentication")

// AssuranceError is a step-up refusal: what the route requires, for the
// client to act on (log in again with the second factor, or again at all).
// It matches ErrInsufficientAuthentication with errors.Is.
type AssuranceError struct {
	// Level is the assurance level the route requires (0: any).
	Level uint8
	// MaxAge is how long ago the authentication may be (0: any).
	MaxAge time.Duration
	// Have is the session's level.
	Have uint8
}

func (e *AssuranceError) Error() string {
	return fmt.Sprintf("middleware: insufficient user authentication: level %d, want %d within %v", e.Have, e.Level, e.MaxAge)
}

// Is reports whether target is ErrInsufficientAuthentication.
func (e *AssuranceError) Is(target error) bool { return target == ErrInsufficientAuthentication }

// Problem implements problem.Problemer: 401
// insufficient_user_authentication, the message naming what is required.
func (e *AssuranceError) Problem() problem.Error {
	msg := "authenticate again"
	if e.Level > 0 {
		msg += " at assurance level " + strconv.Itoa(int(e.Level))
	}
	if e.MaxAge > 0 {
		msg += " (at most " + strconv.Itoa(int(e.MaxAge/time.Second)) + " seconds ago)"
	}
	return problem.Error{Status: http.StatusUnauthorized, Code: "insufficient_user_authentication", Message: msg}
}

// StepUp requires a level of assurance and/or a recent authentication for
// sensitive routes ("sudo mode"). Use it behind a [Guard], which puts the
// [Principal] in the context. The zero StepUp lets every principal through.
// It is safe for concurrent use.
type StepUp struct {
	// Level is the least Principal.Assurance the route takes: 2
	// (auth.AssuranceMultiFactor) for a password and a second factor.
	Level uint8
	// MaxAge, when not zero, is how long ago Principal.AuthTime may be.
	MaxAge time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Deny answers refused requests; default the error's Problem as JSON,
	// with a WWW-Authenticate header after RFC 9470 (error=
	// "insufficient_user_authentication", acr_values, max_age).
	Deny func(w http.ResponseWriter, r *http.Request, err error)
}

// Check reports whether p is authenticated enough: nil, or an
// *AssuranceError.
func (s StepUp) Check(p Principal) error {
	if p.Assurance < s.Level || s.MaxAge > 0 && s.now().Sub(p.AuthTime) > s.MaxAge {
		return &AssuranceError{Level: s.Level, MaxAge: s.MaxAge, Have: p.Assurance}
	}
	return nil
}

func (s StepUp) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handler lets through requests whose principal passes Check and denies
// the others; a request with no principal in its context (no Guard in
// front) is denied as having no token ([ErrNoToken]).
func (s StepUp) Handler(next http.Handler) http.Handler {
	deny := s.Deny
	if deny == nil {
		deny = func(w http.ResponseWriter, _ *http.Request, err error) {
			var ae *AssuranceError
			if errors.As(err, &ae) {
				v := `Bearer error="insufficient_user_authentication"`
				if ae.Level > 0 {
					v += `, acr_values="aal` + strconv.Itoa(int(ae.Level)) + `"`
				}
				if ae.MaxAge > 0 {
					v += `, max_age=` + strconv.Itoa(int(ae.MaxAge/time.Second))
				}
				// problem.Write's plain Bearer challenge gives way to
				// this one, which says what to do.
				w = challengeWriter{w, v}
			}
			problem.Write(w, err)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := r.Context().Value(principalKey{}).(*Principal)
		if !ok {
			deny(w, r, ErrNoToken)
			return
		}
		if err := s.Check(*p); err != nil {
			deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireAssurance returns middleware that requires the level and, when
// maxAge is not zero, an authentication at most maxAge ago:
// StepUp{Level: level, MaxAge: maxAge}.Handler.
func RequireAssurance(level uint8, maxAge time.Duration) func(http.Handler) http.Handler {
	return StepUp{Level: level, MaxAge: maxAge}.Handler
}

// challengeWriter sets its WWW-Authenticate challenge over the one the
// answer was given when the status is written.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c challengeWriter) WriteHeader(status int) {
	c.Header().Set("WWW-Authenticate", c.challenge)
	c.ResponseWriter.WriteHeader(status)
}
