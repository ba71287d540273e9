package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// strongPassword passes the default policy.
const strongPassword = "correct horse battery staple 42"

// harness is an app that mounts the account API at /account/ on a store.
type harness struct {
	srv   *httptest.Server
	users *account.MemoryUsers
	mail  *authtest.Outbox
	clock *fakeclock.Clock
	acct  *account.Account
	auth  *auth.Authenticator
	mfa   *mfa.Manager // newMFAHarness's
	// newPasskeyHarness's: the Manager, its browser, and how many
	// challenges it has written to the store.
	pk         *passkey.Manager
	browser    *passkeytest.Authenticator
	challenges *atomic.Int64
}

// passkeyOrigin is the origin of newPasskeyHarness's passkeys.
const passkeyOrigin = "https://localhost"

// countChallenges is a store that counts the challenge records written.
type countChallenges struct {
	store.Store
	n *atomic.Int64
}

func (s countChallenges) Put(ctx context.Context, id store.ID, rec store.Record) error {
	if rec.Kind == store.KindChallenge {
		s.n.Add(1)
	}
	return s.Store.Put(ctx, id, rec)
}

// harnessConfig lets a test change the account Config before New.
type harnessConfig func(*account.Config)

func newHarness(t *testing.T, st func(t *testing.T, now func() time.Time) store.Store, mods ...harnessConfig) *harness {
	t.Helper()
	return buildHarness(t, st, false, "", mods...)
}

// newPasskeyHarness is newMFAHarness with passkeys: a passkey.Manager
// (h.pk, RP ID localhost) as auth's Passwordless, mfa's Passkeys and the
// account's Config.Passkeys, and a virtual authenticator (h.browser).
func newPasskeyHarness(t *testing.T, st func(t *testing.T, now func() time.Time) store.Store, mods ...harnessConfig) *harness {
	t.Helper()
	return buildHarness(t, st, true, passkeyOrigin, mods...)
}

// newPasskeyHarnessAt is newPasskeyHarness for pages a browser opens at
// origin (http://localhost:<port>).
func newPasskeyHarnessAt(t *testing.T, st func(t *testing.T, now func() time.Time) store.Store, origin string, mods ...harnessConfig) *harness {
	t.Helper()
	return buildHarness(t, st, true, origin, mods...)
}

// newMFAHarness is newHarness with second factors: an mfa.Manager on the
// store (h.mfa) as auth's SecondFactor and the account's Config.MFA.
func newMFAHarness(t *testing.T, st func(t *testing.T, now func() time.Time) store.Store, mods ...harnessConfig) *harness {
	t.Helper()
	return buildHarness(t, st, true, "", mods...)
}

func buildHarness(t *testing.T, st func(t *testing.T, now func() time.Time) store.Store, withMFA bool, pkOrigin string, mods ...harnessConfig) *harness {
	t.Helper()
	h := &harness{users: account.NewMemoryUsers(), mail: &authtest.Outbox{}, clock: fakeclock.New(testfix.Start)}
	s := st(t, h.clock.Now)
	tm, err := tokens.New(tokens.Config{Store: s, TagKey: testfix.TagKey, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ac := auth.Config{Users: h.users, Tokens: tm, Counters: s, Hasher: authtest.NewHasher(),
		Mailer: h.mail, HideUnconfirmed: true, Now: h.clock.Now}
	var mp mfa.Passkeys
	if pkOrigin != "" {
		h.challenges = new(atomic.Int64)
		ptm, err := tokens.New(tokens.Config{Store: countChallenges{Store: s, n: h.challenges}, TagKey: testfix.TagKey, Now: h.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		h.pk, err = passkey.New(passkey.Config{RPID: "localhost", RPDisplayName: "Gatehouse Test", Origins: []string{pkOrigin},
			Tokens: ptm, Credentials: new(mfa.MemoryFactors), Now: h.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		h.browser = passkeytest.New(pkOrigin)
		ac.Passwordless, mp = h.pk, h.pk
	}
	if withMFA {
		ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "test", Secret: bytes.Repeat([]byte{7}, 32)})
		if err != nil {
			t.Fatal(err)
		}
		h.mfa, err = mfa.New(mfa.Config{Store: s, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Gatehouse Test", Now: h.clock.Now, Passkeys: mp})
		if err != nil {
			t.Fatal(err)
		}
		ac.SecondFactor = h.mfa
	}
	h.auth, err = auth.New(ac)
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := middleware.NewCookies(middleware.CookieConfig{Name: "sess", HashKey: testfix.TagKey, InsecureAllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies})
	if err != nil {
		t.Fatal(err)
	}
	cfg := account.Config{Auth: h.auth, Tokens: tm, Guard: guard, Users: h.users, Mailer: h.mail, Cookies: cookies,
		SignupMinDuration: time.Millisecond, Now: h.clock.Now, MFA: h.mfa, Passkeys: h.pk}
	for _, m := range mods {
		m(&cfg)
	}
	h.acct, err = account.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/account/", http.StripPrefix("/account", h.acct.API()))
	// A route of the app's that needs a second factor (assurance level 2).
	mux.Handle("GET /app/mfa-only", cfg.Guard.Handler(middleware.RequireAssurance(auth.AssuranceMultiFactor, 0)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))))
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// client is an API client: a bearer token once logged in, or a cookie jar.
type client struct {
	t     *testing.T
	h     *harness
	http  *http.Client
	token string
}

func (h *harness) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, h: h, http: &http.Client{Jar: jar}}
}

// do sends a JSON request (body nil: none) and returns the status and the
// decoded JSON answer (nil when empty).
func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.h.srv.URL+"/account"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: %d, not JSON: %q", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, out
}

// must is do that fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	got, out := c.do(method, path, body)
	if got != want {
		c.t.Fatalf("%s %s: %d %v, want %d", method, path, got, out, want)
	}
	return out
}

// signup creates and confirms an account and returns its confirmation
// message's subject.
func (h *harness) signup(t *testing.T, email, username string) string {
	t.Helper()
	c := h.client(t)
	c.must(202, "POST", "/signup", map[string]string{"email": email, "password": strongPassword, "username": username})
	m := h.mail.Last(t)
	if m.Purpose != auth.PurposeConfirmEmail || m.To != email {
		t.Fatalf("signup mailed %+v", m)
	}
	c.must(200, "POST", "/email/confirm", map[string]string{"token": m.Token})
	return m.Subject
}

// login logs in by JSON and keeps the bearer token.
func (c *client) login(login, pw string) {
	c.t.Helper()
	out := c.must(200, "POST", "/login", map[string]string{"login": login, "password": pw})
	c.token, _ = out["token"].(string)
}
