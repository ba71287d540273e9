package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/password"
)

// Every test runs on every store: memory, Redis and a Redis Cluster.
var stores = teststores.All()

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// internalError matches the line fail logs for a 500.
var internalError = regexp.MustCompile(`(?m)^socialid: [A-Z]+ /`)

type env struct {
	srv    *httptest.Server
	base   string // the API's URL prefix on srv
	clock  *fakeclock.Clock
	store  *storefault.Store
	hasher *authtest.Hasher
	outbox *outbox
	logs   *extest.Buffer
}

// eachStore runs f on a fresh app over every store in stores.
func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	for _, sf := range stores {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			e := &env{clock: clock, hasher: &authtest.Hasher{Bcrypt: password.Bcrypt{Cost: 4}}, logs: &extest.Buffer{}}
			e.store = storefault.Wrap(sf.Open(t, clock.Now))
			logger := log.New(e.logs, "", 0)
			e.outbox = &outbox{logger: logger}
			var handler http.Handler
			e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
			e.srv.StartTLS()
			t.Cleanup(e.srv.Close)
			h, err := newApp(config{tagKey: extest.TagKey, store: e.store, now: clock.Now, hasher: e.hasher, outbox: e.outbox, logger: logger, publicURL: e.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			handler = h
			e.base = e.srv.URL + apiPrefix
			f(t, e)
			if internalError.MatchString(e.logs.String()) {
				t.Errorf("internal errors (500) were logged:\n%s", e.logs)
			}
		})
	}
}

// Ways a request authenticates.
func asApp(r *http.Request) { r.SetBasicAuth(demoApp.ID, demoApp.Secret) }
func wrongApp(r *http.Request) {
	r.SetBasicAuth(demoApp.ID, demoApp.Secret[:len(demoApp.Secret)-1]+"0")
}
func anonymous(*http.Request) {}
func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

type result struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// call sends a request to path under the API prefix; a body is sent as
// JSON.
func (e *env) call(t *testing.T, method, path string, authn func(*http.Request), body string) result {
	t.Helper()
	req := extest.Request(t, method, e.base+path, extest.JSONType(body), body)
	authn(req)
	return e.do(t, req)
}

func (e *env) do(t *testing.T, req *http.Request) result {
	t.Helper()
	var out result
	res, raw := extest.DoJSON(t, e.srv.Client(), req, &out.json)
	out.status, out.header, out.raw = res.StatusCode, res.Header, raw
	return out
}

func loginBody(field, login, password string) string {
	b, _ := json.Marshal(map[string]string{field: login, "password": password})
	return string(b)
}

func (e *env) login(t *testing.T, field, login, password string) result {
	t.Helper()
	return e.call(t, "POST", "/users/login", asApp, loginBody(field, login, password))
}

// mustLogin logs john_doe in and returns the login token.
func (e *env) mustLogin(t *testing.T) string {
	t.Helper()
	res := e.login(t, "username", "john_doe", demoPassword)
	if res.status != 201 {
		t.Fatalf("login: %v", res)
	}
	return res.json["login_token"].(string)
}

