package account_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
)

// snapshot returns a browser holding a copy of b's cookies now.
func (b *browser) snapshot() *browser {
	b.t.Helper()
	u, _ := url.Parse(b.s.srv.URL)
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, b.http.Jar.Cookies(u))
	c := *b.s.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: b.t, s: b.s, http: &c}
}

// TestAttackSocialLoginKeepsPriorSession: a login through the provider
// replaces the browser's session cookie but never ends the session the
// browser held before, unlike a password login (auth keepLogin: "the
// session this browser held is replaced, so it ends", ASVS 5.0 7.2.4).
// Attack: on a shared or fixated browser, ada is signed in; the next user
// logs in through the provider; ada's session (and anyone holding a copy
// of its cookie: a fixated or stolen one) stays live although the browser
// moved on. Safe: socialLogin ends the prior session as keepLogin does.
func TestAttackSocialLoginKeepsPriorSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		ada := s.h.signup(t, "ada@example.com", "ada")
		s.op.AddUser(oidcprovider.User{Subject: "op-new", Email: "new@example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		b.passwordLogin("ada@example.com")
		old := b.snapshot() // a copy of the cookie ada's session is in
		if a := b.socialLogin("new@example.com"); a.status != 303 || b.subject() == "" || b.subject() == ada {
			t.Fatalf("provider login: %d %q %s", a.status, a.location, a.body)
		}
		if got := old.subject(); got != "" {
			t.Fatalf("the session the browser held before the provider login is still live (subject %q)", got)
		}
	})
}

// TestAttackSocialLoginFinishedAsLink: the link intent belongs to the
// browser, not to the flow. Ada, signed in, starts linking the provider
// (POST /identities/test) and abandons it at the provider; within the
// cookie's 10 minutes a plain login is started in the same browser
// (GET /login/oidc/test) by someone else at that provider: its callback
// finds the intent and links that provider account to ADA's account, a
// persistent way into ada's account for its holder, and no login/signup
// of its own. Safe: a plain login's Begin spends any link intent (or the
// intent is bound to the link flow's state), so the callback logs in or
// signs up the provider user and leaves ada's identities alone.
func TestAttackSocialLoginFinishedAsLink(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		ada := s.h.signup(t, "ada@example.com", "ada")
		s.op.AddUser(oidcprovider.User{Subject: "op-mal", Email: "mal@example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		b.passwordLogin("ada@example.com")
		if a := b.do("POST", "/account/identities/test", url.Values{"password": {strongPassword}}); a.status != 303 {
			t.Fatalf("link begin: %d %s", a.status, a.body)
		} // ...and abandoned at the provider's page
		b.socialLogin("mal@example.com") // a plain login in the same browser
		if got, err := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-mal"); err == nil && got == ada {
			t.Fatal("a plain provider login linked the provider account to the signed-in account's pending link intent")
		}
	})
}

// barrierIdentities holds each ListIdentities until n callers are in it,
// to line up two unlinks as two requests at once do.
type barrierIdentities struct {
	*account.MemoryIdentities
	mu   sync.Mutex
	arm  int
	wait chan struct{}
}

func (b *barrierIdentities) ListIdentities(ctx context.Context, acct string) ([]account.LinkedIdentity, error) {
	list, err := b.MemoryIdentities.ListIdentities(ctx, acct)
	b.mu.Lock()
	if b.arm > 0 {
		b.arm--
		ch := b.wait
		if b.arm == 0 {
			close(ch)
		}
		b.mu.Unlock()
		<-ch
		return list, err
	}
	b.mu.Unlock()
	return list, err
}

