package account_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The second factors of the API (Config.MFA) end to end over HTTP, on
// memory, Redis and Redis Cluster: enrolment, the two-step login, codes
// replayed and spent, recovery codes, removal, the limits, cross-site
// posts.

// json decodes the answer's JSON object.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON: %s", r)
	}
	return m
}

// enrolTOTP enrols c's account in TOTP through the API (start, confirm)
// and returns the key and the recovery codes the confirmation answered.
func enrolTOTP(t *testing.T, h *harness, c *client) (mfa.TOTPKey, []string) {
	t.Helper()
	r := c.post("/mfa/totp", map[string]string{"password": strongPassword})
	if r.status != 200 {
		t.Fatalf("POST /mfa/totp: %s", r)
	}
	key, err := mfa.ParseKeyURI(r.json(t)["uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	r = c.post("/mfa/totp/confirm", map[string]string{"code": key.Code(h.clock.Now())})
	if r.status != 200 {
		t.Fatalf("POST /mfa/totp/confirm: %s", r)
	}
	var codes []string
	for _, x := range r.json(t)["recovery_codes"].([]any) {
		codes = append(codes, x.(string))
	}
	// The next code is of a later step: the confirming one is burned.
	h.clock.Advance(30 * time.Second)
	return key, codes
}

// wrongCode is a code of key's shape that is not its code now.
func wrongCode(h *harness, key mfa.TOTPKey) string {
	n, _ := strconv.Atoi(key.Code(h.clock.Now()))
	return fmt.Sprintf("%06d", (n+500000)%1000000)
}

// firstStep logs in by JSON with the right password of an enrolled
// account, checks that nothing but a pending token is answered, and
// returns the token.
func firstStep(t *testing.T, c *client, login string, hdr ...string) string {
	t.Helper()
	r := c.post("/login", map[string]string{"login": login, "password": strongPassword}, hdr...)
	wantCode(t, "login of an enrolled account", r, 401, "second_factor_required")
	m := r.json(t)
	pending, _ := m["pending"].(string)
	if !strings.HasPrefix(pending, "ghp_") || m["expires_at"] == nil {
		t.Fatalf("login answered %s: want a pending token and its expiry", r)
	}
	if _, ok := m["token"]; ok || len(r.header.Values("Set-Cookie")) > 0 {
		t.Fatalf("the first step issued more than a pending token: %s, cookies %q", r, r.header.Values("Set-Cookie"))
	}
	return pending
}

// secondStep posts the second step.
func secondStep(c *client, pending, kind, code string, hdr ...string) reply {
	c.t.Helper()
	return c.post("/login/second", map[string]string{"pending": pending, "kind": kind, "code": code}, hdr...)
}

// appRoute GETs the harness's route that needs assurance level 2 with c's
// token.
func appRoute(t *testing.T, h *harness, c *client) reply {
	t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+"/app/mfa-only", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b.Bytes()}
}

// TestMFAJourney: a user enrols TOTP (the password first), confirms it
// and gets ten recovery codes; the login then answers only a pending
// token, and the second step issues a session of assurance level 2; a
// wrong code leaves the pending token live, a replayed one is refused, a
// recovery code works once, new codes end the old, and removing TOTP
// asks for the password.
func TestMFAJourney(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		u, _ := h.loggedIn(t, "ada@example.com", "ada")

		if m := u.must(200, "GET", "/mfa", nil); m["totp"] != false || m["recovery_codes"] != 0.0 {
			t.Fatalf("GET /mfa before: %v", m)
		}
		// A session alone does not enrol: the password first.
		wantCode(t, "enrol without the password", u.post("/mfa/totp", map[string]string{}), 403, "password_required")
		wantCode(t, "enrol with a wrong password", u.post("/mfa/totp", map[string]string{"password": "not the password at all"}),
			401, "invalid_credentials")
		wantCode(t, "password session on the MFA route", appRoute(t, h, u), 401, "insufficient_user_authentication")
		r := u.post("/mfa/totp", map[string]string{"password": strongPassword})
		if r.status != 200 {
			t.Fatalf("enrol: %s", r)
		}
		en := r.json(t)
		key, err := mfa.ParseKeyURI(en["uri"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if secret := en["secret"].(string); !strings.HasPrefix(en["uri"].(string), "otpauth://totp/") ||
			!strings.Contains(en["uri"].(string), "secret="+secret) || key.Account != "ada@example.com" {
			t.Fatalf("enrolment: %v", en)
		}
		raw, err := base64.StdEncoding.DecodeString(en["qr_png"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
			t.Fatalf("qr_png is not a PNG: %v", err)
		}
		if m := u.must(200, "GET", "/mfa", nil); m["totp"] != false || m["totp_pending"] != true {
			t.Fatalf("GET /mfa while pending: %v", m)
		}
		// Until confirmed, a login is one step.
		h.client(t).login("ada", strongPassword)

		wantCode(t, "confirm without a code", u.post("/mfa/totp/confirm", map[string]string{}), 400, "missing_field")
		wantCode(t, "confirm with a wrong code", u.post("/mfa/totp/confirm", map[string]string{"code": wrongCode(h, key)}), 401, "invalid_code")
		wantCode(t, "confirm with a malformed code", u.post("/mfa/totp/confirm", map[string]string{"code": "12ab"}), 400, "malformed_code")
		r = u.post("/mfa/totp/confirm", map[string]string{"code": key.Code(h.clock.Now())})
		if r.status != 200 {
			t.Fatalf("confirm: %s", r)
		}
		var codes []string
		seen := map[string]bool{}
		for _, x := range r.json(t)["recovery_codes"].([]any) {
			codes = append(codes, x.(string))
			seen[x.(string)] = true
		}
		if len(codes) != mfa.RecoveryCodeCount || len(seen) != len(codes) {
			t.Fatalf("confirm answered %d recovery codes (%d distinct), want %d", len(codes), len(seen), mfa.RecoveryCodeCount)
		}
		wantCode(t, "enrol again", u.post("/mfa/totp", map[string]string{"password": strongPassword}), 409, "already_enrolled")
		if m := u.must(200, "GET", "/mfa", nil); m["totp"] != true || m["recovery_codes"] != 10.0 {
			t.Fatalf("GET /mfa after: %v", m)
		}
		u.must(204, "POST", "/logout", nil)

		// The two-step login.
		h.clock.Advance(30 * time.Second)
		a := h.client(t)
		pending := firstStep(t, a, "ada@example.com")
		wantCode(t, "second step, wrong code", secondStep(a, pending, "totp", wrongCode(h, key)), 401, "invalid_code")
		wantCode(t, "second step, no kind", secondStep(a, pending, "", "123456"), 400, "missing_field")
		code := key.Code(h.clock.Now())
		r = secondStep(a, pending, "totp", code)
		if r.status != 200 {
			t.Fatalf("second step after a wrong code (the pending token stays live): %s", r)
		}
		a.token, _ = r.json(t)["token"].(string)
		if s := a.must(200, "GET", "/session", nil); s["assurance"] != 2.0 {
			t.Fatalf("the second step's session: %v, want assurance 2", s)
		}
		if r := appRoute(t, h, a); r.status != 204 {
			t.Fatalf("the MFA route with a two-step session: %s", r)
		}
		wantCode(t, "the pending token again", secondStep(a, pending, "totp", key.Code(h.clock.Now())), 401, "invalid_token")

		// The same code again: refused, on a new pending token.
		b := h.client(t)
		pending = firstStep(t, b, "ada")
		wantCode(t, "a replayed code", secondStep(b, pending, "totp", code), 401, "code_reused")
		// A recovery code, once.
		r = secondStep(b, pending, "recovery", codes[0])
		if r.status != 200 {
			t.Fatalf("second step with a recovery code: %s", r)
		}
		pending = firstStep(t, b, "ada")
		wantCode(t, "a used recovery code", secondStep(b, pending, "recovery", codes[0]), 401, "invalid_code")

		// New recovery codes, after the password; the old stop working.
		wantCode(t, "new codes without the password", a.post("/mfa/recovery-codes", map[string]string{}), 403, "password_required")
		r = a.post("/mfa/recovery-codes", map[string]string{"password": strongPassword})
		if r.status != 200 {
			t.Fatalf("new codes: %s", r)
		}
		fresh := r.json(t)["recovery_codes"].([]any)
		if len(fresh) != mfa.RecoveryCodeCount || seen[fresh[0].(string)] {
			t.Fatalf("new codes: %v", fresh)
		}
		wantCode(t, "an old recovery code", secondStep(b, pending, "recovery", codes[1]), 401, "invalid_code")
		if r := secondStep(b, pending, "recovery", fresh[0].(string)); r.status != 200 {
			t.Fatalf("a new recovery code: %s", r)
		}

		// Removing TOTP asks for the password, every time.
		wantCode(t, "remove without a body", a.send("DELETE", "/mfa/totp", "", ""), 403, "password_required")
		wantCode(t, "remove with a wrong password", a.send("DELETE", "/mfa/totp", "application/json", `{"password":"not the password at all"}`),
			401, "invalid_credentials")
		if r := a.send("DELETE", "/mfa/totp", "application/json", `{"password":"`+strongPassword+`"}`); r.status != 204 {
			t.Fatalf("remove: %s", r)
		}
		if m := a.must(200, "GET", "/mfa", nil); m["totp"] != false {
			t.Fatalf("GET /mfa after removing: %v", m)
		}
		wantCode(t, "remove again", a.send("DELETE", "/mfa/totp", "application/json", `{"password":"`+strongPassword+`"}`), 409, "not_enrolled")
		wantCode(t, "new codes without TOTP", a.post("/mfa/recovery-codes", map[string]string{"password": strongPassword}), 409, "not_enrolled")
		h.client(t).login("ada", strongPassword)
	})
}

// TestMFASecondStepLimits: the account's attempt limit (mfa.Config
// MaxAttempts, 5 in 15 minutes) locks the second step after five wrong
// codes, the right code included, until the window ends; and each client
// has limit.MFA's rate on /login/second, counted per request (30 by
// default), past which it is 429 while another client is not.
func TestMFASecondStepLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open, clientFromHeader)
		u, _ := h.loggedIn(t, "ada@example.com", "ada")
		key, codes := enrolTOTP(t, h, u)

		c := h.client(t)
		pending := firstStep(t, c, "ada", testClientHeader, "192.0.2.1")
		for i := range 5 {
			wantCode(t, fmt.Sprintf("wrong code %d", i+1), secondStep(c, pending, "totp", wrongCode(h, key), testClientHeader, "192.0.2.1"), 401, "invalid_code")
		}
		r := secondStep(c, pending, "totp", key.Code(h.clock.Now()), testClientHeader, "192.0.2.1")
		wantCode(t, "the right code past the attempt limit", r, 403, "mfa_locked")
		if r.json(t)["until"] == nil {
			t.Errorf("mfa_locked without until: %s", r)
		}
		// From another client too: the limit is the account's.
		wantCode(t, "another client, locked account", secondStep(c, pending, "totp", key.Code(h.clock.Now()), testClientHeader, "192.0.2.2"),
			403, "mfa_locked")
		h.clock.Advance(15*time.Minute + time.Second)
		pending = firstStep(t, c, "ada", testClientHeader, "192.0.2.1")
		if r := secondStep(c, pending, "totp", key.Code(h.clock.Now()), testClientHeader, "192.0.2.1"); r.status != 200 {
			t.Fatalf("after the window: %s", r)
		}

		// The per-client rate: a spent pending token costs a unit as any
		// other does (the limit comes before the store is asked).
		burst := h.auth.Limiter().Policy(limit.MFA).PerClient.Burst
		if burst < 1 {
			t.Fatalf("limit.MFA: %+v", h.auth.Limiter().Policy(limit.MFA))
		}
		const one = "198.51.100.7"
		for i := range burst {
			if r := secondStep(c, pending, "totp", "123456", testClientHeader, one); r.status != 401 || r.code() != "invalid_token" {
				t.Fatalf("request %d of %d: %s", i+1, burst, r)
			}
		}
		r = secondStep(c, pending, "totp", "123456", testClientHeader, one)
		wantCode(t, fmt.Sprintf("request %d", burst+1), r, 429, "rate_limited")
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		// Even with a live pending token and a right code (a recovery
		// code: the clock stands still, so that the rate does not refill).
		live := firstStep(t, c, "ada", testClientHeader, "192.0.2.3")
		wantCode(t, "a right code from the limited client", secondStep(c, live, "recovery", codes[0], testClientHeader, one),
			429, "rate_limited")
		if r := secondStep(c, live, "recovery", codes[0], testClientHeader, "198.51.100.8"); r.status != 200 {
			t.Fatalf("another client: %s", r)
		}
	})
}

