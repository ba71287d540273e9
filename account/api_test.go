package account_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/store"
)

// The tests of this file drive every route of the API end to end over
// HTTP, on memory, Redis and Redis Cluster: its success and each failure
// docs/accounts.md lists for it.

// reply is one raw answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// code is the stable error code of the answer ("" when there is none).
func (r reply) code() string {
	var p struct{ Code string }
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// send sends body as ctype (none when ""), with extra headers given as
// name, value pairs, and returns the raw answer.
func (c *client) send(method, path, ctype, body string, hdr ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.h.srv.URL+"/account"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

// jsonBody marshals v.
func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// post sends v as JSON.
func (c *client) post(path string, v any, hdr ...string) reply {
	c.t.Helper()
	return c.send("POST", path, "application/json", jsonBody(v), hdr...)
}

// wantCode fails the test unless r has the status and the stable code.
func wantCode(t *testing.T, what string, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.code() != code {
		t.Fatalf("%s: %s, want %d %s", what, r, status, code)
	}
}

// noLimits runs the account API without a Limiter, for tests that make
// more requests from one client than a limit allows.
func noLimits(c *account.Config) { c.NoRateLimits = true }

// testClientHeader names the client address a request comes from, so
// one test can be many clients (rate limits).
const testClientHeader = "X-Test-Client"

// clientFromHeader reads the client from testClientHeader.
func clientFromHeader(c *account.Config) {
	c.Client = func(r *http.Request) (netip.Prefix, error) {
		if s := r.Header.Get(testClientHeader); s != "" {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return netip.Prefix{}, err
			}
			return netip.PrefixFrom(a, a.BitLen()), nil
		}
		return clientaddr.FromRequest(r), nil
	}
}

// eachStore runs f on memory, Redis and Redis Cluster.
func eachStore(t *testing.T, f func(t *testing.T, st teststores.Store)) {
	for _, st := range teststores.All() {
		t.Run(st.Name, func(t *testing.T) { f(t, st) })
	}
}

// opener returns st's Open that also hands the store it opens to keep.
func opener(st teststores.Store, keep *store.Store) func(t *testing.T, now func() time.Time) store.Store {
	return func(t *testing.T, now func() time.Time) store.Store {
		s := st.Open(t, now)
		*keep = s
		return s
	}
}

// faulty returns st's Open wrapped in a storefault.Store, kept in keep.
func faulty(st teststores.Store, keep **storefault.Store) func(t *testing.T, now func() time.Time) store.Store {
	return func(t *testing.T, now func() time.Time) store.Store {
		s := storefault.Wrap(st.Open(t, now))
		*keep = s
		return s
	}
}

// loggedIn signs up, confirms and logs in a user, returning a client with
// a bearer token and the user's subject.
func (h *harness) loggedIn(t *testing.T, email, username string) (*client, string) {
	t.Helper()
	sub := h.signup(t, email, username)
	c := h.client(t)
	c.login(email, strongPassword)
	return c, sub
}

// realTime moves the fake clock to the real time: a session cookie's
// Max-Age is reckoned from time.Now, so a session of the fake clock's
// past (testfix.Start) would be written as an expired cookie.
func (h *harness) realTime() *harness {
	if d := time.Since(h.clock.Now()); d > 0 {
		h.clock.Advance(d)
	}
	return h
}

// cookieLogin logs c in by JSON asking for the session in a cookie.
func (c *client) cookieLogin(login, pw string) {
	c.t.Helper()
	r := c.post("/login", map[string]string{"login": login, "password": pw, "session": "cookie"})
	if r.status != 200 || bytes.Contains(r.body, []byte(`"token"`)) {
		c.t.Fatalf("cookie login: %s", r)
	}
}

// mails returns the messages of purpose sent to to.
func (h *harness) mails(purpose auth.Purpose, to string) []auth.Message {
	var out []auth.Message
	for _, m := range h.mail.Messages() {
		if m.Purpose == purpose && m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// TestAPISignup: a new address gets an account and a confirmation link;
// an existing one gets the very same answer (status and body, byte for
// byte) and its owner a PurposeAccountExists notice, no link; bad fields
// are 400 with the field named.
func TestAPISignup(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c := h.client(t)
		fresh := c.post("/signup", map[string]string{"email": "ada@example.com", "password": strongPassword, "username": "ada"})
		if fresh.status != 202 || fresh.code() != "" {
			t.Fatalf("signup: %s", fresh)
		}
		if got := h.mails(auth.PurposeConfirmEmail, "ada@example.com"); len(got) != 1 || got[0].Token == "" {
			t.Fatalf("confirmation mails: %+v", got)
		}
		before := len(h.mail.Messages())
		// The same address, written otherwise, with another password and
		// username: the answer cannot be told apart.
		again := c.post("/signup", map[string]string{"email": " Ada@Example.COM", "password": strongPassword + " again", "username": "ada2"})
		if again.status != fresh.status || !bytes.Equal(again.body, fresh.body) ||
			again.header.Get("Content-Type") != fresh.header.Get("Content-Type") {
			t.Fatalf("signup of a taken address answers %s (%q), a new one %s (%q)", again, again.header.Get("Content-Type"), fresh, fresh.header.Get("Content-Type"))
		}
		msgs := h.mail.Messages()[before:]
		if len(msgs) != 1 || msgs[0].Purpose != account.PurposeAccountExists || msgs[0].To != "ada@example.com" || msgs[0].Token != "" {
			t.Fatalf("signup of a taken address mailed %+v, want one account_exists notice without a token", msgs)
		}
		if h.users.Len() != 1 {
			t.Fatalf("%d accounts, want 1", h.users.Len())
		}
		for _, tc := range []struct {
			name   string
			body   map[string]string
			status int
			code   string
		}{
			{"no email", map[string]string{"password": strongPassword}, 400, "missing_field"},
			{"not an address", map[string]string{"email": "ada.example.com", "password": strongPassword}, 400, "invalid_field"},
			{"address with a space", map[string]string{"email": "a da@example.com", "password": strongPassword}, 400, "invalid_field"},
			{"no password", map[string]string{"email": "bob@example.com"}, 400, "password_too_short"},
			{"short password", map[string]string{"email": "bob@example.com", "password": "short"}, 400, "password_too_short"},
			{"blocklisted password", map[string]string{"email": "bob@example.com", "password": "password123456789"}, 400, "password_blocklisted"},
			{"password is the address", map[string]string{"email": "bobbybobbybobby@example.com", "password": "bobbybobbybobby@example.com"}, 400, "password_context"},
			{"email over 254", map[string]string{"email": strings.Repeat("a", 250) + "@x.io", "password": strongPassword}, 400, "invalid_field"},
			{"username over 64", map[string]string{"email": "bob@example.com", "password": strongPassword, "username": strings.Repeat("b", 65)}, 400, "invalid_field"},
		} {
			r := c.post("/signup", tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Errorf("%s: %s, want %d %s", tc.name, r, tc.status, tc.code)
			}
		}
		if h.users.Len() != 1 {
			t.Fatalf("bad signups created accounts: %d", h.users.Len())
		}
		// A form signup works as the JSON one.
		r := c.send("POST", "/signup", "application/x-www-form-urlencoded", "email=bob%40example.com&password="+strings.ReplaceAll(strongPassword, " ", "+"))
		if r.status != 202 || !bytes.Equal(r.body, fresh.body) {
			t.Fatalf("form signup: %s", r)
		}
		if len(h.mails(auth.PurposeConfirmEmail, "bob@example.com")) != 1 {
			t.Fatal("form signup sent no confirmation")
		}
	})
}

// TestAPISignupUsernameTaken: a new address asking for a username
// another account has gets the same answer, and a username_taken notice.
func TestAPISignupUsernameTaken(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		h.signup(t, "ada@example.com", "ada")
		c := h.client(t)
		r := c.post("/signup", map[string]string{"email": "eve@example.com", "password": strongPassword, "username": "ada"})
		if r.status != 202 || r.code() != "" {
			t.Fatalf("signup with a taken username: %s", r)
		}
		if got := h.mails(account.PurposeUsernameTaken, "eve@example.com"); len(got) != 1 || got[0].Token != "" {
			t.Fatalf("username_taken notices: %+v", got)
		}
		if h.users.Len() != 1 {
			t.Fatalf("%d accounts", h.users.Len())
		}
	})
}

