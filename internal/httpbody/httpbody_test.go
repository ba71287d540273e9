package httpbody

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/problem"
)

// FuzzDecode: Decode into another shape (integers, pointers, raw
// JSON) and with no form reader: forms are 415, and whatever is accepted
// is what json.Unmarshal reads.
func FuzzDecode(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/json", `{"action":"login","group_id":100909072,"clogin_id":102670540,"doc":{}}`},
		{"application/json", `{"action":"login","group_id":"100909072"}`},
		{"application/json", `{"group_id":1e400}`},
		{"application/json", `{"group_id":-9223372036854775809}`},
		{"application/json", `{"doc":{"a":[1,2,{"b":null}]}}`},
		{"application/json", `{"doc":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`},
		{"application/x-www-form-urlencoded", "action=login"},
		{"text/json", `{"action":null}` + "\n\t "},
	} {
		f.Add(seed[0], seed[1])
	}
	type shape struct {
		Action   string          `json:"action"`
		GroupID  *int64          `json:"group_id"`
		CloginID *int64          `json:"clogin_id"`
		Doc      json.RawMessage `json:"doc"`
	}
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		var got shape
		form, err := Decode(httptest.NewRecorder(), r, DefaultMaxBytes, &got, nil)
		if form {
			t.Fatalf("%q %q: read as a form with no form reader", ctype, body)
		}
		if err != nil {
			checkBodyError(t, ctype, body, err)
			return
		}
		var want shape
		if jerr := json.Unmarshal([]byte(body), &want); jerr != nil {
			t.Fatalf("%q %q: accepted, but json.Unmarshal says %v", ctype, body, jerr)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Fatalf("%q %q: read as %s, json.Unmarshal gives %s", ctype, body, g, w)
		}
	})
}

// checkBodyError fails t unless err is one of the documented body errors
// and maps to its status and stable code.
func checkBodyError(t *testing.T, ctype, body string, err error) {
	t.Helper()
	p := problem.Of(err)
	for _, want := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{ErrTooLarge, http.StatusRequestEntityTooLarge, "body_too_large"},
		{ErrMalformed, http.StatusBadRequest, "malformed_body"},
	} {
		if errors.Is(err, want.err) {
			if p.Status != want.status || p.Code != want.code {
				t.Fatalf("%q %q: %v is %d %s, want %d %s", ctype, body, err, p.Status, p.Code, want.status, want.code)
			}
			return
		}
	}
	t.Fatalf("%q %q: undocumented error %v (%d %s)", ctype, body, err, p.Status, p.Code)
}
