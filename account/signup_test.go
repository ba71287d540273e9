package account_test

import (
	"bytes"
	"testing"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// TestSignupAlikeCounted: signup of a new address, of a taken one and of
// a new one with a taken username do the same work where it costs time,
// counted rather than timed: one password hash and no comparison each,
// exactly one message each, and the same answer. The store calls differ
// by one: a new account's confirmation token is written (a Put), a taken
// address's notice writes none. That write, and the user table's
// CreateUser against a FindUser, are what Config.SignupMinDuration (25 ms
// by default, measured from the hash) exists to hide; the counts below pin
// the difference to exactly that, so a change that widens it fails here.
func TestSignupAlikeCounted(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		var fs *storefault.Store
		hasher := authtest.NewHasher()
		h := newHarness(t, faulty(st, &fs), func(c *account.Config) {
			// The account's Authenticator, on a Hasher this test can read.
			a, err := auth.New(auth.Config{Users: c.Users, Tokens: c.Tokens, Counters: fs, Hasher: hasher, Mailer: c.Mailer, HideUnconfirmed: true, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			c.Auth = a
		})
		h.signup(t, "ada@example.com", "ada")
		type work struct {
			hashes, compares, mails, storeCalls int64
			answer                              reply
		}
		c := h.client(t)
		measure := func(email, username string) work {
			t.Helper()
			hs, cs, ms, sc := hasher.Hashes.Load(), hasher.Compares.Load(), len(h.mail.Messages()), fs.Calls()
			r := c.post("/signup", map[string]string{"email": email, "password": strongPassword, "username": username})
			return work{hasher.Hashes.Load() - hs, hasher.Compares.Load() - cs, int64(len(h.mail.Messages()) - ms), fs.Calls() - sc, r}
		}
		fresh := measure("bob@example.com", "bob")
		taken := measure("ada@example.com", "")
		user := measure("cy@example.com", "ada")
		for name, w := range map[string]work{"new address": fresh, "taken address": taken, "taken username": user} {
			if w.hashes != 1 || w.compares != 0 || w.mails != 1 {
				t.Errorf("%s: %d hashes, %d compares, %d mails; want 1, 0, 1", name, w.hashes, w.compares, w.mails)
			}
			if w.answer.status != 202 || !bytes.Equal(w.answer.body, fresh.answer.body) {
				t.Errorf("%s answers %s, a new address %s", name, w.answer, fresh.answer)
			}
		}
		if taken.storeCalls != fresh.storeCalls-1 || user.storeCalls != taken.storeCalls {
			t.Errorf("store calls: new %d, taken address %d, taken username %d; want the taken ones one fewer (no token)",
				fresh.storeCalls, taken.storeCalls, user.storeCalls)
		}
	})
}

// TestAPISignupUsernameNotAnAddress: a username is a login, and a login
// with an '@' is looked up as an address. A username that is someone
// else's address would squat it: its owner's signup would find the
// squatter's account (and mail the squatter), and a login with that
// address would reach the squatter's account. Such usernames are 400
// invalid_field, as are ones with white space at an end (a login is
// trimmed, so it could never log in) or control characters.
func TestAPISignupUsernameNotAnAddress(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		c := h.client(t)
		for _, u := range []string{"mallory@example.com", "Mallory@Example.com", "@", " ada", "ada ", "a\x01da", "a\nda"} {
			r := c.post("/signup", map[string]string{"email": "eve@example.com", "password": strongPassword, "username": u})
			wantCode(t, "username "+u, r, 400, "invalid_field")
		}
		if h.users.Len() != 0 {
			t.Fatalf("%d accounts", h.users.Len())
		}
		sub := h.signup(t, "mallory@example.com", "mallory")
		if u, err := h.users.FindUser(t.Context(), "mallory@example.com"); err != nil || u.Subject != sub {
			t.Fatalf("mallory's address names %+v %v", u, err)
		}
		h.signup(t, "ada@example.com", "a.da_99")
	})
}