// TestAPISignupConcurrent: 20 signups of one address at once create
// exactly one account; one confirmation link goes out and every other
// signup mails the owner an account_exists notice; all answer alike.
func TestAPISignupConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, noLimits, clientFromHeader)
		const n = 20
		replies := make([]reply, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := h.client(t)
				// Clients of their own: one client's signups queue for a
				// hashing slot, and past auth's HashQueuePerClient are 503 busy.
				// Under -race hashing is slow enough that a signup can
				// wait past auth's HashWait (503 busy): retried, as a
				// client would.
				for try := 0; ; try++ {
					replies[i] = c.post("/signup", map[string]string{"email": "ada@example.com", "password": strongPassword},
						testClientHeader, fmt.Sprintf("192.0.2.%d", i+1))
					if replies[i].code() != "busy" || try == 50 {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		for i, r := range replies {
			if r.status != 202 || !bytes.Equal(r.body, replies[0].body) {
				t.Fatalf("signup %d: %s, signup 0: %s", i, r, replies[0])
			}
		}
		if h.users.Len() != 1 {
			t.Fatalf("%d concurrent signups of one address created %d accounts", n, h.users.Len())
		}
		confirm, exists := h.mails(auth.PurposeConfirmEmail, "ada@example.com"), h.mails(account.PurposeAccountExists, "ada@example.com")
		if len(confirm) != 1 || len(exists) != n-1 || len(h.mail.Messages()) != n {
			t.Fatalf("mails: %d confirmations, %d notices, %d in all; want 1, %d, %d", len(confirm), len(exists), len(h.mail.Messages()), n-1, n)
		}
	})
}

// TestAPIConfirm: a link confirms its address once; used twice, expired,
// with its address part swapped for another account's or another
// address, truncated or garbage, it is 400 invalid_link, one answer for
// all.
func TestAPIConfirm(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		h.signup(t, "bob@example.com", "bob")
		c := h.client(t)
		c.must(202, "POST", "/signup", map[string]string{"email": "ada@example.com", "password": strongPassword})
		link := h.mail.Last(t).Token
		tok, addr, _ := strings.Cut(link, ".")
		enc := func(s string) string { return base64URL(s) }
		var first reply
		for _, tc := range []struct {
			name, token string
		}{
			{"address swapped for another account's", tok + "." + enc("bob@example.com")},
			{"address swapped for a stranger's", tok + "." + enc("eve@example.com")},
			{"no address", tok},
			{"address not base64", tok + ".@@@"},
			{"truncated token", tok[:len(tok)-2] + "." + addr},
			{"garbage", "hello.world"},
			{"a session token", h.sessionToken(t, "bob@example.com") + "." + addr},
		} {
			r := c.post("/email/confirm", map[string]string{"token": tc.token})
			wantCode(t, tc.name, r, 400, "invalid_link")
			if first.status == 0 {
				first = r
			} else if !bytes.Equal(r.body, first.body) {
				t.Errorf("%s answers %s, others %s", tc.name, r, first)
			}
		}
		// A swapped link spends the token: the true one is used up too.
		// (Issue a fresh one by resending.)
		u, _ := h.users.FindUser(t.Context(), "ada@example.com")
		if u.EmailConfirmed {
			t.Fatal("a bad link confirmed the address")
		}
		wantCode(t, "missing token", c.post("/email/confirm", map[string]string{}), 400, "missing_field")

		c.must(202, "POST", "/signup", map[string]string{"email": "cy@example.com", "password": strongPassword})
		good := h.mail.Last(t).Token
		r := c.post("/email/confirm", map[string]string{"token": good})
		if r.status != 200 || !strings.Contains(string(r.body), `"confirmed"`) {
			t.Fatalf("confirm: %s", r)
		}
		if u, _ := h.users.FindUser(t.Context(), "cy@example.com"); !u.EmailConfirmed {
			t.Fatal("not confirmed")
		}
		r = c.post("/email/confirm", map[string]string{"token": good})
		wantCode(t, "used twice", r, 400, "invalid_link")
		if !bytes.Equal(r.body, first.body) {
			t.Errorf("used twice answers %s, others %s", r, first)
		}
		// Form posts are read too.
		c.must(202, "POST", "/signup", map[string]string{"email": "di@example.com", "password": strongPassword})
		r = c.send("POST", "/email/confirm", "application/x-www-form-urlencoded", "token="+h.mail.Last(t).Token)
		if r.status != 200 {
			t.Fatalf("form confirm: %s", r)
		}
	})
}

