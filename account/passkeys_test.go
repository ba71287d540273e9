package account_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Passkeys in the API (Config.Passkeys) end to end over HTTP with
// passkeytest's authenticator, on memory, Redis and Redis Cluster:
// adding one (after the password), listing, renaming, removing (after
// the password), a passwordless login, a second step by passkey, and the
// refusals: replays, another account's challenge, the options' rate
// limit, cross-site posts.

// options posts to an options route and returns the options JSON.
func options(t *testing.T, c *client, path string, body any) []byte {
	t.Helper()
	r := c.post(path, body)
	if r.status != 200 {
		t.Fatalf("POST %s: %s", path, r)
	}
	return r.body
}

// addPasskey adds a passkey of h.browser to c's account and returns it.
func addPasskey(t *testing.T, h *harness, c *client, nickname string) *passkeytest.Key {
	t.Helper()
	opts := options(t, c, "/passkeys/options", map[string]string{"password": strongPassword})
	resp, key, err := h.browser.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := c.post("/passkeys", map[string]any{"response": json.RawMessage(resp), "nickname": nickname})
	if r.status != 201 || r.json(t)["id"] != key.IDString() {
		t.Fatalf("POST /passkeys: %s", r)
	}
	return key
}

// assurance is the assurance of the session c holds.
func assurance(t *testing.T, c *client) float64 {
	t.Helper()
	a, _ := c.must(200, "GET", "/session", nil)["assurance"].(float64)
	return a
}

func TestPasskeysAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		h.signup(t, "ada@example.com", "ada")
		c := h.client(t)
		c.login("ada@example.com", strongPassword)

		// Adding one needs the password.
		wantCode(t, "options without the password", c.post("/passkeys/options", map[string]string{}), 403, "password_required")
		wantCode(t, "options with a wrong password", c.post("/passkeys/options", map[string]string{"password": "wrong password 123"}), 401, "invalid_credentials")
		key := addPasskey(t, h, c, "Laptop")

		list := c.must(200, "GET", "/passkeys", nil)["passkeys"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["nickname"] != "Laptop" || list[0].(map[string]any)["id"] != key.IDString() {
			t.Fatalf("GET /passkeys: %v", list)
		}
		if m := c.must(200, "GET", "/mfa", nil); m["passkeys"] != float64(1) {
			t.Fatalf("GET /mfa: %v", m)
		}
		c.must(204, "PATCH", "/passkeys/"+key.IDString(), map[string]string{"nickname": "Work laptop"})
		if list := c.must(200, "GET", "/passkeys", nil)["passkeys"].([]any); list[0].(map[string]any)["nickname"] != "Work laptop" {
			t.Fatalf("after rename: %v", list)
		}
		wantCode(t, "rename of no such passkey", c.send("PATCH", "/passkeys/AAAA", "application/json", `{"nickname":"x"}`), 404, "passkey_not_found")

		// A passwordless login: a session at assurance 2.
		anon := h.client(t)
		resp, err := h.browser.Login(options(t, anon, "/login/passkey/options", nil), key)
		if err != nil {
			t.Fatal(err)
		}
		r := anon.post("/login/passkey", map[string]any{"response": json.RawMessage(resp)})
		if r.status != 200 {
			t.Fatalf("POST /login/passkey: %s", r)
		}
		anon.token = r.json(t)["token"].(string)
		if a := assurance(t, anon); a != 2 {
			t.Fatalf("passwordless session at assurance %v, want 2", a)
		}
		// The same assertion again is refused: its challenge is spent.
		wantCode(t, "replayed passwordless assertion", h.client(t).post("/login/passkey", map[string]any{"response": json.RawMessage(resp)}),
			401, "invalid_challenge")
		if last := c.must(200, "GET", "/passkeys", nil)["passkeys"].([]any)[0].(map[string]any); last["last_used"] == nil {
			t.Fatalf("last_used not set: %v", last)
		}

		// A password login now asks for the passkey as second factor.
		two := h.client(t)
		pending := firstStep(t, two, "ada@example.com")
		opts := options(t, two, "/login/second/options", map[string]string{"pending": pending})
		resp, err = h.browser.Login(opts, key)
		if err != nil {
			t.Fatal(err)
		}
		r = two.post("/login/second", map[string]any{"pending": pending, "kind": "passkey", "response": json.RawMessage(resp)})
		if r.status != 200 {
			t.Fatalf("second step by passkey: %s", r)
		}
		two.token = r.json(t)["token"].(string)
		if a := assurance(t, two); a != 2 {
			t.Fatalf("second-step session at assurance %v, want 2", a)
		}
		// Replayed on a new pending login: refused.
		again := h.client(t)
		pending = firstStep(t, again, "ada@example.com")
		wantCode(t, "replayed second-step assertion",
			again.post("/login/second", map[string]any{"pending": pending, "kind": "passkey", "response": json.RawMessage(resp)}), 401, "invalid_challenge")

		// A passkey-only account makes recovery codes (after the
		// password, from a session that passed its passkey), and one
		// passes the second step. The session from before the passkey
		// has nothing to prove it with.
		wantCode(t, "recovery codes from a session from before the passkey",
			c.post("/mfa/recovery-codes", map[string]string{"password": strongPassword}), 401, "insufficient_user_authentication")
		codes := anon.must(200, "POST", "/mfa/recovery-codes", map[string]string{"password": strongPassword})["recovery_codes"].([]any)
		rc := h.client(t)
		pending = firstStep(t, rc, "ada@example.com")
		if r := secondStep(rc, pending, "recovery", codes[0].(string)); r.status != 200 {
			t.Fatalf("second step by recovery code: %s", r)
		}

		// Removing needs the password, always.
		wantCode(t, "remove without the password", c.send("DELETE", "/passkeys/"+key.IDString(), "", ""), 403, "password_required")
		// From a session that passed no factor, a code as well.
		wantCode(t, "remove from a level-1 session without a code",
			c.send("DELETE", "/passkeys/"+key.IDString(), "application/json", `{"password":"`+strongPassword+`"}`), 401, "insufficient_user_authentication")
		c.must(204, "DELETE", "/passkeys/"+key.IDString(), map[string]string{"password": strongPassword, "code": codes[1].(string)})
		if list := c.must(200, "GET", "/passkeys", nil)["passkeys"].([]any); len(list) != 0 {
			t.Fatalf("after remove: %v", list)
		}
		wantCode(t, "remove again", c.send("DELETE", "/passkeys/"+key.IDString(), "application/json", `{"password":"`+strongPassword+`"}`), 404, "passkey_not_found")
		// No passkey, no second step: the password alone logs in again.
		h.client(t).login("ada@example.com", strongPassword)
	})
}

