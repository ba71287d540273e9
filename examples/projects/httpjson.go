// This file is how the example reads JSON request bodies: with a size
// limit, and errors the client can act on. It is this example's own
// copy, so that the example can be copied alone as the start of an app;
// the other examples have theirs, and `duplicates` flags the copies on
// purpose.

package main

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Errors of reading a request body.
var (
	// errMalformedBody: the body does not parse (400 malformed_body).
	errMalformedBody = problem.New("projects: malformed request body", problem.Error{
		Status: http.StatusBadRequest, Code: "malformed_body", Message: "the request body could not be read"})
	// errBodyTooLarge: the body is over the limit (413 body_too_large).
	errBodyTooLarge = problem.New("projects: request body too large", problem.Error{
		Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body is too large"})
	// errMediaType: the body is not JSON (415 unsupported_media_type).
	errMediaType = problem.New("projects: unsupported content type", problem.Error{
		Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send application/json or a form"})
)

// decodeJSON reads a JSON body (application/json, text/json or any +json
// type) of at most max bytes into dst. Trailing data after the JSON value
// is errMalformedBody.
func decodeJSON(w http.ResponseWriter, r *http.Request, max int64, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !(mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")) {
		return errMediaType
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(dst); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bodyError(err) // trailing data after the value
	}
	return nil
}

// bodyError is the error of a body that could not be read.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errBodyTooLarge
	}
	return errors.Join(errMalformedBody, err)
}
