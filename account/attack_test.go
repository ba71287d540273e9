package account_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/store"
)

// dropCookie removes a cookie from c's jar, as a browser does when its
// Max-Age runs out.
func dropCookie(c *pageClient, base, name string) {
	u, _ := url.Parse(base)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: "", Path: "/", MaxAge: -1}})
}

// TestPagesLogoutEndsRememberMe: a remembered browser whose session
// cookie has run out (it lasts the session; the remember-me cookie lasts
// 30 days) presses "Log out" on a page it still shows. The logout must
// end the remember-me chain too: else the very next page brings the
// session back, and a user who logged out of a shared computer is not.
func TestPagesLogoutEndsRememberMe(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, withRememberMe(t))
		h.signup(t, "ada@example.com", "ada")
		srv := pagesServer(t, h, true)
		c := newPageClient(t, srv)
		if p := c.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}, "remember": {"on"}}); p.status != 303 {
			t.Fatalf("login: %d", p.status)
		}
		if rememberCookie(t, c, srv.URL) == "" {
			t.Fatal("no remember-me cookie")
		}
		h.clock.Advance(25 * time.Hour)
		dropCookie(c, srv.URL, "__Host-sess")
		dropCookie(c, srv.URL, "sess")

		p := c.post("/logout", url.Values{})
		if p.status != 303 {
			t.Fatalf("logout: %d to %q", p.status, p.location)
		}
		if p := c.get("/login"); p.status != 200 {
			t.Fatalf("GET /login after logging out: %d to %q, want the login form (the remember-me cookie signed the browser back in)", p.status, p.location)
		}
		if p := c.get("/"); p.status != 303 || !strings.HasPrefix(p.location, pagesPath+"/login") {
			t.Fatalf("GET / after logging out: %d to %q, want the login page", p.status, p.location)
		}
		if d, err := h.auth.Devices(t.Context(), mustSubject(t, h, "ada")); err != nil || len(d) != 0 {
			t.Fatalf("devices after logout: %v %v, want none", d, err)
		}
	})
}

func mustSubject(t *testing.T, h *harness, login string) string {
	t.Helper()
	u, err := h.users.FindUser(t.Context(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.Subject
}

var _ = auth.RememberCookie

// TestAPIChangeEmailBudgetAlike: asking to move to an address that has
// an account must cost the client's mail budget what asking to move to a
// free one costs. Else the budget tells which addresses have accounts:
// count the 202s before the 429.
func TestAPIChangeEmailBudgetAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var s store.Store
		h := newHarness(t, opener(st, &s), func(c *account.Config) {
			l, err := limit.New(limit.Config{Store: s, Now: c.Now, Policies: map[limit.Class]limit.Policy{
				limit.Mail: {PerClient: store.PerPeriod(6, time.Hour)},
			}})
			if err != nil {
				t.Fatal(err)
			}
			c.Limiter = l
			clientFromHeader(c)
		})
		c, _ := h.loggedIn(t, "eve@example.com", "eve")
		h.signup(t, "ada@example.com", "ada")
		accepted := func(client string, email func(i int) string) int {
			for i := range 20 {
				r := c.post("/email/change", map[string]string{"email": email(i), "password": strongPassword}, testClientHeader, client)
				if r.status == 429 {
					return i
				}
				if r.status != 202 {
					t.Fatalf("change %d: %s", i, r)
				}
			}
			return 20
		}
		free := accepted("192.0.2.20", func(i int) string { return fmt.Sprintf("free%d@example.com", i) })
		taken := accepted("192.0.2.21", func(int) string { return "ada@example.com" })
		if free != taken {
			t.Fatalf("a client was let ask %d changes to a free address and %d to a taken one: the budget tells them apart", free, taken)
		}
	})
}

// TestAPIForgotMailerDownAlike: while the Mailer fails (an outage, or a
// provider refusing one address), a forgotten password for an address
// with an account must answer as one for an address without: else the
// 5xx tells which addresses have accounts. (auth.RequestPasswordReset
// leaves that to its caller; examples/contacts does it.)
func TestAPIForgotMailerDownAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		h.signup(t, "ada@example.com", "ada")
		h.mail.Fail = errors.New("smtp: 451 try again later")
		c := h.client(t)
		unknown := c.post("/password/forgot", map[string]string{"email": "nobody@example.com"})
		known := c.post("/password/forgot", map[string]string{"email": "ada@example.com"})
		if unknown.status != 202 || known.status != unknown.status || !bytes.Equal(known.body, unknown.body) {
			t.Fatalf("forgot with the mailer down: known address %s, unknown %s", known, unknown)
		}
	})
}

