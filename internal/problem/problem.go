// Package problem is the one table that maps gatehouse errors to an HTTP
// status and a stable code, and writes them as JSON. The auth and
// middleware packages share it so that every handler answers alike; they
// re-export the errors defined here so apps never import this package.
package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Errors of the auth layer. Their text starts "auth:", the package apps see
// them through.
var (
	ErrInvalidCredentials = errors.New("auth: invalid login or password")
	ErrUnknownUser        = errors.New("auth: unknown user")
	ErrInactive           = errors.New("auth: account deactivated")
	ErrUnconfirmed        = errors.New("auth: email address not confirmed")
	ErrPasswordTooLong    = errors.New("auth: password longer than 72 bytes")
	ErrBusy               = errors.New("auth: too many logins in progress; try again")
	ErrBadBody            = errors.New("auth: malformed request body")
	ErrBodyTooLarge       = errors.New("auth: request body too large")
	ErrMediaType          = errors.New("auth: unsupported content type")
	ErrCrossOrigin        = errors.New("auth: cross-origin request refused")
	ErrNoToken            = errors.New("auth: no token presented")
	ErrForbiddenProject   = errors.New("auth: session is for another project")
	ErrAppCredentials     = errors.New("auth: invalid app credentials")
	ErrRateLimited        = errors.New("auth: too many requests; try again later")
)

// LockedError reports a locked account and when it unlocks.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "auth: account locked until " + e.Until.UTC().Format(time.RFC3339)
}

// FieldError reports a missing or invalid request field.
type FieldError struct {
	Field  string
	Reason string // "missing", "too long", "invalid"
}

func (e *FieldError) Error() string { return "auth: field " + strconv.Quote(e.Field) + " " + e.Reason }

// Problem is what an error means to an HTTP client.
type Problem struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the request field at fault, for FieldError.
	Field string `json:"field,omitempty"`
	// Until is when a locked account unlocks.
	Until *time.Time `json:"until,omitempty"`
}

// table is checked in order: the first entry the error matches wins, so
// more specific errors come before the ones they wrap.
var table = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{store.ErrFull, http.StatusServiceUnavailable, "store_full", "the token store is full; try again later"},
	{store.ErrUnavailable, http.StatusServiceUnavailable, "store_unavailable", "the token store is unavailable; try again later"},
	{ErrBusy, http.StatusServiceUnavailable, "busy", "too many logins in progress; try again"},
	{ErrRateLimited, http.StatusTooManyRequests, "rate_limited", "too many requests; try again later"},
	{ErrNoToken, http.StatusUnauthorized, "missing_token", "no token was presented"},
	{tokens.ErrMissing, http.StatusUnauthorized, "missing_token", "no token was presented"},
	{tokens.ErrMalformed, http.StatusUnauthorized, "invalid_token", "the token is invalid or expired"},
	{tokens.ErrWrongKind, http.StatusUnauthorized, "invalid_token", "the token is invalid or expired"},
	{tokens.ErrInvalid, http.StatusUnauthorized, "invalid_token", "the token is invalid or expired"},
	{tokens.ErrReused, http.StatusUnauthorized, "token_reused", "the token was already used; sign in again"},
	{ErrAppCredentials, http.StatusUnauthorized, "invalid_app_credentials", "the app credentials are missing or wrong"},
	{ErrForbiddenProject, http.StatusForbidden, "wrong_project", "the session does not open this project"},
	{ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "invalid login or password"},
	{ErrUnknownUser, http.StatusNotFound, "unknown_user", "no such user"},
	{ErrInactive, http.StatusForbidden, "inactive", "the account is deactivated"},
	{ErrUnconfirmed, http.StatusForbidden, "unconfirmed", "the email address is not confirmed"},
	{ErrPasswordTooLong, http.StatusBadRequest, "password_too_long", "the password is longer than 72 bytes"},
	{ErrBadBody, http.StatusBadRequest, "malformed_body", "the request body could not be read"},
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large"},
	{ErrMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json or a form"},
	{ErrCrossOrigin, http.StatusForbidden, "cross_origin", "cross-origin request refused"},
}

// Of returns the problem an error stands for. Errors it does not know are
// 500 "internal", with a message that reveals nothing of the error.
func Of(err error) Problem {
	var locked *LockedError
	if errors.As(err, &locked) {
		until := locked.Until.UTC().Truncate(time.Second)
		return Problem{Status: http.StatusForbidden, Code: "locked",
			Message: "too many failed attempts; the account is locked", Until: &until}
	}
	var field *FieldError
	if errors.As(err, &field) {
		code := "invalid_field"
		if field.Reason == "missing" {
			code = "missing_field"
		}
		return Problem{Status: http.StatusBadRequest, Code: code,
			Message: "field " + strconv.Quote(field.Field) + " " + field.Reason, Field: field.Field}
	}
	for _, e := range table {
		if errors.Is(err, e.err) {
			return Problem{Status: e.status, Code: e.code, Message: e.message}
		}
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

// Write answers the request with the problem err stands for, as JSON
// {"code": ..., "message": ...}. A locked account also gets Retry-After.
func Write(w http.ResponseWriter, err error) {
	p := Of(err)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.Until != nil {
		secs := int64(time.Until(*p.Until).Seconds()) + 1
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	} else if p.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
