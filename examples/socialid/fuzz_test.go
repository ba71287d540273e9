package main

import (
	"encoding/json"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/exfuzz"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// FuzzAPI sends any method, target, headers and body to a fresh app: the
// login (JSON body, Basic app credentials), sign-ins, connections,
// activation, confirmation emails, the confirmation link and /me. Nothing
// panics or answers 500; every error is JSON with a stable code; and
// nothing succeeds without the demo app's credentials, the demo password,
// or a token the test itself obtained. In the input, "$TOKEN" stands for
// a login token of john_doe and "$CONFIRM" for a confirmation token of
// unconfirmed_user, both issued through the API on each run.
func FuzzAPI(f *testing.F) {
	const (
		base  = apiPrefix
		app   = "Authorization: Basic MTM4OmU4YjljYTI0ZjFiNTkwYWY2N2U2MjcxMjk3ZDZlMWY3MjI2NjI1ZDYxYzViNWRhYTFiMmYyMTU0NjRlMjkyY2Y=\n"
		json_ = "Content-Type: application/json\n"
	)
	for _, seed := range [][4]string{
		{"POST", base + "/users/login", app + json_, `{"username":"john_doe","password":"john_doe_secret"}`},
		{"POST", base + "/users/login", app + json_, `{"email_address":"John_Doe@Domain.com","password":"john_doe_secret"}`},
		{"POST", base + "/users/login", app + json_, `{"username":" ","email_address":"john_doe@domain.com","password":"john_doe_secret"}`},
		{"POST", base + "/users/login", app + json_, `{"username":"inactive_user","password":"john_doe_secret"}`},
		{"POST", base + "/users/login", app + json_, `{"username":"unconfirmed_user","password":"john_doe_secret"}`},
		{"POST", base + "/users/login", app + json_, `{"username":"john_doe","password":"wrong"}`},
		{"POST", base + "/users/login", app + json_, `{"username":"nobody","password":"x"}`},
		{"POST", base + "/users/login", app + json_, `{"username":"john_doe","password":"` + strings.Repeat("x", 73) + `"}`},
		{"POST", base + "/users/login", app + json_, `{"username":"john_doe"}`},
		{"POST", base + "/users/login", app + json_, `{"password":1}`},
		{"POST", base + "/users/login", app + "Content-Type: application/x-www-form-urlencoded", `username=john_doe&password=john_doe_secret`},
		{"POST", base + "/users/login", json_, `{"username":"john_doe","password":"john_doe_secret"}`},
		{"POST", base + "/users/login", "Authorization: Basic MTM4Og==\n" + json_, `{}`},
		{"POST", base + "/users/login", "Authorization: Basic !!\n" + json_, `{}`},
		{"GET", base + "/users/login", app, ""},
		{"GET", base + "/sign_ins/1", app, ""},
		{"GET", base + "/sign_ins/-1", app, ""},
		{"GET", base + "/sign_ins/99999999999999999999", app, ""},
		{"GET", base + "/connections/abc", app, ""},
		{"PUT", base + "/users/341/deactivate", app, ""},
		{"PUT", base + "/users/342/activate", app, ""},
		{"PUT", base + "/users/x/activate", app, ""},
		{"POST", base + "/users/send_email_confirmation", app + json_, `{"email_address":"unconfirmed_user@domain.com"}`},
		{"POST", base + "/users/send_email_confirmation", app + json_, `{"email_address":"john_doe@domain.com"}`},
		{"POST", base + "/users/send_email_confirmation", app + json_, `{"email_address":""}`},
		{"GET", base + "/users/confirm_email?token=$CONFIRM", "", ""},
		{"GET", base + "/users/confirm_email?token=$TOKEN", "", ""},
		{"GET", base + "/users/confirm_email?token=ghv_abcd_" + strings.Repeat("A", 43), "", ""},
		{"GET", base + "/users/confirm_email", "", ""},
		{"GET", base + "/me", "Authorization: Bearer $TOKEN", ""},
		{"GET", base + "/me", "Authorization: bearer  $TOKEN ", ""},
		{"GET", base + "/me", "Authorization: Bearer $CONFIRM", ""},
		{"GET", base + "/me", "Authorization: Bearer ghs_abcd_" + strings.Repeat("A", 43), ""},
		{"GET", base + "/me", app, ""},
		{"DELETE", base + "/me", "", ""},
		{"GET", "/nope", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}

	// The routes, to tell which one a request reached.
	routes := exfuzz.Routes("POST "+base+"/users/login", "GET "+base+"/sign_ins/{id}", "GET "+base+"/connections/{id}",
		"PUT "+base+"/users/{user_id}/activate", "PUT "+base+"/users/{user_id}/deactivate",
		"POST "+base+"/users/send_email_confirmation", "GET "+base+"/users/confirm_email", "GET "+base+"/me")
	codes := exfuzz.Codes("not_found", "already_confirmed", "method_not_allowed", "active", "confirmed", "invalid_password")

	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		defer exfuzz.Watch(method, target, headers, body)()
		// A fresh app on every run, so that an input means the same
		// whatever ran before it.
		clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		mem := memory.New(memory.Options{Now: clock.Now, SweepInterval: -1})
		defer mem.Close()
		logs := &extest.Buffer{}
		logger := log.New(logs, "", 0)
		ob := &outbox{logger: logger}
		h, err := newApp(config{tagKey: extest.TagKey, store: mem, now: clock.Now, hasher: exfuzz.Hasher{}, outbox: ob, logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		serve := func(r *http.Request) *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		all := method + target + headers + body
		var token, confirm string
		if strings.Contains(all, "$TOKEN") {
			r, _ := exfuzz.Request("POST", base+"/users/login", app+json_, `{"username":"john_doe","password":"john_doe_secret"}`)
			var res loginResponse
			if w := serve(r); w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.LoginToken == "" {
				t.Fatalf("login: %d %s", w.Code, w.Body)
			}
			token = res.LoginToken
		}
		if strings.Contains(all, "$CONFIRM") {
			r, _ := exfuzz.Request("POST", base+"/users/send_email_confirmation", app+json_, `{"email_address":"unconfirmed_user@domain.com"}`)
			w := serve(r)
			m, ok := ob.last("unconfirmed_user@domain.com")
			if w.Code != http.StatusAccepted || !ok {
				t.Fatalf("send_email_confirmation: %d %s", w.Code, w.Body)
			}
			confirm = m.Token
		}
		expand := strings.NewReplacer("$TOKEN", token, "$CONFIRM", confirm).Replace
		x, ok := exfuzz.Serve(t, h, routes, expand, method, target, headers, body)
		if !ok {
			return
		}
		r, w, fail := x.R, x.W, x.Fail
		if x.ServerError() || internalError.MatchString(logs.String()) {
			fail("server error: " + logs.String())
		}
		if x.MuxRedirect() {
			return
		}
		if w.Code >= 400 {
			if !codes[x.ErrorCode()] {
				fail("error without a stable code")
			}
			return
		}
		id, secret, _ := r.BasicAuth()
		asApp := id == demoApp.ID && secret == demoApp.Secret
		switch x.Pattern {
		case "POST " + base + "/users/login":
			var req loginRequest
			if w.Code != http.StatusCreated || !asApp || json.Unmarshal([]byte(expand(body)), &req) != nil || req.Password != demoPassword {
				fail("logged in without the app's credentials and the password")
			}
		case "GET " + base + "/sign_ins/{id}", "GET " + base + "/connections/{id}",
			"PUT " + base + "/users/{user_id}/activate", "PUT " + base + "/users/{user_id}/deactivate":
			if w.Code != http.StatusOK || !asApp {
				fail("an app route without the app's credentials")
			}
		case "POST " + base + "/users/send_email_confirmation":
			if w.Code != http.StatusAccepted || !asApp {
				fail("an app route without the app's credentials")
			}
		case "GET " + base + "/users/confirm_email":
			if w.Code != http.StatusOK || confirm == "" || r.URL.Query().Get("token") != confirm {
				fail("confirmed with a token the test did not issue")
			}
		case "GET " + base + "/me":
			if w.Code != http.StatusOK || token == "" || !strings.Contains(r.Header.Get("Authorization"), token) {
				fail("/me without the test's login token")
			}
		default:
			fail("success on no route: " + x.Pattern)
		}
	})
}
