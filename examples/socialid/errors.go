package main

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
)

var (
	errNoIdentifier     = &problem.Error{Status: http.StatusBadRequest, Code: "missing_field", Message: "give a username or an email_address", Field: "username"}
	errNoSignIn         = &problem.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such sign-in"}
	errNoConnection     = &problem.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such connection"}
	errAlreadyConfirmed = &problem.Error{Status: http.StatusConflict, Code: "already_confirmed", Message: "the email address is already confirmed"}
	errInvalidLink      = &problem.Error{Status: http.StatusBadRequest, Code: "invalid_token", Message: "the confirmation link is invalid, expired or already used", Field: "token"}
)

// errorBody is every error's JSON: {"code": ..., "message": ...}, plus the
// field at fault or when a locked account unlocks.
type errorBody struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Field   string     `json:"field,omitempty"`
	Until   *time.Time `json:"until,omitempty"`
}

// problemOf maps an error to its status and body. gatehouse's own codes
// are kept except where the seed names its own: a failed sign-in is 403
// with "active", "confirmed", "locked" or "invalid_password". The library
// keeps its stable codes (inactive, unconfirmed, invalid_credentials); the
// translation lives here, in the app that promised the seed's. This API's
// own errors are *problem.Error, which problem.Of returns as they are.
func problemOf(err error) (int, errorBody) {
	p := problem.Of(err)
	status, body := p.Status, errorBody{Code: p.Code, Message: p.Message, Field: p.Field, Until: untilOf(p)}
	var locked *auth.LockedError
	switch {
	case status == http.StatusServiceUnavailable:
		// A store that is down (or full, or hashing that is saturated) is
		// never a verdict on the user: keep 503 whatever else err wraps.
	case errors.As(err, &locked):
		body.Message = "the user is locked due to too many login attempts with an incorrect password"
	case errors.Is(err, auth.ErrInactive):
		status, body.Code, body.Message = http.StatusForbidden, "active", "the user was deactivated"
	case errors.Is(err, auth.ErrUnconfirmed):
		status, body.Code, body.Message = http.StatusForbidden, "confirmed", "the user's email address is not confirmed yet"
	case errors.Is(err, auth.ErrInvalidCredentials):
		status, body.Code, body.Message = http.StatusForbidden, "invalid_password", "the combination of login and password is incorrect"
	case errors.Is(err, errBodyTooLarge), errors.Is(err, errMediaType):
		// The seed documents 400 for any request the client must fix.
		status = http.StatusBadRequest
	}
	return status, body
}

// fail answers the request with err as JSON.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := problemOf(err)
	h := w.Header()
	switch {
	case status == http.StatusInternalServerError:
		// The client learns nothing of it; the operator does. The path has
		// no secret in it (the confirmation token is in the query).
		s.logger.Printf("socialid: %s %s: %v", r.Method, r.URL.Path, err)
	case body.Until != nil:
		secs := math.Ceil(body.Until.Sub(s.now()).Seconds())
		h.Set("Retry-After", strconv.FormatInt(max(int64(secs), 1), 10))
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		h.Set("Retry-After", "1")
	case status == http.StatusUnauthorized && errors.Is(err, middleware.ErrAppCredentials):
		h.Set("WWW-Authenticate", `Basic realm="socialid", charset="UTF-8"`)
	case status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="socialid"`)
	}
	writeJSON(w, status, body)
}

// untilOf is p.Until, or nil when the problem has no end, so that the
// body leaves "until" out.
func untilOf(p problem.Error) *time.Time {
	if p.Until.IsZero() {
		return nil
	}
	return &p.Until
}