// TestMFACrossOrigin: the MFA routes refuse a browser's cross-site POST
// and DELETE (403 cross_origin), with the session cookie or none.
func TestMFACrossOrigin(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open).realTime()
		h.signup(t, "ada@example.com", "ada")
		browser := h.client(t)
		browser.cookieLogin("ada", strongPassword)
		cross := []string{"Sec-Fetch-Site", "cross-site"}
		body := `{"password":"` + strongPassword + `","code":"123456","pending":"ghp_x","kind":"totp"}`
		for _, path := range []string{"/mfa/totp", "/mfa/totp/confirm", "/mfa/recovery-codes", "/login/second"} {
			wantCode(t, "cross-site POST "+path, browser.send("POST", path, "application/json", body, cross...), 403, "cross_origin")
		}
		wantCode(t, "cross-site DELETE /mfa/totp", browser.send("DELETE", "/mfa/totp", "application/json", body, cross...), 403, "cross_origin")
		if m := browser.must(200, "GET", "/mfa", nil); m["totp_pending"] != false {
			t.Fatalf("a cross-site POST started an enrolment: %v", m)
		}
		// The same from the site passes.
		if r := browser.send("POST", "/mfa/totp", "application/json", body, "Sec-Fetch-Site", "same-origin"); r.status != 200 {
			t.Fatalf("same-origin enrolment: %s", r)
		}
	})
}

