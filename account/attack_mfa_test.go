package account_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// TestAttackAAL1SessionRemovesTOTP: a session that never passed a second
// factor (assurance 1: here one signed in before the owner enrolled TOTP,
// e.g. an attacker who phished the password and kept the session the
// owner then tried to lock out by turning on two-step verification) takes
// the account's TOTP away, and reads fresh recovery codes, with the
// password alone. Enrolling the factor ended no other session, and the
// removal route asks only for what the attacker has. The factor that
// protects the account is thus removable by someone who never proved it.
//
// Expected safe behaviour: when the account has a second factor,
// removing it or regenerating recovery codes needs a session of assurance
// level 2 (401 insufficient_user_authentication, as a step-up route
// answers), besides the password; or enabling TOTP ends the account's
// other password-only sessions.
func TestAttackAAL1SessionRemovesTOTP(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		owner, _ := h.loggedIn(t, "ada@example.com", "ada")
		// The attacker's session, password only, before enrolment.
		attacker := h.client(t)
		attacker.login("ada", strongPassword)
		enrolTOTP(t, h, owner)
		if s := attacker.must(200, "GET", "/session", nil); s["assurance"] != 1.0 {
			t.Fatalf("attacker's session: %v", s)
		}
		if r := attacker.post("/mfa/recovery-codes", map[string]string{"password": strongPassword}); r.status == 200 {
			t.Errorf("a password-only session read a fresh set of recovery codes: %s", r)
		}
		if r := attacker.send("DELETE", "/mfa/totp", "application/json", `{"password":"`+strongPassword+`"}`); r.status == 204 {
			t.Fatalf("a password-only session removed the account's TOTP: %s", r)
		}
	})
}

// TestAttackTrustOutlivesTOTPRemoval: a browser trusted while the account
// had TOTP key K1 keeps skipping the second factor after the owner
// removed K1 (lost or leaked phone) and enrolled K2: the trust was
// vouched for by a factor that no longer exists. A thief who trusted
// their own browser with the stolen K1 keeps logging in (with the
// password) without K2.
//
// Expected safe behaviour: removing a second factor (and enrolling one)
// ends the account's trust chains (store.KindTrust), so the next login
// asks for the new factor.
func TestAttackTrustOutlivesTOTPRemoval(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		owner, _ := h.loggedIn(t, "ada@example.com", "ada")
		k1, _ := enrolTOTP(t, h, owner)

		thief := h.client(t)
		pending := firstStep(t, thief, "ada")
		r := thief.post("/login/second", map[string]any{"pending": pending, "kind": "totp", "code": k1.Code(h.clock.Now()), "trust_device": true})
		trust, _ := r.json(t)["trusted_device"].(string)
		if r.status != 200 || !strings.HasPrefix(trust, "ght_") {
			t.Fatalf("second step asking for trust: %s", r)
		}
		h.clock.Advance(30 * time.Second)

		// The owner replaces K1 with K2 (a session from before the
		// enrolment gives a code of K1 as well as the password).
		if r := owner.send("DELETE", "/mfa/totp", "application/json", `{"password":"`+strongPassword+`","code":"`+k1.Code(h.clock.Now())+`"}`); r.status != 204 {
			t.Fatalf("remove: %s", r)
		}
		r = owner.post("/mfa/totp", map[string]string{"password": strongPassword})
		if r.status != 200 {
			t.Fatalf("enrol K2: %s", r)
		}
		k2, err := mfa.ParseKeyURI(r.json(t)["uri"].(string))
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(30 * time.Second) // K1's code burned this step for the account
		if r := owner.post("/mfa/totp/confirm", map[string]string{"code": k2.Code(h.clock.Now())}); r.status != 200 {
			t.Fatalf("confirm K2: %s", r)
		}
		h.clock.Advance(30 * time.Second)

		r = thief.post("/login", map[string]string{"login": "ada", "password": strongPassword, "trusted_device": trust})
		if r.status == 200 {
			t.Fatalf("trust vouched for by the removed key K1 skipped the new key K2: %s", r)
		}
		wantCode(t, "login with the old trust", r, 401, "second_factor_required")
	})
}

// TestAttackAAL1SessionAddsAWayAround: a session that did not pass the
// account's second factor (here one from before the owner enrolled TOTP)
// adds a passkey of the attacker's, or would, with the password alone:
// the passkey then logs in passwordless, around the owner's TOTP. Adding
// a factor to an account that has one asks such a session for a code of
// it (401 insufficient_user_authentication), as removing one does.
func TestAttackAAL1SessionAddsAWayAround(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		owner, _ := h.loggedIn(t, "ada@example.com", "ada")
		attacker := h.client(t)
		attacker.login("ada", strongPassword)
		k, _ := enrolTOTP(t, h, owner)
		wantCode(t, "passkey options from a level-1 session", attacker.post("/passkeys/options", map[string]string{"password": strongPassword}),
			401, "insufficient_user_authentication")
		h.clock.Advance(30 * time.Second)
		if r := attacker.post("/passkeys/options", map[string]string{"password": strongPassword, "code": k.Code(h.clock.Now())}); r.status != 200 {
			t.Fatalf("with a code of the account's app: %s", r)
		}
	})
}
