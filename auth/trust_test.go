package auth_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// trustedLogin completes john_doe's second step asking to be trusted and
// returns the trust token a token client gets.
func (e *twoStep) trustedLogin(t *testing.T) string {
	t.Helper()
	a := e.postJSON(t, nil, "/second", map[string]any{"pending": e.firstStep(t), "kind": "totp",
		"code": e.key.Code(e.clock.Now()), "trust_device": true})
	if a.status != 200 || !strings.HasPrefix(a.str("trusted_device"), "ght_") || a.str("trusted_device_expires_at") == "" {
		t.Fatalf("second step asking for trust: %d %v", a.status, a.body)
	}
	e.clock.Advance(30 * time.Second) // the code's step is burned
	return a.str("trusted_device")
}

func (e *twoStep) loginTrusted(t *testing.T, pw, trust string) answer {
	t.Helper()
	return e.postJSON(t, nil, "/login", map[string]any{"login": "john_doe", "password": pw, "trusted_device": trust})
}

// TestTrustedDeviceSkipsTheSecondFactor: a browser trusted after its
// second factor logs in with the password alone, at a password's level
// (step-up still asks for a factor); every use rotates the token, and presenting a spent one
// (a copy) revokes the chain: the next login asks for the code again,
// from either holder (issue 18: bound to a chain, never a static cookie).
func TestTrustedDeviceSkipsTheSecondFactor(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		first := e.trustedLogin(t)
		a := e.loginTrusted(t, rightPassword, first)
		second := a.str("trusted_device")
		if a.status != 200 || !strings.HasPrefix(a.str("token"), "ghs_") || !strings.HasPrefix(second, "ght_") || second == first {
			t.Fatalf("trusted login: %d %v", a.status, a.body)
		}
		if level, sudo := e.whoami(t, a.str("token")); level != 1 || sudo.status != 401 {
			t.Fatalf("trusted login's session: AAL %v, /sudo %d", level, sudo.status)
		}
		// The copy: the spent token presented again.
		if a := e.loginTrusted(t, rightPassword, first); a.status != 401 || a.str("code") != "second_factor_required" {
			t.Fatalf("replayed trust token: %d %v", a.status, a.body)
		}
		if a := e.loginTrusted(t, rightPassword, second); a.status != 401 || a.str("code") != "second_factor_required" {
			t.Fatalf("successor after a replay: %d %v (the chain should be revoked)", a.status, a.body)
		}
	})
}

// TestTrustDoesNotReplaceThePassword: a trust token with a wrong password
// is a wrong password, and spends nothing.
func TestTrustDoesNotReplaceThePassword(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		trust := e.trustedLogin(t)
		if a := e.loginTrusted(t, "wrong-password", trust); a.status != 401 || a.str("code") != "invalid_credentials" {
			t.Fatalf("trust with a wrong password: %d %v", a.status, a.body)
		}
		if a := e.loginTrusted(t, rightPassword, trust); a.status != 200 {
			t.Fatalf("trust after a wrong password: %d %v", a.status, a.body)
		}
	})
}

// TestTrustIsTheAccountsOwn: john's trust token does not spare another
// account its second factor, and stays good for john.
func TestTrustIsTheAccountsOwn(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		trust := e.trustedLogin(t)
		if err := enrollPlainUser(e); err != nil {
			t.Fatal(err)
		}
		a := e.postJSON(t, nil, "/login", map[string]any{"login": "plain_user", "password": rightPassword, "trusted_device": trust})
		if a.status != 401 || a.str("code") != "second_factor_required" {
			t.Fatalf("john's trust for another account: %d %v", a.status, a.body)
		}
		if a := e.loginTrusted(t, rightPassword, trust); a.status != 200 {
			t.Fatalf("john's trust after another account presented it: %d %v", a.status, a.body)
		}
	})
}

func enrollPlainUser(e *twoStep) error {
	en, err := e.m.Enroll(ctx, "500", "plain@example.com")
	if err != nil {
		return err
	}
	key, err := mfa.ParseKeyURI(en.URI)
	if err != nil {
		return err
	}
	return e.m.ConfirmEnroll(ctx, "500", key.Code(e.clock.Now()))
}

// TestTrustNeedsAFreshSecondFactor: TrustDevice refuses a password-only
// session and one whose second factor is older than TrustWindow, so a
// stolen session cannot mint trust for another browser.
func TestTrustNeedsAFreshSecondFactor(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		plain := e.postJSON(t, nil, "/login", map[string]any{"login": "plain_user", "password": rightPassword})
		if _, err := e.a.TrustDevice(ctx, plain.str("token")); !errors.Is(err, auth.ErrTrustNeedsSecondFactor) {
			t.Fatalf("trust from a password-only session: %v", err)
		}
		a := e.secondStep(t, e.firstStep(t), "totp", e.key.Code(e.clock.Now()))
		e.clock.Advance(auth.TrustWindow + time.Second)
		if _, err := e.a.TrustDevice(ctx, a.str("token")); !errors.Is(err, auth.ErrTrustNeedsSecondFactor) {
			t.Fatalf("trust from an old second factor: %v", err)
		}
	})
}