// wantError checks an error answer's status and code.
func wantError(t *testing.T, what string, res result, status int, code string) {
	t.Helper()
	if res.status != status || res.json["code"] != code || res.json["message"] == "" {
		t.Fatalf("%s: %v; want %d %q with a message", what, res, status, code)
	}
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestLoginAnswersLikeTheSeed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var connID string
		var signIns []string
		for _, tc := range []struct{ field, login string }{
			{"username", "john_doe"},
			{"email_address", "john_doe@domain.com"},
			{"email_address", " JOHN_DOE@Domain.com "}, // normalised like any email
		} {
			res := e.login(t, tc.field, tc.login, demoPassword)
			if res.status != 201 {
				t.Fatalf("%s %q: %v", tc.field, tc.login, res)
			}
			if len(res.json) != 4 {
				t.Errorf("body has %d fields, want the seed's 4: %s", len(res.json), res.raw)
			}
			id, _ := res.json["connection_id"].(string)
			if !hex64.MatchString(id) || res.json["connection"] != e.base+"/connections/"+id {
				t.Errorf("connection %v, connection_id %q", res.json["connection"], id)
			}
			if connID != "" && id != connID {
				t.Errorf("a second sign-in made a new connection: %s, then %s", connID, id)
			}
			connID = id
			if res.json["user_id"] != float64(341) || res.json["login_token"] == "" {
				t.Errorf("user_id %v, login_token %v", res.json["user_id"], res.json["login_token"])
			}
			loc := res.header.Get("Location")
			if !strings.HasPrefix(loc, e.base+"/sign_ins/") {
				t.Fatalf("Location %q", loc)
			}
			signIns = append(signIns, loc)

			si := e.do(t, appRequest(t, loc))
			if si.status != 200 || si.json["user_id"] != float64(341) || si.json["connection_id"] != id || si.json["login_field"] != tc.field {
				t.Errorf("GET %s: %v", loc, si)
			}
			if bytes.Contains(si.raw, []byte(res.json["login_token"].(string))) {
				t.Error("the sign-in shows the login token")
			}
			me := e.call(t, "GET", "/me", bearer(res.json["login_token"].(string)), "")
			if me.status != 200 || me.json["user_id"] != float64(341) || me.json["username"] != "john_doe" {
				t.Errorf("GET /me with the login token: %v", me)
			}
		}
		if signIns[0] == signIns[1] {
			t.Errorf("two sign-ins share %s", signIns[0])
		}
		c := e.call(t, "GET", "/connections/"+connID, asApp, "")
		if c.status != 200 || c.json["user_id"] != float64(341) || c.json["sign_ins"] != float64(3) || c.json["provider"] != "password" {
			t.Errorf("GET connection: %v", c)
		}
		// Both identifiers: the username names the account.
		if res := e.call(t, "POST", "/users/login", asApp, `{"username":"john_doe","email_address":"nobody@domain.com","password":"john_doe_secret"}`); res.status != 201 {
			t.Errorf("username and email: %v", res)
		}

		wantError(t, "sign-in without app auth", e.call(t, "GET", "/sign_ins/1", anonymous, ""), 401, "invalid_app_credentials")
		wantError(t, "connection without app auth", e.call(t, "GET", "/connections/"+connID, anonymous, ""), 401, "invalid_app_credentials")
		wantError(t, "unknown sign-in", e.call(t, "GET", "/sign_ins/99999", asApp, ""), 404, "not_found")
		wantError(t, "non-numeric sign-in", e.call(t, "GET", "/sign_ins/abc", asApp, ""), 404, "not_found")
		wantError(t, "unknown connection", e.call(t, "GET", "/connections/"+strings.Repeat("0", 64), asApp, ""), 404, "not_found")
		wantError(t, "/me without a token", e.call(t, "GET", "/me", anonymous, ""), 401, "missing_token")
		wantError(t, "/me with garbage", e.call(t, "GET", "/me", bearer("garbage"), ""), 401, "invalid_token")
	})
}

func appRequest(t *testing.T, url string) *http.Request {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	asApp(req)
	return req
}

func TestLoginErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name   string
			authn  func(*http.Request)
			ctype  string
			body   string
			status int
			code   string
			field  string
		}{
			{"no app credentials", anonymous, "", loginBody("username", "john_doe", demoPassword), 401, "invalid_app_credentials", ""},
			{"wrong app secret", wrongApp, "", loginBody("username", "john_doe", demoPassword), 401, "invalid_app_credentials", ""},
			{"malformed JSON", asApp, "", `{"username":`, 400, "malformed_body", ""},
			{"trailing data", asApp, "", loginBody("username", "john_doe", demoPassword) + `{}`, 400, "malformed_body", ""},
			{"a form", asApp, "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret", 400, "unsupported_media_type", ""},
			{"body too large", asApp, "", `{"username":"` + strings.Repeat("a", maxBody) + `"}`, 400, "body_too_large", ""},
			{"missing password", asApp, "", `{"username":"john_doe"}`, 400, "missing_field", "password"},
			{"missing both identifiers", asApp, "", `{"password":"john_doe_secret"}`, 400, "missing_field", "username"},
			{"blank identifiers", asApp, "", `{"username":" ","email_address":"","password":"john_doe_secret"}`, 400, "missing_field", "username"},
			{"email too long", asApp, "", loginBody("email_address", strings.Repeat("a", 400)+"@x", demoPassword), 400, "invalid_field", "email_address"},
			{"password over 72 bytes", asApp, "", loginBody("username", "john_doe", strings.Repeat("a", 73)), 400, "password_too_long", ""},
			{"deactivated", asApp, "", loginBody("username", "inactive_user", demoPassword), 403, "active", ""},
			{"deactivated, wrong password", asApp, "", loginBody("username", "inactive_user", "wrong"), 403, "invalid_password", ""},
			{"unconfirmed", asApp, "", loginBody("email_address", "unconfirmed_user@domain.com", demoPassword), 403, "confirmed", ""},
			{"unconfirmed, wrong password", asApp, "", loginBody("username", "unconfirmed_user", "wrong"), 403, "invalid_password", ""},
			{"wrong password", asApp, "", loginBody("username", "john_doe", "wrong"), 403, "invalid_password", ""},
			{"wrong password by email", asApp, "", loginBody("email_address", "john_doe@domain.com", "wrong"), 403, "invalid_password", ""},
			{"unknown username", asApp, "", loginBody("username", "nobody", demoPassword), 404, "unknown_user", ""},
			{"unknown email", asApp, "", loginBody("email_address", "nobody@domain.com", demoPassword), 404, "unknown_user", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", e.base+"/users/login", strings.NewReader(tc.body))
				ctype := tc.ctype
				if ctype == "" {
					ctype = "application/json"
				}
				req.Header.Set("Content-Type", ctype)
				tc.authn(req)
				res := e.do(t, req)
				wantError(t, tc.name, res, tc.status, tc.code)
				if f, _ := res.json["field"].(string); f != tc.field {
					t.Errorf("field %q, want %q", f, tc.field)
				}
				if tc.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("WWW-Authenticate %q, want a Basic challenge", res.header.Get("WWW-Authenticate"))
				}
			})
		}
	})
}

