package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const (
	grace         = "grace@example.com"
	gracePassword = "hopper-secret"
	graceUID      = "5f0c2e1a-3b1d-4a57-9c8e-1d2f3a4b5c6d"
	alan          = "alan@example.com"
	alanPassword  = "turing-secret"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// internalError matches the line fail logs for a 500.
var internalError = regexp.MustCompile(`(?m)^contacts: [A-Z]+ /`)

type env struct {
	srv    *httptest.Server
	clock  *fakeclock.Clock
	store  *storefault.Store
	tokens *tokens.Manager // on the app's store, to issue device tokens
	outbox *outbox
	logs   *extest.Buffer
}

// eachStore runs f on a fresh app over every store: memory, Redis and
// Redis Cluster. The store and the app share one fake clock.
func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			// The clock starts at the real time: middleware.Cookies gives a
			// cookie its Max-Age from time.Now, not from the app's clock.
			clock := fakeclock.New(time.Now().UTC().Truncate(time.Second))
			e := &env{clock: clock, logs: &extest.Buffer{}}
			e.store = storefault.Wrap(sf.Open(t, clock.Now))
			logger := log.New(e.logs, "", 0)
			e.outbox = &outbox{logger: logger}
			var handler http.Handler
			e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
			e.srv.Config.ErrorLog = logger // TLS handshakes cut short when the test ends
			e.srv.StartTLS()
			t.Cleanup(e.srv.Close)
			h, err := newApp(config{tagKey: extest.TagKey, store: e.store, now: clock.Now, hasher: password.Bcrypt{Cost: 4},
				outbox: e.outbox, logger: logger, publicURL: e.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			handler = h
			if e.tokens, err = tokens.New(tokens.Config{Store: e.store, TagKey: extest.TagKey, Now: clock.Now}); err != nil {
				t.Fatal(err)
			}
			f(t, e)
			if internalError.MatchString(e.logs.String()) {
				t.Errorf("internal errors (500) were logged:\n%s", e.logs)
			}
		})
	}
}

type result struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// msg returns the ResponseMessage object.
func (r result) msg() map[string]any { m, _ := r.json["ResponseMessage"].(map[string]any); return m }