// TestAPIConfirmExpired: a link past tokens' VerificationTTL (24 hours by
// default) on the fake clock is 400 invalid_link, as a used one. On Redis
// too: Redis expires keys on its own real clock, but the token manager
// checks the record's ExpiresAt against its clock as well.
func TestAPIConfirmExpired(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c := h.client(t)
		c.must(202, "POST", "/signup", map[string]string{"email": "ada@example.com", "password": strongPassword})
		link := h.mail.Last(t).Token
		h.clock.Advance(24*time.Hour - time.Second)
		c.must(202, "POST", "/signup", map[string]string{"email": "bob@example.com", "password": strongPassword})
		fresh := h.mail.Last(t).Token
		h.clock.Advance(2 * time.Second)
		wantCode(t, "expired link", c.post("/email/confirm", map[string]string{"token": link}), 400, "invalid_link")
		if u, _ := h.users.FindUser(t.Context(), "ada@example.com"); u.EmailConfirmed {
			t.Fatal("an expired link confirmed the address")
		}
		c.must(200, "POST", "/email/confirm", map[string]string{"token": fresh})
	})
}

// sessionToken logs login in and returns the bearer token.
func (h *harness) sessionToken(t *testing.T, login string) string {
	t.Helper()
	c := h.client(t)
	c.login(login, strongPassword)
	return c.token
}

// TestAPILoginLogout: a JSON login gives a bearer token, or a cookie when
// asked; wrong passwords and unknown logins are 401 alike; logout ends
// the session either way.
func TestAPILoginLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open).realTime()
		h.signup(t, "ada@example.com", "ada")
		bearer := h.client(t)
		bearer.login("ada@example.com", strongPassword)
		if bearer.token == "" {
			t.Fatal("no token")
		}
		wrong := h.client(t).post("/login", map[string]string{"login": "ada@example.com", "password": "wrong password here"})
		unknown := h.client(t).post("/login", map[string]string{"login": "nobody@example.com", "password": "wrong password here"})
		wantCode(t, "wrong password", wrong, 401, "invalid_credentials")
		if !bytes.Equal(wrong.body, unknown.body) || wrong.status != unknown.status {
			t.Fatalf("unknown login %s, wrong password %s", unknown, wrong)
		}
		wantCode(t, "no password", h.client(t).post("/login", map[string]string{"login": "ada"}), 400, "missing_field")

		browser := h.client(t)
		browser.cookieLogin("ada", strongPassword)
		browser.must(200, "GET", "/session", nil)

		bearer.must(204, "POST", "/logout", nil)
		wantCode(t, "after logout", bearer.send("GET", "/session", "", ""), 401, "invalid_token")
		browser.must(204, "POST", "/logout", nil)
		wantCode(t, "after cookie logout", browser.send("GET", "/session", "", ""), 401, "missing_token")
		wantCode(t, "logout without a session", h.client(t).send("POST", "/logout", "", ""), 401, "missing_token")
	})
}

// TestAPILoginJSONCookie: with Config.JSONCookie a JSON login keeps its
// session in the cookie unless it asks for a token; a session kind
// other than "cookie" or "token" is 400 invalid_field.
func TestAPILoginJSONCookie(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, func(c *account.Config) { c.JSONCookie = true }).realTime()
		h.signup(t, "ada@example.com", "ada")
		b := h.client(t)
		r := b.post("/login", map[string]string{"login": "ada", "password": strongPassword})
		if r.status != 200 || bytes.Contains(r.body, []byte(`"token"`)) {
			t.Fatalf("JSON login with JSONCookie: %s", r)
		}
		b.must(200, "GET", "/session", nil)
		r = h.client(t).post("/login", map[string]string{"login": "ada", "password": strongPassword, "session": "token"})
		if r.status != 200 || !bytes.Contains(r.body, []byte(`"token"`)) {
			t.Fatalf("JSON login asking for a token: %s", r)
		}
		wantCode(t, "another session kind", h.client(t).post("/login", map[string]string{"login": "ada", "password": strongPassword, "session": "jwt"}), 400, "invalid_field")
	})
}

