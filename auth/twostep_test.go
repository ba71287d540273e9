package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// *mfa.Manager is auth's second factor; the assertion lives here, not in
// mfa, which does not import auth.
var _ auth.SecondFactor = (*mfa.Manager)(nil)

// twoStepStart is the first instant of a TOTP step, near the wall clock,
// by which middleware.Cookies dates its cookies.
var twoStepStart = time.Now().UTC().Truncate(30 * time.Second)

const twoStepClient = "192.0.2.7/32"

// twoStep is an app with password logins, TOTP for john_doe (subject
// 341), and a guard; plain_user has no second factor.
type twoStep struct {
	a        *auth.Authenticator
	m        *mfa.Manager
	clock    *fakeclock.Clock
	tokens   *tokens.Manager
	key      mfa.TOTPKey
	recovery []string
	srv      *httptest.Server
}

func newTwoStep(t *testing.T, st store.Store, clock *fakeclock.Clock) *twoStep {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := password.Bcrypt{Cost: 4}.Hash([]byte(rightPassword))
	john := &auth.User{Subject: "341", PasswordHash: hash, Active: true, EmailConfirmed: true}
	us := &users{updated: map[string][]byte{}, byLogin: map[string]*auth.User{
		"john_doe":   john,
		"plain_user": {Subject: "500", PasswordHash: hash, Active: true, EmailConfirmed: true},
	}}
	a, err := auth.New(auth.Config{Users: us, Tokens: tm, Counters: st, Hasher: password.Bcrypt{Cost: 4},
		SecondFactor: m, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	en, err := m.Enroll(ctx, "341", "john@example.com")
	if err != nil {
		t.Fatal(err)
	}
	key, err := mfa.ParseKeyURI(en.URI)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ConfirmEnroll(ctx, "341", key.Code(clock.Now())); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second) // the next step is free for the test
	codes, err := m.RecoveryCodes(ctx, "341")
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
	opts := auth.HandlerOptions{Cookies: cookies, RememberMe: true,
		Client: func(*http.Request) (netip.Prefix, error) { return netip.MustParsePrefix(twoStepClient), nil }}
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(p)
	})
	mux := http.NewServeMux()
	mux.Handle("POST /login", a.LoginHandler(opts))
	mux.Handle("POST /second", a.SecondStepHandler(opts))
	mux.Handle("GET /me", g.Handler(me))
	mux.Handle("GET /sudo", g.Handler(middleware.StepUp{Level: auth.AssuranceMultiFactor, MaxAge: time.Hour, Now: clock.Now}.Handler(me)))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return &twoStep{a: a, m: m, clock: clock, tokens: tm, key: key, recovery: codes, srv: srv}
}

// onAllStores runs f on memory, Redis and Redis Cluster.
func onAllStores(t *testing.T, f func(t *testing.T, e *twoStep)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(twoStepStart)
			f(t, newTwoStep(t, sf.Open(t, clock.Now), clock))
		})
	}
}

