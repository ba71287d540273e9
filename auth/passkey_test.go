package auth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// passkeyApp is an app whose accounts may have passkeys, as a second
// factor (through mfa) and as a passwordless login; john_doe (341) has
// one, made by a virtual authenticator.
type passkeyApp struct {
	*twoStep
	pk      *passkey.Manager
	browser *passkeytest.Authenticator
	key     *passkeytest.Key
}

func newPasskeyApp(t *testing.T, st store.Store, clock *fakeclock.Clock) *passkeyApp {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := passkey.New(passkey.Config{RPID: "example.com", RPDisplayName: "Example", Origins: []string{"https://example.com"},
		Tokens: tm, Credentials: new(mfa.MemoryFactors), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test", Passkeys: pk, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := password.Bcrypt{Cost: 4}.Hash([]byte(rightPassword))
	us := &users{updated: map[string][]byte{}, byLogin: map[string]*auth.User{
		"john_doe":   {Subject: "341", PasswordHash: hash, Active: true, EmailConfirmed: true},
		"plain_user": {Subject: "500", PasswordHash: hash, Active: true, EmailConfirmed: true},
	}}
	a, err := auth.New(auth.Config{Users: us, Tokens: tm, Counters: st, Hasher: password.Bcrypt{Cost: 4},
		SecondFactor: m, Passwordless: pk, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	if err != nil {
		t.Fatal(err)
	}
	opts := auth.HandlerOptions{Client: func(*http.Request) (netip.Prefix, error) { return netip.MustParsePrefix(twoStepClient), nil }}
	mux := http.NewServeMux()
	mux.Handle("POST /login", a.LoginHandler(opts))
	mux.Handle("POST /second", a.SecondStepHandler(opts))
	mux.Handle("POST /passkey/login", a.PasswordlessHandler(opts))
	mux.Handle("GET /me", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(p)
	})))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)

	app := &passkeyApp{twoStep: &twoStep{a: a, m: m, clock: clock, tokens: tm, srv: srv}, pk: pk,
		browser: passkeytest.New("https://example.com")}
	options, err := pk.BeginRegistration(ctx, "341", "john@example.com", "John")
	if err != nil {
		t.Fatal(err)
	}
	resp, key, err := app.browser.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pk.FinishRegistration(ctx, "341", resp, "laptop"); err != nil {
		t.Fatal(err)
	}
	app.key = key
	return app
}

// assertion is the browser's answer to options, as a JSON object.
func (p *passkeyApp) assertion(t *testing.T, options []byte) map[string]any {
	t.Helper()
	resp, err := p.browser.Login(options, p.key)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(resp, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestPasskeyAsSecondFactor: an account whose only second factor is a
// passkey logs in in two steps; the pending login's subject gets a
// challenge, the browser's assertion completes the login at AAL2 (kratos
// GHSA-wc43-73w7: every factor kind counts), and the same assertion, or
// a passwordless challenge's, does not complete another. On memory,
// Redis and Redis Cluster.
func TestPasskeyAsSecondFactor(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(twoStepStart)
			p := newPasskeyApp(t, sf.Open(t, clock.Now), clock)
			pending := p.firstStep(t)
			subject, err := p.a.PendingSubject(ctx, pending, netip.MustParsePrefix(twoStepClient))
			if err != nil || subject != "341" {
				t.Fatalf("PendingSubject = %q, %v", subject, err)
			}
			options, err := p.pk.BeginLogin(ctx, subject)
			if err != nil {
				t.Fatal(err)
			}
			resp := p.assertion(t, options)
			a := p.postJSON(t, nil, "/second", map[string]any{"pending": pending, "kind": "passkey", "response": resp})
			if a.status != 200 {
				t.Fatalf("second step by passkey: %d %v", a.status, a.body)
			}
			if level, _ := p.whoamiLevel(t, a.str("token")); level != 2 {
				t.Fatalf("AAL %v after a passkey second factor, want 2", level)
			}
			// The assertion again, for a new pending login: its challenge
			// is spent.
			pending = p.firstStep(t)
			if a := p.postJSON(t, nil, "/second", map[string]any{"pending": pending, "kind": "passkey", "response": resp}); a.status != 401 || a.str("code") != "invalid_challenge" {
				t.Fatalf("replayed assertion: %d %v", a.status, a.body)
			}
			// A passwordless challenge's assertion is not a second factor.
			options, _ = p.pk.BeginPasswordless(ctx)
			if a := p.postJSON(t, nil, "/second", map[string]any{"pending": pending, "kind": "passkey", "response": p.assertion(t, options)}); a.status != 401 || a.str("code") != "invalid_challenge" {
				t.Fatalf("passwordless challenge as second factor: %d %v", a.status, a.body)
			}
			// And the pending token stays live for a good one.
			options, _ = p.pk.BeginLogin(ctx, "341")
			if a := p.postJSON(t, nil, "/second", map[string]any{"pending": pending, "kind": "passkey", "response": p.assertion(t, options)}); a.status != 200 {
				t.Fatalf("a good assertion after refused ones: %d %v", a.status, a.body)
			}
		})
	}
}

// TestPasskeyPasswordless: a passkey alone logs in at AAL2 (a
// user-verified passkey is a multi-factor cryptographic authenticator);
// its assertion is good once, and a second-factor challenge's assertion
// is no passwordless login. On memory, Redis and Redis Cluster.
func TestPasskeyPasswordless(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(twoStepStart)
			p := newPasskeyApp(t, sf.Open(t, clock.Now), clock)
			options, err := p.pk.BeginPasswordless(ctx)
			if err != nil {
				t.Fatal(err)
			}
			resp := p.assertion(t, options)
			a := p.postJSON(t, nil, "/passkey/login", map[string]any{"response": resp})
			if a.status != 200 {
				t.Fatalf("passwordless: %d %v", a.status, a.body)
			}
			if level, me := p.whoamiLevel(t, a.str("token")); level != 2 || me.body["Subject"] != "341" {
				t.Fatalf("passwordless session: %v", me.body)
			}
			clock.Advance(time.Second)
			if a := p.postJSON(t, nil, "/passkey/login", map[string]any{"response": resp}); a.status != 401 || a.str("code") != "invalid_challenge" {
				t.Fatalf("replayed passwordless assertion: %d %v", a.status, a.body)
			}
			options, _ = p.pk.BeginLogin(ctx, "341")
			if a := p.postJSON(t, nil, "/passkey/login", map[string]any{"response": p.assertion(t, options)}); a.status != 401 || a.str("code") != "invalid_challenge" {
				t.Fatalf("second-factor challenge as passwordless: %d %v", a.status, a.body)
			}
		})
	}
}