// TestAPISession: the signed-in user's session and account; without a
// token 401 missing_token, with a bad one 401 invalid_token.
func TestAPISession(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, sub := h.loggedIn(t, "ada@example.com", "ada")
		me := c.must(200, "GET", "/session", nil)
		if me["subject"] != sub || me["email"] != "ada@example.com" || me["email_confirmed"] != true || me["username"] != "ada" ||
			me["session_id"] == "" || me["session_id"] == c.token || strings.Contains(c.token, me["session_id"].(string)) {
			t.Fatalf("session: %v", me)
		}
		wantCode(t, "no token", h.client(t).send("GET", "/session", "", ""), 401, "missing_token")
		bad := h.client(t)
		bad.token = c.token[:len(c.token)-1] + "A"
		if bad.token == c.token {
			bad.token = c.token[:len(c.token)-1] + "B"
		}
		wantCode(t, "bad token", bad.send("GET", "/session", "", ""), 401, "invalid_token")
	})
}

// TestAPISessions: the list marks the caller's session; DELETE
// /sessions/{id} ends another session (its client gets 401) or the
// caller's own; an id of no session, or of another user's, is 404
// no_session; DELETE /sessions ends every other session but the
// caller's.
func TestAPISessions(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		laptop, _ := h.loggedIn(t, "ada@example.com", "ada")
		phone, tablet := h.client(t), h.client(t)
		phone.login("ada", strongPassword)
		tablet.login("ada", strongPassword)
		mallory, _ := h.loggedIn(t, "mallory@example.com", "mallory")

		list := laptop.must(200, "GET", "/sessions", nil)["sessions"].([]any)
		if len(list) != 3 {
			t.Fatalf("sessions: %v", list)
		}
		phoneID := phone.must(200, "GET", "/session", nil)["session_id"].(string)
		laptopID := laptop.must(200, "GET", "/session", nil)["session_id"].(string)
		for _, s := range list {
			m := s.(map[string]any)
			if (m["id"] == laptopID) != (m["current"] == true) {
				t.Fatalf("current marked wrong: %v (laptop %s)", list, laptopID)
			}
		}
		wantCode(t, "another user's session", mallory.send("DELETE", "/sessions/"+phoneID, "", ""), 404, "no_session")
		phone.must(200, "GET", "/session", nil)
		wantCode(t, "no such session", laptop.send("DELETE", "/sessions/nosuchsession", "", ""), 404, "no_session")

		if r := laptop.send("DELETE", "/sessions/"+phoneID, "", ""); r.status != 204 {
			t.Fatalf("revoke the phone: %s", r)
		}
		wantCode(t, "revoked phone", phone.send("GET", "/session", "", ""), 401, "invalid_token")
		wantCode(t, "revoked twice", laptop.send("DELETE", "/sessions/"+phoneID, "", ""), 404, "no_session")
		laptop.must(200, "GET", "/session", nil)
		tablet.must(200, "GET", "/session", nil)

		phone.login("ada", strongPassword)
		if out := laptop.must(200, "DELETE", "/sessions", nil); out["ended"] != float64(2) {
			t.Fatalf("DELETE /sessions: %v, want 2 ended", out)
		}
		wantCode(t, "phone after DELETE /sessions", phone.send("GET", "/session", "", ""), 401, "invalid_token")
		wantCode(t, "tablet after DELETE /sessions", tablet.send("GET", "/session", "", ""), 401, "invalid_token")
		laptop.must(200, "GET", "/session", nil)
		mallory.must(200, "GET", "/session", nil)
		if list := laptop.must(200, "GET", "/sessions", nil)["sessions"].([]any); len(list) != 1 {
			t.Fatalf("after DELETE /sessions: %v", list)
		}
		// Revoking one's own session ends it.
		if r := laptop.send("DELETE", "/sessions/"+laptopID, "", ""); r.status != 204 {
			t.Fatalf("revoke own session: %s", r)
		}
		wantCode(t, "own revoked session", laptop.send("GET", "/session", "", ""), 401, "invalid_token")
	})
}

// TestAPIRevokeOwnCookieSession: a browser that revokes its own session
// gets its cookie cleared.
func TestAPIRevokeOwnCookieSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open).realTime()
		h.signup(t, "ada@example.com", "ada")
		b := h.client(t)
		b.cookieLogin("ada", strongPassword)
		id := b.must(200, "GET", "/session", nil)["session_id"].(string)
		r := b.send("DELETE", "/sessions/"+id, "", "")
		if r.status != 204 || !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "Max-Age=0") {
			t.Fatalf("revoke own cookie session: %s, Set-Cookie %q", r, r.header.Values("Set-Cookie"))
		}
		wantCode(t, "after", b.send("GET", "/session", "", ""), 401, "missing_token")
	})
}

// TestAPIDevices: a device login (auth's LoginDevice) is listed; DELETE
// /devices/{name} ends its chain (404 no_device after, and for a name
// of no device); another user cannot see or end it.
func TestAPIDevices(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		mallory, _ := h.loggedIn(t, "mallory@example.com", "mallory")
		if list := c.must(200, "GET", "/devices", nil)["devices"].([]any); len(list) != 0 {
			t.Fatalf("devices before: %v", list)
		}
		ds, err := h.auth.LoginDevice(t.Context(), auth.Credentials{Login: "ada", Password: strongPassword, Client: netip.MustParsePrefix("127.0.0.1/32")}, "", "phone")
		if err != nil {
			t.Fatal(err)
		}
		list := c.must(200, "GET", "/devices", nil)["devices"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["name"] != "phone" {
			t.Fatalf("devices: %v", list)
		}
		if list := mallory.must(200, "GET", "/devices", nil)["devices"].([]any); len(list) != 0 {
			t.Fatalf("another user sees %v", list)
		}
		wantCode(t, "another user's device", mallory.send("DELETE", "/devices/phone", "", ""), 404, "no_device")
		wantCode(t, "no such device", c.send("DELETE", "/devices/tablet", "", ""), 404, "no_device")
		wantCode(t, "a control character", c.send("DELETE", "/devices/a%01b", "", ""), 400, "invalid_field")
		wantCode(t, "an over-long name", c.send("DELETE", "/devices/"+strings.Repeat("d", 300), "", ""), 400, "invalid_field")
		if r := c.send("DELETE", "/devices/phone", "", ""); r.status != 204 {
			t.Fatalf("revoke device: %s", r)
		}
		wantCode(t, "revoked twice", c.send("DELETE", "/devices/phone", "", ""), 404, "no_device")
		if _, err := h.auth.ReAuthenticate(t.Context(), "phone", ds.DeviceToken); err == nil {
			t.Fatal("the revoked device's token still works")
		}
		phone := h.client(t)
		phone.token = ds.Session.Token
		wantCode(t, "revoked device's session", phone.send("GET", "/session", "", ""), 401, "invalid_token")
	})
}