type answer struct {
	status  int
	body    map[string]any
	cookies []*http.Cookie
	header  http.Header
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

// do sends a request with the client (srv.Client() when nil).
func (e *twoStep) do(t *testing.T, c *http.Client, method, path, ctype, body, bearer string) answer {
	t.Helper()
	if c == nil {
		c = e.srv.Client()
	}
	r, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, cookies: res.Cookies(), header: res.Header}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func (e *twoStep) postJSON(t *testing.T, c *http.Client, path string, v map[string]any) answer {
	t.Helper()
	b, _ := json.Marshal(v)
	return e.do(t, c, "POST", path, "application/json", string(b), "")
}

// firstStep logs john_doe in with his password and returns the pending token.
func (e *twoStep) firstStep(t *testing.T) string {
	t.Helper()
	a := e.postJSON(t, nil, "/login", map[string]any{"login": "john_doe", "password": rightPassword})
	if a.status != 401 || a.str("code") != "second_factor_required" || !strings.HasPrefix(a.str("pending"), "ghp_") {
		t.Fatalf("first step: %d %v", a.status, a.body)
	}
	if len(a.cookies) != 0 {
		t.Fatalf("first step set cookies: %v", a.cookies)
	}
	return a.str("pending")
}

func (e *twoStep) secondStep(t *testing.T, pending, kind, code string) answer {
	t.Helper()
	return e.postJSON(t, nil, "/second", map[string]any{"pending": pending, "kind": kind, "code": code})
}

// whoami asks /me and /sudo with the bearer token and returns the
// principal's level and /sudo's status.
func (e *twoStep) whoami(t *testing.T, token string) (level float64, sudo answer) {
	t.Helper()
	me := e.do(t, nil, "GET", "/me", "", "", token)
	if me.status != 200 {
		t.Fatalf("/me: %d %v", me.status, me.body)
	}
	level, _ = me.body["Assurance"].(float64)
	return level, e.do(t, nil, "GET", "/sudo", "", "", token)
}

// TestTwoStepTOTP: the password yields only a pending token (no session,
// no cookie of any kind: better-auth GHSA-xg6x-h9c9-2m83), which opens
// nothing as a bearer session; a TOTP code completes it into an AAL2
// session that passes step-up; the pending token is then spent.
func TestTwoStepTOTP(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		pending := e.firstStep(t)
		if a := e.do(t, nil, "GET", "/me", "", "", pending); a.status != 401 || a.str("code") != "invalid_token" {
			t.Fatalf("pending token as a bearer session: %d %v", a.status, a.body)
		}
		a := e.secondStep(t, pending, "totp", e.key.Code(e.clock.Now()))
		if a.status != 200 || !strings.HasPrefix(a.str("token"), "ghs_") {
			t.Fatalf("second step: %d %v", a.status, a.body)
		}
		level, sudo := e.whoami(t, a.str("token"))
		if level != 2 || sudo.status != 200 {
			t.Fatalf("AAL %v, /sudo %d %v", level, sudo.status, sudo.body)
		}
		rec, err := e.tokens.Validate(ctx, store.KindSession, a.str("token"))
		if err != nil || rec.Assurance != auth.AssuranceMultiFactor || !rec.AuthTime.Equal(twoStepStart.Add(30*time.Second)) {
			t.Fatalf("record %+v, %v", rec, err)
		}
		e.clock.Advance(30 * time.Second)
		if a := e.secondStep(t, pending, "totp", e.key.Code(e.clock.Now())); a.status != 401 || a.str("code") != "invalid_token" {
			t.Fatalf("replayed pending token: %d %v", a.status, a.body)
		}
	})
}

// TestTwoStepRecoveryCode: a recovery code is a second factor as good as
// TOTP (AAL2): kratos GHSA-wc43-73w7 computed the level over some factor
// kinds and missed one.
func TestTwoStepRecoveryCode(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		a := e.secondStep(t, e.firstStep(t), "recovery", e.recovery[3])
		if a.status != 200 {
			t.Fatalf("second step: %d %v", a.status, a.body)
		}
		if level, sudo := e.whoami(t, a.str("token")); level != 2 || sudo.status != 200 {
			t.Fatalf("AAL %v, /sudo %d", level, sudo.status)
		}
		// The code is spent: another login cannot use it.
		if a := e.secondStep(t, e.firstStep(t), "recovery", e.recovery[3]); a.status != 401 || a.str("code") != "invalid_code" {
			t.Fatalf("spent recovery code: %d %v", a.status, a.body)
		}
	})
}

// TestPasswordOnlyIsAAL1: an account without a second factor logs in with
// its password alone, at AAL1, which step-up refuses with a code a
// client can act on.
func TestPasswordOnlyIsAAL1(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		a := e.postJSON(t, nil, "/login", map[string]any{"login": "plain_user", "password": rightPassword})
		if a.status != 200 {
			t.Fatalf("login: %d %v", a.status, a.body)
		}
		level, sudo := e.whoami(t, a.str("token"))
		if level != 1 || sudo.status != 401 || sudo.str("code") != "insufficient_user_authentication" ||
			!strings.Contains(sudo.header.Get("WWW-Authenticate"), `acr_values="aal2"`) {
			t.Fatalf("AAL %v, /sudo %d %v %v", level, sudo.status, sudo.body, sudo.header)
		}
	})
}