// request sends a request with client (default the server's), a body as
// JSON, and the token, when set, as a bearer.
func (e *env) request(t *testing.T, client *http.Client, method, path, body, token string) result {
	t.Helper()
	req := extest.Request(t, method, e.srv.URL+path, extest.JSONType(body), body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(t, client, req)
}

func (e *env) do(t *testing.T, client *http.Client, req *http.Request) result {
	t.Helper()
	if client == nil {
		client = e.srv.Client()
	}
	var out result
	res, raw := extest.DoJSON(t, client, req, &out.json)
	out.status, out.header, out.raw = res.StatusCode, res.Header, raw
	return out
}

// browser returns a client of its own with a cookie jar.
func (e *env) browser() *http.Client {
	c := *e.srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	return &c
}

func (e *env) post(t *testing.T, path, body string) result {
	t.Helper()
	return e.request(t, nil, "POST", path, body, "")
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func loginBody(email, b64password string) string {
	return jsonOf(map[string]string{"emailaddress": email, "password": b64password})
}

func (e *env) login(t *testing.T, email, password string) result {
	t.Helper()
	return e.post(t, "/api/Login", loginBody(email, b64(password)))
}

func (e *env) mustLogin(t *testing.T, email, password string) result {
	t.Helper()
	res := e.login(t, email, password)
	if res.status != 200 {
		t.Fatalf("login %s: %v", email, res)
	}
	return res
}

// wantError checks an error answer's status, code and field.
func wantError(t *testing.T, what string, res result, status int, code, field string) {
	t.Helper()
	if res.status != status || res.json["code"] != code || res.json["message"] == "" {
		t.Fatalf("%s: %v; want %d %q with a message", what, res, status, code)
	}
	if f, _ := res.json["field"].(string); f != field {
		t.Fatalf("%s: field %q, want %q", what, f, field)
	}
}

func TestLoginAnswersLikeTheSeed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		browser := e.browser()
		res := e.request(t, browser, "POST", "/api/Login", loginBody(grace, b64(gracePassword)), "")
		if res.status != 200 {
			t.Fatalf("grace: %v", res)
		}
		want := map[string]any{
			"uid": graceUID, "EmailAddress": grace, "FirstName": "Grace", "LastName": "Hopper",
			"KnownAs": "Amazing Grace", "Company": "Remington Rand", "WebAdmin": true, "LoginVerified": true,
			"ConsentReceived": true, "UserStatus": "Member", "AllowLogin": true, "ValidationVal": nil, "ValidationID": nil,
		}
		m := res.msg()
		if len(m) != len(want) {
			t.Errorf("ResponseMessage has %d fields, want the seed's %d: %s", len(m), len(want), res.raw)
		}
		for k, v := range want {
			if got, ok := m[k]; !ok || got != v {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
		}
		tok, _ := res.json["SessionToken"].(string)
		if tokens.KindOf(tok) != store.KindSession {
			t.Fatalf("SessionToken %q", tok)
		}
		var cookie string
		for _, c := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "__Host-contacts=") {
				cookie = c
			}
		}
		if cookie == "" {
			t.Errorf("no __Host-contacts session cookie: %q", res.header.Values("Set-Cookie"))
		}
		if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "Secure") || strings.Contains(cookie, tok) {
			t.Errorf("session cookie %q: want HttpOnly, Secure, and the token sealed", cookie)
		}
		// The session works as a cookie and as a bearer token.
		if me := e.request(t, browser, "GET", "/api/Me", "", ""); me.status != 200 || me.msg()["uid"] != graceUID {
			t.Errorf("GET /api/Me with the cookie: %v", me)
		}
		if me := e.request(t, nil, "GET", "/api/Me", "", tok); me.status != 200 || me.msg()["uid"] != graceUID {
			t.Errorf("GET /api/Me with the bearer: %v", me)
		}
		wantError(t, "GET /api/Me without a session", e.request(t, nil, "GET", "/api/Me", "", ""), 401, "missing_token", "")

		res = e.mustLogin(t, alan, alanPassword)
		m = res.msg()
		id, _ := m["ValidationID"].(string)
		val, _ := m["ValidationVal"].(string)
		if m["LoginVerified"] != false || m["FirstName"] != "Alan" || m["LastName"] != "Turing" || id == "" || val == "" {
			t.Fatalf("alan: %s", res.raw)
		}

		// The address is case-folded and trimmed; unpadded Base64 is fine.
		unpadded := strings.TrimRight(b64(gracePassword), "=")
		if res := e.post(t, "/api/Login", loginBody(" GRACE@Example.com ", unpadded)); res.status != 200 {
			t.Errorf("upper case, spaces, unpadded Base64: %v", res)
		}
	})
}

func TestLoginErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		email250 := strings.Repeat("a", 250-len("@example.com")) + "@example.com"
		for _, tc := range []struct {
			name          string
			ctype, body   string
			status        int
			code, field   string
			sameAsUnknown bool
		}{
			{"malformed JSON", "", `{"emailaddress":`, 400, "malformed_body", "", false},
			{"a form", "application/x-www-form-urlencoded", "emailaddress=grace%40example.com", 415, "unsupported_media_type", "", false},
			{"no email", "", jsonOf(map[string]string{"password": b64(gracePassword)}), 400, "missing_field", "emailaddress", false},
			{"empty email", "", loginBody("", b64(gracePassword)), 400, "missing_field", "emailaddress", false},
			{"blank email", "", loginBody("  ", b64(gracePassword)), 400, "missing_field", "emailaddress", false},
			{"no password", "", jsonOf(map[string]string{"emailaddress": grace}), 400, "missing_field", "password", false},
			{"empty password", "", loginBody(grace, ""), 400, "missing_field", "password", false},
			{"email of 251 characters", "", loginBody("a"+email250, b64(gracePassword)), 400, "too_long", "emailaddress", false},
			{"email of 251 characters, 2 bytes each", "", loginBody(strings.Repeat("é", 251), b64(gracePassword)), 400, "too_long", "emailaddress", false},
			{"email of 250 characters", "", loginBody(email250, b64(gracePassword)), 401, "invalid_credentials", "", true},
			{"password of 151 characters", "", loginBody(grace, strings.Repeat("A", 151)), 400, "too_long", "password", false},
			// 150 characters pass the seed's limit; they encode 112 bytes,
			// over bcrypt's 72.
			{"password of 150 characters", "", loginBody(grace, strings.Repeat("A", 150)), 400, "password_too_long", "", false},
			{"password of 73 bytes", "", loginBody(grace, b64(strings.Repeat("a", 73))), 400, "password_too_long", "", false},
			{"password not Base64", "", loginBody(grace, gracePassword), 400, "invalid_base64", "password", false},
			{"password in URL-safe Base64", "", loginBody(grace, "-_-_"), 400, "invalid_base64", "password", false},
			{"password with bad padding", "", loginBody(grace, b64(gracePassword)[:len(b64(gracePassword))-1]), 400, "invalid_base64", "password", false},
			{"password with spaces", "", loginBody(grace, " "+b64(gracePassword)), 400, "invalid_base64", "password", false},
			{"wrong password", "", loginBody(grace, b64("wrong")), 401, "invalid_credentials", "", true},
			{"wrong password, unverified", "", loginBody(alan, b64("wrong")), 401, "invalid_credentials", "", true},
			{"unknown address", "", loginBody("nobody@example.com", b64(gracePassword)), 401, "invalid_credentials", "", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/Login", strings.NewReader(tc.body))
				ctype := tc.ctype
				if ctype == "" {
					ctype = "application/json"
				}
				req.Header.Set("Content-Type", ctype)
				res := e.do(t, nil, req)
				wantError(t, tc.name, res, tc.status, tc.code, tc.field)
				if tc.sameAsUnknown {
					unknown := e.post(t, "/api/Login", loginBody("nobody@example.com", b64("whatever")))
					if !bytes.Equal(res.raw, unknown.raw) || res.header.Get("WWW-Authenticate") != unknown.header.Get("WWW-Authenticate") {
						t.Errorf("answer differs from an unknown address's:\n%s\n%s", res.raw, unknown.raw)
					}
				}
			})
		}
	})
}

func TestLockout(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for range 5 {
			e.login(t, grace, "wrong")
		}
		res := e.login(t, grace, gracePassword)
		wantError(t, "attempt 6", res, 403, "locked", "")
		if res.header.Get("Retry-After") != "900" {
			t.Errorf("Retry-After %q, want 900", res.header.Get("Retry-After"))
		}
	})
}

// validation returns the pair of a login.
func validation(t *testing.T, res result) (id, val string) {
	t.Helper()
	id, _ = res.msg()["ValidationID"].(string)
	val, _ = res.msg()["ValidationVal"].(string)
	if id == "" || val == "" {
		t.Fatalf("no validation pair: %s", res.raw)
	}
	return id, val
}

func validationBody(id, val string) string {
	return jsonOf(map[string]string{"ValidationID": id, "ValidationVal": val})
}

func TestValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, val := validation(t, e.mustLogin(t, alan, alanPassword))
		id2, val2 := validation(t, e.mustLogin(t, alan, alanPassword))
		if id == id2 || val == val2 {
			t.Fatal("two logins got the same pair")
		}
		for _, tc := range []struct{ name, body, code, field string }{
			{"no id", jsonOf(map[string]string{"ValidationVal": val}), "missing_field", "ValidationID"},
			{"no value", jsonOf(map[string]string{"ValidationID": id}), "missing_field", "ValidationVal"},
			{"another login's value", validationBody(id, val2), "invalid_token", ""},
			{"halves swapped", validationBody(val, id), "invalid_token", ""},
			{"garbage", validationBody("x", "y"), "invalid_token", ""},
		} {
			// A bad link is gatehouse's one answer, 401 invalid_token;
			// a request missing a field is the client's mistake, 400.
			status := 400
			if tc.code == "invalid_token" {
				status = 401
			}
			wantError(t, tc.name, e.post(t, "/api/Validation", tc.body), status, tc.code, tc.field)
		}
		// None of that spent the pair.
		res := e.post(t, "/api/Validation", validationBody(id, val))
		if res.status != 200 || res.msg()["LoginVerified"] != true || res.msg()["uid"] != "a7d94b20-8e61-4c3f-b2a5-0e9f8d7c6b5a" {
			t.Fatalf("validation: %v", res)
		}
		wantError(t, "the same pair again", e.post(t, "/api/Validation", validationBody(id, val)), 401, "invalid_token", "")
		m := e.mustLogin(t, alan, alanPassword).msg()
		if m["LoginVerified"] != true || m["ValidationID"] != nil || m["ValidationVal"] != nil {
			t.Fatalf("login after validation: %v", m)
		}
		// The other pair is still good, and harmless.
		if res := e.post(t, "/api/Validation", validationBody(id2, val2)); res.status != 200 {
			t.Fatalf("second pair: %v", res)
		}
	})
}

func TestValidationIsSingleUseUnderRace(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		body := validationBody(validation(t, e.mustLogin(t, alan, alanPassword)))
		const n = 100
		statuses := make(chan int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/Validation", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				<-start
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				statuses <- res.StatusCode
			})
		}
		close(start)
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		// One address gets 60 validations at once (limit.Verify): the rest
		// are 429 before they reach the token.
		if count[200] != 1 || count[401] != 59 || count[429] != n-60 {
			t.Fatalf("statuses %v; want one 200, 59 401 and %d 429", count, n-60)
		}
	})
}

func TestValidationExpires(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		old := validationBody(validation(t, e.mustLogin(t, alan, alanPassword)))
		e.clock.Advance(24*time.Hour - time.Second)
		fresh := validationBody(validation(t, e.mustLogin(t, alan, alanPassword)))
		e.clock.Advance(time.Second)
		wantError(t, "after 24 hours", e.post(t, "/api/Validation", old), 401, "invalid_token", "")
		if res := e.post(t, "/api/Validation", fresh); res.status != 200 {
			t.Fatalf("a pair 1 second old: %v", res)
		}
	})
}

func resetBody(email string) string { return jsonOf(map[string]string{"emailaddress": email}) }

func confirmBody(token, b64password string) string {
	return jsonOf(map[string]string{"token": token, "password": b64password})
}

// requestReset asks a reset for the address and returns the token mailed.
func (e *env) requestReset(t *testing.T, email string) string {
	t.Helper()
	if res := e.post(t, "/api/PasswordReset", resetBody(email)); res.status != 200 {
		t.Fatalf("reset %s: %v", email, res)
	}
	m, ok := e.outbox.last(email)
	if !ok {
		t.Fatalf("no mail to %s", email)
	}
	return m.Token
}

