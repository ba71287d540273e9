package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

var errOuter = problem.New("pkg: outer", problem.Error{Status: http.StatusServiceUnavailable, Code: "outer", Message: "outer"})

type innerError struct{ wrapped error }

func (e innerError) Error() string { return "pkg: inner" }
func (e innerError) Unwrap() error { return e.wrapped }
func (e innerError) Problem() problem.Error {
	return problem.Error{Status: http.StatusBadRequest, Code: "inner", Message: "inner", Field: "f"}
}

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"sentinel", errOuter, "outer"},
		{"wrapped with %w", fmt.Errorf("doing: %w", errOuter), "outer"},
		{"joined, first wins", errors.Join(errOuter, errors.New("cause")), "outer"},
		{"outermost problem wins", innerError{wrapped: errOuter}, "inner"},
		{"an *Error is its own", &problem.Error{Status: 418, Code: "teapot"}, "teapot"},
		{"plain error is internal", errors.New("boom"), "internal"},
		{"nil is internal", nil, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := problem.Of(tc.err).Code; got != tc.code {
				t.Errorf("Of(%v).Code = %q, want %q", tc.err, got, tc.code)
			}
		})
	}
	if !errors.Is(fmt.Errorf("x: %w", errOuter), errOuter) || errOuter.Error() != "pkg: outer" {
		t.Error("a problem.New sentinel does not behave as a sentinel")
	}
}

func TestWrite(t *testing.T) {
	until := time.Now().Add(90*time.Second + 300*time.Millisecond).UTC().Round(0)
	for _, tc := range []struct {
		name   string
		err    error
		status int
		header map[string]string
		body   map[string]any
	}{
		{"internal reveals nothing", errors.New("secret detail"), 500, nil,
			map[string]any{"code": "internal", "message": "internal error"}},
		{"503 retries after 1", errOuter, 503, map[string]string{"Retry-After": "1"}, nil},
		{"401 challenges", &problem.Error{Status: 401, Code: "x", Message: "m"}, 401,
			map[string]string{"WWW-Authenticate": `Bearer realm="gatehouse"`}, nil},
		{"until gives Retry-After, rounded up", &problem.Error{Status: 403, Code: "locked", Message: "m", Until: until}, 403,
			map[string]string{"Retry-After": "91"},
			map[string]any{"until": until.Format(time.RFC3339Nano)}},
		{"field", innerError{}, 400, nil, map[string]any{"field": "f", "code": "inner"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			problem.Write(w, tc.err)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			for _, h := range []string{"Cache-Control", "X-Content-Type-Options"} {
				if w.Header().Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			for k, v := range tc.header {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if _, ok := body["until"]; ok && tc.body["until"] == nil {
				t.Errorf("until in a body without one: %s", w.Body)
			}
			for k, v := range tc.body {
				if body[k] != v {
					t.Errorf("body %s = %v, want %v (%s)", k, body[k], v, w.Body)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{{-time.Second, 1}, {0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {900 * time.Second, 900}} {
		if got := problem.RetryAfter(now.Add(tc.d), now); got != tc.want {
			t.Errorf("RetryAfter(+%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// TestAppErrorsNeverPanic: an app's own *Error without a status, or a nil
// *Error in a chain, answers 500 internal instead of panicking (found by a
// review: net/http panics on WriteHeader(0)).
func TestAppErrorsNeverPanic(t *testing.T) {
	var nilErr *problem.Error
	for name, err := range map[string]error{
		"no status":     &problem.Error{Code: "mine", Message: "m"},
		"status 42":     &problem.Error{Status: 42, Code: "mine"},
		"nil *Error":    nilErr,
		"wrapped nil":   fmt.Errorf("x: %w", nilErr),
		"status 600":    &problem.Error{Status: 600, Code: "mine"},
		"valid custom":  &problem.Error{Status: 418, Code: "teapot"},
		"nil interface": nil,
	} {
		w := httptest.NewRecorder()
		problem.Write(w, err)
		want := http.StatusInternalServerError
		if name == "valid custom" {
			want = 418
		}
		if w.Code != want {
			t.Errorf("%s: %d, want %d", name, w.Code, want)
		}
	}
}

func TestNewWrapping(t *testing.T) {
	inner := problem.New("pkg: inner", problem.Error{Status: 503, Code: "inner"})
	outer := problem.NewWrapping("pkg: outer", problem.Error{Status: 503, Code: "outer"}, inner)
	err := fmt.Errorf("op: %w", outer)
	if !errors.Is(err, outer) || !errors.Is(err, inner) || problem.Of(err).Code != "outer" || outer.Error() != "pkg: outer" {
		t.Fatalf("NewWrapping: Is outer %v, Is inner %v, code %q", errors.Is(err, outer), errors.Is(err, inner), problem.Of(err).Code)
	}
}