// TestAPILogoutEverywhere ends every session of the user, the caller's
// included, and no other user's.
func TestAPILogoutEverywhere(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open).realTime()
		laptop, _ := h.loggedIn(t, "ada@example.com", "ada")
		phone := h.client(t)
		phone.cookieLogin("ada", strongPassword)
		other, _ := h.loggedIn(t, "bob@example.com", "bob")
		laptop.must(204, "POST", "/logout-everywhere", nil)
		wantCode(t, "laptop", laptop.send("GET", "/session", "", ""), 401, "invalid_token")
		if r := phone.send("GET", "/session", "", ""); r.status != 401 {
			t.Fatalf("phone: %s", r)
		}
		other.must(200, "GET", "/session", nil)
	})
}

// TestAPIResend: an unconfirmed address gets a new link, which confirms
// it; a confirmed one is 409 already_confirmed.
func TestAPIResend(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, sub := h.loggedIn(t, "ada@example.com", "ada")
		wantCode(t, "confirmed", c.post("/email/resend", nil), 409, "already_confirmed")
		// The address becomes unconfirmed while the session lives (by
		// default an unconfirmed user cannot log in).
		if err := h.users.SetEmail(t.Context(), sub, "ada@example.com", false); err != nil {
			t.Fatal(err)
		}
		r := c.send("POST", "/email/resend", "", "")
		if r.status != 202 {
			t.Fatalf("resend: %s", r)
		}
		m := h.mail.Last(t)
		if m.Purpose != auth.PurposeConfirmEmail || m.To != "ada@example.com" || m.Token == "" {
			t.Fatalf("resend mailed %+v", m)
		}
		c.must(200, "POST", "/email/confirm", map[string]string{"token": m.Token})
		wantCode(t, "confirmed again", c.send("POST", "/email/resend", "", ""), 409, "already_confirmed")
		wantCode(t, "signed out", h.client(t).send("POST", "/email/resend", "", ""), 401, "missing_token")
	})
}

// TestAPIChangeEmail: the password is needed (400 without, 401 wrong);
// the new address gets a link and the change waits for it; an address
// with an account answers alike and its owner is told; the same address
// or a malformed one is 400.
func TestAPIChangeEmail(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, sub := h.loggedIn(t, "ada@example.com", "ada")
		h.signup(t, "bob@example.com", "bob")
		wantCode(t, "no password", c.post("/email/change", map[string]string{"email": "ada@new.example"}), 403, "password_required")
		wantCode(t, "wrong password", c.post("/email/change", map[string]string{"email": "ada@new.example", "password": "not the password at all"}), 401, "invalid_credentials")
		wantCode(t, "no email", c.post("/email/change", map[string]string{"password": strongPassword}), 400, "missing_field")
		wantCode(t, "bad email", c.post("/email/change", map[string]string{"email": "nope", "password": strongPassword}), 400, "invalid_field")
		wantCode(t, "same email", c.post("/email/change", map[string]string{"email": "ADA@example.com", "password": strongPassword}), 400, "invalid_field")

		fresh := c.post("/email/change", map[string]string{"email": "ada@new.example", "password": strongPassword})
		if fresh.status != 202 {
			t.Fatalf("change: %s", fresh)
		}
		link := h.mail.Last(t)
		if link.Purpose != account.PurposeConfirmNewEmail || link.To != "ada@new.example" || link.Subject != sub {
			t.Fatalf("change mailed %+v", link)
		}
		if u, _ := h.users.FindSubject(t.Context(), sub); u.Email != "ada@example.com" {
			t.Fatalf("the address changed before its link: %+v", u)
		}
		taken := c.post("/email/change", map[string]string{"email": "bob@example.com", "password": strongPassword})
		if taken.status != fresh.status || !bytes.Equal(taken.body, fresh.body) {
			t.Fatalf("change to a taken address: %s, to a free one: %s", taken, fresh)
		}
		if m := h.mail.Last(t); m.Purpose != account.PurposeAddressInUse || m.To != "bob@example.com" || m.Token != "" {
			t.Fatalf("taken address mailed %+v", m)
		}
		c.must(200, "POST", "/email/confirm", map[string]string{"token": link.Token})
		if u, _ := h.users.FindSubject(t.Context(), sub); u.Email != "ada@new.example" || !u.EmailConfirmed {
			t.Fatalf("after confirm: %+v", u)
		}
		if m := h.mail.Last(t); m.Purpose != account.PurposeEmailChanged || m.To != "ada@example.com" {
			t.Fatalf("old address told %+v", m)
		}
	})
}

