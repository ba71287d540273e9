package mfa_test

import (
	"math"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// TestSecretSizeOutOfRange: a SecretSize that is negative or absurd is a
// config error from New, never a panic (makeslice) or a huge allocation.
func TestSecretSizeOutOfRange(t *testing.T) {
	clock := fakeclock.New(start)
	st := teststores.All()[0].Open(t, clock.Now)
	for _, n := range []int{-1, math.MinInt, 1 << 40, math.MaxInt} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("SecretSize %d: New panicked: %v", n, r)
				}
			}()
			_, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: keyring(t, key1),
				Issuer: "Gatehouse", SecretSize: n})
			if err == nil {
				t.Fatalf("SecretSize %d: New accepted it", n)
			}
		}()
	}
}