// TestPasskeyOtherAccountsChallenge: a challenge issued to one account
// does not pass for another, at registration or at the second step.
func TestPasskeyOtherAccountsChallenge(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		h.signup(t, "ada@example.com", "ada")
		h.signup(t, "bob@example.com", "bob")
		ada, bob := h.client(t), h.client(t)
		ada.login("ada", strongPassword)
		bob.login("bob", strongPassword)

		// Ada's registration challenge, answered and posted by Bob.
		resp, _, err := h.browser.Register(options(t, ada, "/passkeys/options", map[string]string{"password": strongPassword}))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "Ada's registration posted by Bob", bob.post("/passkeys", map[string]any{"response": json.RawMessage(resp)}), 401, "invalid_challenge")
		if list := bob.must(200, "GET", "/passkeys", nil)["passkeys"].([]any); len(list) != 0 {
			t.Fatalf("Bob got a passkey: %v", list)
		}

		adaKey := addPasskey(t, h, ada, "")
		bobKey := addPasskey(t, h, bob, "")
		// Ada's second-step challenge, signed by Bob's key and posted with
		// Bob's pending login.
		adaPending := firstStep(t, h.client(t), "ada")
		bobPending := firstStep(t, h.client(t), "bob")
		opts := options(t, h.client(t), "/login/second/options", map[string]string{"pending": adaPending})
		resp, err = h.browser.Login(opts, bobKey)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "Ada's challenge for Bob's login",
			h.client(t).post("/login/second", map[string]any{"pending": bobPending, "kind": "passkey", "response": json.RawMessage(resp)}),
			401, "invalid_challenge")
		// Ada's key on Bob's challenge, posted with Ada's pending login.
		opts = options(t, h.client(t), "/login/second/options", map[string]string{"pending": bobPending})
		resp, err = h.browser.Login(opts, adaKey)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "Bob's challenge for Ada's login",
			h.client(t).post("/login/second", map[string]any{"pending": adaPending, "kind": "passkey", "response": json.RawMessage(resp)}),
			401, "invalid_challenge")
	})
}

// TestPasskeySecondOptionsWithout: the second step's options for an
// account without passkeys are a plain 404 passkey_not_found, and a bad
// pending token is the second step's own 401.
func TestPasskeySecondOptionsWithout(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		h.signup(t, "ada@example.com", "ada")
		c := h.client(t)
		c.login("ada", strongPassword)
		enrolTOTP(t, h, c)
		pending := firstStep(t, h.client(t), "ada")
		wantCode(t, "options without passkeys", h.client(t).post("/login/second/options", map[string]string{"pending": pending}), 404, "passkey_not_found")
		wantCode(t, "options without pending", h.client(t).post("/login/second/options", map[string]string{}), 401, "missing_token")
		if h.challenges.Load() != 0 {
			t.Fatalf("%d challenges written", h.challenges.Load())
		}
	})
}

// TestPasswordlessOptionsLimit: the passwordless options take the
// client's limit.Login rate before a challenge is written: N pass, the
// next is 429 and writes nothing.
func TestPasswordlessOptionsLimit(t *testing.T) {
	const n = 4
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var s store.Store
		var h *harness
		h = newPasskeyHarness(t, opener(st, &s), func(cfg *account.Config) {
			l, err := limit.New(limit.Config{Store: s, Now: cfg.Now,
				Policies: map[limit.Class]limit.Policy{limit.Login: {PerClient: store.PerPeriod(n, time.Hour)}}})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Limiter = l
		})
		c := h.client(t)
		for i := range n {
			if r := c.post("/login/passkey/options", nil); r.status != 200 {
				t.Fatalf("options %d: %s", i+1, r)
			}
		}
		wantCode(t, "options over the limit", c.post("/login/passkey/options", nil), 429, "rate_limited")
		if got := h.challenges.Load(); got != n {
			t.Fatalf("%d challenges written, want %d", got, n)
		}
	})
}

// TestPasskeyCrossOrigin: the passkey routes refuse a browser's
// cross-site request.
func TestPasskeyCrossOrigin(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open).realTime()
		h.signup(t, "ada@example.com", "ada")
		browser := h.client(t)
		browser.cookieLogin("ada", strongPassword)
		cross := []string{"Sec-Fetch-Site", "cross-site"}
		body := `{"password":"` + strongPassword + `","nickname":"x","pending":"ghp_x","response":{}}`
		for _, rt := range [][2]string{{"POST", "/passkeys/options"}, {"POST", "/passkeys"}, {"PATCH", "/passkeys/AAAA"},
			{"DELETE", "/passkeys/AAAA"}, {"POST", "/login/passkey/options"}, {"POST", "/login/passkey"}, {"POST", "/login/second/options"}} {
			wantCode(t, "cross-site "+rt[0]+" "+rt[1], browser.send(rt[0], rt[1], "application/json", body, cross...), 403, "cross_origin")
		}
		if h.challenges.Load() != 0 {
			t.Fatalf("cross-site requests wrote %d challenges", h.challenges.Load())
		}
		// The same from the site passes.
		if r := browser.send("POST", "/passkeys/options", "application/json", body, "Sec-Fetch-Site", "same-origin"); r.status != 200 {
			t.Fatalf("same-origin options: %s", r)
		}
	})
}