// TestAPIForgotReset: forgot answers a known and an unknown address
// alike (only the known one is mailed); the reset link sets the password
// once (used twice: 401 invalid_token) and ends every session.
func TestAPIForgotReset(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		anon := h.client(t)
		known := anon.post("/password/forgot", map[string]string{"email": "ada@example.com"})
		n := len(h.mail.Messages())
		unknown := anon.post("/password/forgot", map[string]string{"email": "nobody@example.com"})
		if known.status != 202 || unknown.status != known.status || !bytes.Equal(unknown.body, known.body) {
			t.Fatalf("forgot: known %s, unknown %s", known, unknown)
		}
		if len(h.mail.Messages()) != n {
			t.Fatal("an unknown address was mailed")
		}
		m := h.mails(auth.PurposeResetPassword, "ada@example.com")
		if len(m) != 1 || m[0].Token == "" {
			t.Fatalf("reset mails: %+v", m)
		}
		wantCode(t, "forgot without email", anon.post("/password/forgot", map[string]string{}), 400, "missing_field")
		wantCode(t, "forgot with a bad email", anon.post("/password/forgot", map[string]string{"email": "nope"}), 400, "invalid_field")

		wantCode(t, "reset without token", anon.post("/password/reset", map[string]string{"password": "a brand new passphrase"}), 400, "missing_field")
		wantCode(t, "reset with a weak password", anon.post("/password/reset", map[string]string{"token": m[0].Token, "password": "short"}), 400, "password_too_short")
		wantCode(t, "reset with a bad token", anon.post("/password/reset", map[string]string{"token": "garbage", "password": "a brand new passphrase"}), 401, "invalid_token")
		const next = "a brand new passphrase"
		if r := anon.post("/password/reset", map[string]string{"token": m[0].Token, "password": next}); r.status != 204 {
			t.Fatalf("reset: %s", r)
		}
		wantCode(t, "reset used twice", anon.post("/password/reset", map[string]string{"token": m[0].Token, "password": next + "!"}), 401, "invalid_token")
		wantCode(t, "session after reset", c.send("GET", "/session", "", ""), 401, "invalid_token")
		wantCode(t, "old password", h.client(t).post("/login", map[string]string{"login": "ada", "password": strongPassword}), 401, "invalid_credentials")
		h.client(t).login("ada", next)
	})
}

// TestAPIChangePassword: without the current password 400 missing_field,
// with a wrong one 401 invalid_credentials, without a new one 400; a
// weak new one is the policy's 400; success ends the other sessions and
// keeps the caller's.
func TestAPIChangePassword(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		other := h.client(t)
		other.login("ada", strongPassword)
		const next = "a brand new passphrase for ada"
		for _, tc := range []struct {
			name       string
			body       map[string]string
			status     int
			code       string
			field, why string
		}{
			{"no current password", map[string]string{"new_password": next}, 403, "password_required", "current_password", ""},
			{"wrong current password", map[string]string{"current_password": "not the password at all", "new_password": next}, 401, "invalid_credentials", "", ""},
			{"no new password", map[string]string{"current_password": strongPassword}, 400, "missing_field", "new_password", ""},
			{"weak new password", map[string]string{"current_password": strongPassword, "new_password": "short"}, 400, "password_too_short", "", ""},
		} {
			r := c.post("/password/change", tc.body)
			wantCode(t, tc.name, r, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("%s: %s does not name %s", tc.name, r, tc.field)
			}
		}
		other.must(200, "GET", "/session", nil)
		// A device chain and a reset link, both to end with the change.
		ds, err := h.auth.LoginDevice(t.Context(), auth.Credentials{Login: "ada", Password: strongPassword, Client: netip.MustParsePrefix("127.0.0.1/32")}, "", "phone")
		if err != nil {
			t.Fatal(err)
		}
		h.client(t).must(202, "POST", "/password/forgot", map[string]string{"email": "ada@example.com"})
		resetLink := h.mail.Last(t).Token
		if r := c.post("/password/change", map[string]string{"current_password": strongPassword, "new_password": next}); r.status != 204 {
			t.Fatalf("change: %s", r)
		}
		c.must(200, "GET", "/session", nil)
		wantCode(t, "other session", other.send("GET", "/session", "", ""), 401, "invalid_token")
		if _, err := h.auth.ReAuthenticate(t.Context(), "phone", ds.DeviceToken); err == nil {
			t.Error("the device chain outlived the password change")
		}
		wantCode(t, "reset link mailed before the change", h.client(t).post("/password/reset", map[string]string{"token": resetLink, "password": "yet another passphrase here"}), 401, "invalid_token")
		wantCode(t, "old password", h.client(t).post("/login", map[string]string{"login": "ada", "password": strongPassword}), 401, "invalid_credentials")
		h.client(t).login("ada", next)
	})
}

// TestAPIPasswordRecheckLocks: the password re-check of /password/change
// and /delete goes through auth's login lockout: guessing there locks the
// account as guessing at /login does.
func TestAPIPasswordRecheckLocks(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		var last reply
		for i := 0; i < 30; i++ {
			last = c.post("/delete", map[string]string{"password": fmt.Sprintf("guess number %d", i)})
			if last.status != 401 {
				break
			}
		}
		wantCode(t, "after 30 guesses", last, 403, "locked")
		// Even the right password is refused while locked.
		wantCode(t, "right password while locked", c.post("/delete", map[string]string{"password": strongPassword}), 403, "locked")
		if h.users.Len() != 1 {
			t.Fatal("deleted while locked")
		}
	})
}

