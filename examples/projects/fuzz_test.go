package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"

	"github.com/gatehouse-go/gatehouse/examples/internal/exfuzz"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// knownCodes are the stable codes this API answers errors with: gatehouse's
// and its own.
var knownCodes = exfuzz.Codes("unknown_action", "unknown_project")

// FuzzAPI sends any method, target, headers and body to the app: POST
// /reg/api2/users/ (JSON body, app headers), GET /reg/login?user_token=,
// the project pages and whatever else. Nothing panics or answers 500;
// errors of the API are {"success": false, "code"} with a stable code; and
// nothing succeeds without the demo app's headers, a user token or a
// session cookie the test itself obtained. In the input, "$LINK" stands
// for a fresh user token and "$COOKIE" for a fresh session cookie of
// project 100909072 (both issued through the API on each run).
func FuzzAPI(f *testing.F) {
	const appHeaders = "api-id: 15263\napi-user: api-admin@regpacks.com\napi-token: cd2e514f-7gab-3cde-62fg-51abcd4e7362\n"
	const users = "/reg/api2/users/"
	for _, seed := range [][4]string{
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"login","group_id":100909072,"clogin_id":102670540,"doc":{}}`},
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"logout","group_id":100909073,"clogin_id":102670540}`},
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"login","group_id":"100909072","clogin_id":102670540}`},
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"login","group_id":1e3,"clogin_id":-1}`},
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"delete","group_id":1,"clogin_id":1}`},
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"login","group_id":100909072}`},
		{"POST", users, appHeaders + "Content-Type: application/json", `{"action":"login"`},
		{"POST", users, appHeaders + "Content-Type: text/plain", `{}`},
		{"POST", users, appHeaders + "Content-Type: application/x-www-form-urlencoded", `action=login`},
		{"POST", users, "api-id: 15263\napi-token: cd2e514f-7gab-3cde-62fg-51abcd4e7362\nContent-Type: application/json", `{"action":"login","group_id":100909072,"clogin_id":102670540}`},
		{"POST", users, "api-id: 15263\napi-user: api-admin@regpacks.com\napi-token: cd2e514f-7gab-3cde-62fg-51abcd4e7361", `{}`},
		{"GET", users, appHeaders, ""},
		{"GET", "/reg/login?user_token=$LINK", "", ""},
		{"GET", "/reg/login?user_token=$LINK&user_token=x", "", ""},
		{"GET", "/reg/login?user_token=ghl_abcd_" + strings.Repeat("A", 43), "", ""},
		{"GET", "/reg/login?user_token=%zz", "", ""},
		{"GET", "/reg/login", "", ""},
		{"POST", "/reg/login?user_token=$LINK", "", ""},
		{"GET", "/reg/projects/100909072/", "Cookie: $COOKIE", ""},
		{"GET", "/reg/projects/100909073/", "Cookie: $COOKIE", ""},
		{"GET", "/reg/projects/100909072/", "Cookie: __Host-reg_session=abc", ""},
		{"GET", "/reg/projects/100909072/", "Authorization: Bearer ghs_abcd_" + strings.Repeat("A", 43), ""},
		{"GET", "/reg/projects//", "", ""},
		{"GET", "/", "", ""},
		{"GET", "/nope", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}

	// One app for the whole run (its authenticator hashes a dummy password
	// at full bcrypt cost when built). The clock moves a day on every run,
	// so that what earlier runs issued has expired and is swept.
	start := time.Now()
	clock := fakeclock.New(start)
	mem := memory.New(memory.Options{Now: clock.Now, SweepInterval: -1})
	f.Cleanup(func() { mem.Close() })
	h, err := newApp(config{tagKey: extest.TagKey, store: mem, now: clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	mux := h.(*http.ServeMux)
	serve := func(method, target, headers, body string) *httptest.ResponseRecorder {
		r, _ := exfuzz.Request(method, target, headers, body)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	issueLink := func(t *testing.T) string {
		w := serve("POST", users, appHeaders+"Content-Type: application/json", `{"action":"login","group_id":100909072,"clogin_id":102670540}`)
		var res usersResponse
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.UserToken == "" {
			t.Fatalf("issuing a user token: %d %s", w.Code, w.Body)
		}
		return res.UserToken
	}

	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		defer exfuzz.Watch(method, target, headers, body)()
		clock.Advance(25 * time.Hour)
		mem.Sweep()
		// The memory store keeps expiries in int64 nanoseconds (good to the
		// year 2262): bring the clock back before it gets there.
		if clock.Now().After(start.AddDate(100, 0, 0)) {
			clock.Advance(start.Sub(clock.Now()))
		}
		var link, cookie string
		if strings.Contains(method+target+headers+body, "$LINK") {
			link = issueLink(t)
		}
		if strings.Contains(method+target+headers+body, "$COOKIE") {
			w := serve("GET", "/reg/login?user_token="+issueLink(t), "", "")
			cs := w.Result().Cookies()
			if w.Code != http.StatusSeeOther || len(cs) != 1 {
				t.Fatalf("redeeming a user token: %d %v", w.Code, cs)
			}
			cookie = cs[0].Name + "=" + cs[0].Value
		}
		expand := strings.NewReplacer("$LINK", link, "$COOKIE", cookie).Replace
		x, ok := exfuzz.Serve(t, h, mux, expand, method, target, headers, body)
		if !ok {
			return
		}
		r, w, fail := x.R, x.W, x.Fail
		if x.ServerError() {
			fail("server error")
		}
		if x.MuxRedirect() {
			return
		}
		switch x.Pattern {
		case "POST " + users:
			var res struct {
				Success *bool
				Code    string
			}
			if json.Unmarshal(w.Body.Bytes(), &res) != nil || res.Success == nil {
				fail("not the API's JSON")
			}
			switch {
			case w.Code == http.StatusOK:
				if !*res.Success || r.Header.Get("api-id") != demoApp.ID || r.Header.Get("api-user") != demoApp.User || r.Header.Get("api-token") != demoApp.Secret {
					fail("success without the app's credentials")
				}
			case w.Code < 400 || *res.Success || !knownCodes[res.Code]:
				fail("error without a stable code")
			}
		case "GET /reg/login":
			switch {
			case w.Code == http.StatusSeeOther:
				if link == "" || r.URL.Query().Get("user_token") != link {
					fail("redeemed a user token the test did not issue")
				}
			case w.Code < 400 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html"):
				fail("a failed redemption is not the HTML error page")
			}
		case "GET /reg/projects/{group_id}/":
			var p struct{ Code string }
			switch {
			case w.Code == http.StatusOK:
				if cookie == "" || !strings.Contains(r.Header.Get("Cookie"), cookie) || r.PathValue("group_id") != "100909072" {
					fail("a project page without the session cookie of that project")
				}
			case w.Code < 400 || json.Unmarshal(w.Body.Bytes(), &p) != nil || !knownCodes[p.Code]:
				fail("error without a stable code")
			}
		case "GET /{$}":
			if w.Code != http.StatusOK {
				fail("the index failed")
			}
		case "":
			// ServeMux's own 404 and 405, in plain text; and its 400 for the
			// target "*", which only OPTIONS may use (RFC 9110 §7.1).
			star := r.RequestURI == "*" && w.Code == http.StatusBadRequest
			if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed && !star {
				fail("no route, yet not 404 or 405")
			}
		default:
			fail("a route the test does not know: " + x.Pattern)
		}
	})
}
