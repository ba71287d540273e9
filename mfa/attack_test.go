package mfa_test

import (
	"errors"
	"math"
	"testing"
	"time"

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

// TestShortAttemptWindowDoesNotDisableTheLimit: an AttemptWindow under a
// millisecond is a zero-length window on Redis (PEXPIRE 0 deletes the
// counter at once), so every guess was the first of its window and the
// limit never applied. New refuses windows that short; if it ever
// accepts one again, the limit must still hold on every store.
func TestShortAttemptWindowDoesNotDisableTheLimit(t *testing.T) {
	for _, w := range []time.Duration{time.Nanosecond, 500 * time.Microsecond} {
		for _, sf := range teststores.All() {
			t.Run(sf.Name+"/"+w.String(), func(t *testing.T) {
				clock := fakeclock.New(start)
				st := sf.Open(t, clock.Now)
				cfg := mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: keyring(t, key1),
					Issuer: "Gatehouse", Now: clock.Now, AttemptWindow: w, DailyAttempts: 1000}
				m, err := mfa.New(cfg)
				if err != nil {
					return // refused: the fix
				}
				e := &env{m: m, clock: clock, factors: cfg.Factors.(*mfa.MemoryFactors), st: st, cfg: cfg}
				k := e.enrol(t, "s:1")
				locked := 0
				for range 20 {
					if errors.Is(m.Verify(t.Context(), "s:1", wrongCode(k, clock.Now())), mfa.ErrLocked) {
						locked++
					}
				}
				if locked == 0 {
					t.Fatalf("AttemptWindow %v: 20 wrong codes in a row, none refused as locked", w)
				}
			})
		}
	}
}
