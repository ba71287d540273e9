package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// RememberMe is the guard's remember-me hook without auth importing
// middleware.
var _ middleware.Remember = (*auth.RememberMe)(nil)

func rememberCookieOf(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.RememberCookie {
			return c
		}
	}
	return nil
}

// TestLoginHandlerRemember: a login that asks to be remembered gets the
// remember-me cookie (a __Host- cookie holding a browser chain) only where
// the app allows it and the session goes into a cookie: JSON with the
// cookie, or a form's checkbox. A JSON login that takes a token and asks is
// a 400 on the field, before any password check; a handler without
// RememberMe ignores the field.
func TestLoginHandlerRemember(t *testing.T) {
	f := newFixture(t, auth.Config{})
	j := &jar{}
	const creds = `"username":"john_doe","password":"john_doe_secret"`
	on := auth.HandlerOptions{Cookies: j, RememberMe: true}
	for _, tc := range []struct {
		name     string
		opts     auth.HandlerOptions
		ctype    string
		body     string
		remember bool
	}{
		{"JSON cookie", on, "application/json", `{` + creds + `,"session":"cookie","remember":true}`, true},
		{"JSON cookie, not asked", on, "application/json", `{` + creds + `,"session":"cookie"}`, false},
		{"form checkbox", on, "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret&remember=on", true},
		{"form without", on, "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret", false},
		{"form, off", auth.HandlerOptions{Cookies: j}, "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret&remember=on", false},
		{"JSON token, off", auth.HandlerOptions{}, "application/json", `{` + creds + `,"remember":true}`, false},
	} {
		w := post(f.a.LoginHandler(tc.opts), tc.ctype, tc.body)
		if w.Code != 200 && w.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		c := rememberCookieOf(w)
		if !tc.remember {
			if c != nil {
				t.Errorf("%s: set a remember-me cookie", tc.name)
			}
			continue
		}
		if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge < 29*24*3600 {
			t.Fatalf("%s: remember-me cookie %v: want __Host-, Secure, HttpOnly, Lax, Path=/, 30 days", tc.name, c)
		}
		device, token, ok := strings.Cut(c.Value, ".")
		if !ok || !strings.HasPrefix(device, "browser-") || tokens.KindOf(token) != store.KindDevice || !f.live(t, store.KindDevice, token) {
			t.Fatalf("%s: remember-me cookie value %q", tc.name, c.Value)
		}
		sess, err := f.tokens.Validate(ctx, store.KindSession, j.held)
		if err != nil || sess.Device != device || sess.Family == "" {
			t.Fatalf("%s: the session %+v, %v is not in the browser's chain", tc.name, sess, err)
		}
	}
	checks := f.hasher.Compares.Load()
	w := post(f.a.LoginHandler(on), "application/json", `{`+creds+`,"session":"token","remember":true}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"remember"`) {
		t.Fatalf("a token login asking to be remembered: %d %s, want 400 on the field remember", w.Code, w.Body)
	}
	if n := f.hasher.Compares.Load() - checks; n != 0 {
		t.Errorf("%d password checks for a refused remember, want 0", n)
	}
}