func TestLockoutBoundaryAndUnlock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		// The name typed is locked for this client after 5 failures through
		// it (the account is held too: see TestOtherNameIsHeld).
		for i := range 5 {
			wantError(t, fmt.Sprintf("failure %d", i+1), e.login(t, "username", "john_doe", "wrong"), 403, "invalid_password")
		}
		// Attempt 6, even with the right password, is refused.
		res := e.login(t, "username", "john_doe", demoPassword)
		wantError(t, "attempt 6", res, 403, "locked")
		unlock := e.clock.Now().Add(15 * time.Minute)
		if res.json["until"] != unlock.Format(time.RFC3339) || res.header.Get("Retry-After") != "900" {
			t.Errorf("locked: until %v, Retry-After %q; want %s and 900", res.json["until"], res.header.Get("Retry-After"), unlock.Format(time.RFC3339))
		}
		if n := e.hasher.Compares.Load(); n != 5 {
			t.Errorf("%d password comparisons, want 5 (none while locked)", n)
		}
		e.clock.Advance(15*time.Minute - time.Second)
		wantError(t, "a second before unlock", e.login(t, "username", "john_doe", demoPassword), 403, "locked")
		e.clock.Advance(time.Second)
		if res := e.login(t, "username", "john_doe", demoPassword); res.status != 201 {
			t.Fatalf("after 15 minutes: %v", res)
		}
	})
}

func TestFourFailuresDoNotLock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for range 4 {
			e.login(t, "username", "john_doe", "wrong")
		}
		if res := e.login(t, "username", "john_doe", demoPassword); res.status != 201 {
			t.Fatalf("attempt 5 with the right password: %v", res)
		}
		// Success cleared the count: four more failures still do not lock.
		for range 4 {
			e.login(t, "username", "john_doe", "wrong")
		}
		if res := e.login(t, "username", "john_doe", demoPassword); res.status != 201 {
			t.Fatalf("after a success and 4 more failures: %v", res)
		}
	})
}

func TestLockedAnswersRightAndWrongPasswordAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for range 5 {
			e.login(t, "username", "john_doe", "wrong")
		}
		before := e.hasher.Compares.Load()
		right := e.login(t, "username", "john_doe", demoPassword)
		wrong := e.login(t, "username", "john_doe", "wrong")
		wantError(t, "locked, right password", right, 403, "locked")
		if !bytes.Equal(right.raw, wrong.raw) {
			t.Fatalf("locked answers differ:\nright %s\nwrong %s", right.raw, wrong.raw)
		}
		if n := e.hasher.Compares.Load() - before; n != 0 {
			t.Fatalf("%d password comparisons while locked, want 0", n)
		}
	})
}

// TestOtherNameIsHeld: a client locked out of the username is held on the
// account's address: even the right password is answered as a wrong one
// (after a comparison against a dummy, so it takes as long), and the
// address locks after its own 5 failures, as any name would.
func TestOtherNameIsHeld(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for range 5 {
			e.login(t, "username", "john_doe", "wrong")
		}
		wantError(t, "held, right password", e.login(t, "email_address", "john_doe@domain.com", demoPassword), 403, "invalid_password")
		for range 4 {
			e.login(t, "email_address", "john_doe@domain.com", "wrong")
		}
		wantError(t, "6th through the address", e.login(t, "email_address", "john_doe@domain.com", demoPassword), 403, "locked")
	})
}