// TestTwoStepWrongCodesBounded: a wrong code leaves the pending token live
// (a typo costs no password), but every code counts against mfa's
// attempt limit (5 per window): the sixth try is refused even with the
// right code, so one pending token buys no more guesses.
func TestTwoStepWrongCodesBounded(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		pending := e.firstStep(t)
		wrong := "000000"
		if wrong == e.key.Code(e.clock.Now()) {
			wrong = "111111"
		}
		if a := e.secondStep(t, pending, "totp", wrong); a.status != 401 || a.str("code") != "invalid_code" {
			t.Fatalf("wrong code: %d %v", a.status, a.body)
		}
		// Still live after a wrong code: the right one completes it.
		if a := e.secondStep(t, pending, "totp", e.key.Code(e.clock.Now())); a.status != 200 {
			t.Fatalf("right code after a wrong one: %d %v", a.status, a.body)
		}
		e.clock.Advance(30 * time.Second)
		pending = e.firstStep(t)
		for i := range 5 {
			if a := e.secondStep(t, pending, "totp", wrong); a.status != 401 || a.str("code") != "invalid_code" {
				t.Fatalf("wrong code %d: %d %v", i, a.status, a.body)
			}
		}
		for _, try := range []struct{ kind, code string }{{"totp", e.key.Code(e.clock.Now())}, {"recovery", e.recovery[0]}} {
			if a := e.secondStep(t, pending, try.kind, try.code); a.status != 403 || a.str("code") != "mfa_locked" {
				t.Fatalf("right %s code over the limit: %d %v", try.kind, a.status, a.body)
			}
		}
		// A new password login buys no new tries either.
		if a := e.secondStep(t, e.firstStep(t), "totp", e.key.Code(e.clock.Now())); a.status != 403 {
			t.Fatalf("new pending token over the limit: %d %v", a.status, a.body)
		}
	})
}

// TestPendingExpires: the pending token lasts tokens.Config.PendingTTL (5
// minutes).
func TestPendingExpires(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		pending := e.firstStep(t)
		e.clock.Advance(5*time.Minute + time.Second)
		if a := e.secondStep(t, pending, "totp", e.key.Code(e.clock.Now())); a.status != 401 || a.str("code") != "invalid_token" {
			t.Fatalf("expired pending token: %d %v", a.status, a.body)
		}
	})
}

