package auth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// FuzzReadLogin: any content type and body is either read exactly as
// encoding/json or url.ParseQuery reads it, or refused with one of the
// documented errors (415, 413, 400), each with its stable code. A body
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
		req, form, err := auth.ReadLogin(httptest.NewRecorder(), r, limit)
		if err != nil {
			checkBodyError(t, ctype, body, err)
			return
		}
		if len(body) > limit {
			t.Fatalf("%q %q: a body of %d bytes read with a limit of %d", ctype, body, len(body), limit)
		}
		if form {
			v, perr := url.ParseQuery(body)
			want := auth.LoginRequest{Login: v.Get("login"), Username: v.Get("username"), Email: v.Get("email"), Password: v.Get("password")}
			if perr != nil || req != want {
				t.Fatalf("%q %q: form read as %+v, url.ParseQuery gives %+v (%v)", ctype, body, req, want, perr)
			}
			return
		}
		var want auth.LoginRequest
		if jerr := json.Unmarshal([]byte(body), &want); jerr != nil || req != want {
			t.Fatalf("%q %q: JSON read as %+v, json.Unmarshal gives %+v (%v)", ctype, body, req, want, jerr)
		}
	})
}

// FuzzDecodeBody: DecodeBody into another shape (integers, pointers, raw
// JSON) and with no form reader: forms are 415, and whatever is accepted
// is what json.Unmarshal reads.
func FuzzDecodeBody(f *testing.F) {
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
		form, err := auth.DecodeBody(httptest.NewRecorder(), r, auth.DefaultMaxBodyBytes, &got, nil)
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
	p := auth.ProblemOf(err)
	for _, want := range []struct {
		err    error
		status int
		code   string
	}{
		{auth.ErrMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{auth.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "body_too_large"},
		{auth.ErrBadBody, http.StatusBadRequest, "malformed_body"},
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

// FuzzRedeemVerification: any id and value are refused with a token error
// (401 invalid_token or missing_token) and leave the real verification
// unspent, unless they are exactly the pair the test issued. "$ID" and
// "$VALUE" in the input stand for that pair.
func FuzzRedeemVerification(f *testing.F) {
	fx := newFixture(f, auth.Config{})
	mem := fx.store.Store.(*memory.Store)
	v, err := fx.a.IssueVerification(ctx, "341")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{
		{"$ID", "$VALUE"}, {"$ID", "$VALUE="}, {"$ID ", "$VALUE"}, {"$VALUE", "$ID"}, {"$ID", ""}, {"", "$VALUE"},
		{"vid_abcd_" + strings.Repeat("A", 43), strings.Repeat("A", 43)},
		{"vid_ABCD_" + strings.Repeat("A", 43), strings.Repeat("A", 43)},
		{"vid_abcd-" + strings.Repeat("A", 43), strings.Repeat("A", 43)},
		{"vid_abcd_" + strings.Repeat("/", 43), strings.Repeat("+", 43)},
		{"vid_abcd_" + strings.Repeat("A", 42) + "B", strings.Repeat("A", 42) + "B"},
		{"vid_\xff\xff\xff\xff_" + strings.Repeat("A", 43), strings.Repeat("\xff", 43)},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, id, value string) {
		real := v
		id = strings.ReplaceAll(id, "$ID", real.ID)
		value = strings.ReplaceAll(value, "$VALUE", real.Value)
		subject, err := fx.a.RedeemVerification(ctx, id, value)
		if err == nil {
			if id != real.ID || value != real.Value || subject != "341" {
				t.Fatalf("RedeemVerification(%q, %q) = %q, accepted", id, value, subject)
			}
		} else {
			p := auth.ProblemOf(err)
			if !errors.Is(err, tokens.ErrMissing) && !errors.Is(err, tokens.ErrMalformed) && !errors.Is(err, tokens.ErrInvalid) ||
				p.Status != http.StatusUnauthorized || (p.Code != "invalid_token" && p.Code != "missing_token") {
				t.Fatalf("RedeemVerification(%q, %q): %v (%d %s)", id, value, err, p.Status, p.Code)
			}
			// A refused attempt spends nothing: the real pair still works.
			if _, err := fx.a.RedeemVerification(ctx, real.ID, real.Value); err != nil {
				t.Fatalf("after RedeemVerification(%q, %q), the real pair is refused: %v", id, value, err)
			}
		}
		// Both paths spent the pair: sweep it (so that a long run does not
		// fill the store) and issue the next one.
		// The memory store keeps expiries in int64 nanoseconds (good to the
		// year 2262): bring the clock back before it gets there.
		fx.clock.Advance(25 * time.Hour)
		mem.Sweep()
		if fx.clock.Now().After(testfix.Start.AddDate(100, 0, 0)) {
			fx.clock.Advance(testfix.Start.Sub(fx.clock.Now()))
		}
		if v, err = fx.a.IssueVerification(ctx, "341"); err != nil {
			t.Fatal(err)
		}
	})
}
