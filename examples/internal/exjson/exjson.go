// Package exjson is how the JSON examples answer: their own errors beside
// gatehouse's, a JSON writer, and ServeMux's own 404 and 405 answered like
// every other error. Each example keeps the shape of its error body; this
// package only carries the parts they share.
package exjson

import (
	"encoding/json"
	"net/http"
)

// Error is an error of an example's API, beside gatehouse's own: the
// status, stable code, message and field at fault ("" for none) it is
// answered with.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

// The errors Fallback answers ServeMux's own 404 and 405 with.
var (
	ErrNoRoute = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"}
	ErrMethod  = &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed on this resource"}
)

// Write answers v as JSON with status; the answer is never cached or
// sniffed as another type.
func Write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Fallback serves mux, answering its own 404 and 405 through fail, with
// ErrNoRoute and ErrMethod, like every other error. ServeMux reports both
// with an empty pattern; the 405 keeps the Allow header the mux sets.
func Fallback(mux *http.ServeMux, fail func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
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
		f.fail(ErrMethod)
		return
	}
	f.fail(ErrNoRoute)
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if !f.wrote {
		f.WriteHeader(http.StatusNotFound)
	}
	return len(b), nil // the mux's text is dropped
}
