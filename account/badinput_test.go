package account_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// apiRoute is a route of the API as a client calls it: signed says
// whether it needs a session, body whether it reads a request body.
type apiRoute struct {
	method, path string
	signed, body bool
}

// apiRoutes is every route of api.go.
var apiRoutes = []apiRoute{
	{"POST", "/signup", false, true},
	{"POST", "/login", false, true},
	{"POST", "/logout", true, false},
	{"GET", "/session", true, false},
	{"GET", "/sessions", true, false},
	{"DELETE", "/sessions", true, false},
	{"DELETE", "/sessions/x", true, false},
	{"GET", "/devices", true, false},
	{"DELETE", "/devices/x", true, false},
	{"POST", "/logout-everywhere", true, false},
	{"POST", "/email/resend", true, false},
	{"POST", "/email/confirm", false, true},
	{"POST", "/email/change", true, true},
	{"POST", "/password/forgot", false, true},
	{"POST", "/password/reset", false, true},
	{"POST", "/password/change", true, true},
	{"POST", "/delete", true, true},
}

// TestAPIBadBodies: on every route that reads a body, a malformed one is
// 400 malformed_body (JSON, form, wrong types, trailing data), one past
// 64 KiB is 413 body_too_large, and one of another type (text/plain,
// multipart, none) is 415 unsupported_media_type; an empty object is 400
// missing_field. Nothing is created or mailed.
func TestAPIBadBodies(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, noLimits)
		signed, _ := h.loggedIn(t, "ada@example.com", "ada")
		anon := h.client(t)
		anon.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		mails, users := len(h.mail.Messages()), h.users.Len()
		big := `{"email":"` + strings.Repeat("a", 64<<10) + `@example.com"}`
		for _, rt := range apiRoutes {
			if !rt.body {
				continue
			}
			c := anon
			if rt.signed {
				c = signed
			}
			for _, tc := range []struct {
				name, ctype, body string
				status            int
				code              string
			}{
				{"truncated JSON", "application/json", `{"email":`, 400, "malformed_body"},
				{"not JSON", "application/json", `email=ada`, 400, "malformed_body"},
				{"a JSON array", "application/json", `["ada@example.com"]`, 400, "malformed_body"},
				{"a number for a string", "application/json", `{"email":5,"password":5,"token":5,"login":5,"current_password":5}`, 400, "malformed_body"},
				{"trailing data", "application/json", `{} {}`, 400, "malformed_body"},
				{"invalid UTF-8 escapes", "application/json", "{\"email\":\"\\ud800\xff\"", 400, "malformed_body"},
				{"bad form escape", "application/x-www-form-urlencoded", "email=%zz", 400, "malformed_body"},
				{"over 64 KiB", "application/json", big, 413, "body_too_large"},
				{"text/plain", "text/plain", `{"email":"ada@example.com"}`, 415, "unsupported_media_type"},
				{"multipart", "multipart/form-data; boundary=x", "--x--", 415, "unsupported_media_type"},
				{"no content type", "", `{"email":"ada@example.com"}`, 415, "unsupported_media_type"},
				{"bad content type", "application/json; charset", `{}`, 415, "unsupported_media_type"},
				{"empty object", "application/json", `{}`, 400, "missing_field"},
				{"empty form", "application/x-www-form-urlencoded", ``, 400, "missing_field"},
			} {
				if rt.path == "/delete" && tc.code == "missing_field" {
					// The one field deletion takes is the password.
					tc.status, tc.code = 403, "password_required"
				}
				what := fmt.Sprintf("%s %s, %s", rt.method, rt.path, tc.name)
				r := c.send(rt.method, rt.path, tc.ctype, tc.body)
				if rt.path == "/login" && strings.HasPrefix(tc.ctype, "application/x-www-form-urlencoded") {
					// auth's LoginHandler answers a browser's form by a
					// redirect carrying the code.
					if loc := r.header.Get("Location"); r.status != 303 || !strings.HasSuffix(loc, "error="+tc.code) {
						t.Errorf("%s: %s to %q, want 303 with error=%s", what, r, loc, tc.code)
					}
					continue
				}
				wantCode(t, what, r, tc.status, tc.code)
			}
		}
		if len(h.mail.Messages()) != mails || h.users.Len() != users {
			t.Fatal("bad bodies mailed or created something")
		}
		signed.must(200, "GET", "/session", nil)
	})
}