// TestAPIDelete: without the password 400 missing_field, wrong 401;
// right, the account is gone, every session of it dies and it cannot log
// in again.
func TestAPIDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open).realTime()
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		browser := h.client(t)
		browser.cookieLogin("ada", strongPassword)
		ds, err := h.auth.LoginDevice(t.Context(), auth.Credentials{Login: "ada", Password: strongPassword, Client: netip.MustParsePrefix("127.0.0.1/32")}, "", "phone")
		if err != nil {
			t.Fatal(err)
		}
		bob, _ := h.loggedIn(t, "bob@example.com", "bob")
		wantCode(t, "no password", c.post("/delete", map[string]string{}), 403, "password_required")
		wantCode(t, "no body", c.send("POST", "/delete", "", ""), 415, "unsupported_media_type")
		wantCode(t, "wrong password", c.post("/delete", map[string]string{"password": "not the password at all"}), 401, "invalid_credentials")
		wantCode(t, "bob's password", c.post("/delete", map[string]string{"password": strongPassword + "x"}), 401, "invalid_credentials")
		if h.users.Len() != 2 {
			t.Fatal("deleted without the password")
		}
		if r := c.post("/delete", map[string]string{"password": strongPassword}); r.status != 204 {
			t.Fatalf("delete: %s", r)
		}
		if h.users.Len() != 1 {
			t.Fatal("not deleted")
		}
		wantCode(t, "the deleting session", c.send("GET", "/session", "", ""), 401, "invalid_token")
		if r := browser.send("GET", "/session", "", ""); r.status != 401 {
			t.Fatalf("the browser's session: %s", r)
		}
		if _, err := h.auth.ReAuthenticate(t.Context(), "phone", ds.DeviceToken); err == nil {
			t.Error("the device chain outlived the account")
		}
		phone := h.client(t)
		phone.token = ds.Session.Token
		wantCode(t, "the device's session", phone.send("GET", "/session", "", ""), 401, "invalid_token")
		wantCode(t, "login after delete", h.client(t).post("/login", map[string]string{"login": "ada", "password": strongPassword}), 401, "invalid_credentials")
		bob.must(200, "GET", "/session", nil)
		// The address is free again.
		h.client(t).must(202, "POST", "/signup", map[string]string{"email": "ada@example.com", "password": strongPassword})
		if m := h.mail.Last(t); m.Purpose != auth.PurposeConfirmEmail {
			t.Fatalf("signup after delete mailed %+v", m)
		}
	})
}

// tightLimits is a harness mod: a Limiter on the test's store allowing
// each class 3 requests per client in an hour, and clients named by
// testClientHeader.
func tightLimits(s *store.Store) harnessConfig {
	return func(c *account.Config) {
		rate := store.PerPeriod(3, time.Hour)
		p := map[limit.Class]limit.Policy{}
		for _, cl := range []limit.Class{limit.Signup, limit.Reset, limit.Verify, limit.Mail} {
			p[cl] = limit.Policy{PerClient: rate}
		}
		l, err := limit.New(limit.Config{Store: *s, Policies: p, Now: c.Now})
		if err != nil {
			panic(err)
		}
		c.Limiter = l
		clientFromHeader(c)
	}
}

// TestAPIRateLimits: signup, forgot, reset and confirm from one client
// are limited (429 rate_limited with Retry-After) and another client is
// not; the limits are the account's Limiter's (limit.Signup, Reset,
// Verify).
func TestAPIRateLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var s store.Store
		h := newHarness(t, opener(st, &s), tightLimits(&s))
		c := h.client(t)
		for k, tc := range []struct {
			path string
			body func(i int) any
		}{
			{"/signup", func(i int) any {
				return map[string]string{"email": fmt.Sprintf("u%d@example.com", i), "password": strongPassword}
			}},
			{"/password/forgot", func(i int) any { return map[string]string{"email": fmt.Sprintf("u%d@example.com", i)} }},
			{"/password/reset", func(i int) any { return map[string]string{"token": "garbage", "password": strongPassword} }},
			{"/email/confirm", func(i int) any { return map[string]string{"token": "garbage.Z2FyYmFnZUBleGFtcGxl"} }},
		} {
			// A client per route: forgot and reset share limit.Reset.
			one, another := fmt.Sprintf("192.0.2.%d", 10+k), fmt.Sprintf("198.51.100.%d", 10+k)
			for i := range 3 {
				if r := c.post(tc.path, tc.body(i), testClientHeader, one); r.status == 429 {
					t.Fatalf("%s %d: limited early: %s", tc.path, i, r)
				}
			}
			r := c.post(tc.path, tc.body(3), testClientHeader, one)
			wantCode(t, tc.path+" past the limit", r, 429, "rate_limited")
			if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Errorf("%s: Retry-After %q", tc.path, ra)
			}
			if r := c.post(tc.path, tc.body(4), testClientHeader, another); r.status == 429 {
				t.Errorf("%s: another client limited: %s", tc.path, r)
			}
		}
		// Resend is limited per account (limit.Mail), answered 429.
		u, sub := h.loggedIn(t, "ada@example.com", "ada")
		if err := h.users.SetEmail(t.Context(), sub, "ada@example.com", false); err != nil {
			t.Fatal(err)
		}
		var last reply
		for range 4 {
			if last = u.send("POST", "/email/resend", "", "", testClientHeader, "192.0.2.9"); last.status != 202 {
				break
			}
		}
		wantCode(t, "resend past the limit", last, 429, "rate_limited")
	})
}

// TestAPISignupMailBudget: signups naming one taken address past the
// mail budget (limit.Mail, here 2 an hour per client, under a signup
// limit of 10) still answer 202, byte for byte as before, but mail its
// owner no more; another client's signup mails again.
func TestAPISignupMailBudget(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var s store.Store
		h := newHarness(t, opener(st, &s), func(c *account.Config) {
			l, err := limit.New(limit.Config{Store: s, Now: c.Now, Policies: map[limit.Class]limit.Policy{
				limit.Signup: {PerClient: store.PerPeriod(10, time.Hour)},
				limit.Mail:   {PerClient: store.PerPeriod(2, time.Hour)},
			}})
			if err != nil {
				t.Fatal(err)
			}
			c.Limiter = l
			clientFromHeader(c)
		})
		h.signup(t, "ada@example.com", "ada")
		n := len(h.mail.Messages())
		c := h.client(t)
		var first reply
		for i := range 5 {
			r := c.post("/signup", map[string]string{"email": "ada@example.com", "password": strongPassword}, testClientHeader, "192.0.2.10")
			if i == 0 {
				first = r
			}
			if r.status != 202 || !bytes.Equal(r.body, first.body) {
				t.Fatalf("signup %d: %s, first %s", i, r, first)
			}
		}
		if got := len(h.mails(account.PurposeAccountExists, "ada@example.com")); got != 2 || len(h.mail.Messages())-n != 2 {
			t.Fatalf("%d notices from 5 signups of one client, want the budget's 2", got)
		}
		c.must(202, "POST", "/signup", map[string]string{"email": "ada@example.com", "password": strongPassword})
		if got := len(h.mails(account.PurposeAccountExists, "ada@example.com")); got != 3 {
			t.Fatalf("another client's signup: %d notices, want 3", got)
		}
	})
}