// TestTwoStepConcurrentCompletion: one pending token completed many times
// at once, each with a good recovery code, gives exactly one session.
func TestTwoStepConcurrentCompletion(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		pending := e.firstStep(t)
		const n = 5 // within mfa's attempt limit: every code is checked
		var wg sync.WaitGroup
		var mu sync.Mutex
		var sessions []string
		for i := range n {
			wg.Go(func() {
				s, err := e.a.CompleteLogin(ctx, pending, auth.FactorRecovery, e.recovery[i], netip.MustParsePrefix(twoStepClient))
				if err == nil {
					mu.Lock()
					sessions = append(sessions, s.Token)
					mu.Unlock()
				} else if !errors.Is(err, tokens.ErrInvalid) {
					t.Errorf("completion %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if len(sessions) != 1 {
			t.Fatalf("%d sessions from one pending token, want 1", len(sessions))
		}
		if items, err := e.tokens.List(ctx, "341", store.Filter{Kind: store.KindSession}); err != nil || len(items) != 1 {
			t.Fatalf("live sessions: %d, %v", len(items), err)
		}
	})
}

// TestTwoStepForm: a browser's form login sets only the pending cookie,
// never a session, remember-me or known-device cookie; the second step's
// form (the pending token from that cookie) sets the session and the
// remember-me chain, both at AAL2.
func TestTwoStepForm(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		jar, _ := cookiejar.New(nil)
		c := e.srv.Client()
		c.Jar = jar
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		form := url.Values{"login": {"john_doe"}, "password": {rightPassword}, "remember": {"on"}}
		a := e.do(t, c, "POST", "/login", "application/x-www-form-urlencoded", form.Encode(), "")
		if a.status != 303 || !strings.Contains(a.header.Get("Location"), "error=second_factor_required") {
			t.Fatalf("first step: %d %v", a.status, a.header)
		}
		for _, ck := range a.cookies {
			if ck.Name != auth.PendingCookie {
				t.Fatalf("first step set cookie %s", ck.Name)
			}
		}
		if a := e.do(t, c, "GET", "/me", "", "", ""); a.status != 401 {
			t.Fatalf("after the first step: /me %d", a.status)
		}
		form = url.Values{"kind": {"totp"}, "code": {e.key.Code(e.clock.Now())}}
		a = e.do(t, c, "POST", "/second", "application/x-www-form-urlencoded", form.Encode(), "")
		names := map[string]bool{}
		for _, ck := range a.cookies {
			names[ck.Name] = ck.MaxAge >= 0
		}
		if a.status != 303 || strings.Contains(a.header.Get("Location"), "error") ||
			!names["__Host-gatehouse"] || !names[auth.RememberCookie] || names[auth.PendingCookie] {
			t.Fatalf("second step: %d %v cookies %v", a.status, a.header.Get("Location"), names)
		}
		me := e.do(t, c, "GET", "/sudo", "", "", "")
		if me.status != 200 || me.body["Assurance"] != float64(2) || !strings.HasPrefix(me.body["Device"].(string), "browser-") {
			t.Fatalf("/sudo with the cookie: %d %v", me.status, me.body)
		}

		// Logging in again without "remember" ends the browser's chain
		// at the second step, as a password login does.
		e.clock.Advance(30 * time.Second)
		form = url.Values{"login": {"john_doe"}, "password": {rightPassword}}
		if a := e.do(t, c, "POST", "/login", "application/x-www-form-urlencoded", form.Encode(), ""); a.status != 303 {
			t.Fatalf("first step again: %d", a.status)
		}
		form = url.Values{"kind": {"totp"}, "code": {e.key.Code(e.clock.Now())}}
		a = e.do(t, c, "POST", "/second", "application/x-www-form-urlencoded", form.Encode(), "")
		cleared := false
		for _, ck := range a.cookies {
			cleared = cleared || ck.Name == auth.RememberCookie && ck.MaxAge < 0
		}
		if a.status != 303 || !cleared {
			t.Fatalf("second login: %d, remember-me cookie cleared %v", a.status, cleared)
		}
		if items, err := e.tokens.List(ctx, "341", store.Filter{Kind: store.KindDevice}); err != nil || len(items) != 0 {
			t.Fatalf("device chains left: %d, %v", len(items), err)
		}
	})
}

// TestTwoStepDevice: LoginDevice issues no device token before the second
// factor; CompleteLoginDevice starts the chain at AAL2, and a rotation
// keeps the level. CompleteLogin refuses a device's pending token.
func TestTwoStepDevice(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		client := netip.MustParsePrefix(twoStepClient)
		_, err := e.a.LoginDevice(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: client}, "", "phone")
		var sf *auth.SecondFactorError
		if !errors.As(err, &sf) || !errors.Is(err, auth.ErrSecondFactor) {
			t.Fatalf("LoginDevice: %v", err)
		}
		if items, _ := e.tokens.List(ctx, "341", store.Filter{}); len(items) != 1 || items[0].Record.Kind != store.KindPending ||
			items[0].Record.Device != "phone" || items[0].Record.Assurance != 1 {
			t.Fatalf("after the first step the store holds %+v", items)
		}
		code := e.key.Code(e.clock.Now())
		if _, err := e.a.CompleteLogin(ctx, sf.Pending, auth.FactorTOTP, code, client); !errors.Is(err, auth.ErrPendingIntent) {
			t.Fatalf("CompleteLogin of a device login: %v", err)
		}
		ds, err := e.a.CompleteLoginDevice(ctx, sf.Pending, auth.FactorTOTP, code, client)
		if err != nil {
			t.Fatal(err)
		}
		next, err := e.a.ReAuthenticate(ctx, "phone", ds.DeviceToken)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{ds.Token, next.Token} {
			if rec, err := e.tokens.Validate(ctx, store.KindSession, tok); err != nil || rec.Assurance != 2 {
				t.Fatalf("session %+v, %v", rec, err)
			}
		}
	})
}

