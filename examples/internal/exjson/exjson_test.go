package exjson

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFallback(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a", func(w http.ResponseWriter, _ *http.Request) { Write(w, http.StatusOK, map[string]int{"a": 1}) })
	h := Fallback(mux, func(w http.ResponseWriter, _ *http.Request, err error) {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("fail got %v", err)
		}
		Write(w, e.Status, map[string]string{"code": e.Code})
	})
	for _, tc := range []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{"GET", "/a", 200, `{"a":1}` + "\n", ""},
		{"GET", "/b", 404, `{"code":"not_found"}` + "\n", ""},
		{"POST", "/a", 405, `{"code":"method_not_allowed"}` + "\n", "GET, HEAD"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || w.Body.String() != tc.body || w.Header().Get("Allow") != tc.allow ||
			w.Header().Get("Content-Type") != "application/json; charset=utf-8" || w.Header().Get("Cache-Control") != "no-store" ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: %d %v %q", tc.method, tc.path, w.Code, w.Header(), w.Body)
		}
	}
	if ErrMethod.Error() != ErrMethod.Message {
		t.Error("Error is not the message")
	}
}