// TestMFAWithoutSecondFactor: Config.MFA with an auth.Authenticator that
// does not ask for it is a configuration error; without Config.MFA the
// routes answer 501 not_supported.
func TestMFAWithoutSecondFactor(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	users := account.NewMemoryUsers()
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: mem, Hasher: authtest.NewHasher(), Mailer: &authtest.Outbox{}, HideUnconfirmed: true})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := mfa.NewKeyring(mfa.SealingKey{ID: "k", Secret: bytes.Repeat([]byte{1}, 32)})
	m, err := mfa.New(mfa.Config{Store: mem, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = account.New(account.Config{Auth: a, Tokens: tm, Guard: guard, Users: users, Mailer: &authtest.Outbox{}, MFA: m})
	if err == nil || !strings.Contains(err.Error(), "SecondFactor") {
		t.Fatalf("Config.MFA without auth's SecondFactor: %v", err)
	}

	h := newHarness(t, teststores.All()[0].Open)
	u, _ := h.loggedIn(t, "ada@example.com", "ada")
	wantCode(t, "GET /mfa without Config.MFA", u.send("GET", "/mfa", "", ""), 501, "not_supported")
	wantCode(t, "POST /mfa/totp without Config.MFA", u.post("/mfa/totp", map[string]string{"password": strongPassword}), 501, "not_supported")
	wantCode(t, "POST /login/second without a SecondFactor", u.post("/login/second", map[string]string{}), 501, "not_supported")
}

// TestMFAStoreDown: with the store down, the MFA routes and the second
// step answer 503 store_unavailable (fail closed): no session is issued,
// nothing is enrolled. The first step of an enrolled account fails closed
// too.
func TestMFAStoreDown(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var fs *storefault.Store
		h := newMFAHarness(t, faulty(st, &fs))
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		key, codes := enrolTOTP(t, h, c)
		anon := h.client(t)
		pending := firstStep(t, anon, "ada")
		fs.SetDown(true)
		for _, tc := range []struct {
			who          *client
			method, path string
			body         any
		}{
			{anon, "POST", "/login", map[string]string{"login": "ada", "password": strongPassword}},
			{anon, "POST", "/login/second", map[string]string{"pending": pending, "kind": "totp", "code": key.Code(h.clock.Now())}},
			{anon, "POST", "/login/second", map[string]string{"pending": pending, "kind": "recovery", "code": codes[0]}},
			{c, "GET", "/mfa", nil},
			{c, "POST", "/mfa/totp", map[string]string{"password": strongPassword}},
			{c, "POST", "/mfa/totp/confirm", map[string]string{"code": key.Code(h.clock.Now())}},
			{c, "DELETE", "/mfa/totp", map[string]string{"password": strongPassword}},
			{c, "POST", "/mfa/recovery-codes", map[string]string{"password": strongPassword}},
		} {
			var r reply
			if tc.body == nil {
				r = tc.who.send(tc.method, tc.path, "", "")
			} else {
				r = tc.who.send(tc.method, tc.path, "application/json", jsonBody(tc.body))
			}
			wantCode(t, tc.method+" "+tc.path+" with the store down", r, 503, "store_unavailable")
		}
		fs.SetDown(false)
		if r := secondStep(anon, pending, "totp", key.Code(h.clock.Now())); r.status != 200 {
			t.Fatalf("the second step once the store is back: %s", r)
		}
	})
}