func TestPasswordReset(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		browser := e.browser()
		if res := e.request(t, browser, "POST", "/api/Login", loginBody(grace, b64(gracePassword)), ""); res.status != 200 {
			t.Fatal(res)
		}
		var sessions []string
		for range 2 {
			sessions = append(sessions, e.mustLogin(t, grace, gracePassword).json["SessionToken"].(string))
		}
		var devices []string
		for _, d := range []string{"phone", "laptop"} {
			iss, err := e.tokens.Issue(t.Context(), store.KindDevice, tokens.Claims{Subject: graceUID, Device: d})
			if err != nil {
				t.Fatal(err)
			}
			devices = append(devices, iss.Token)
		}
		alanSession := e.mustLogin(t, alan, alanPassword).json["SessionToken"].(string)

		res := e.post(t, "/api/PasswordReset", resetBody(grace))
		if res.status != 200 {
			t.Fatalf("reset: %v", res)
		}
		box := e.request(t, nil, "GET", "/outbox", "", "")
		msgs, _ := box.json["messages"].([]any)
		if len(msgs) != 1 {
			t.Fatalf("outbox: %s", box.raw)
		}
		m := msgs[0].(map[string]any)
		tok, _ := m["token"].(string)
		if m["to"] != grace || m["purpose"] != "reset_password" || m["link"] != e.srv.URL+"/reset-password#token="+tok ||
			tokens.KindOf(tok) != store.KindReset || m["expires_at"] != e.clock.Now().Add(time.Hour).Format(time.RFC3339) {
			t.Fatalf("outbox message: %v", m)
		}

		res = e.request(t, browser, "POST", "/api/PasswordReset/Confirm", confirmBody(tok, b64("a brand new secret")), "")
		if res.status != 200 || res.json["ResponseMessage"] == "" {
			t.Fatalf("confirm: %v", res)
		}
		wantError(t, "confirm again", e.post(t, "/api/PasswordReset/Confirm", confirmBody(tok, b64("yet another secret"))), 401, "invalid_token", "")

		// Every session and device chain of grace ended; alan's did not.
		wantError(t, "the browser's session", e.request(t, browser, "GET", "/api/Me", "", ""), 401, "missing_token", "")
		for _, s := range sessions {
			wantError(t, "an old session", e.request(t, nil, "GET", "/api/Me", "", s), 401, "invalid_token", "")
		}
		for _, d := range devices {
			if _, err := e.tokens.Rotate(t.Context(), d); !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("device token after the reset: %v, want ErrInvalid", err)
			}
		}
		if items, _ := e.tokens.List(t.Context(), graceUID, store.Filter{}); len(items) != 0 {
			t.Errorf("%d tokens of grace left", len(items))
		}
		if res := e.request(t, nil, "GET", "/api/Me", "", alanSession); res.status != 200 {
			t.Errorf("alan's session: %v", res)
		}

		wantError(t, "the old password", e.login(t, grace, gracePassword), 401, "invalid_credentials", "")
		if res := e.login(t, grace, "a brand new secret"); res.status != 200 {
			t.Fatalf("the new password: %v", res)
		}
	})
}

func TestPasswordResetAnswersAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var first result
		var firstCalls int64
		for i, email := range []string{grace, "nobody@example.com", alan, "NOBODY@example.com", "other@example.org"} {
			before := e.store.Calls()
			res := e.post(t, "/api/PasswordReset", resetBody(email))
			calls := e.store.Calls() - before
			res.header.Del("Date")
			if i == 0 {
				first, firstCalls = res, calls
				if res.status != 200 {
					t.Fatalf("known address: %v", res)
				}
				continue
			}
			if res.status != first.status || !bytes.Equal(res.raw, first.raw) || fmt.Sprint(res.header) != fmt.Sprint(first.header) {
				t.Errorf("%s answers\n%v %v\nwhere %s answers\n%v %v", email, res, res.header, grace, first, first.header)
			}
			if calls != firstCalls {
				t.Errorf("%s: %d store calls, %s: %d", email, calls, grace, firstCalls)
			}
		}
		if n := e.outbox.len(); n != 2 {
			t.Errorf("%d messages sent, want 2 (grace and alan)", n)
		}
	})
}

func TestPasswordResetIsRateLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		want := e.post(t, "/api/PasswordReset", resetBody(grace))
		for range auth.MaxMessagesPerHour + 1 {
			if res := e.post(t, "/api/PasswordReset", resetBody(grace)); !bytes.Equal(res.raw, want.raw) || res.status != 200 {
				t.Fatalf("over the limit: %v", res)
			}
		}
		if n := e.outbox.len(); n != auth.MaxMessagesPerHour {
			t.Fatalf("%d messages in an hour, want %d", n, auth.MaxMessagesPerHour)
		}
		e.clock.Advance(time.Hour)
		e.requestReset(t, grace)
		if n := e.outbox.len(); n != auth.MaxMessagesPerHour+1 {
			t.Fatalf("after the hour: %d messages", n)
		}
	})
}

func TestPasswordResetExpires(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		old := e.requestReset(t, grace)
		e.clock.Advance(time.Hour - time.Second)
		fresh := e.requestReset(t, grace)
		e.clock.Advance(time.Second)
		wantError(t, "after an hour", e.post(t, "/api/PasswordReset/Confirm", confirmBody(old, b64("a brand new secret"))), 401, "invalid_token", "")
		if res := e.post(t, "/api/PasswordReset/Confirm", confirmBody(fresh, b64("a brand new secret"))); res.status != 200 {
			t.Fatalf("a token 1 second old: %v", res)
		}
	})
}

func TestPasswordResetErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.requestReset(t, grace)
		session := e.mustLogin(t, grace, gracePassword).json["SessionToken"].(string)
		email250 := strings.Repeat("a", 250-len("@example.com")) + "@example.com"
		for _, tc := range []struct {
			name, path, body string
			status           int
			code, field      string
		}{
			{"request, no address", "/api/PasswordReset", `{}`, 400, "missing_field", "emailaddress"},
			{"request, address of 251 characters", "/api/PasswordReset", resetBody("a" + email250), 400, "too_long", "emailaddress"},
			{"request, not an address", "/api/PasswordReset", resetBody("grace"), 400, "invalid_field", "emailaddress"},
			{"request, malformed JSON", "/api/PasswordReset", `{"emailaddress":`, 400, "malformed_body", ""},
			{"confirm, no token", "/api/PasswordReset/Confirm", confirmBody("", b64("a brand new secret")), 400, "missing_field", "token"},
			{"confirm, garbage token", "/api/PasswordReset/Confirm", confirmBody("garbage", b64("a brand new secret")), 401, "invalid_token", ""},
			{"confirm, a session token", "/api/PasswordReset/Confirm", confirmBody(session, b64("a brand new secret")), 401, "invalid_token", ""},
			{"confirm, no password", "/api/PasswordReset/Confirm", confirmBody(tok, ""), 400, "missing_field", "password"},
			{"confirm, password not Base64", "/api/PasswordReset/Confirm", confirmBody(tok, "a brand new secret"), 400, "invalid_base64", "password"},
			{"confirm, password of 151 characters", "/api/PasswordReset/Confirm", confirmBody(tok, strings.Repeat("A", 151)), 400, "too_long", "password"},
			{"confirm, password of 73 bytes", "/api/PasswordReset/Confirm", confirmBody(tok, b64(strings.Repeat("a", 73))), 400, "password_too_long", ""},
			{"confirm, password of 7 characters", "/api/PasswordReset/Confirm", confirmBody(tok, b64("1234567")), 400, "password_too_short", "password"},
		} {
			wantError(t, tc.name, e.post(t, tc.path, tc.body), tc.status, tc.code, tc.field)
		}
		if res := e.post(t, "/api/PasswordReset", resetBody(email250)); res.status != 200 {
			t.Errorf("request, address of 250 characters: %v", res)
		}
		// None of the refusals spent the token.
		if res := e.post(t, "/api/PasswordReset/Confirm", confirmBody(tok, b64("violet harbor 9"))); res.status != 200 {
			t.Fatalf("confirm after the refusals: %v", res)
		}
	})
}

