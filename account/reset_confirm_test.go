package account_test

import (
	"testing"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// TestAPIResetConfirmsTheAddress: a user whose confirmation link is lost
// or expired gets in through "forgot password", since the reset link
// went to the address; and a stranger who signed up with that address
// first loses the account: the reset replaced their password.
func TestAPIResetConfirmsTheAddress(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open)
		const squatter = "the squatter's own passphrase"
		anon := h.client(t)
		anon.must(202, "POST", "/signup", map[string]string{"email": "ada@example.com", "password": squatter})
		wantCode(t, "unconfirmed login", anon.post("/login", map[string]string{"login": "ada@example.com", "password": squatter}), 401, "invalid_credentials")

		anon.must(202, "POST", "/password/forgot", map[string]string{"email": "ada@example.com"})
		m := h.mails(auth.PurposeResetPassword, "ada@example.com")
		if len(m) != 1 {
			t.Fatalf("reset mails: %+v", m)
		}
		const ada = "ada's own new passphrase"
		if r := anon.post("/password/reset", map[string]string{"token": m[0].Token, "password": ada}); r.status != 204 {
			t.Fatalf("reset: %s", r)
		}
		u, err := h.users.FindUser(t.Context(), "ada@example.com")
		if err != nil || !u.EmailConfirmed {
			t.Fatalf("after the reset: %+v %v", u, err)
		}
		wantCode(t, "the squatter's password", h.client(t).post("/login", map[string]string{"login": "ada@example.com", "password": squatter}), 401, "invalid_credentials")
		h.client(t).login("ada@example.com", ada)
	})
}

// TestAPITrustedOrigins: a single-page app on an origin the app trusts
// may call the API from a browser; other origins still may not.
func TestAPITrustedOrigins(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open, func(c *account.Config) { c.TrustedOrigins = []string{"https://app.example"} })
	h.signup(t, "ada@example.com", "ada")
	spa := h.client(t)
	spa.login("ada", strongPassword)
	if r := spa.send("POST", "/email/resend", "", "", "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example"); r.status != 409 {
		t.Fatalf("trusted origin: %s", r)
	}
	wantCode(t, "untrusted origin", spa.send("POST", "/email/resend", "", "", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), 403, "cross_origin")
	if r := h.client(t).send("POST", "/password/forgot", "application/json", `{"email":"ada@example.com"}`, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example"); r.status != 202 {
		t.Fatalf("trusted origin, anonymous route: %s", r)
	}
}
