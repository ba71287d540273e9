// This file is how the example speaks JSON: a writer, request bodies read
// with a size limit and errors the client can act on, and ServeMux's own
// 404 and 405 answered like every other error. It is this example's own
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

// writeJSON answers v as JSON with status; the answer is never cached or
// sniffed as another type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Errors of reading a request body.
var (
	// errMalformedBody: the body does not parse (400 malformed_body).
	errMalformedBody = problem.New("socialid: malformed request body", problem.Error{
		Status: http.StatusBadRequest, Code: "malformed_body", Message: "the request body could not be read"})
	// errBodyTooLarge: the body is over the limit (413 body_too_large).
	errBodyTooLarge = problem.New("socialid: request body too large", problem.Error{
		Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body is too large"})
	// errMediaType: the body is not JSON (415 unsupported_media_type).
	errMediaType = problem.New("socialid: unsupported content type", problem.Error{
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

// The errors withFallback answers ServeMux's own 404 and 405 with.
var (
	errNoRoute = &problem.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"}
	errMethod  = &problem.Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed on this resource"}
)

// withFallback serves mux, answering its own 404 and 405 through fail,
// with errNoRoute and errMethod, like every other error. ServeMux reports
// both with an empty pattern; the 405 keeps the Allow header the mux sets.
func withFallback(mux *http.ServeMux, fail func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&fallbackWriter{ResponseWriter: w, fail: func(err error) { fail(w, r, err) }}, r)
	})
}

// fallbackWriter replaces the text body of the mux's 404 and 405.
type fallbackWriter struct {
	http.ResponseWriter
	fail  func(error)
	wrote bool
}

func (f *fallbackWriter) WriteHeader(status int) {
	if f.wrote {
		return
	}
	f.wrote = true
	if status == http.StatusMethodNotAllowed {
		f.fail(errMethod)
		return
	}
	f.fail(errNoRoute)
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if !f.wrote {
		f.WriteHeader(http.StatusNotFound)
	}
	return len(b), nil // the mux's text is dropped
}
