package mfa_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
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

// TestClearAttempts: the per-account limit lets whoever reaches the
// second step (someone holding the password) lock the account's owner out
// of every factor, recovery codes too, for up to a day, renewable; the
// owner's right code cannot clear it while locked. The app needs a way to
// lift the lock once it has dealt with the password (a reset, support).
func TestClearAttempts(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		codes, err := e.m.RecoveryCodes(ctx, "s:1")
		ok(t, "RecoveryCodes", err)
		for range 5 { // a stranger with the password
			is(t, "wrong code", e.m.Verify(ctx, "s:1", wrongCode(k, e.clock.Now())), mfa.ErrInvalidCode)
		}
		is(t, "the owner's right code", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())), mfa.ErrLocked)
		is(t, "the owner's recovery code", e.m.UseRecoveryCode(ctx, "s:1", codes[0]), mfa.ErrLocked)
		ok(t, "ClearAttempts", e.m.ClearAttempts(ctx, "s:1"))
		ok(t, "the owner's right code after ClearAttempts", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())))
	})
}

// TestStepsOnlyGoUpUnderClockSkew: two instances whose clocks are one
// period apart share a store. The fast one accepts the code of its
// current step n+1; the slow one, at n, must then refuse the code of step
// n-1, which a burn from the fast one's now-drift (steps n to n+1) never
// touched: the burn reaches 2·drift steps below the accepted one.
func TestStepsOnlyGoUpUnderClockSkew(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		e.clock.Advance(60 * time.Second) // steps n-1 .. n+1 are untouched
		cfg := e.cfg
		cfg.Now = func() time.Time { return e.clock.Now().Add(30 * time.Second) }
		fast, err := mfa.New(cfg)
		ok(t, "New", err)
		now := e.clock.Now()
		early, late := k.Code(now.Add(-30*time.Second)), k.Code(now.Add(30*time.Second))
		if early == late || early == k.Code(now) {
			t.Skip("steps share a code")
		}
		ok(t, "the fast instance, its current step's code", fast.Verify(ctx, "s:1", late))
		is(t, "the slow instance, the code of two steps earlier", e.m.Verify(ctx, "s:1", early), mfa.ErrCodeReused)
	})
}

// TestSameCodeOnceUnderClockSkew: what does hold with instances up to two
// periods apart: one code passes once, whichever instance sees it first.
func TestSameCodeOnceUnderClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{30 * time.Second, 60 * time.Second} {
		eachStore(t, nil, func(t *testing.T, e *env) {
			ctx := t.Context()
			k := e.enrol(t, "s:1")
			e.clock.Advance(90 * time.Second)
			cfg := e.cfg
			cfg.Now = func() time.Time { return e.clock.Now().Add(skew) }
			fast, err := mfa.New(cfg)
			ok(t, "New", err)
			// A code both instances take: the slow one's next step, the
			// fast one's current or previous.
			code := k.Code(e.clock.Now().Add(30 * time.Second))
			ok(t, "the slow instance", e.m.Verify(ctx, "s:1", code))
			is(t, "the fast instance, the same code", fast.Verify(ctx, "s:1", code), mfa.ErrCodeReused)
			e.clock.Advance(skew)
			is(t, "the slow instance, the same code later", e.m.Verify(ctx, "s:1", code), mfa.ErrCodeReused)
		})
	}
}

// TestExtremeClockDoesNotHang: with a clock at the end of int64 Unix
// seconds and a period of 1s, the step loops' bound now+1 was
// math.MaxInt64, which s <= bound never leaves: Verify spun forever
// holding the request. It must return (any error) instead.
func TestExtremeClockDoesNotHang(t *testing.T) {
	clock := fakeclock.New(start)
	var extreme atomic.Bool
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, func(c *mfa.Config) {
		c.Period = time.Second
		c.Now = func() time.Time {
			if extreme.Load() {
				return time.Unix(math.MaxInt64-1, 0)
			}
			return clock.Now()
		}
	})
	en, err := e.m.Enroll(t.Context(), "s:1", "alice")
	ok(t, "Enroll", err)
	k, err := mfa.ParseKeyURI(en.URI)
	ok(t, "ParseKeyURI", err)
	ok(t, "ConfirmEnroll", e.m.ConfirmEnroll(t.Context(), "s:1", k.Code(clock.Now())))
	extreme.Store(true)
	for _, code := range []string{"000000", "123456", k.Code(time.Unix(math.MaxInt64-1, 0)), k.Code(time.Unix(math.MaxInt64, 0))} {
		done := make(chan error, 1)
		go func() { done <- e.m.Verify(context.Background(), "s:1", code) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Verify(%q) with the clock at Unix %d did not return", code, int64(math.MaxInt64-1))
		}
	}
}