func TestPasswordResetClearsLockout(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for range 5 {
			e.login(t, grace, "wrong")
		}
		wantError(t, "locked", e.login(t, grace, gracePassword), 403, "locked", "")
		tok := e.requestReset(t, grace)
		if res := e.post(t, "/api/PasswordReset/Confirm", confirmBody(tok, b64("a brand new secret"))); res.status != 200 {
			t.Fatalf("confirm: %v", res)
		}
		if res := e.login(t, grace, "a brand new secret"); res.status != 200 {
			t.Fatalf("login after the reset: %v", res)
		}
	})
}

// The link in the email points at the configured URL, whatever Host the
// request that asked for it named.
func TestPasswordResetLinkIgnoresHost(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/PasswordReset", strings.NewReader(resetBody(grace)))
		req.Header.Set("Content-Type", "application/json")
		req.Host = "evil.example"
		if res := e.do(t, nil, req); res.status != 200 {
			t.Fatalf("reset: %v", res)
		}
		m, _ := e.outbox.last(grace)
		if !strings.HasPrefix(m.Link, e.srv.URL+"/") {
			t.Fatalf("link %q does not point at %s", m.Link, e.srv.URL)
		}
	})
}

func TestStoreDownAnswers503(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, val := validation(t, e.mustLogin(t, alan, alanPassword))
		tok := e.requestReset(t, grace)
		e.store.SetDown(true)
		var resets []result
		for _, tc := range []struct{ name, path, body string }{
			{"login", "/api/Login", loginBody(grace, b64(gracePassword))},
			{"login, unverified", "/api/Login", loginBody(alan, b64(alanPassword))},
			{"validation", "/api/Validation", validationBody(id, val)},
			{"reset, known address", "/api/PasswordReset", resetBody(grace)},
			{"reset, unknown address", "/api/PasswordReset", resetBody("nobody@example.com")},
			{"confirm", "/api/PasswordReset/Confirm", confirmBody(tok, b64("a brand new secret"))},
		} {
			res := e.post(t, tc.path, tc.body)
			wantError(t, tc.name+" with the store down", res, 503, "store_unavailable", "")
			if res.header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", tc.name)
			}
			if tc.path == "/api/PasswordReset" {
				resets = append(resets, res)
			}
		}
		if !bytes.Equal(resets[0].raw, resets[1].raw) {
			t.Errorf("with the store down, reset answers differ: %s, %s", resets[0].raw, resets[1].raw)
		}
		e.store.SetDown(false)
		// What the store refused to spend is still good.
		if res := e.post(t, "/api/Validation", validationBody(id, val)); res.status != 200 {
			t.Errorf("validation after recovery: %v", res)
		}
		if res := e.post(t, "/api/PasswordReset/Confirm", confirmBody(tok, b64("a brand new secret"))); res.status != 200 {
			t.Errorf("confirm after recovery: %v", res)
		}
	})
}

func TestRoutes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		wantError(t, "unknown route", e.request(t, nil, "GET", "/nope", "", ""), 404, "not_found", "")
		for _, tc := range []struct{ method, path, allow string }{
			{"GET", "/api/Login", "POST"},
			{"GET", "/api/Validation", "POST"},
			{"GET", "/api/PasswordReset", "POST"},
			{"PUT", "/api/PasswordReset/Confirm", "POST"},
			{"POST", "/outbox", "GET, HEAD"},
		} {
			res := e.request(t, nil, tc.method, tc.path, "", "")
			wantError(t, tc.method+" "+tc.path, res, 405, "method_not_allowed", "")
			if res.header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, res.header.Get("Allow"), tc.allow)
			}
		}
	})
}

