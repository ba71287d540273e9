package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpbody"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func post(h http.Handler, ctype, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestLoginHandlerJSON(t *testing.T) {
	f := newFixture(t, auth.Config{})
	h := f.a.LoginHandler(auth.HandlerOptions{})
	for _, body := range []string{
		`{"username":"john_doe","password":"john_doe_secret"}`,
		`{"email":"John_Doe@Domain.com","password":"john_doe_secret"}`,
		`{"login":"john_doe","password":"john_doe_secret","extra":1}`,
	} {
		w := post(h, "application/json; charset=utf-8", body)
		var res struct {
			Token     string    `json:"token"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.Token == "" || res.ExpiresAt.IsZero() {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
	}
}

func TestLoginHandlerFormWithoutCookies(t *testing.T) {
	f := newFixture(t, auth.Config{})
	w := post(f.a.LoginHandler(auth.HandlerOptions{}), "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret")
	if w.Code != 415 || !strings.Contains(w.Body.String(), `"unsupported_media_type"`) {
		t.Fatalf("form login with no cookies configured: %d %s", w.Code, w.Body)
	}
}

func TestProblemTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{auth.ErrInvalidCredentials, 401, "invalid_credentials"},
		{auth.ErrUnknownUser, 404, "unknown_user"},
		{auth.ErrInactive, 403, "inactive"},
		{auth.ErrUnconfirmed, 403, "unconfirmed"},
		{&auth.LockedError{}, 403, "locked"},
		{password.ErrTooLong, 400, "password_too_long"},
		{&auth.FieldError{Field: "password", Reason: "missing"}, 400, "missing_field"},
		{password.ErrBusy, 503, "busy"},
		{httpbody.ErrTooLarge, 413, "body_too_large"},
		{httpbody.ErrMediaType, 415, "unsupported_media_type"},
		{http.ErrAbortHandler, 500, "internal"},
	} {
		if p := problem.Of(tc.err); p.Status != tc.status || p.Code != tc.code {
			t.Errorf("ProblemOf(%v) = %d %s, want %d %s", tc.err, p.Status, p.Code, tc.status, tc.code)
		}
	}
	if p := problem.Of(http.ErrAbortHandler); strings.Contains(p.Message, "abort") {
		t.Errorf("500 message leaks the error: %q", p.Message)
	}
}

// FuzzLoginHandler: whatever the body and content type, the handler answers
// a 2xx, 3xx or 4xx with a stable code, never a 500 or a panic.
func FuzzLoginHandler(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/json", `{"username":"john_doe","password":"john_doe_secret"}`},
		{"application/json", `{"username":`},
		{"application/json", `{"password":"` + strings.Repeat("x", 80) + `"}`},
		{"text/json", `{"email":"a@b","password":"p"} []`},
		{"application/x-www-form-urlencoded", "username=john_doe&password=%zz"},
		{"multipart/form-data; boundary=x", "--x--"},
		{"", ""},
		{"application/json; charset=\x00", "{}"},
	} {
		f.Add(seed[0], seed[1])
	}
	fx := newFixture(f, auth.Config{Lockout: auth.Lockout{MaxFailures: 100, MaxFailuresPerClient: 99}})
	h := fx.a.LoginHandler(auth.HandlerOptions{})
	f.Fuzz(func(t *testing.T, ctype, body string) {
		w := post(h, ctype, body)
		if w.Code >= 500 {
			t.Fatalf("%q %q: %d %s", ctype, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var p problem.Error
			if json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Code == "" {
				t.Fatalf("%q %q: %d without a stable code: %s", ctype, body, w.Code, w.Body)
			}
		}
	})
}

func TestFullStoreAnswers503(t *testing.T) {
	mem := memory.New(memory.Options{MaxRecords: 4})
	t.Cleanup(func() { mem.Close() })
	tm, _ := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey})
	fx := newFixture(t, auth.Config{})
	a, err := auth.New(auth.Config{Users: fx.users, Tokens: tm, Counters: mem, Hasher: fx.hasher})
	if err != nil {
		t.Fatal(err)
	}
	h := a.LoginHandler(auth.HandlerOptions{})
	var w *httptest.ResponseRecorder
	for range 10 {
		if w = post(h, "application/json", `{"username":"john_doe","password":"john_doe_secret"}`); w.Code != 200 {
			break
		}
	}
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"code":"store_full"`) {
		t.Fatalf("logins past the store's cap: %d %s; want 503 store_full", w.Code, w.Body)
	}
}

// jar is one browser's session cookie, for handler tests.
type jar struct{ held string }

func (j *jar) SetSession(_ http.ResponseWriter, _ *http.Request, _, token string, _ time.Time) error {
	j.held = token
	return nil
}
func (j *jar) SessionToken(*http.Request, string) string { return j.held }
func (j *jar) ClearSession(http.ResponseWriter, *http.Request, string) error {
	j.held = ""
	return nil
}

// TestFormLoginEndsTheSessionItReplaces: a browser that logs in again,
// as the same user or another, holds only the new session; the one its
// cookie held before is ended, not just forgotten (ASVS 5.0 7.2.4).
func TestFormLoginEndsTheSessionItReplaces(t *testing.T) {
	f := newFixture(t, auth.Config{})
	j := &jar{}
	h := f.a.LoginHandler(auth.HandlerOptions{Cookies: j, Redirect: "/"})
	var held []string
	for range 2 {
		if w := post(h, "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret"); w.Code != http.StatusSeeOther {
			t.Fatalf("form login: %d %s", w.Code, w.Body)
		}
		held = append(held, j.held)
	}
	if held[0] == held[1] {
		t.Fatal("the second login kept the first session's token")
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, held[0]); err == nil {
		t.Error("the replaced session still validates")
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, held[1]); err != nil {
		t.Errorf("the new session: %v", err)
	}
	// A failed login leaves the session the browser holds alone.
	post(h, "application/x-www-form-urlencoded", "username=john_doe&password=wrong")
	if _, err := f.tokens.Validate(ctx, store.KindSession, held[1]); err != nil || j.held != held[1] {
		t.Errorf("a failed login ended the held session: %v", err)
	}
}

// TestLoginHandlerSetsKnownDeviceCookie: a successful login sets the
// known-device proof in a __Host- cookie (Secure, HttpOnly, Lax, the whole
// site, 30 days); a failed one sets nothing; and the handler reads the
// cookie back as Credentials.KnownDevice.
func TestLoginHandlerSetsKnownDeviceCookie(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 4, MaxFailuresPerClient: 2}})
	h := f.a.LoginHandler(auth.HandlerOptions{})
	w := post(h, "application/json", `{"username":"john_doe","password":"john_doe_secret"}`)
	cs := w.Result().Cookies()
	if w.Code != 200 || len(cs) != 1 {
		t.Fatalf("login: %d, cookies %v", w.Code, cs)
	}
	c := cs[0]
	if c.Name != auth.KnownDeviceCookie || !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly ||
		c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != int(auth.KnownDeviceTTL/time.Second) {
		t.Fatalf("known-device cookie %q: want __Host-, Secure, HttpOnly, Lax, Path=/, no Domain, 30 days", c.Raw)
	}
	if w := post(h, "application/json", `{"username":"john_doe","password":"wrong"}`); len(w.Result().Cookies()) != 0 {
		t.Fatalf("a failed login set %v", w.Result().Cookies())
	}
	// Two other clients lock the name; the handler's requests come from
	// httptest's 192.0.2.1, which presents the cookie and gets in.
	for i := range 4 {
		f.from([]string{"198.51.100.1", "198.51.100.2"}[i%2], "john_doe", "wrong")
	}
	for _, withCookie := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"john_doe","password":"john_doe_secret"}`))
		r.Header.Set("Content-Type", "application/json")
		if withCookie {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if want := map[bool]int{false: 403, true: 200}[withCookie]; w.Code != want {
			t.Errorf("login through a lock, cookie %v: %d %s, want %d", withCookie, w.Code, w.Body, want)
		}
	}
}

// TestJSONLoginCanSetTheCookie: a single-page app's JSON login gets its
// session as the cookie, with no token in the body for script to read,
// when it asks ("session": "cookie") or the handler says so (JSONCookie);
// "token" keeps the bearer answer; anything else, or a cookie from a
// handler that has none, is a 400 naming the field.
func TestJSONLoginCanSetTheCookie(t *testing.T) {
	f := newFixture(t, auth.Config{})
	j := &jar{}
	const creds = `"username":"john_doe","password":"john_doe_secret"`
	for _, tc := range []struct {
		name   string
		opts   auth.HandlerOptions
		body   string
		cookie bool
	}{
		{"asked", auth.HandlerOptions{Cookies: j}, `{` + creds + `,"session":"cookie"}`, true},
		{"by config", auth.HandlerOptions{Cookies: j, JSONCookie: true}, `{` + creds + `}`, true},
		{"token asked over the config", auth.HandlerOptions{Cookies: j, JSONCookie: true}, `{` + creds + `,"session":"token"}`, false},
		{"default", auth.HandlerOptions{Cookies: j}, `{` + creds + `}`, false},
	} {
		j.held = ""
		w := post(f.a.LoginHandler(tc.opts), "application/json", tc.body)
		var res struct {
			Token     string    `json:"token"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.ExpiresAt.IsZero() {
			t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		if tc.cookie && (j.held == "" || res.Token != "" || strings.Contains(w.Body.String(), "token")) {
			t.Errorf("%s: cookie %q, body %s; want the cookie and no token in the body", tc.name, j.held, w.Body)
		}
		if !tc.cookie && (j.held != "" || res.Token == "") {
			t.Errorf("%s: cookie %q, body %s; want a token in the body and no cookie", tc.name, j.held, w.Body)
		}
	}
	for name, h := range map[string]http.Handler{
		"unknown kind":       f.a.LoginHandler(auth.HandlerOptions{Cookies: j}),
		"no cookies to give": f.a.LoginHandler(auth.HandlerOptions{}),
	} {
		body := `{` + creds + `,"session":"cookie"}`
		if name == "unknown kind" {
			body = `{` + creds + `,"session":"both"}`
		}
		if w := post(h, "application/json", body); w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"session"`) {
			t.Errorf("%s: %d %s, want 400 on the field session", name, w.Code, w.Body)
		}
	}
	if n := f.hasher.Compares.Load(); n != 4 {
		t.Errorf("%d password checks, want 4: a refused session kind is refused before any", n)
	}
}
