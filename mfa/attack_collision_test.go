package mfa_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/mfa"
)

// collisionSecret's code at the steps either side of start's, n-1 and
// n+1, is the same, 392262, and none of n-2, n, n+2 has it: one TOTP
// code in a million is the code of two steps of its window (found by
// search, 67018 tries).
const (
	collisionSecret = "67617465686f7573652d636f6c6c6973000105ca"
	collisionCode   = "392262"
)

// TestCodeOfTwoStepsAcceptedOnce: a code accepted as step n-1, seen over
// the owner's shoulder, is also the code of step n+1. One step later
// that code matches both n-1 (used) and n+1 (fresh); it was taken as
// n+1's and passed again: the same code twice, within a minute. A code
// that matches a used step of its window is refused, whichever other
// step it matches.
func TestCodeOfTwoStepsAcceptedOnce(t *testing.T) {
	secret, _ := hex.DecodeString(collisionSecret)
	k := mfa.TOTPKey{Secret: secret}
	if k.Code(start.Add(-30*time.Second)) != collisionCode || k.Code(start.Add(30*time.Second)) != collisionCode || k.Code(start) == collisionCode {
		t.Fatal("the collision secret does not collide")
	}
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		plain, _ := json.Marshal(map[string]any{"v": 1, "totp": map[string]any{
			"secret": secret, "alg": "SHA1", "digits": 6, "period": 30, "created": start}})
		blob, err := e.cfg.Keyring.Seal("s:1", plain)
		ok(t, "Seal", err)
		if planted, _ := e.factors.CompareAndSwap(ctx, "s:1", nil, blob); !planted {
			t.Fatal("planting the factors")
		}
		e.clock.Advance(-30 * time.Second) // step n-1
		ok(t, "the owner, at step n-1", e.m.Verify(ctx, "s:1", collisionCode))
		e.clock.Advance(30 * time.Second) // step n
		is(t, "the same code replayed at step n", e.m.Verify(ctx, "s:1", collisionCode), mfa.ErrCodeReused)
		e.clock.Advance(30 * time.Second) // step n+1
		is(t, "the same code replayed at step n+1", e.m.Verify(ctx, "s:1", collisionCode), mfa.ErrCodeReused)
	})
}