// TestAnonymousRoutesAreRateLimited: the routes anyone may call are
// limited per client address, in the API's error shape, and a client
// over its limit reaches no token and no mail.
func TestAnonymousRoutesAreRateLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for i := range 25 {
			res := e.post(t, "/api/PasswordReset", `{"EmailAddress":"nobody@example.com"}`)
			switch {
			case i < 20 && res.status != http.StatusOK:
				t.Fatalf("reset %d: %d %s", i+1, res.status, res.raw)
			case i >= 20 && (res.status != http.StatusTooManyRequests || res.json["code"] != "rate_limited" || res.header.Get("Retry-After") == ""):
				t.Fatalf("reset %d past the limit: %d %s (Retry-After %q)", i+1, res.status, res.raw, res.header.Get("Retry-After"))
			}
		}
		// The reset routes share one limit: the confirmation is spent too.
		if res := e.post(t, "/api/PasswordReset/Confirm", `{"token":"x","password":"abcdefghij"}`); res.status != http.StatusTooManyRequests {
			t.Fatalf("confirm past the limit: %d %s", res.status, res.raw)
		}
	})
}

// TestPasswordChangeEndsEveryToken: changing the password ends every token
// of the contact, a reset link mailed before the change included, which
// would otherwise set the password back (issue 15, finding 4).
func TestPasswordChangeEndsEveryToken(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		early := e.requestReset(t, grace)
		session := e.mustLogin(t, grace, gracePassword).json["SessionToken"].(string)
		other := e.mustLogin(t, grace, gracePassword).json["SessionToken"].(string)
		alanSession := e.mustLogin(t, alan, alanPassword).json["SessionToken"].(string)
		change := func(current, next string) result {
			return e.request(t, nil, "POST", "/api/Password", jsonOf(map[string]string{"password": b64(current), "newpassword": b64(next)}), session)
		}
		wantError(t, "a wrong current password", change("wrong", "a brand new secret"), 401, "invalid_credentials", "")
		wantError(t, "a short new password", change(gracePassword, "short"), 400, "password_too_short", "newpassword")
		wantError(t, "the address as the new password", change(gracePassword, "Grace@Example.com"), 400, "password_context", "newpassword")
		wantError(t, "a common new password", change(gracePassword, "passwordpassword"), 400, "password_blocklisted", "newpassword")
		if res := change(gracePassword, "a brand new secret"); res.status != 200 {
			t.Fatalf("change: %v", res)
		}
		wantError(t, "the reset mailed before the change", e.post(t, "/api/PasswordReset/Confirm", confirmBody(early, b64("the attacker's secret"))), 401, "invalid_token", "")
		for _, s := range []string{session, other} {
			wantError(t, "a session from before the change", e.request(t, nil, "GET", "/api/Me", "", s), 401, "invalid_token", "")
		}
		if items, _ := e.tokens.List(t.Context(), graceUID, store.Filter{}); len(items) != 0 {
			t.Errorf("%d tokens of grace left", len(items))
		}
		if res := e.request(t, nil, "GET", "/api/Me", "", alanSession); res.status != 200 {
			t.Errorf("alan's session: %v", res)
		}
		wantError(t, "the old password", e.login(t, grace, gracePassword), 401, "invalid_credentials", "")
		e.mustLogin(t, grace, "a brand new secret")
	})
}

// TestPasswordChangeRefusesCrossSite: POST /api/Password takes the session
// cookie, so a page of another site must not be able to make the browser
// send it: the guard refuses a cross-site unsafe request that carries the
// cookie (403 cross_origin) before the handler, and the password stays.
func TestPasswordChangeRefusesCrossSite(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		b := e.browser()
		if res := e.request(t, b, "POST", "/api/Login", loginBody(grace, b64(gracePassword)), ""); res.status != 200 {
			t.Fatalf("login: %v", res)
		}
		body := jsonOf(map[string]string{"password": b64(gracePassword), "newpassword": b64("the attacker's secret")})
		req := extest.Request(t, "POST", e.srv.URL+"/api/Password", extest.JSONType(body), body)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantError(t, "a cross-site password change with the cookie", e.do(t, b, req), 403, "cross_origin", "")
		e.mustLogin(t, grace, gracePassword)
	})
}
