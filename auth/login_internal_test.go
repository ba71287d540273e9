package auth

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/httpbody"
)

// FuzzReadLogin: any content type and body is either read exactly as
// encoding/json or url.ParseQuery reads it, or refused with one of the
// documented errors of package httpbody (415, 413, 400). A body
// over the limit is never accepted.
func FuzzReadLogin(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/json", `{"username":"john_doe","password":"john_doe_secret"}`},
		{"application/json; charset=utf-8", `{"email":"a@b","password":"p"}`},
		{"text/json", `{"login":"x","password":"y"} `},
		{"application/problem+json", `{"login":"x"}{}`},
		{"application/json", `{"username":1}`},
		{"application/json", `[]`},
		{"application/json", `null`},
		{"application/json", `{"password":"\ud800"}`},
		{"application/json", `{"username":"` + strings.Repeat("a", 100) + `"}`},
		{"application/x-www-form-urlencoded", "username=john_doe&password=s%20ecret"},
		{"application/x-www-form-urlencoded", "password=%zz"},
		{"application/x-www-form-urlencoded; charset=latin1", "login=a;b&login=c"},
		{"multipart/form-data; boundary=x", "--x--"},
		{"text/plain", "{}"},
		{"application/json; charset=\"", "{}"},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	const limit = 96
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		req, form, err := readLogin(httptest.NewRecorder(), r, limit)
		if err != nil {
			// httpbody's own fuzz target checks each error's status and code.
			if !errors.Is(err, httpbody.ErrMediaType) && !errors.Is(err, httpbody.ErrTooLarge) && !errors.Is(err, httpbody.ErrMalformed) {
				t.Fatalf("%q %q: undocumented error %v", ctype, body, err)
			}
			return
		}
		if len(body) > limit {
			t.Fatalf("%q %q: a body of %d bytes read with a limit of %d", ctype, body, len(body), limit)
		}
		if form {
			v, perr := url.ParseQuery(body)
			want := loginRequest{Login: v.Get("login"), Username: v.Get("username"), Email: v.Get("email"), Password: v.Get("password")}
			if perr != nil || req != want {
				t.Fatalf("%q %q: form read as %+v, url.ParseQuery gives %+v (%v)", ctype, body, req, want, perr)
			}
			return
		}
		var want loginRequest
		if jerr := json.Unmarshal([]byte(body), &want); jerr != nil || req != want {
			t.Fatalf("%q %q: JSON read as %+v, json.Unmarshal gives %+v (%v)", ctype, body, req, want, jerr)
		}
	})
}