// TestAPIEmailChangeEndsOldAddressLinks: once the account has moved to a
// new address, links mailed to the old one before (a reset, a
// confirmation) open nothing: the old mailbox, which a user leaves
// because it is lost or read by someone else, must not reset the
// account's password after the move.
func TestAPIEmailChangeEndsOldAddressLinks(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		// Whoever reads the old mailbox asks for a reset link.
		h.client(t).must(202, "POST", "/password/forgot", map[string]string{"email": "ada@example.com"})
		reset := h.mails(auth.PurposeResetPassword, "ada@example.com")
		if len(reset) != 1 {
			t.Fatalf("reset mails: %+v", reset)
		}
		// The owner moves the account to a new address.
		c.must(202, "POST", "/email/change", map[string]string{"email": "ada@new.example", "password": strongPassword})
		link := h.mail.Last(t)
		if link.Purpose != account.PurposeConfirmNewEmail {
			t.Fatalf("change mailed %+v", link)
		}
		h.client(t).must(200, "POST", "/email/confirm", map[string]string{"token": link.Token})

		r := h.client(t).post("/password/reset", map[string]string{"token": reset[0].Token, "password": "the old mailbox wins now"})
		wantCode(t, "a reset link mailed to the old address, after the move", r, 401, "invalid_token")
		h.client(t).login("ada", strongPassword)
	})
}

// TestAccountLinksNotRedeemableByAuth: an app that mounts the account
// API beside an older confirmation route of its own (auth.ConfirmEmail,
// auth.RedeemVerification, which return a subject for the app to mark
// its current address confirmed) must not let a link of the account
// API's, bound to another address and purpose, confirm through them.
// Else the holder of an account signed up with someone else's address
// (allowed to log in unconfirmed) asks to move it to their own address,
// and redeems that link at the older route: the victim's address is
// marked confirmed on the attacker's account.
func TestAccountLinksNotRedeemableByAuth(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	c, _ := h.loggedIn(t, "eve@example.com", "eve")
	c.must(202, "POST", "/email/change", map[string]string{"email": "eve@new.example", "password": strongPassword})
	link := h.mail.Last(t)
	tok := link.Token[:strings.LastIndexByte(link.Token, '.')]
	if sub, err := h.auth.ConfirmEmail(t.Context(), tok); err == nil {
		t.Fatalf("auth.ConfirmEmail redeemed an email-change link of the account API for %s", sub)
	}

	c.must(202, "POST", "/email/change", map[string]string{"email": "eve@other.example", "password": strongPassword})
	link = h.mail.Last(t)
	tok = link.Token[:strings.LastIndexByte(link.Token, '.')]
	// The halves RedeemVerification takes: the value is the token's
	// secret, the id its hash with the routing tag.
	sum := sha256.Sum256([]byte(tok))
	id := "vid_" + tok[4:8] + "_" + base64.RawURLEncoding.EncodeToString(sum[:])
	if sub, err := h.auth.RedeemVerification(t.Context(), id, tok[len(tok)-43:]); err == nil {
		t.Fatalf("auth.RedeemVerification redeemed an email-change link of the account API for %s", sub)
	}
}

// TestSignupThenLoginTellsNothing: signup answers a taken and a free
// address alike, but the account a signup of a free address creates
// holds the prober's password, so a login with it right after tells the
// two apart: 403 unconfirmed (or 200 with AllowUnconfirmed) for a free
// address, 401 invalid_credentials for one that has an account; and
// repeated, the right password never locks while the wrong one does. A
// prober so learns which addresses have accounts, one signup and one
// login each, and leaves an unconfirmed account holding their password
// on every free address probed (pre-account hijacking, should its owner
// ever press the confirmation link).
func TestSignupThenLoginTellsNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		h.signup(t, "ada@example.com", "ada")
		const probe = "a prober's own passphrase 9"
		for _, email := range []string{"ada@example.com", "nobody@example.com"} {
			h.client(t).must(202, "POST", "/signup", map[string]string{"email": email, "password": probe})
		}
		// Try after try, the taken address and the free one (whose new
		// account has the prober's password) answer alike, locks included.
		for i := range 12 {
			var answers [2]string
			for k, email := range []string{"ada@example.com", "nobody@example.com"} {
				answers[k] = h.client(t).post("/login", map[string]string{"login": email, "password": probe}).String()
			}
			if answers[0] != answers[1] {
				t.Fatalf("login %d after signup: a taken address %s, a free one %s", i+1, answers[0], answers[1])
			}
		}
	})
}