func TestConcurrentWrongPasswordsAreBounded(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		start := make(chan struct{})
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := loginBody("username", "john_doe", "wrong")
				if i%2 == 1 {
					body = loginBody("email_address", "John_Doe@domain.com", "wrong")
				}
				req, _ := http.NewRequest("POST", e.base+"/users/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				asApp(req)
				<-start
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				var out struct{ Code string }
				json.NewDecoder(res.Body).Decode(&out)
				mu.Lock()
				codes[fmt.Sprint(res.StatusCode, " ", out.Code)]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		// 5 per name from this client: at most 5 real checks (the
		// account's per-client limit), the rest of the 10 held and
		// compared against a dummy.
		if n := e.hasher.Compares.Load(); n > 10 {
			t.Fatalf("%d password comparisons for 200 concurrent wrong passwords through two names, limit 5 each", n)
		}
		// The app server may have 32 logins waiting for a hashing slot
		// (password.Scheduler): the rest of a flood from it is refused at
		// once, 503 busy or 429 rate_limited past its login limit: neither
		// compared nor counted.
		if codes["403 invalid_password"]+codes["403 locked"]+codes["503 busy"]+codes["429 rate_limited"] != 200 || codes["403 invalid_password"] > 10 {
			t.Fatalf("answers %v; want at most 10 invalid_password, the rest locked, busy or rate limited", codes)
		}
		// Fewer than 5 checked tries lock nothing: the right password gets
		// in. From 5 on, the username may be locked for this client (403
		// locked) or the account held (403 invalid_password, unchecked),
		// depending on how the two names interleaved.
		res := e.login(t, "username", "john_doe", demoPassword)
		switch {
		case codes["403 invalid_password"] < 5 && res.status != http.StatusCreated:
			t.Fatalf("right password after %d checked guesses: %d %s, want 201", codes["403 invalid_password"], res.status, res.raw)
		case res.status != http.StatusCreated && res.status != http.StatusForbidden:
			t.Fatalf("right password after the flood: %d %s, want 201 or 403", res.status, res.raw)
		}
	})
}

func TestDeactivationEndsSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok1, tok2 := e.mustLogin(t), e.mustLogin(t)
		if res := e.call(t, "GET", "/me", bearer(tok1), ""); res.status != 200 {
			t.Fatalf("/me before: %v", res)
		}
		res := e.call(t, "PUT", "/users/341/deactivate", asApp, "")
		if res.status != 200 || res.json["active"] != false || res.json["ended_tokens"] != float64(2) {
			t.Fatalf("deactivate: %v", res)
		}
		for _, tok := range []string{tok1, tok2} {
			wantError(t, "/me after deactivation", e.call(t, "GET", "/me", bearer(tok), ""), 401, "invalid_token")
		}
		wantError(t, "login while deactivated", e.login(t, "username", "john_doe", demoPassword), 403, "active")

		res = e.call(t, "PUT", "/users/341/activate", asApp, "")
		if res.status != 200 || res.json["active"] != true {
			t.Fatalf("activate: %v", res)
		}
		tok3 := e.mustLogin(t)
		if res := e.call(t, "GET", "/me", bearer(tok3), ""); res.status != 200 {
			t.Fatalf("/me after reactivation: %v", res)
		}
		wantError(t, "an ended session after reactivation", e.call(t, "GET", "/me", bearer(tok1), ""), 401, "invalid_token")

		// The demo's inactive user can be activated too.
		e.call(t, "PUT", "/users/342/activate", asApp, "")
		if res := e.login(t, "username", "inactive_user", demoPassword); res.status != 201 {
			t.Fatalf("inactive_user after activation: %v", res)
		}

		wantError(t, "without app auth", e.call(t, "PUT", "/users/341/deactivate", anonymous, ""), 401, "invalid_app_credentials")
		wantError(t, "unknown user", e.call(t, "PUT", "/users/999/deactivate", asApp, ""), 404, "unknown_user")
		wantError(t, "non-numeric user", e.call(t, "PUT", "/users/john_doe/activate", asApp, ""), 404, "unknown_user")
		if res := e.call(t, "GET", "/me", bearer(tok3), ""); res.status != 200 {
			t.Fatalf("refused calls changed something: %v", res)
		}
	})
}