// TestPendingHoldsNoSecret: the pending record holds the subject and no
// password, hash or proof (django-two-factor CVE-2020-15105 kept the
// password in the session between the steps).
func TestPendingHoldsNoSecret(t *testing.T) {
	clock := fakeclock.New(twoStepStart)
	e := newTwoStep(t, teststores.All()[0].Open(t, clock.Now), clock)
	_, err := e.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, "p1")
	var sf *auth.SecondFactorError
	if !errors.As(err, &sf) || problem.Of(err).Code != "second_factor_required" || problem.Of(err).Status != 401 {
		t.Fatalf("Login: %v", err)
	}
	items, err := e.tokens.List(ctx, "341", store.Filter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("%+v, %v", items, err)
	}
	r := items[0].Record
	if r.Kind != store.KindPending || r.Subject != "341" || r.Project != "p1" || r.Device != "" || r.Family != "" {
		t.Fatalf("pending record %+v", r)
	}
	if s := r.Subject + r.Project + r.Device + r.Family; strings.Contains(s, rightPassword) || strings.Contains(s, "$2") {
		t.Fatalf("pending record holds a secret: %+v", r)
	}
}

// TestTwoStepLockoutAsBefore: the first step counts wrong passwords and
// forgives them on a right one as a password login does, and a wrong
// password issues no pending token.
func TestTwoStepLockoutAsBefore(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		wrong := func() {
			t.Helper()
			a := e.postJSON(t, nil, "/login", map[string]any{"login": "john_doe", "password": "not the password"})
			if a.status != 401 || a.str("code") != "invalid_credentials" || a.str("pending") != "" {
				t.Fatalf("wrong password: %d %v", a.status, a.body)
			}
		}
		for range 4 {
			wrong()
		}
		e.firstStep(t) // forgives the four
		for range 4 {
			wrong()
		}
		e.firstStep(t) // not locked: the counts started over
		if items, _ := e.tokens.List(ctx, "341", store.Filter{Kind: store.KindSession}); len(items) != 0 {
			t.Fatalf("sessions after first steps only: %d", len(items))
		}
		for range 6 {
			e.postJSON(t, nil, "/login", map[string]any{"login": "john_doe", "password": "not the password"})
		}
		if a := e.postJSON(t, nil, "/login", map[string]any{"login": "john_doe", "password": rightPassword}); a.status != 403 || a.str("code") != "locked" {
			t.Fatalf("right password on a locked account: %d %v", a.status, a.body)
		}
	})
}

// TestCompleteLoginRefusesBadInput: kind, code and token are checked
// before anything is counted.
func TestCompleteLoginRefusesBadInput(t *testing.T) {
	clock := fakeclock.New(twoStepStart)
	e := newTwoStep(t, teststores.All()[0].Open(t, clock.Now), clock)
	session, _ := e.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: "341"})
	for name, tc := range map[string]struct {
		pending, kind, code, want string
	}{
		"no kind":         {"", "", "123456", "missing_field"},
		"unknown kind":    {"", "sms", "123456", "invalid_field"},
		"no code":         {"", "totp", "", "missing_field"},
		"no token":        {"", "totp", "123456", "missing_token"},
		"garbage token":   {"ghp_nope", "totp", "123456", "invalid_token"},
		"session as step": {session.Token, "totp", "123456", "invalid_token"},
	} {
		_, err := e.a.CompleteLogin(ctx, tc.pending, tc.kind, tc.code, netip.Prefix{})
		if got := problem.Of(err).Code; got != tc.want {
			t.Errorf("%s: %v (%s), want %s", name, err, got, tc.want)
		}
	}
}

