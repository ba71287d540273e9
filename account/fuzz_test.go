package account_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// fuzzCodes are the codes the API may answer a stranger's or a signed-in
// user's request with (docs/accounts.md).
var fuzzCodes = map[string]bool{
	"malformed_body": true, "body_too_large": true, "unsupported_media_type": true, "missing_field": true,
	"invalid_field": true, "not_found": true, "method_not_allowed": true, "invalid_link": true,
	"already_confirmed": true, "no_session": true, "no_device": true, "invalid_credentials": true,
	"unconfirmed": true, "locked": true, "rate_limited": true, "cross_origin": true, "missing_token": true,
	"invalid_token": true, "token_reused": true, "wrong_project": true, "password_too_short": true,
	"password_too_long": true, "password_invalid": true, "password_blocklisted": true, "password_context": true,
	"no_client_address": true, "taken": true, "password_required": true,
	// Second factors (Config.MFA): the /mfa routes and /login/second.
	"malformed_code": true, "invalid_code": true, "code_reused": true, "mfa_locked": true, "insufficient_user_authentication": true, "not_enrolled": true,
	"already_enrolled": true, "second_factor_required": true,
	// Passkeys (Config.Passkeys): /passkeys, /login/passkey and
	// /login/second/options.
	"malformed_response": true, "response_too_large": true, "invalid_challenge": true, "invalid_credential": true,
	"unknown_credential": true, "user_verification_required": true, "unsupported_algorithm": true,
	"passkey_limit": true, "passkey_exists": true, "clone_detected": true, "passkey_not_found": true,
	"invalid_nickname": true,
	// Social login (Config.OIDC): /login/oidc and /identities, the
	// relying party's codes and the linking rules'.
	"invalid_callback": true, "invalid_state": true, "provider_error": true, "issuer_mismatch": true,
	"code_rejected": true, "invalid_id_token": true, "provider_unavailable": true, "unknown_provider": true,
	"redirect_not_allowed": true, "link_required": true, "email_unverified": true, "last_login_method": true,
	"no_identity": true, "identity_linked": true,
}

// fuzzApp is a fresh account API on memory with one confirmed account,
// ada@example.com (username ada, strongPassword).
type fuzzApp struct {
	h     http.Handler
	tm    *tokens.Manager
	mail  *authtest.Outbox
	ck    *middleware.Cookies
	clock *fakeclock.Clock
}

const fuzzSubject = "u_ada"

