package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// recordingUsers is MemoryUsers that keeps the addresses SetEmail is
// given, as an app's table would store them.
type recordingUsers struct {
	*account.MemoryUsers
	mu  sync.Mutex
	set []string
}

func (r *recordingUsers) SetEmail(ctx context.Context, subject, email string, confirmed bool) error {
	r.mu.Lock()
	r.set = append(r.set, email)
	r.mu.Unlock()
	return r.MemoryUsers.SetEmail(ctx, subject, email, confirmed)
}

// TestAPIConfirmStoresNormalizedAddress: the address part of a link is
// the client's text. Rewritten into another spelling of the same address
// (case, white space, a CR LF) it still matches the token's binding, but
// the user table is given the address as issued, normalised, never the
// link's spelling: an app that stores what SetEmail gets must not get a
// header-breaking "\r\n" that signup's and change's checks refuse.
func TestAPIConfirmStoresNormalizedAddress(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var rec *recordingUsers
		h := newHarness(t, st.Open, func(c *account.Config) {
			rec = &recordingUsers{MemoryUsers: c.Users.(*account.MemoryUsers)}
			c.Users = rec
		})
		c, _ := h.loggedIn(t, "ada@example.com", "ada")
		c.must(202, "POST", "/email/change", map[string]string{"email": "ada@new.example", "password": strongPassword})
		tok, _, _ := strings.Cut(h.mail.Last(t).Token, ".")
		rec.mu.Lock()
		rec.set = nil
		rec.mu.Unlock()
		r := c.post("/email/confirm", map[string]string{"token": tok + "." + base64URL(" ADA@New.Example\r\n")})
		if r.status == 200 {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.set) != 1 || rec.set[0] != "ada@new.example" {
				t.Fatalf("SetEmail given %q, want the normalised address", rec.set)
			}
		} else {
			wantCode(t, "a respelled link", r, 400, "invalid_link")
		}
	})
}

// readOnlyUsers is a user table with no ability beyond finding accounts.
type readOnlyUsers struct{ m *account.MemoryUsers }

func (r readOnlyUsers) FindUser(ctx context.Context, login string) (auth.User, error) {
	return r.m.FindUser(ctx, login)
}
func (r readOnlyUsers) FindSubject(ctx context.Context, subject string) (auth.User, error) {
	return r.m.FindSubject(ctx, subject)
}

// TestAPINotSupported: each route that changes the user table answers
// 501 not_supported when the table lacks its ability (docs/accounts.md,
// "The user table"), and changes nothing; the routes that only read it
// work.
func TestAPINotSupported(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, func(c *account.Config) { c.Users = readOnlyUsers{c.Users.(*account.MemoryUsers)} })
		if err := h.users.Add(auth.User{Subject: "u_ada", Email: "ada@example.com", EmailConfirmed: true, Active: true,
			PasswordHash: mustHash(t, strongPassword)}); err != nil {
			t.Fatal(err)
		}
		c := h.client(t)
		c.login("ada@example.com", strongPassword)
		for _, tc := range []struct {
			path string
			body map[string]string
		}{
			{"/signup", map[string]string{"email": "bob@example.com", "password": strongPassword}},           // Creator
			{"/email/confirm", map[string]string{"token": "x.YUBi"}},                                         // EmailSetter
			{"/email/resend", map[string]string{}},                                                           // EmailSetter
			{"/email/change", map[string]string{"email": "ada@new.example", "password": strongPassword}},     // EmailSetter
			{"/password/forgot", map[string]string{"email": "ada@example.com"}},                              // HashUpdater
			{"/password/reset", map[string]string{"token": "x", "password": strongPassword}},                 // HashUpdater
			{"/password/change", map[string]string{"current_password": strongPassword, "new_password": "x"}}, // HashUpdater
			{"/delete", map[string]string{"password": strongPassword}},                                       // Deleter
		} {
			wantCode(t, tc.path, c.post(tc.path, tc.body), 501, "not_supported")
		}
		c.must(200, "GET", "/session", nil)
		c.must(200, "GET", "/sessions", nil)
		if h.users.Len() != 1 || len(h.mail.Messages()) != 0 {
			t.Fatal("a route without its ability changed something")
		}
	})
}

func mustHash(t *testing.T, pw string) []byte {
	b, err := authtest.NewHasher().Hash([]byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAPIConfirmTaken: an email change whose new address another account
// took meanwhile is 409 taken when its link is confirmed (only the
// holder of that address's link sees it), and the account keeps its
// address.
func TestAPIConfirmTaken(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c, sub := h.loggedIn(t, "ada@example.com", "ada")
		c.must(202, "POST", "/email/change", map[string]string{"email": "new@example.com", "password": strongPassword})
		link := h.mail.Last(t).Token
		h.client(t).must(202, "POST", "/signup", map[string]string{"email": "new@example.com", "password": strongPassword})
		wantCode(t, "confirm a taken address", c.post("/email/confirm", map[string]string{"token": link}), 409, "taken")
		if u, _ := h.users.FindSubject(t.Context(), sub); u.Email != "ada@example.com" || !u.EmailConfirmed {
			t.Fatalf("after a taken confirmation: %+v", u)
		}
	})
}
