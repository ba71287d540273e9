// Package httpbody reads the request bodies of gatehouse's handlers: JSON,
// or a form where the handler takes one, bounded in size, with errors that
// say what they mean to the client (see package problem).
package httpbody

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-go/gatehouse/problem"
)

// DefaultMaxBytes bounds request bodies the handlers read.
const DefaultMaxBytes = 64 << 10

// Errors of reading a body.
var (
	// ErrMalformed: the body does not parse (400 malformed_body).
	ErrMalformed = problem.New("httpbody: malformed request body", problem.Error{
		Status: http.StatusBadRequest, Code: "malformed_body", Message: "the request body could not be read"})
	// ErrTooLarge: the body is over the limit (413 body_too_large).
	ErrTooLarge = problem.New("httpbody: request body too large", problem.Error{
		Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body is too large"})
	// ErrMediaType: neither JSON nor, where taken, a form (415
	// unsupported_media_type).
	ErrMediaType = problem.New("httpbody: unsupported content type", problem.Error{
		Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send application/json or a form"})
)

// Decode reads a JSON body (application/json, text/json or any +json
// type) into dst, or hands a form body to fromForm when that is not nil,
// reading at most max bytes. It reports whether the body was a form.
// Trailing data after the JSON value is ErrMalformed.
func Decode(w http.ResponseWriter, r *http.Request, max int64, dst any, fromForm func(url.Values)) (form bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false, ErrMediaType
	}
	switch {
	case mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(dst); err != nil {
			return false, bodyError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return false, bodyError(err) // trailing data after the object
		}
		return false, nil
	case mt == "application/x-www-form-urlencoded" && fromForm != nil:
		if err := r.ParseForm(); err != nil {
			return true, bodyError(err)
		}
		fromForm(r.PostForm)
		return true, nil
	default:
		return false, ErrMediaType
	}
}

func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return ErrTooLarge
	}
	return errors.Join(ErrMalformed, err)
}

// IsForm reports whether r's body is declared a form.
func IsForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}