// TestSignupNoticesCappedPerAccount: with the default limits, signups
// naming one address from many client networks (a botnet, an IPv6 /48)
// mail its owner at most auth.MaxMessagesPerHour notices an hour, as
// every other message gatehouse sends for an account (docs/security.md,
// "Mail per account"); and the flood does not spend the owner's own
// budget (a resend answers 202, not 429).
func TestSignupNoticesCappedPerAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, clientFromHeader)
		u, sub := h.loggedIn(t, "ada@example.com", "ada")
		c := h.client(t)
		for i := range 30 {
			r := c.post("/signup", map[string]string{"email": "ada@example.com", "password": strongPassword},
				testClientHeader, fmt.Sprintf("2001:db8:%x::1", i))
			if r.status != 202 {
				t.Fatalf("signup %d: %s", i, r)
			}
		}
		if got := len(h.mails(account.PurposeAccountExists, "ada@example.com")); got > auth.MaxMessagesPerHour {
			t.Fatalf("30 signups from 30 networks mailed the owner %d notices in an hour, want at most %d", got, auth.MaxMessagesPerHour)
		}
		if err := h.users.SetEmail(t.Context(), sub, "ada@example.com", false); err != nil {
			t.Fatal(err)
		}
		if r := u.post("/email/resend", nil); r.status != 202 {
			t.Fatalf("the owner's resend after strangers' flood: %s", r)
		}
	})
}

// TestPagesLogoutWithStaleRememberCookieEndsThiefsChain: a thief copied
// the remember-me cookie and used it once the owner's session ended
// (the chain rotated to the thief's copy). The owner, whose page still
// shows "Log out", presses it with the cookie it holds, now spent: that
// is a replay of a spent token like any other, and must end the chain,
// the thief's session with it; not be shrugged off as "nothing left to
// end".
func TestPagesLogoutWithStaleRememberCookieEndsThiefsChain(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, withRememberMe(t))
		h.signup(t, "ada@example.com", "ada")
		srv := pagesServer(t, h, true)
		owner := newPageClient(t, srv)
		if p := owner.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}, "remember": {"on"}}); p.status != 303 {
			t.Fatalf("login: %d", p.status)
		}
		stolen := rememberCookie(t, owner, srv.URL)
		h.clock.Advance(25 * time.Hour)
		thief := newPageClient(t, srv)
		u, _ := url.Parse(srv.URL)
		thief.http.Jar.SetCookies(u, []*http.Cookie{{Name: auth.RememberCookie, Value: stolen, Path: "/", Secure: true}})
		if p := thief.get("/sessions"); p.status != 200 {
			t.Fatalf("the thief's restore: %d to %q", p.status, p.location)
		}
		h.clock.Advance(auth.RememberGrace + time.Second)
		dropCookie(owner, srv.URL, "sess")
		if p := owner.post("/logout", url.Values{}); p.status != 303 {
			t.Fatalf("owner's logout: %d", p.status)
		}
		if p := thief.get("/sessions"); p.status == 200 {
			t.Fatal("the thief's session outlived the owner's logout with the spent remember-me cookie")
		}
	})
}

// TestSignupUsernameNotAnAddressInAnyForm: a username may hold no '@',
// nor a character that compatibility normalisation (NFKC, as user tables
// often apply to usernames: Django does) turns into one, such as the
// fullwidth '＠': else it squats the address it spells once the table
// normalises it.
func TestSignupUsernameNotAnAddressInAnyForm(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	c := h.client(t)
	for _, name := range []string{"victim\uff20example.com", "victim\ufe6bexample.com"} {
		wantCode(t, "username "+name, c.post("/signup", map[string]string{"email": "eve@example.com", "password": strongPassword, "username": name}),
			400, "invalid_field")
	}
}