// TestLoginRememberedReplacesTheChainItHeld: a browser that logs in again
// with "remember" gets a new chain, and the one its cookie held ends.
func TestLoginRememberedReplacesTheChainItHeld(t *testing.T) {
	f := newFixture(t, auth.Config{})
	h := f.a.LoginHandler(auth.HandlerOptions{Cookies: &jar{}, RememberMe: true})
	login := func(old *http.Cookie) *http.Cookie {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"john_doe","password":"john_doe_secret","session":"cookie","remember":true}`))
		r.Header.Set("Content-Type", "application/json")
		if old != nil {
			r.AddCookie(old)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		c := rememberCookieOf(w)
		if w.Code != 200 || c == nil {
			t.Fatalf("login: %d %s", w.Code, w.Body)
		}
		return c
	}
	first := login(nil)
	second := login(first)
	_, firstToken, _ := strings.Cut(first.Value, ".")
	_, secondToken, _ := strings.Cut(second.Value, ".")
	if f.live(t, store.KindDevice, firstToken) || !f.live(t, store.KindDevice, secondToken) {
		t.Fatal("the replaced chain lives on, or the new one does not")
	}
}

// TestRestoreRemembered: the API another package's handlers call. It
// rotates; a token of another project stays unspent and is no token; a
// name that is not the token's is refused and spends nothing; a
// DeviceSession of a named device cannot become a remember-me cookie.
func TestRestoreRemembered(t *testing.T) {
	f := newFixture(t, auth.Config{})
	c := auth.Credentials{Login: "john_doe", Password: rightPassword, Client: netip.MustParsePrefix("192.0.2.1/32")}
	ds, err := f.a.LoginRemembered(ctx, c, "notes")
	if err != nil || !strings.HasPrefix(ds.Device, "browser-") || ds.Project != "notes" {
		t.Fatalf("LoginRemembered = %+v, %v", ds, err)
	}
	if _, err := f.a.RestoreRemembered(ctx, c.Client, ds.Device, ds.DeviceToken, "other"); !errors.Is(err, tokens.ErrMissing) {
		t.Fatalf("another project: %v, want tokens.ErrMissing", err)
	}
	other, err := f.a.LoginRemembered(ctx, c, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RestoreRemembered(ctx, c.Client, other.Device, ds.DeviceToken, "notes"); !errors.Is(err, auth.ErrWrongDevice) || problem.Of(err).Status != 401 {
		t.Fatalf("another browser's name: %v, want ErrWrongDevice", err)
	}
	next, err := f.a.RestoreRemembered(ctx, c.Client, ds.Device, ds.DeviceToken, "notes")
	if err != nil || next.DeviceToken == ds.DeviceToken || next.Device != ds.Device || next.User.Subject != "341" {
		t.Fatalf("RestoreRemembered = %+v, %v", next, err)
	}
	if f.live(t, store.KindDevice, ds.DeviceToken) || !f.live(t, store.KindSession, next.Token) {
		t.Fatal("the redeemed token is live, or the new session is not")
	}
	if err := f.a.SetRememberCookie(httptest.NewRecorder(), f.loginDevice(t, "phone")); err == nil {
		t.Fatal("SetRememberCookie took a phone's DeviceSession")
	}
	if err := f.a.ForgetRemembered(ctx, next.Device, next.DeviceToken); err != nil {
		t.Fatal(err)
	}
	if f.live(t, store.KindDevice, next.DeviceToken) || f.live(t, store.KindSession, next.Token) {
		t.Fatal("ForgetRemembered left the chain")
	}
	for _, bad := range [][2]string{{"phone", next.DeviceToken}, {next.Device, "garbage"}, {"", ""}} {
		if err := f.a.ForgetRemembered(ctx, bad[0], bad[1]); err != nil {
			t.Errorf("ForgetRemembered(%q, %q) = %v, want nil", bad[0], bad[1], err)
		}
	}
}

// TestPasswordLoginEndsTheRememberedChain: a browser remembered for one
// login, where someone then logs in with a password without asking to be
// remembered, loses the remember-me cookie and its chain: once the new
// session ends, the browser does not come back as the first user.
func TestPasswordLoginEndsTheRememberedChain(t *testing.T) {
	f := newFixture(t, auth.Config{})
	j := &jar{}
	h := f.a.LoginHandler(auth.HandlerOptions{Cookies: j, RememberMe: true})
	first := post(h, "application/json", `{"username":"john_doe","password":"john_doe_secret","session":"cookie","remember":true}`)
	c := rememberCookieOf(first)
	if first.Code != 200 || c == nil {
		t.Fatalf("remembered login: %d %s", first.Code, first.Body)
	}
	_, token, _ := strings.Cut(c.Value, ".")
	for _, tc := range []struct{ name, ctype, body string }{
		{"JSON", "application/json", `{"username":"john_doe","password":"john_doe_secret","session":"cookie"}`},
		{"form", "application/x-www-form-urlencoded", "username=john_doe&password=john_doe_secret"},
	} {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ctype)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cleared := rememberCookieOf(w)
		if w.Code >= 400 || cleared == nil || cleared.MaxAge >= 0 {
			t.Fatalf("%s: a login over a remembered browser: %d, remember-me cookie %v; want it cleared", tc.name, w.Code, cleared)
		}
		if f.live(t, store.KindDevice, token) {
			t.Fatalf("%s: the chain the browser held lives on", tc.name)
		}
	}
	// A bearer login leaves the cookie it cannot see alone.
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"john_doe","password":"john_doe_secret"}`))
	r.Header.Set("Content-Type", "application/json")
	r.AddCookie(c)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || rememberCookieOf(w) != nil {
		t.Fatalf("a token login: %d, cookies %v", w.Code, w.Result().Cookies())
	}
}

// TestRestoreRememberedGrace: the same token redeemed again within
// RememberGrace on one Authenticator gets the same new session and token
// (a page's parallel requests); after the grace it is a replay, which
// revokes the chain.
func TestRestoreRememberedGrace(t *testing.T) {
	f := newFixture(t, auth.Config{})
	c := auth.Credentials{Login: "john_doe", Password: rightPassword, Client: netip.MustParsePrefix("192.0.2.1/32")}
	ds, err := f.a.LoginRemembered(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.a.RestoreRemembered(ctx, c.Client, ds.Device, ds.DeviceToken, "")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(auth.RememberGrace - time.Millisecond)
	again, err := f.a.RestoreRemembered(ctx, c.Client, ds.Device, ds.DeviceToken, "")
	if err != nil || again.Token != first.Token || again.DeviceToken != first.DeviceToken {
		t.Fatalf("within the grace: %v, same tokens %v; want the first redemption's", err, again.DeviceToken == first.DeviceToken)
	}
	f.clock.Advance(time.Millisecond)
	_, err = f.a.RestoreRemembered(ctx, c.Client, ds.Device, ds.DeviceToken, "")
	var reused *auth.ReusedError
	if !errors.As(err, &reused) || reused.Device != ds.Device {
		t.Fatalf("after the grace: %v, want a *ReusedError", err)
	}
	if f.live(t, store.KindDevice, first.DeviceToken) || f.live(t, store.KindSession, first.Token) {
		t.Fatal("the replay left the chain alive")
	}
}