// FuzzSecondStepHandler: any body to the second step is a clear 4xx with
// a stable code; nothing panics, nothing is a 5xx, nothing gets a session.
func FuzzSecondStepHandler(f *testing.F) {
	tm := testfix.New(f, tokens.Config{}).Tokens
	pend, _ := tm.Issue(context.Background(), store.KindPending, tokens.Claims{Subject: "341"})
	for _, s := range []string{
		`{"pending":"` + pend.Token + `","kind":"totp","code":"123456"}`,
		`{"pending":"` + pend.Token + `","kind":"recovery","code":"AAAA-BBBB-CCCC-DDDD"}`,
		`{"pending":1}`, `{"kind":"x"}`, `null`, `[]`, `{"session":"cookie"}`, "",
		"pending=" + pend.Token + "&kind=totp&code=1",
	} {
		f.Add(s, "application/json")
	}
	f.Add("kind=totp&code=123456", "application/x-www-form-urlencoded")
	e := fuzzTwoStep(f)
	h := e.SecondStepHandler(auth.HandlerOptions{})
	f.Fuzz(func(t *testing.T, body, ctype string) {
		r := httptest.NewRequest("POST", "/second", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var p struct{ Code, Token string }
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code < 400 || w.Code >= 500 || p.Code == "" || p.Token != "" {
			t.Fatalf("%q (%s): %d %s", body, ctype, w.Code, w.Body)
		}
	})
}

// fuzzTwoStep is an Authenticator with a second factor on memory.
func fuzzTwoStep(f *testing.F) *auth.Authenticator {
	env := testfix.New(f, tokens.Config{})
	ring, _ := mfa.NewKeyring(mfa.SealingKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	m, err := mfa.New(mfa.Config{Store: env.Store, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test", Now: env.Clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	a, err := auth.New(auth.Config{Users: &users{byLogin: map[string]*auth.User{}}, Tokens: env.Tokens, Counters: env.Store,
		Hasher: password.Bcrypt{Cost: 4}, SecondFactor: m, Now: env.Clock.Now, NoRateLimits: true})
	if err != nil {
		f.Fatal(err)
	}
	return a
}

// TestRememberedSecondStepTakesOneUnit: a second step that may complete
// a remember-me login takes one unit of the client's limit.MFA rate per
// request, as any other (30 per 10 minutes by default): trying a plain
// completion and then a device one took two, halving the client's tries.
func TestRememberedSecondStepTakesOneUnit(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		jar, _ := cookiejar.New(nil)
		c := e.srv.Client()
		c.Jar = jar
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		form := url.Values{"login": {"john_doe"}, "password": {rightPassword}, "remember": {"on"}}
		if a := e.do(t, c, "POST", "/login", "application/x-www-form-urlencoded", form.Encode(), ""); a.status != 303 {
			t.Fatalf("first step: %d", a.status)
		}
		// Malformed codes: refused by mfa before its attempt count, so
		// only the rate limit counts them.
		for i := range 30 {
			a := e.do(t, c, "POST", "/second", "application/x-www-form-urlencoded", url.Values{"kind": {"totp"}, "code": {"x"}}.Encode(), "")
			if loc := a.header.Get("Location"); a.status != 303 || strings.Contains(loc, "rate_limited") {
				t.Fatalf("try %d: %d %s: a unit per try allows 30", i+1, a.status, loc)
			}
		}
		a := e.do(t, c, "POST", "/second", "application/x-www-form-urlencoded", url.Values{"kind": {"totp"}, "code": {"x"}}.Encode(), "")
		if loc := a.header.Get("Location"); !strings.Contains(loc, "rate_limited") {
			t.Fatalf("try 31: %d %s, want rate_limited", a.status, loc)
		}
	})
}