// TestPasskeysConfig: Config.Passkeys with an Authenticator that has no
// Passwordless, or another Manager as it, or with Config.MFA whose
// mfa.Config.Passkeys is not it, is a configuration error; without
// Config.Passkeys the routes answer 501 not_supported.
func TestPasskeysConfig(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	users := account.NewMemoryUsers()
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	newPK := func() *passkey.Manager {
		pk, err := passkey.New(passkey.Config{RPID: "localhost", RPDisplayName: "Test", Origins: []string{passkeyOrigin},
			Tokens: tm, Credentials: new(mfa.MemoryFactors)})
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	pk, other := newPK(), newPK()
	ring, _ := mfa.NewKeyring(mfa.SealingKey{ID: "k", Secret: bytes.Repeat([]byte{1}, 32)})
	newMFA := func(p mfa.Passkeys) *mfa.Manager {
		m, err := mfa.New(mfa.Config{Store: mem, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test", Passkeys: p})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	newAuth := func(sf auth.SecondFactor, pl auth.Passwordless) *auth.Authenticator {
		a, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: mem, Hasher: authtest.NewHasher(), Mailer: &authtest.Outbox{},
			HideUnconfirmed: true, SecondFactor: sf, Passwordless: pl})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	if err != nil {
		t.Fatal(err)
	}
	withPK, withoutPK := newMFA(pk), newMFA(nil)
	for _, tc := range []struct {
		name string
		auth *auth.Authenticator
		mfa  *mfa.Manager
		want string // in the error; "" for none
	}{
		{"no Passwordless", newAuth(nil, nil), nil, "auth.Config.Passwordless"},
		{"another Manager", newAuth(nil, other), nil, "another passkey.Manager"},
		{"mfa without Passkeys", newAuth(withoutPK, pk), withoutPK, "mfa.Config.Passkeys"},
		{"mfa with another", newAuth(newMFA(other), pk), newMFA(other), "mfa.Config.Passkeys"},
		{"passwordless only", newAuth(nil, pk), nil, ""},
		{"all wired", newAuth(withPK, pk), withPK, ""},
	} {
		_, err := account.New(account.Config{Auth: tc.auth, Tokens: tm, Guard: guard, Users: users, Mailer: &authtest.Outbox{},
			MFA: tc.mfa, Passkeys: pk})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error about %s", tc.name, err, tc.want)
		}
	}

	h := newMFAHarness(t, teststores.All()[0].Open)
	u, _ := h.loggedIn(t, "ada@example.com", "ada")
	wantCode(t, "GET /passkeys without Config.Passkeys", u.send("GET", "/passkeys", "", ""), 501, "not_supported")
	wantCode(t, "POST /passkeys/options without Config.Passkeys", u.post("/passkeys/options", map[string]string{"password": strongPassword}), 501, "not_supported")
	wantCode(t, "POST /login/passkey/options without Config.Passkeys", h.client(t).post("/login/passkey/options", nil), 501, "not_supported")
	wantCode(t, "POST /login/passkey without Config.Passkeys", h.client(t).post("/login/passkey", map[string]any{}), 501, "not_supported")
	wantCode(t, "POST /login/second/options without Config.Passkeys", h.client(t).post("/login/second/options", map[string]any{}), 501, "not_supported")
	if m := u.must(200, "GET", "/mfa", nil); m["passkeys"] != float64(0) {
		t.Fatalf("GET /mfa without passkeys: %v", m)
	}
}
