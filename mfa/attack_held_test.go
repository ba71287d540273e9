package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/mfa"
)

// laggyFactors follows the Factors contract for CompareAndSwap (atomic,
// compares bytes), but its Get serves, half the time, the blob before the
// current one, as a lagging read replica would.
type laggyFactors struct {
	mu        sync.Mutex
	cur, prev map[string][]byte
}

func (f *laggyFactors) Get(_ context.Context, subject string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.prev[subject]; ok && rand.IntN(2) == 0 {
		return bytes.Clone(p), nil
	}
	return bytes.Clone(f.cur[subject]), nil
}

func (f *laggyFactors) CompareAndSwap(_ context.Context, subject string, old, next []byte) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		f.cur, f.prev = map[string][]byte{}, map[string][]byte{}
	}
	cur, ok := f.cur[subject]
	if ok != (old != nil) || !bytes.Equal(cur, old) {
		return false, nil
	}
	if ok {
		f.prev[subject] = cur
	}
	if next == nil {
		delete(f.cur, subject)
	} else {
		f.cur[subject] = bytes.Clone(next)
	}
	return true, nil
}

// TestRecoveryCodeConcurrentLaggyReads: with reads that lag a write
// behind, 500 redemptions of one code at once still pass exactly once:
// the compare-and-swap, not the read, decides.
func TestRecoveryCodeConcurrentLaggyReads(t *testing.T) {
	eachStore(t, func(c *mfa.Config) {
		c.MaxAttempts, c.DailyAttempts = 5000, 5000
		c.Factors = new(laggyFactors)
	}, func(t *testing.T, e *env) {
		codes, err := e.m.RecoveryCodes(t.Context(), "s:1")
		ok(t, "RecoveryCodes", err)
		// A write, so that a stale read (the first set) exists.
		ok(t, "a first code", e.m.UseRecoveryCode(t.Context(), "s:1", codes[0]))
		errs := run(500, func(int) error { return e.m.UseRecoveryCode(context.Background(), "s:1", codes[5]) })
		if p, inv := count(errs, nil), count(errs, mfa.ErrInvalidCode); p != 1 || inv != 499 {
			t.Fatalf("%d passed, %d invalid of 500; want 1 and 499", p, inv)
		}
		is(t, "the first code again, read stale or not", e.m.UseRecoveryCode(t.Context(), "s:1", codes[0]), mfa.ErrInvalidCode)
	})
}

// TestRekeyRacesChecks: Rekey under a rotated ring, redemptions of one
// recovery code and TOTP checks, all at once: the code passes once, the
// other codes survive, one TOTP code passes once, and the blob ends
// sealed under the new key.
func TestRekeyRacesChecks(t *testing.T) {
	eachStore(t, func(c *mfa.Config) { c.MaxAttempts, c.DailyAttempts = 5000, 5000 }, func(t *testing.T, e *env) {
		k := e.enrol(t, "s:1")
		codes, err := e.m.RecoveryCodes(t.Context(), "s:1")
		ok(t, "RecoveryCodes", err)
		cfg := e.cfg
		cfg.Keyring = keyring(t, key2, key1)
		rotated, err := mfa.New(cfg)
		ok(t, "New", err)
		code := k.Code(e.clock.Now())
		var mu sync.Mutex
		var rec, totp int
		run(300, func(i int) error {
			var err error
			switch i % 3 {
			case 0:
				_, err = rotated.Rekey(context.Background(), "s:1")
			case 1:
				if err = rotated.UseRecoveryCode(context.Background(), "s:1", codes[2]); err == nil {
					mu.Lock()
					rec++
					mu.Unlock()
				}
			case 2:
				m := e.m // the old ring opens k1 blobs only: either answer is allowed, never two passes
				if i%2 == 0 {
					m = rotated
				}
				if err = m.Verify(context.Background(), "s:1", code); err == nil {
					mu.Lock()
					totp++
					mu.Unlock()
				}
			}
			if err != nil && !errors.Is(err, mfa.ErrInvalidCode) && !errors.Is(err, mfa.ErrCodeReused) && !errors.Is(err, mfa.ErrUnsealed) {
				t.Errorf("op %d: %v", i%3, err)
			}
			return err
		})
		if rec != 1 || totp > 1 {
			t.Fatalf("recovery code passed %d times, TOTP code %d; want 1 and at most 1", rec, totp)
		}
		if _, err := rotated.Rekey(t.Context(), "s:1"); err != nil {
			t.Fatal(err)
		}
		blob, _ := e.factors.Get(t.Context(), "s:1")
		if id, _ := mfa.KeyID(blob); id != "k2" {
			t.Fatalf("key ID %q after Rekey", id)
		}
		if st, err := rotated.Enrolled(t.Context(), "s:1"); err != nil || st.RecoveryCodes != 9 || !st.TOTP {
			t.Fatalf("status %+v, %v; want TOTP and 9 codes", st, err)
		}
		e.clock.Advance(30 * time.Second)
		ok(t, "the next step under k2", rotated.Verify(t.Context(), "s:1", k.Code(e.clock.Now())))
	})
}

// TestDailyLimitSurvivesOwnerLogins: DailyAttempts is meant to bound an
// attacker holding the password to 20 guesses a day. A right code clears
// both counts, so each time the owner logs in the attacker's day starts
// over: four guesses before each of the owner's logins, ten logins in an
// afternoon, make 40 guesses and never a lock.
func TestDailyLimitSurvivesOwnerLogins(t *testing.T) {
	t.Skip("finding: a right code clears the daily count too, so the owner's logins renew an attacker's daily guesses (docs/mfa.md, The attempt limit is a lever); clearing only the short window changes documented behaviour (TestAttemptLimit)")
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		guesses := 0
		for range 10 {
			for range 4 {
				if err := e.m.Verify(ctx, "s:1", wrongCode(k, e.clock.Now())); errors.Is(err, mfa.ErrInvalidCode) {
					guesses++
				}
			}
			ok(t, "the owner's login", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())))
			e.clock.Advance(30 * time.Minute)
		}
		if guesses > 20 {
			t.Fatalf("%d guesses checked in %v, DailyAttempts 20", guesses, 10*30*time.Minute)
		}
	})
}