// TestLogoutEverywhereEndsTrust: "sign me out everywhere" (and a password
// change, which calls it) ends every trust chain.
func TestLogoutEverywhereEndsTrust(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		trust := e.trustedLogin(t)
		if _, err := e.a.LogoutEverywhere(ctx, "341"); err != nil {
			t.Fatal(err)
		}
		if a := e.loginTrusted(t, rightPassword, trust); a.status != 401 || a.str("code") != "second_factor_required" {
			t.Fatalf("trust after logout everywhere: %d %v", a.status, a.body)
		}
	})
}

// TestTrustChainEnds: trust lasts tokens.Config.TrustTTL (30 days) from
// the second factor, however often it is used. Memory only: Redis keeps
// its own time for expiry.
func TestTrustChainEnds(t *testing.T) {
	clock := fakeclock.New(twoStepStart)
	e := newTwoStep(t, teststores.All()[0].Open(t, clock.Now), clock)
	trust := e.trustedLogin(t)
	for range 3 {
		e.clock.Advance(9 * 24 * time.Hour)
		a := e.loginTrusted(t, rightPassword, trust)
		if a.status != 200 {
			t.Fatalf("trusted login on day %v: %d %v", e.clock.Now().Sub(twoStepStart).Hours()/24, a.status, a.body)
		}
		trust = a.str("trusted_device")
	}
	e.clock.Advance(4 * 24 * time.Hour)
	if a := e.loginTrusted(t, rightPassword, trust); a.status != 401 || a.str("code") != "second_factor_required" {
		t.Fatalf("trust past 30 days: %d %v", a.status, a.body)
	}
}

// TestConcurrentTrustedLogins: one trust token presented by many logins
// at once (a stolen copy racing the browser) skips the second factor at
// most once.
func TestConcurrentTrustedLogins(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		trust := e.trustedLogin(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		skipped := 0
		// Within the lockout's MaxFailures: each login is counted before
		// its password is checked, right or wrong.
		for range 4 {
			wg.Go(func() {
				_, err := e.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword,
					Client: netip.MustParsePrefix(twoStepClient), TrustedDevice: trust}, "")
				if err == nil {
					mu.Lock()
					skipped++
					mu.Unlock()
				} else if !errors.Is(err, auth.ErrSecondFactor) {
					t.Errorf("login: %v", err)
				}
			})
		}
		wg.Wait()
		if skipped > 1 {
			t.Fatalf("%d logins skipped the second factor with one trust token", skipped)
		}
	})
}

// TestTrustCookieInTheBrowser: a form second step with trust_device=on
// sets TrustCookie (Secure, HttpOnly, SameSite=Strict, __Host-); the next
// form login skips the second step and rotates the cookie.
func TestTrustCookieInTheBrowser(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		jar, _ := cookiejar.New(nil)
		c := e.srv.Client()
		c.Jar = jar
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		form := "application/x-www-form-urlencoded"
		login := url.Values{"login": {"john_doe"}, "password": {rightPassword}}.Encode()
		if a := e.do(t, c, "POST", "/login", form, login, ""); a.status != 303 || jarHas(jar, e.srv.URL, auth.PendingCookie) == "" {
			t.Fatalf("form login: %d %v", a.status, a.cookies)
		}
		a := e.do(t, c, "POST", "/second", form, url.Values{"kind": {"totp"}, "code": {e.key.Code(e.clock.Now())}, "trust_device": {"on"}}.Encode(), "")
		var trust *http.Cookie
		for _, ck := range a.cookies {
			if ck.Name == auth.TrustCookie {
				trust = ck
			}
		}
		if a.status != 303 || trust == nil || !trust.Secure || !trust.HttpOnly || trust.SameSite != http.SameSiteStrictMode || trust.Path != "/" {
			t.Fatalf("second step: %d, trust cookie %+v", a.status, trust)
		}
		e.clock.Advance(30 * time.Second)
		if a := e.do(t, c, "POST", "/login", form, login, ""); a.status != 303 || a.header.Get("Location") != "/" {
			t.Fatalf("trusted form login: %d %v", a.status, a.header)
		}
		if got := jarHas(jar, e.srv.URL, auth.TrustCookie); got == "" || got == trust.Value {
			t.Fatalf("trust cookie after a trusted login: %q (was %q): want a rotated one", got, trust.Value)
		}
	})
}

func jarHas(jar http.CookieJar, base, name string) string {
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
