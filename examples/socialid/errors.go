package main

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// apiError is an error of this API, beside gatehouse's own.
type apiError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *apiError) Error() string { return e.message }

var (
	errNoIdentifier     = &apiError{http.StatusBadRequest, "missing_field", "give a username or an email_address", "username"}
	errNoSignIn         = &apiError{http.StatusNotFound, "not_found", "no such sign-in", ""}
	errNoConnection     = &apiError{http.StatusNotFound, "not_found", "no such connection", ""}
	errAlreadyConfirmed = &apiError{http.StatusConflict, "already_confirmed", "the email address is already confirmed", ""}
	errInvalidLink      = &apiError{http.StatusBadRequest, "invalid_token", "the confirmation link is invalid, expired or already used", "token"}
	errNoRoute          = &apiError{http.StatusNotFound, "not_found", "no such resource", ""}
	errMethod           = &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this resource", ""}
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
// translation lives here, in the app that promised the seed's.
func problemOf(err error) (int, errorBody) {
	var api *apiError
	if errors.As(err, &api) {
		return api.status, errorBody{Code: api.code, Message: api.message, Field: api.field}
	}
	p := auth.ProblemOf(err)
	status, body := p.Status, errorBody{Code: p.Code, Message: p.Message, Field: p.Field, Until: p.Until}
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
	case errors.Is(err, auth.ErrBodyTooLarge), errors.Is(err, auth.ErrMediaType):
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonFallback serves mux, answering its own 404 and 405 as JSON like
// every other error. ServeMux reports both with an empty pattern; the 405
// keeps the Allow header the mux sets.
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&fallbackWriter{ResponseWriter: w}, r)
	})
}

// fallbackWriter replaces the text body of the mux's 404 and 405 with JSON.
type fallbackWriter struct {
	http.ResponseWriter
	wrote bool
}

func (f *fallbackWriter) WriteHeader(status int) {
	if f.wrote {
		return
	}
	f.wrote = true
	err := errNoRoute
	if status == http.StatusMethodNotAllowed {
		err = errMethod
	}
	writeJSON(f.ResponseWriter, err.status, errorBody{Code: err.code, Message: err.message})
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if !f.wrote {
		f.WriteHeader(http.StatusNotFound)
	}
	return len(b), nil // the mux's text is dropped
}