func TestEmailConfirmation(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const addr = "unconfirmed_user@domain.com"
		wantError(t, "before", e.login(t, "email_address", addr, demoPassword), 403, "confirmed")

		send := func(body string) result { return e.call(t, "POST", "/users/send_email_confirmation", asApp, body) }
		wantError(t, "no app auth", e.call(t, "POST", "/users/send_email_confirmation", anonymous, `{"email_address":"`+addr+`"}`), 401, "invalid_app_credentials")
		wantError(t, "missing address", send(`{}`), 400, "missing_field")
		wantError(t, "unknown address", send(`{"email_address":"nobody@domain.com"}`), 404, "unknown_user")
		wantError(t, "a username is not an address", send(`{"email_address":"unconfirmed_user"}`), 404, "unknown_user")
		wantError(t, "already confirmed", send(`{"email_address":"john_doe@domain.com"}`), 409, "already_confirmed")

		res := send(`{"email_address":" Unconfirmed_User@domain.com"}`)
		if res.status != 202 || res.json["email_address"] != addr {
			t.Fatalf("send: %v", res)
		}
		m, ok := e.outbox.last(addr)
		if !ok || m.Purpose != auth.PurposeConfirmEmail || m.Subject != "343" {
			t.Fatalf("outbox: %+v, %v", m, ok)
		}
		link := e.base + "/users/confirm_email?token=" + m.Token
		if !strings.Contains(e.logs.String(), link) {
			t.Errorf("the demo log lacks the link %s:\n%s", link, e.logs)
		}

		confirm := func(token string) result {
			return e.call(t, "GET", "/users/confirm_email?token="+token, anonymous, "")
		}
		res = confirm(m.Token)
		if res.status != 200 || res.json["email_confirmed"] != true || res.json["user_id"] != float64(343) {
			t.Fatalf("confirm: %v", res)
		}
		if res.header.Get("Referrer-Policy") != "no-referrer" {
			t.Error("the token in the URL may leak through Referer")
		}
		wantError(t, "second redemption", confirm(m.Token), 400, "invalid_token")
		wantError(t, "no token", confirm(""), 400, "missing_field")
		wantError(t, "garbage", confirm("garbage"), 400, "invalid_token")
		wantError(t, "a login token", confirm(e.mustLogin(t)), 400, "invalid_token")
		if res := e.login(t, "email_address", addr, demoPassword); res.status != 201 {
			t.Fatalf("login after confirmation: %v", res)
		}
		wantError(t, "send after confirmation", send(`{"email_address":"`+addr+`"}`), 409, "already_confirmed")
	})
}

func TestEmailConfirmationExpires(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		if res := e.call(t, "POST", "/users/send_email_confirmation", asApp, `{"email_address":"unconfirmed_user@domain.com"}`); res.status != 202 {
			t.Fatalf("send: %v", res)
		}
		m, _ := e.outbox.last("unconfirmed_user@domain.com")
		e.clock.Advance(24*time.Hour + time.Second)
		wantError(t, "after 24 hours", e.call(t, "GET", "/users/confirm_email?token="+m.Token, anonymous, ""), 400, "invalid_token")
	})
}

func TestEmailConfirmationIsRateLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		body := `{"email_address":"unconfirmed_user@domain.com"}`
		for i := range auth.MaxMessagesPerHour {
			if res := e.call(t, "POST", "/users/send_email_confirmation", asApp, body); res.status != 202 {
				t.Fatalf("message %d: %v", i+1, res)
			}
		}
		res := e.call(t, "POST", "/users/send_email_confirmation", asApp, body)
		wantError(t, "one message too many", res, 429, "rate_limited")
		if res.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		e.clock.Advance(time.Hour + time.Second)
		if res := e.call(t, "POST", "/users/send_email_confirmation", asApp, body); res.status != 202 {
			t.Fatalf("after the hour: %v", res)
		}
	})
}