func newFuzzApp(t *testing.T, adaHash []byte, ck *middleware.Cookies) *fuzzApp {
	// The real time: cookies get their Max-Age from time.Now.
	clock := fakeclock.New(time.Now().UTC().Truncate(time.Second))
	mem := memory.New(memory.Options{Now: clock.Now, SweepInterval: -1})
	t.Cleanup(func() { mem.Close() })
	users := account.NewMemoryUsers()
	if err := users.Add(auth.User{Subject: fuzzSubject, Email: "ada@example.com", Username: "ada", EmailConfirmed: true,
		Active: true, PasswordHash: adaHash}); err != nil {
		t.Fatal(err)
	}
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mail := &authtest.Outbox{}
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "fuzz", Secret: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := passkey.New(passkey.Config{RPID: "app.example", RPDisplayName: "Fuzz", Origins: []string{"https://app.example"},
		Tokens: tm, Credentials: new(mfa.MemoryFactors), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mfa.New(mfa.Config{Store: mem, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Fuzz", Now: clock.Now, Passkeys: pk})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: mem, Hasher: authtest.NewHasher(), Mailer: mail, HideUnconfirmed: true,
		Now: clock.Now, ResetMinDuration: -1, SecondFactor: m, Passwordless: pk})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: ck})
	if err != nil {
		t.Fatal(err)
	}
	// A provider with explicit endpoints: Begin makes no request, and a
	// callback never gets as far as the provider without a state Begin
	// issued; should it, the client refuses to leave the process.
	rp, err := oidc.New(oidc.Config{Tokens: tm, Limiter: a.Limiter(), RedirectAllowlist: []string{"/welcome"},
		HTTPClient: &http.Client{Transport: noNetwork{}},
		Providers: []oidc.Provider{{Name: "test", Issuer: "https://op.example", ClientID: "app",
			Endpoints:   oidc.Endpoints{Auth: "https://op.example/auth", Token: "https://op.example/token", JWKS: "https://op.example/jwks"},
			RedirectURL: "http://app.example/account/login/oidc/callback"}}})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := account.New(account.Config{Auth: a, Tokens: tm, Guard: guard, Users: users, Mailer: mail, Cookies: ck,
		SignupMinDuration: time.Nanosecond, Now: clock.Now, MFA: m, Passkeys: pk, OIDC: rp, Identities: account.NewMemoryIdentities()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/account/", http.StripPrefix("/account", acct.API()))
	return &fuzzApp{h: mux, tm: tm, mail: mail, ck: ck, clock: clock}
}

// noNetwork is a transport that sends nothing.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("fuzz: no network")
}

// serve sends one request to the app.
func (app *fuzzApp) serve(method, target, ctype, body string, hdr http.Header) (*httptest.ResponseRecorder, *http.Request, bool) {
	r, err := http.NewRequest(method, "http://app.example/account"+target, strings.NewReader(body))
	if err != nil || !strings.HasPrefix(r.URL.Path, "/account/") {
		return nil, nil, false // not the API's: the app's mux answers
	}
	r.RemoteAddr = "192.0.2.1:1234"
	for k, v := range hdr {
		r.Header[k] = v
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	app.h.ServeHTTP(w, r)
	return w, r, true
}

// FuzzAPI sends any method, target, headers and body to a fresh API.
// Nothing panics or answers 500 (503 busy only: a hashing slot); every
// error is JSON with a code of docs/accounts.md; and nothing succeeds
// without what the test handed out: a signed-in route without ada's
// session, a login without her password, a confirmation without a link
// the test obtained, a reset without its reset token. In the input,
// "$SESSION" stands for a session token of ada, "$COOKIE" for her session
// cookie, "$LINK" for a confirmation link (of a new signup) and "$RESET"
// for a reset token of ada, obtained on each run.
func FuzzAPI(f *testing.F) {
	const js = "Content-Type: application/json"
	const form = "Content-Type: application/x-www-form-urlencoded"
	const bearer = "Authorization: Bearer $SESSION"
	for _, s := range [][4]string{
		{"POST", "/signup", js, `{"email":"bob@example.com","password":"` + strongPassword + `"}`},
		{"POST", "/signup", js, `{"email":"ada@example.com","password":"` + strongPassword + `","username":"ada"}`},
		{"POST", "/signup", form, `email=bob%40example.com&password=x`},
		{"POST", "/signup", js, `{"email":"` + strings.Repeat("a", 300) + `@x"}`},
		{"POST", "/login", js, `{"login":"ada","password":"` + strongPassword + `"}`},
		{"POST", "/login", js, `{"login":"ada","password":"` + strongPassword + `","session":"cookie"}`},
		{"POST", "/login", form, `login=ada&password=wrong`},
		{"POST", "/logout", bearer, ``},
		{"GET", "/session", bearer, ``},
		{"GET", "/session", "Cookie: $COOKIE", ``},
		{"GET", "/sessions", bearer, ``},
		{"DELETE", "/sessions", bearer, ``},
		{"DELETE", "/sessions/abc", bearer, ``},
		{"GET", "/devices", bearer, ``},
		{"DELETE", "/devices/phone", bearer, ``},
		{"POST", "/logout-everywhere", "Cookie: $COOKIE\nSec-Fetch-Site: cross-site", ``},
		{"POST", "/email/resend", bearer, ``},
		{"POST", "/email/confirm", js, `{"token":"$LINK"}`},
		{"POST", "/email/confirm", js, `{"token":"$LINK."}`},
		{"POST", "/email/change", bearer + "\n" + js, `{"email":"ada@new.example","password":"` + strongPassword + `"}`},
		{"POST", "/password/forgot", js, `{"email":"ada@example.com"}`},
		{"POST", "/password/reset", js, `{"token":"$RESET","password":"a brand new passphrase"}`},
		{"POST", "/password/change", bearer + "\n" + js, `{"current_password":"` + strongPassword + `","new_password":"a brand new passphrase"}`},
		{"POST", "/delete", bearer + "\n" + js, `{"password":"` + strongPassword + `"}`},
		{"GET", "/mfa", bearer, ``},
		{"POST", "/mfa/totp", bearer + "\n" + js, `{"password":"` + strongPassword + `"}`},
		{"POST", "/mfa/totp", bearer + "\n" + js, `{}`},
		{"DELETE", "/mfa/totp", bearer, ``},
		{"POST", "/mfa/totp/confirm", bearer + "\n" + js, `{"code":"123456"}`},
		{"POST", "/mfa/recovery-codes", bearer + "\n" + form, `password=x`},
		{"POST", "/login/second", js, `{"pending":"ghp_x","kind":"totp","code":"123456"}`},
		{"POST", "/login/second", js, `{"pending":"$SESSION","kind":"recovery","code":"AAAA-AAAA-AAAA-AAAA"}`},
		{"GET", "/passkeys", bearer, ``},
		{"POST", "/passkeys/options", bearer + "\n" + js, `{"password":"` + strongPassword + `"}`},
		{"POST", "/passkeys", bearer + "\n" + js, `{"response":{"id":"AAAA","type":"public-key","response":{}},"nickname":"x"}`},
		{"PATCH", "/passkeys/AAAA", bearer + "\n" + js, `{"nickname":"Phone"}`},
		{"DELETE", "/passkeys/AAAA", bearer + "\n" + js, `{"password":"` + strongPassword + `"}`},
		{"POST", "/login/passkey/options", "", ``},
		{"POST", "/login/passkey", js, `{"response":{"id":"AAAA","type":"public-key"}}`},
		{"POST", "/login/second/options", js, `{"pending":"ghp_x"}`},
		{"GET", "/login/oidc/test", "", ``},
		{"GET", "/login/oidc/test?next=https://evil.example/", "", ``},
		{"GET", "/login/oidc/callback?state=abc&code=x", "", ``},
		{"GET", "/login/oidc/callback?state=a&state=b", "", ``},
		{"GET", "/identities", bearer, ``},
		{"POST", "/identities/test", "Cookie: $COOKIE", ``},
		{"DELETE", "/identities/AAAA.AAAA", bearer + "\n" + js, `{"password":"` + strongPassword + `"}`},
		{"GET", "/signup", "", ``},
		{"PUT", "/sessions", bearer, ``},
		{"GET", "//session", bearer, ``},
		{"GET", "/nope", "", ``},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	adaHash, err := authtest.NewHasher().Hash([]byte(strongPassword))
	if err != nil {
		f.Fatal(err)
	}
	ck, err := middleware.NewCookies(middleware.CookieConfig{Name: "sess", HashKey: testfix.TagKey, InsecureAllowHTTP: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		app := newFuzzApp(t, adaHash, ck)
		all := method + target + headers + body
		var session, cookie, link, reset string
		if strings.Contains(all, "$SESSION") || strings.Contains(all, "$COOKIE") {
			iss, err := app.tm.Issue(t.Context(), store.KindSession, tokens.Claims{Subject: fuzzSubject, AuthTime: app.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			session = iss.Token
			w := httptest.NewRecorder()
			if err := ck.SetSession(w, httptest.NewRequest("GET", "/", nil), "", session, iss.Record.ExpiresAt); err != nil {
				t.Fatal(err)
			}
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookie: %v", cs)
			}
			cookie = cs[0].Name + "=" + cs[0].Value
		}
		if strings.Contains(all, "$LINK") {
			w, _, _ := app.serve("POST", "/signup", "application/json", `{"email":"cy@example.com","password":"`+strongPassword+`"}`, nil)
			if w.Code != 202 {
				t.Fatalf("signup: %d %s", w.Code, w.Body)
			}
			link = app.mail.Last(t).Token
		}
		if strings.Contains(all, "$RESET") {
			w, _, _ := app.serve("POST", "/password/forgot", "application/json", `{"email":"ada@example.com"}`, nil)
			if w.Code != 202 {
				t.Fatalf("forgot: %d %s", w.Code, w.Body)
			}
			reset = app.mail.Last(t).Token
		}
		expand := strings.NewReplacer("$SESSION", session, "$COOKIE", cookie, "$LINK", link, "$RESET", reset).Replace
		hdr := http.Header{}
		for _, line := range strings.Split(expand(headers), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
				hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		xbody := expand(body)
		w, r, ok := app.serve(method, expand(target), "", xbody, hdr)
		if !ok {
			return
		}
		fail := func(why string) {
			t.Helper()
			t.Fatalf("%s %q %q %q: %d %s: %s", method, target, headers, body, w.Code, w.Body, why)
		}
		var p struct{ Code string }
		isJSON := json.Unmarshal(w.Body.Bytes(), &p) == nil
		switch {
		case w.Code == 503 && isJSON && p.Code == "busy":
			return
		case w.Code >= 500:
			fail("a server error")
		case w.Code >= 400:
			if !isJSON || !fuzzCodes[p.Code] {
				fail("an error without a documented code")
			}
			return
		case w.Code >= 300:
			return // the mux's redirect of an unclean path, or a form login's
		}
		if w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			fail("a success that is not JSON")
		}
		path := strings.TrimPrefix(r.URL.Path, "/account")
		signed := (session != "" && strings.Contains(r.Header.Get("Authorization"), session)) ||
			(cookie != "" && strings.Contains(strings.Join(r.Header.Values("Cookie"), ";"), cookie))
		switch {
		case path == "/signup" || path == "/password/forgot" || path == "/logout":
			// Anyone: alike for every address; a logout of no live session is 204.
		case path == "/login":
			if !mentions(xbody, strongPassword) {
				fail("logged in without ada's password")
			}
		case path == "/login/second" || path == "/login/second/options":
			// Ada has no second factor: no login of hers is pending.
			fail("a second step without a pending login")
		case strings.HasPrefix(path, "/login/oidc/"):
			// Begin and the callback answer 303 or an error, never 2xx.
			fail("a provider route answered a success")
		case path == "/login/passkey/options":
			// Anyone: the options name no account.
		case path == "/login/passkey":
			// Ada has no passkey.
			fail("a passwordless login without a passkey")
		case path == "/email/confirm":
			if link == "" || !mentions(xbody, strings.SplitN(link, ".", 2)[0]) {
				fail("confirmed without the test's link")
			}
		case path == "/password/reset":
			if reset == "" || !mentions(xbody, reset) {
				fail("reset without the test's token")
			}
		default:
			if !signed {
				fail("a signed-in route without ada's session")
			}
			if (path == "/delete" || path == "/password/change" || path == "/email/change" ||
				path == "/mfa/totp" || path == "/mfa/recovery-codes" || path == "/passkeys/options" ||
				(r.Method == "DELETE" && strings.HasPrefix(path, "/passkeys/")) ||
				(r.Method == "DELETE" && strings.HasPrefix(path, "/identities/"))) && !mentions(xbody, strongPassword) {
				fail("changed the account without ada's password")
			}
		}
	})
}

// mentions reports whether body holds s: as written, in a value of it
// read as a form, or in a string of it read as JSON (escapes decoded).
func mentions(body, s string) bool {
	if strings.Contains(body, s) {
		return true
	}
	var b bytes.Buffer
	if v, err := url.ParseQuery(body); err == nil {
		for _, vs := range v {
			for _, x := range vs {
				b.WriteString(x)
				b.WriteByte(0)
			}
		}
	}
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) == nil {
		for _, x := range m {
			if x, ok := x.(string); ok {
				b.WriteString(x)
				b.WriteByte(0)
			}
		}
	}
	return strings.Contains(b.String(), s)
}

// TestFuzzAppServes: FuzzAPI's app is the API it means to fuzz: ada's
// session and cookie are signed in, her password logs in.
func TestFuzzAppServes(t *testing.T) {
	adaHash, _ := authtest.NewHasher().Hash([]byte(strongPassword))
	ck, _ := middleware.NewCookies(middleware.CookieConfig{Name: "sess", HashKey: testfix.TagKey, InsecureAllowHTTP: true})
	app := newFuzzApp(t, adaHash, ck)
	iss, err := app.tm.Issue(t.Context(), store.KindSession, tokens.Claims{Subject: fuzzSubject, AuthTime: app.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w, _, _ := app.serve("GET", "/session", "", "", http.Header{"Authorization": {"Bearer " + iss.Token}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), fuzzSubject) {
		t.Fatalf("session: %d %s", w.Code, w.Body)
	}
	w, _, _ = app.serve("POST", "/login", "application/json", `{"login":"ada","password":"`+strongPassword+`"}`, nil)
	if w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
}
