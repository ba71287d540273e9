package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// fakePasswordless stands in for *passkey.Manager: a response
// {"subject": s, "uv": b} verifies as s's passkey, once; anything else is
// 400 invalid_credential.
type fakePasswordless struct {
	mu    sync.Mutex
	calls int
	spent map[string]bool
}

var errFakeCredential = problem.New("fake: bad passkey response", problem.Error{Status: 400, Code: "invalid_credential"})

func (f *fakePasswordless) VerifyPasswordless(_ context.Context, response []byte) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var r struct {
		Subject string `json:"subject"`
		UV      bool   `json:"uv"`
		Nonce   string `json:"nonce"`
	}
	if json.Unmarshal(response, &r) != nil || r.Subject == "" || f.spent[r.Nonce] {
		return "", false, errFakeCredential
	}
	f.spent[r.Nonce] = true
	return r.Subject, r.UV, nil
}

type passwordlessApp struct {
	pk    *fakePasswordless
	users *users
	srv   *httptest.Server
}

func newPasswordlessApp(t *testing.T, st store.Store, clock *fakeclock.Clock) *passwordlessApp {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	us := &users{updated: map[string][]byte{}, byLogin: map[string]*auth.User{
		"john_doe": {Subject: "341", Active: true, EmailConfirmed: true},
		"gone":     {Subject: "342", Active: false, EmailConfirmed: true},
	}}
	lim, err := limit.New(limit.Config{Store: st, Now: clock.Now,
		Policies: map[limit.Class]limit.Policy{limit.Login: {PerClient: store.Rate{Interval: time.Hour, Burst: 6}}}})
	if err != nil {
		t.Fatal(err)
	}
	pk := &fakePasswordless{spent: map[string]bool{}}
	a, err := auth.New(auth.Config{Users: us, Tokens: tm, Counters: st, Limiter: lim, Passwordless: pk, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := middleware.NewCookies(middleware.CookieConfig{HashKey: bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /passkey/login", a.PasswordlessHandler(auth.HandlerOptions{Cookies: cookies,
		Client: func(*http.Request) (netip.Prefix, error) { return netip.MustParsePrefix(twoStepClient), nil }}))
	mux.Handle("GET /me", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(p)
	})))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return &passwordlessApp{pk: pk, users: us, srv: srv}
}

// TestPasswordlessLogin: a passkey alone logs in; one that verified its
// user is AAL2 (a multi-factor cryptographic authenticator), one that did
// not is refused (a single factor opening an account alone); the session goes into the cookie when asked; a
// deactivated account is refused, and a response that does not verify
// is the verifier's own 4xx. On memory, Redis and Redis Cluster.
func TestPasswordlessLogin(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(twoStepStart)
			app := newPasswordlessApp(t, sf.Open(t, clock.Now), clock)
			e := &twoStep{srv: app.srv}
			for i, tc := range []struct {
				body   map[string]any
				status int
				code   string
				level  float64
			}{
				{map[string]any{"response": map[string]any{"subject": "341", "uv": true, "nonce": "a"}}, 200, "", 2},
				{map[string]any{"response": map[string]any{"subject": "341", "uv": false, "nonce": "b"}}, 401, "user_verification_required", 0},
				{map[string]any{"response": map[string]any{"subject": "341", "uv": true, "nonce": "a"}}, 400, "invalid_credential", 0},
				{map[string]any{"response": map[string]any{"subject": "342", "uv": true, "nonce": "c"}}, 403, "inactive", 0},
				{map[string]any{"response": map[string]any{"subject": "999", "uv": true, "nonce": "d"}}, 401, "invalid_credentials", 0},
				{map[string]any{}, 400, "missing_field", 0},
			} {
				a := e.postJSON(t, nil, "/passkey/login", tc.body)
				if a.status != tc.status || (tc.code != "" && a.str("code") != tc.code) {
					t.Fatalf("case %d: %d %v, want %d %s", i, a.status, a.body, tc.status, tc.code)
				}
				if tc.level > 0 {
					if level, _ := e.whoamiLevel(t, a.str("token")); level != tc.level {
						t.Fatalf("case %d: AAL %v, want %v", i, level, tc.level)
					}
				}
			}
			a := e.postJSON(t, nil, "/passkey/login", map[string]any{"session": "cookie",
				"response": map[string]any{"subject": "341", "uv": true, "nonce": "e"}})
			if a.status != 200 || a.str("token") != "" || len(a.cookies) == 0 {
				t.Fatalf("cookie session: %d %v %v", a.status, a.body, a.cookies)
			}
		})
	}
}

func (e *twoStep) whoamiLevel(t *testing.T, token string) (float64, answer) {
	t.Helper()
	me := e.do(t, nil, "GET", "/me", "", "", token)
	level, _ := me.body["Assurance"].(float64)
	return level, me
}

// TestPasswordlessIsRateLimited: each passwordless login takes a unit of
// the client's limit.Login rate before the response is checked: past it,
// 429 and the verifier is not called.
func TestPasswordlessIsRateLimited(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(twoStepStart)
			app := newPasswordlessApp(t, sf.Open(t, clock.Now), clock)
			e := &twoStep{srv: app.srv}
			for i := range 6 {
				if a := e.postJSON(t, nil, "/passkey/login", map[string]any{"response": map[string]any{"bad": i}}); a.status != 400 {
					t.Fatalf("try %d: %d %v", i, a.status, a.body)
				}
			}
			calls := app.pk.calls
			a := e.postJSON(t, nil, "/passkey/login", map[string]any{"response": map[string]any{"subject": "341", "uv": true, "nonce": "x"}})
			if a.status != 429 || a.str("code") != "rate_limited" {
				t.Fatalf("past the rate: %d %v", a.status, a.body)
			}
			if app.pk.calls != calls {
				t.Fatal("a rate-limited response reached the verifier")
			}
		})
	}
}

// TestPasswordlessBadBodies: oversized and malformed bodies are 4xx with
// a code and reach no verifier.
func TestPasswordlessBadBodies(t *testing.T) {
	clock := fakeclock.New(twoStepStart)
	app := newPasswordlessApp(t, teststores.All()[0].Open(t, clock.Now), clock)
	e := &twoStep{srv: app.srv}
	for _, tc := range []struct{ ctype, body string }{
		{"application/json", `{"response": "` + strings.Repeat("A", auth.MaxPasskeyResponse+2048) + `"}`},
		{"application/json", `{"response": `},
		{"application/x-www-form-urlencoded", "response=x"},
		{"application/json", `{"response": {"subject":"341"}, "session": "weird"}`},
	} {
		a := e.do(t, nil, "POST", "/passkey/login", tc.ctype, tc.body, "")
		if a.status < 400 || a.status > 499 || a.str("code") == "" {
			t.Fatalf("%.40q: %d %v", tc.body, a.status, a.body)
		}
	}
	if app.pk.calls != 0 {
		t.Fatalf("%d bad bodies reached the verifier", app.pk.calls)
	}
}

// *passkey.Manager is auth's Passwordless and mfa's Passkeys; the
// assertions live here, as neither package imports the other.
var (
	_ auth.Passwordless = (*passkey.Manager)(nil)
	_ mfa.Passkeys      = (*passkey.Manager)(nil)
)