// TestAPICrossOrigin: a POST a browser sends from another site's page
// (Sec-Fetch-Site: cross-site, or a foreign Origin) is 403 cross_origin,
// on the routes anyone can call and on the cookie-authenticated ones. The
// API refuses such requests before it looks at how they are
// authenticated, so a bearer token from another origin's page is refused
// too (docs/accounts.md, Known limits); a request with neither header (no
// browser's) passes.
func TestAPICrossOrigin(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open).realTime()
		h.signup(t, "ada@example.com", "ada")
		browser := h.client(t)
		browser.cookieLogin("ada", strongPassword)
		cross := []string{"Sec-Fetch-Site", "cross-site"}
		for _, path := range []string{"/signup", "/login", "/logout", "/email/confirm", "/password/forgot", "/password/reset",
			"/logout-everywhere", "/email/resend", "/email/change", "/password/change", "/delete"} {
			r := browser.send("POST", path, "application/json", `{"email":"eve@example.com","password":"x","token":"x"}`, cross...)
			wantCode(t, "cross-site POST "+path, r, 403, "cross_origin")
		}
		for _, path := range []string{"/sessions", "/sessions/x", "/devices/x"} {
			wantCode(t, "cross-site DELETE "+path, browser.send("DELETE", path, "", "", cross...), 403, "cross_origin")
		}
		// Form posts from another origin too.
		r := h.client(t).send("POST", "/signup", "application/x-www-form-urlencoded", "email=eve%40example.com&password=x", "Origin", "https://evil.example")
		wantCode(t, "cross-origin form", r, 403, "cross_origin")
		browser.must(200, "GET", "/session", nil)
		if h.users.Len() != 1 {
			t.Fatal("a cross-site signup created an account")
		}
		// Same-origin requests pass.
		if r := browser.send("POST", "/email/resend", "", "", "Sec-Fetch-Site", "same-origin"); r.status != 409 {
			t.Fatalf("same-origin POST: %s", r)
		}
		bearer := h.client(t)
		bearer.login("ada", strongPassword)
		wantCode(t, "cross-site POST with a bearer token", bearer.send("POST", "/email/resend", "", "", cross...), 403, "cross_origin")
		if r := bearer.send("POST", "/email/resend", "", ""); r.status != 409 {
			t.Fatalf("bearer POST without browser headers: %s", r)
		}
	})
}

// TestAPIStoreDown: with the store down every route answers 503
// store_unavailable (fail closed): no account is created, nothing is
// mailed, no session passes.
func TestAPIStoreDown(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var fs *storefault.Store
		h := newHarness(t, faulty(st, &fs))
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		reset := h.client(t)
		reset.must(202, "POST", "/password/forgot", map[string]string{"email": "ada@example.com"})
		resetToken := h.mail.Last(t).Token
		n, users := len(h.mail.Messages()), h.users.Len()
		fs.SetDown(true)
		anon := h.client(t)
		for _, tc := range []struct {
			who          *client
			method, path string
			body         any
		}{
			{anon, "POST", "/signup", map[string]string{"email": "bob@example.com", "password": strongPassword}},
			{anon, "POST", "/login", map[string]string{"login": "ada", "password": strongPassword}},
			{anon, "POST", "/email/confirm", map[string]string{"token": "garbage.Z2FyYmFnZUBleGFtcGxl"}},
			{anon, "POST", "/password/forgot", map[string]string{"email": "ada@example.com"}},
			{anon, "POST", "/password/reset", map[string]string{"token": resetToken, "password": "a brand new passphrase"}},
			{c, "POST", "/logout", nil},
			{c, "GET", "/session", nil},
			{c, "GET", "/sessions", nil},
			{c, "DELETE", "/sessions", nil},
			{c, "DELETE", "/sessions/x", nil},
			{c, "GET", "/devices", nil},
			{c, "DELETE", "/devices/phone", nil},
			{c, "POST", "/logout-everywhere", nil},
			{c, "POST", "/email/resend", nil},
			{c, "POST", "/email/change", map[string]string{"email": "ada@new.example", "password": strongPassword}},
			{c, "POST", "/password/change", map[string]string{"current_password": strongPassword, "new_password": "a brand new passphrase"}},
			{c, "POST", "/delete", map[string]string{"password": strongPassword}},
		} {
			var r reply
			if tc.body == nil {
				r = tc.who.send(tc.method, tc.path, "", "")
			} else {
				r = tc.who.send(tc.method, tc.path, "application/json", jsonBody(tc.body))
			}
			wantCode(t, tc.method+" "+tc.path+" with the store down", r, 503, "store_unavailable")
		}
		if len(h.mail.Messages()) != n || h.users.Len() != users {
			t.Fatalf("with the store down: %d mails (was %d), %d users (was %d)", len(h.mail.Messages()), n, h.users.Len(), users)
		}
		fs.SetDown(false)
		c.must(200, "GET", "/session", nil)
		if r := reset.post("/password/reset", map[string]string{"token": resetToken, "password": "a brand new passphrase"}); r.status != 204 {
			t.Fatalf("reset once the store is back: %s", r)
		}
	})
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
