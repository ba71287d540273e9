package auth_test

import (
	"net/netip"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
)

// TestAttackTrustLoginMintsFreshTrust: attack on the trust chain's bounds.
// A login that skipped its second factor with a trust token gets a session
// of AuthTime "now" and assurance 2, which TrustDevice takes as "just
// passed a second factor": it mints a brand-new trust chain (new family,
// a fresh 30 days). So whoever holds the password and one copy of a trust
// cookie (good, per the docs, "for at most one login") turns it into a
// chain of their own that the victim's replay of the spent token does not
// revoke, and that can be renewed every 30 days forever; the 30-day bound
// from the second factor does not hold either.
//
// Expected safe behaviour: TrustDevice refuses a session that did not
// itself pass a second factor (ErrTrustNeedsSecondFactor), e.g. a session
// whose level came from a trust chain.
func TestAttackTrustLoginMintsFreshTrust(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		stolen := e.trustedLogin(t)
		// The attacker, with the password and a copy of the cookie.
		s, err := e.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword,
			Client: netip.MustParsePrefix(twoStepClient), TrustedDevice: stolen}, "")
		if err != nil {
			t.Fatalf("trusted login: %v", err)
		}
		own, err := e.a.TrustDevice(ctx, s.Token)
		if err == nil {
			// Show the damage: the victim's browser replays its spent
			// token (revoking the stolen chain), yet the attacker's new
			// chain still skips the second factor.
			_ = e.loginTrusted(t, rightPassword, stolen)
			if a := e.loginTrusted(t, rightPassword, own.Token); a.status == 200 {
				t.Fatalf("a trust login minted an independent trust chain that outlives the victim's revocation")
			}
			t.Fatalf("TrustDevice accepted a session whose second factor was a trust token")
		}
	})
}