func TestStoreDownAnswers503(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.mustLogin(t)
		if res := e.call(t, "POST", "/users/send_email_confirmation", asApp, `{"email_address":"unconfirmed_user@domain.com"}`); res.status != 202 {
			t.Fatalf("send: %v", res)
		}
		m, _ := e.outbox.last("unconfirmed_user@domain.com")
		e.store.SetDown(true)
		for _, tc := range []struct {
			name, method, path string
			authn              func(*http.Request)
			body               string
		}{
			{"login", "POST", "/users/login", asApp, loginBody("username", "john_doe", demoPassword)},
			{"wrong password", "POST", "/users/login", asApp, loginBody("username", "john_doe", "wrong")},
			{"unknown user", "POST", "/users/login", asApp, loginBody("username", "nobody", demoPassword)},
			{"me", "GET", "/me", bearer(tok), ""},
			{"deactivate", "PUT", "/users/341/deactivate", asApp, ""},
			{"send confirmation", "POST", "/users/send_email_confirmation", asApp, `{"email_address":"unconfirmed_user@domain.com"}`},
			{"confirm", "GET", "/users/confirm_email?token=" + m.Token, anonymous, ""},
		} {
			res := e.call(t, tc.method, tc.path, tc.authn, tc.body)
			wantError(t, tc.name+" with the store down", res, 503, "store_unavailable")
			if res.header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", tc.name)
			}
		}
		e.store.SetDown(false)
		// The deactivation the store refused still flipped the flag: the
		// account is inactive and a retry ends the session.
		wantError(t, "login after the refused deactivation", e.login(t, "username", "john_doe", demoPassword), 403, "active")
		if res := e.call(t, "PUT", "/users/341/deactivate", asApp, ""); res.status != 200 || res.json["ended_tokens"] != float64(1) {
			t.Fatalf("retried deactivation: %v", res)
		}
		e.call(t, "PUT", "/users/341/activate", asApp, "")
		if res := e.login(t, "username", "john_doe", demoPassword); res.status != 201 {
			t.Fatalf("after recovery: %v", res)
		}
		// The confirmation the store refused to redeem is still good.
		if res := e.call(t, "GET", "/users/confirm_email?token="+m.Token, anonymous, ""); res.status != 200 {
			t.Fatalf("confirm after recovery: %v", res)
		}
	})
}

func TestRoutes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		wantError(t, "unknown route", e.call(t, "GET", "/nope", asApp, ""), 404, "not_found")
		req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
		wantError(t, "root", e.do(t, req), 404, "not_found")
		for _, tc := range []struct{ method, path, allow string }{
			{"GET", "/users/login", "POST"},
			{"DELETE", "/sign_ins/1", "GET, HEAD"},
			{"POST", "/users/341/deactivate", "PUT"},
			{"POST", "/me", "GET, HEAD"},
		} {
			res := e.call(t, tc.method, tc.path, asApp, "")
			wantError(t, tc.method+" "+tc.path, res, 405, "method_not_allowed")
			if res.header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, res.header.Get("Allow"), tc.allow)
			}
		}
	})
}

// TestConfirmEmailIsRateLimited: the confirmation link is the route anyone
// may call; one address gets 60 tries at once, then 429 rate_limited in
// the API's error shape.
func TestConfirmEmailIsRateLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for i := range 61 {
			req, _ := http.NewRequest("GET", e.base+"/users/confirm_email?token=ghv_nope", nil)
			res := e.do(t, req)
			if i < 60 && res.status == http.StatusTooManyRequests {
				t.Fatalf("confirmation %d refused as rate limited", i+1)
			}
			if i == 60 {
				wantError(t, "past the limit", res, http.StatusTooManyRequests, "rate_limited")
			}
		}
	})
}

// TestConfirmationLinkIgnoresHost: the link in the confirmation mail, and
// the links of the answers, point at the configured public URL whatever
// Host the request named (issue 15, finding 10).
func TestConfirmationLinkIgnoresHost(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		forged := func(r *http.Request) { asApp(r); r.Host = "attacker.example" }
		res := e.call(t, "POST", "/users/send_email_confirmation", forged, `{"email_address":"unconfirmed_user@domain.com"}`)
		if res.status != 202 {
			t.Fatalf("send: %v", res)
		}
		m, _ := e.outbox.last("unconfirmed_user@domain.com")
		if want := e.base + "/users/confirm_email?token=" + m.Token; m.Link != want {
			t.Errorf("mail link %q, want %q", m.Link, want)
		}
		if strings.Contains(e.logs.String(), "attacker.example") {
			t.Errorf("the forged host reached the mail:\n%s", e.logs)
		}
		res = e.call(t, "POST", "/users/login", forged, `{"username":"john_doe","password":"`+demoPassword+`"}`)
		if res.status != 201 || !strings.HasPrefix(res.header.Get("Location"), e.base+"/") || !strings.HasPrefix(fmt.Sprint(res.json["connection"]), e.base+"/") {
			t.Errorf("login with a forged Host: %v, Location %q", res, res.header.Get("Location"))
		}
	})
}
