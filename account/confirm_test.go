package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/account"
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