// TestAttackUnlinkRaceLeavesNoWayIn: unlink checks "not the last way in"
// on a list read before the delete, with nothing atomic between them.
// Attack: an account without a password with two linked identities sends
// DELETE /identities/{a} and DELETE /identities/{b} at once: each sees two
// identities, both succeed, and the account has no way in left (a
// takeover's clean-up, or a user locked out by a double click). Safe: at
// most one of the two succeeds; the other is 409 last_login_method.
func TestAttackUnlinkRaceLeavesNoWayIn(t *testing.T) {
	st := teststores.All()[0]
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	ids := &barrierIdentities{MemoryIdentities: account.NewMemoryIdentities()}
	s := &social{op: oidcprovider.Start(t), srv: srv, log: new(syncBuffer)}
	s.ids = ids.MemoryIdentities
	s.op.AddClient("app", "app-secret", srv.URL+"/account/login/oidc/callback")
	s.h = newHarness(t, st.Open, func(cfg *account.Config) {
		rp, err := oidc.New(oidc.Config{Tokens: cfg.Tokens, Limiter: cfg.Auth.Limiter(), HTTPClient: s.op.HTTPClient(),
			Logger: slog.New(slog.NewJSONHandler(s.log, nil)), RedirectAllowlist: []string{"/welcome"},
			Providers: []oidc.Provider{{Name: "test", Issuer: s.op.Issuer(), ClientID: "app", ClientSecret: "app-secret",
				RedirectURL: srv.URL + "/account/login/oidc/callback"}}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.OIDC, cfg.Identities = rp, ids
		s.cfg = *cfg
	})
	s.h.realTime()
	mux.Handle("/account/", http.StripPrefix("/account", s.h.acct.API()))
	mux.Handle(pagesPath+"/", http.StripPrefix(pagesPath, s.h.acct.Pages()))

	s.op.AddUser(oidcprovider.User{Subject: "op-new", Email: "new@example.com", EmailVerified: true, Password: opPassword})
	b := s.browser(t)
	if a := b.socialLogin("new@example.com"); a.status != 303 || b.subject() == "" {
		t.Fatalf("provider signup: %d %s", a.status, a.body)
	}
	sub := b.subject()
	if err := ids.LinkIdentity(t.Context(), sub, account.LinkedIdentity{Issuer: "https://other.example", Subject: "x", Provider: "test"}); err != nil {
		t.Fatal(err)
	}
	list := b.identities()
	if len(list) != 2 {
		t.Fatalf("identities: %v", list)
	}
	ids.mu.Lock()
	ids.arm, ids.wait = 2, make(chan struct{})
	ids.mu.Unlock()
	var wg sync.WaitGroup
	got := make([]int, 2)
	for i := range 2 {
		wg.Go(func() { got[i] = b.unlink(list[i]["id"].(string), "").status })
	}
	wg.Wait()
	left, _ := ids.MemoryIdentities.ListIdentities(t.Context(), sub)
	if len(left) == 0 {
		t.Fatalf("two unlinks at once answered %v and left the password-less account no way in", got)
	}
}

// TestAttackLinkNeedsNoPassword: adding a way in to an account by linking
// a provider identity asks nothing of the signed-in session, while adding
// a passkey or a second factor asks the password (proveOwner) and
// unlinking asks it too. Attack: whoever holds a session cookie of ada's
// for a moment (a stolen cookie, an unlocked browser) links their OWN
// provider account to ada's account; ada's password reset and "log out
// everywhere" end sessions but not the identity, so the attacker logs in
// through the provider whenever they like. Safe: POST /identities/{name}
// of an account with a password answers 403 password_required without
// the password, as passkey registration does.
func TestAttackLinkNeedsNoPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		ada := s.h.signup(t, "ada@example.com", "ada")
		s.op.AddUser(oidcprovider.User{Subject: "op-mal", Email: "mal@example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		b.passwordLogin("ada@example.com") // the attacker holds this session
		start := b.do("POST", "/account/identities/test", nil)
		if start.status == 303 {
			b.viaProvider(start, "mal@example.com")
			if got, err := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-mal"); err == nil && got == ada {
				// Ada logs out everywhere: the attacker still gets in.
				b.do("POST", "/account/logout-everywhere", nil)
				m := s.browser(t)
				m.socialLogin("mal@example.com")
				t.Fatalf("a link without the password: the attacker's provider account opens ada's (after logout-everywhere: subject %q)", m.subject())
			}
		}
		wantAnswer(t, "link without the password", start, 403, "password_required")
	})
}
