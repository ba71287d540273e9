package auth_test

import "testing"

// TestAttackPasskeyKindWithoutPasskeys: an app whose second factor has no
// passkeys (mfa.Config.Passkeys unset) is sent kind "passkey" by any
// client holding a pending token. CompleteLogin accepts the kind, and
// mfa answers a plain error with no Problem, so the client gets a 500
// (an alarm in the operator's logs at the client's will) instead of a
// refusal of its input.
//
// Expected safe behaviour: a 4xx (400 invalid_field "kind", as for any
// kind the app does not take), and the pending token left live.
func TestAttackPasskeyKindWithoutPasskeys(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		pending := e.firstStep(t)
		a := e.secondStep(t, pending, "passkey", `{"id":"x"}`)
		if a.status >= 500 {
			t.Fatalf("kind passkey without passkeys: %d %v, want a 4xx", a.status, a.body)
		}
		if a := e.secondStep(t, pending, "totp", e.key.Code(e.clock.Now())); a.status != 200 {
			t.Fatalf("the pending token after: %d %v", a.status, a.body)
		}
	})
}