// TestAPIOverlongValues: over-long fields are 400 with the field named,
// before anything is looked up or hashed: an address over 254 bytes, a
// username over 64, a password over the policy's 64 characters or
// bcrypt's 72 bytes, a confirmation link over 1 KiB (invalid_link), a
// reset token of any length that is no token (invalid_token).
func TestAPIOverlongValues(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, noLimits)
		signed, _ := h.loggedIn(t, "ada@example.com", "ada")
		anon := h.client(t)
		long := strings.Repeat("a", 250) + "@x.io" // 255 bytes
		// auth's login and reset take logins up to 320 bytes (an address
		// of 64 + 1 + 255): over that is 400 too.
		longer := strings.Repeat("a", 316) + "@x.io"
		longPW := strings.Repeat("long password ", 6)
		for _, tc := range []struct {
			c      *client
			path   string
			body   map[string]string
			status int
			code   string
			field  string
		}{
			{anon, "/signup", map[string]string{"email": long, "password": strongPassword}, 400, "invalid_field", "email"},
			{anon, "/signup", map[string]string{"email": "bob@example.com", "password": strongPassword, "username": strings.Repeat("b", 65)}, 400, "invalid_field", "username"},
			{anon, "/signup", map[string]string{"email": "bob@example.com", "password": longPW}, 400, "password_too_long", "password"},
			{anon, "/login", map[string]string{"login": longer, "password": strongPassword}, 400, "invalid_field", ""},
			{anon, "/login", map[string]string{"login": "ada", "password": strings.Repeat("x", 100)}, 400, "password_too_long", ""},
			{anon, "/password/forgot", map[string]string{"email": longer}, 400, "invalid_field", "email"},
			{anon, "/email/confirm", map[string]string{"token": strings.Repeat("A", 2000) + ".YUBi"}, 400, "invalid_link", ""},
			{anon, "/password/reset", map[string]string{"token": strings.Repeat("A", 2000), "password": strongPassword}, 401, "invalid_token", ""},
			{anon, "/password/reset", map[string]string{"token": "x", "password": longPW}, 400, "password_too_long", ""},
			{signed, "/email/change", map[string]string{"email": long, "password": strongPassword}, 400, "invalid_field", "email"},
			{signed, "/password/change", map[string]string{"current_password": strongPassword, "new_password": longPW}, 400, "password_too_long", ""},
			{signed, "/password/change", map[string]string{"current_password": strings.Repeat("x", 100), "new_password": strongPassword}, 400, "password_too_long", ""},
			{signed, "/delete", map[string]string{"password": strings.Repeat("x", 100)}, 400, "password_too_long", ""},
		} {
			r := tc.c.post(tc.path, tc.body)
			wantCode(t, tc.path+" "+jsonBody(tc.body)[:40], r, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("%s: %s does not name %s", tc.path, r, tc.field)
			}
		}
		if h.users.Len() != 1 {
			t.Fatal("an over-long signup created an account")
		}
		signed.must(200, "GET", "/session", nil)
	})
}

// TestAPIUnknownRoutes: a path under the prefix that is no route is 404
// not_found, whatever the method, signed in or not.
func TestAPIUnknownRoutes(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	signed, _ := h.loggedIn(t, "ada@example.com", "ada")
	for _, c := range []*client{h.client(t), signed} {
		for _, path := range []string{"", "/", "/nope", "/signup/x", "/sessions/a/b", "/devices/", "/email", "/password",
			"/SIGNUP", "/signup.json", "/%00", "/sessions/x/y/z", "/" + strings.Repeat("a", 4000)} {
			for _, m := range []string{"GET", "POST", "DELETE", "PUT"} {
				wantCode(t, m+" "+path, c.send(m, path, "", ""), 404, "not_found")
			}
		}
	}
}

// TestAPIWrongMethods: a route's path with a method it does not take is
// 405 method_not_allowed, with Allow listing the methods it takes; the
// same with a session, and for HEAD of a POST route.
func TestAPIWrongMethods(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	signed, _ := h.loggedIn(t, "ada@example.com", "ada")
	allow := map[string][]string{}
	for _, rt := range apiRoutes {
		allow[rt.path] = append(allow[rt.path], rt.method)
	}
	for path, methods := range allow {
		sort.Strings(methods)
		want := strings.Join(methods, ", ")
		if strings.Contains(want, "GET") {
			want = strings.Replace(want, "GET", "GET, HEAD", 1)
		}
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if strings.Contains(want, m) {
				continue
			}
			for _, c := range []*client{h.client(t), signed} {
				r := c.send(m, path, "application/json", "{}")
				if r.status != 405 || (m != "HEAD" && r.code() != "method_not_allowed") {
					t.Errorf("%s %s: %s, want 405 method_not_allowed", m, path, r)
				}
				if got := r.header.Get("Allow"); !sameMethods(got, methods) {
					t.Errorf("%s %s: Allow %q, want %q", m, path, got, strings.Join(methods, ", "))
				}
			}
		}
	}
}

// sameMethods reports whether the Allow header lists exactly methods
// (HEAD may come with GET).
func sameMethods(allow string, methods []string) bool {
	got := map[string]bool{}
	for _, m := range strings.Split(allow, ",") {
		got[strings.TrimSpace(m)] = true
	}
	for _, m := range methods {
		if !got[m] {
			return false
		}
		delete(got, m)
	}
	delete(got, "HEAD")
	return len(got) == 0
}

// TestAPIUncleanPaths: paths the mux would clean (a double slash, dot
// segments) never reach a handler as another route and never 500: the
// app's ServeMux redirects to the clean path under the prefix.
func TestAPIUncleanPaths(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	c := h.client(t)
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"//signup", "/./signup", "/x/../signup", "/signup/"} {
		r := c.send("POST", path, "application/json", `{"email":"eve@example.com","password":"`+strongPassword+`"}`)
		switch {
		case r.status >= 500:
			t.Errorf("POST %s: %s", path, r)
		case r.status >= 300 && r.status < 400:
			if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/account/") {
				t.Errorf("POST %s: redirected to %q, out of the prefix", path, loc)
			}
		case r.status == 202:
			t.Errorf("POST %s: served as /signup", path)
		}
	}
	if h.users.Len() != 0 {
		t.Fatal("an unclean path created an account")
	}
}

// TestAPIUncleanPathsWithoutServeMux: mounted under a router that does
// not clean paths (chi, or StripPrefix as the server's handler), a path
// with a double slash or dot segments is 404 not_found with its code,
// never the API's own mux redirect, whose Location would drop the prefix
// ("/signup" for "/account//signup") and lead out of the API.
func TestAPIUncleanPathsWithoutServeMux(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	api := http.StripPrefix("/account", h.acct.API())
	for _, p := range []string{"/account//signup", "/account/./signup", "/account/x/../session", "/account/sessions/../devices", "/account/session/.", "/account"} {
		for _, m := range []string{"GET", "POST"} {
			r := httptest.NewRequest(m, "http://app.example/", strings.NewReader(`{}`))
			r.URL.Path = p
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			wantCode(t, m+" "+p, reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, 404, "not_found")
		}
	}
}
