package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	qr "github.com/piglig/go-qr"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// start is the first instant of a 30-second step, so that a test knows
// how far the clock may move within one.
var start = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

var (
	key1 = mfa.SealingKey{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}
	key2 = mfa.SealingKey{ID: "k2", Secret: bytes.Repeat([]byte{2}, 32)}
)

func keyring(t testing.TB, current mfa.SealingKey, old ...mfa.SealingKey) *mfa.Keyring {
	t.Helper()
	k, err := mfa.NewKeyring(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type env struct {
	m       *mfa.Manager
	clock   *fakeclock.Clock
	factors *mfa.MemoryFactors
	st      store.Store
	cfg     mfa.Config
}

func newEnv(t testing.TB, st store.Store, clock *fakeclock.Clock, edit func(*mfa.Config)) *env {
	t.Helper()
	e := &env{clock: clock, factors: new(mfa.MemoryFactors), st: st}
	e.cfg = mfa.Config{Store: st, Factors: e.factors, Keyring: keyring(t, key1), Issuer: "Gatehouse", Now: clock.Now}
	if edit != nil {
		edit(&e.cfg)
	}
	m, err := mfa.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

// eachStore runs f on memory, Redis and Redis Cluster, with a fake clock
// shared by the store and the manager.
func eachStore(t *testing.T, edit func(*mfa.Config), f func(t *testing.T, e *env)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(start)
			f(t, newEnv(t, sf.Open(t, clock.Now), clock, edit))
		})
	}
}

// enrol enrols subject and confirms it one step later, so that the
// current step is free for the test; it returns the key.
func (e *env) enrol(t testing.TB, subject string) mfa.TOTPKey {
	t.Helper()
	ctx := context.Background()
	en, err := e.m.Enroll(ctx, subject, subject+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	k, err := mfa.ParseKeyURI(en.URI)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.ConfirmEnroll(ctx, subject, k.Code(e.clock.Now())); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	return k
}

func is(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func ok(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestEnrollFlow: enrolment gives a 160-bit secret, its URI and a QR code
// that decodes to the URI; nothing verifies until a first code confirms
// it; the confirming code is then spent; a second enrolment is refused.
func TestEnrollFlow(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		en, err := e.m.Enroll(ctx, "s:1", "alice@example.com")
		ok(t, "Enroll", err)
		k, err := mfa.ParseKeyURI(en.URI)
		ok(t, "ParseKeyURI", err)
		if len(k.Secret) != 20 || k.Issuer != "Gatehouse" || k.Account != "alice@example.com" || k.Algorithm != mfa.SHA1 || k.Digits != 6 || k.Period != 30*time.Second {
			t.Fatalf("key %+v", k)
		}
		if !strings.HasPrefix(en.URI, "otpauth://totp/Gatehouse:alice@example.com?") || strings.Contains(en.Secret, "=") {
			t.Fatalf("URI %q, secret %q", en.URI, en.Secret)
		}
		img, err := png.Decode(bytes.NewReader(en.QRPNG))
		ok(t, "png.Decode", err)
		if text, err := qr.Decode(img); err != nil || text != en.URI {
			t.Fatalf("the QR code reads %q, %v; want the URI", text, err)
		}
		code := k.Code(e.clock.Now())
		is(t, "Verify before confirming", e.m.Verify(ctx, "s:1", code), mfa.ErrNotEnrolled)
		if st, err := e.m.Enrolled(ctx, "s:1"); err != nil || st.TOTP || !st.Pending {
			t.Fatalf("status while pending: %+v, %v", st, err)
		}
		wrong := "000000"
		if wrong == code {
			wrong = "111111"
		}
		is(t, "a wrong confirming code", e.m.ConfirmEnroll(ctx, "s:1", wrong), mfa.ErrInvalidCode)
		ok(t, "ConfirmEnroll", e.m.ConfirmEnroll(ctx, "s:1", code))
		if st, err := e.m.Enrolled(ctx, "s:1"); err != nil || !st.TOTP || st.Pending {
			t.Fatalf("status once confirmed: %+v, %v", st, err)
		}
		is(t, "the confirming code again", e.m.Verify(ctx, "s:1", code), mfa.ErrCodeReused)
		_, err = e.m.Enroll(ctx, "s:1", "alice@example.com")
		is(t, "a second enrolment", err, mfa.ErrAlreadyEnrolled)
		e.clock.Advance(30 * time.Second)
		ok(t, "the next step's code", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())))
		ok(t, "RemoveTOTP", e.m.RemoveTOTP(ctx, "s:1"))
		is(t, "Verify after RemoveTOTP", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())), mfa.ErrNotEnrolled)
	})
}

// TestEnrollExpires: a pending enrolment not confirmed within EnrollFor
// is gone; a new Enroll replaces a pending one, whose codes then fail.
func TestEnrollExpires(t *testing.T) {
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil)
	ctx := t.Context()
	en, err := e.m.Enroll(ctx, "s:1", "alice")
	ok(t, "Enroll", err)
	k, _ := mfa.ParseKeyURI(en.URI)
	clock.Advance(10 * time.Minute)
	is(t, "confirming after EnrollFor", e.m.ConfirmEnroll(ctx, "s:1", k.Code(clock.Now())), mfa.ErrNotEnrolled)
	en2, err := e.m.Enroll(ctx, "s:1", "alice")
	ok(t, "Enroll again", err)
	k2, _ := mfa.ParseKeyURI(en2.URI)
	if bytes.Equal(k.Secret, k2.Secret) {
		t.Fatal("a new enrolment reused the secret")
	}
	if k.Code(clock.Now()) != k2.Code(clock.Now()) {
		is(t, "the replaced key's code", e.m.ConfirmEnroll(ctx, "s:1", k.Code(clock.Now())), mfa.ErrInvalidCode)
	}
	ok(t, "ConfirmEnroll", e.m.ConfirmEnroll(ctx, "s:1", k2.Code(clock.Now())))
}

// TestCodeAcceptedOnce (devise-two-factor CVE-2015-7225, CVE-2021-43177):
// a code that passed is refused for the rest of its step and its drift
// window, and so is every code of an earlier step: a code seen over a
// shoulder, in a log or by a phishing proxy cannot be replayed.
func TestCodeAcceptedOnce(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		now := e.clock.Now()
		code := k.Code(now)
		ok(t, "first use", e.m.Verify(ctx, "s:1", code))
		is(t, "replay at once", e.m.Verify(ctx, "s:1", code), mfa.ErrCodeReused)
		e.clock.Advance(29 * time.Second)
		is(t, "replay within the step", e.m.Verify(ctx, "s:1", code), mfa.ErrCodeReused)
		e.clock.Advance(30 * time.Second) // the next step: code is now one step old, within drift
		is(t, "replay within drift", e.m.Verify(ctx, "s:1", code), mfa.ErrCodeReused)
		if p := problem.Of(e.m.Verify(ctx, "s:1", code)); p.Status != 401 || p.Code != "code_reused" {
			t.Fatalf("problem %+v", p)
		}
		// The step after the one used is fresh.
		ok(t, "the next step's code", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())))
	})
}

// TestEarlierStepRefused: once a step is used (here the next one, within
// drift), a code of that step or any earlier one is refused even though
// it is within drift: steps only go up.
func TestEarlierStepRefused(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		now := e.clock.Now()
		ok(t, "the next step's code", e.m.Verify(ctx, "s:1", k.Code(now.Add(30*time.Second))))
		for _, d := range []time.Duration{0, -30 * time.Second} {
			if c := k.Code(now.Add(d)); c != k.Code(now.Add(30*time.Second)) {
				is(t, "a code of an earlier step after a later one", e.m.Verify(ctx, "s:1", c), mfa.ErrCodeReused)
			}
		}
	})
}

// TestDrift: codes of one step either side pass; two steps away do not.
func TestDrift(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		want error
	}{
		{"two steps back", -60 * time.Second, mfa.ErrInvalidCode},
		{"one step back", -30 * time.Second, nil},
		{"now", 0, nil},
		{"one step ahead", 30 * time.Second, nil},
		{"two steps ahead", 60 * time.Second, mfa.ErrInvalidCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(start)
			e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil)
			k := e.enrol(t, "s:1")
			clock.Advance(30 * time.Second) // the step before now is free too
			now := clock.Now()
			code := k.Code(now.Add(tc.d))
			for d := -30 * time.Second; d <= 30*time.Second; d += 30 * time.Second {
				if tc.want != nil && k.Code(now.Add(d)) == code {
					t.Skip("the code collides with one inside the window")
				}
			}
			if err := e.m.Verify(t.Context(), "s:1", code); !errors.Is(err, tc.want) && err != tc.want {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestConcurrentSameCode: 100 goroutines submit one valid code at once;
// exactly one passes, the others are told it was used. The attempt
// limit is raised so that every one of them reaches the burn.
func TestConcurrentSameCode(t *testing.T) {
	eachStore(t, func(c *mfa.Config) { c.MaxAttempts, c.DailyAttempts = 1000, 1000 }, func(t *testing.T, e *env) {
		k := e.enrol(t, "s:1")
		code := k.Code(e.clock.Now())
		errs := run(100, func(int) error { return e.m.Verify(context.Background(), "s:1", code) })
		passed, reused := count(errs, nil), count(errs, mfa.ErrCodeReused)
		if passed != 1 || reused != 99 {
			t.Fatalf("%d passed, %d reused of 100; want 1 and 99 (%v)", passed, reused, errs)
		}
	})
}

// TestConcurrentStepsOnlyGoUp: codes of the previous, current and next
// step, 30 of each, at once: each step passes at most once, and at least
// the highest one passes unless a later step beat it.
func TestConcurrentStepsOnlyGoUp(t *testing.T) {
	eachStore(t, func(c *mfa.Config) { c.MaxAttempts, c.DailyAttempts = 1000, 1000 }, func(t *testing.T, e *env) {
		k := e.enrol(t, "s:1")
		e.clock.Advance(30 * time.Second) // the previous step is free too
		now := e.clock.Now()
		codes := []string{k.Code(now.Add(-30 * time.Second)), k.Code(now), k.Code(now.Add(30 * time.Second))}
		if codes[0] == codes[1] || codes[1] == codes[2] || codes[0] == codes[2] {
			t.Skip("two steps share a code")
		}
		passed := make([]int, 3)
		var mu sync.Mutex
		run(90, func(i int) error {
			err := e.m.Verify(context.Background(), "s:1", codes[i%3])
			if err == nil {
				mu.Lock()
				passed[i%3]++
				mu.Unlock()
			} else if !errors.Is(err, mfa.ErrCodeReused) {
				t.Errorf("step %d: %v", i%3-1, err)
			}
			return err
		})
		if passed[0] > 1 || passed[1] > 1 || passed[2] != 1 {
			t.Fatalf("passes per step (previous, current, next): %v; want at most one each and the next once", passed)
		}
	})
}

func run(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			errs[i] = f(i)
		}()
	}
	close(gate)
	wg.Wait()
	return errs
}

func count(errs []error, target error) int {
	n := 0
	for _, err := range errs {
		if err == target || target != nil && errors.Is(err, target) {
			n++
		}
	}
	return n
}

// wrongCode returns a well-formed code that is none of k's within drift.
func wrongCode(k mfa.TOTPKey, now time.Time) string {
	for _, c := range []string{"000000", "111111", "222222"} {
		if c != k.Code(now.Add(-30*time.Second)) && c != k.Code(now) && c != k.Code(now.Add(30*time.Second)) {
			return c
		}
	}
	panic("unreachable")
}

// TestAttemptLimit (CVE-2024-0227, Keycloak #46164): the second factor has
// its own limit per account. After MaxAttempts wrong codes even the right
// one is refused with 403 mfa_locked until the window ends; malformed
// codes are not counted; a right code clears the count.
func TestAttemptLimit(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		lockStart := e.clock.Now()
		for i := range 5 {
			is(t, "wrong code", e.m.Verify(ctx, "s:1", wrongCode(k, e.clock.Now())), mfa.ErrInvalidCode)
			is(t, "malformed code", e.m.Verify(ctx, "s:1", "12a456"), mfa.ErrMalformedCode)
			_ = i
		}
		err := e.m.Verify(ctx, "s:1", k.Code(e.clock.Now()))
		var le *mfa.LockedError
		if !errors.As(err, &le) || !errors.Is(err, mfa.ErrLocked) || !le.Until.Equal(lockStart.Add(15*time.Minute)) {
			t.Fatalf("the right code after 5 wrong ones: %v, want *LockedError until +15m", err)
		}
		if p := problem.Of(err); p.Status != 403 || p.Code != "mfa_locked" || p.Until.IsZero() {
			t.Fatalf("problem %+v", p)
		}
		if err := e.m.Verify(ctx, "s:2", "123456"); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Fatalf("another account: %v", err)
		}
		e.clock.Advance(15 * time.Minute)
		ok(t, "the right code after the lock", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())))
		// The pass cleared the count: four wrong codes and a right one, again and again.
		for range 3 {
			e.clock.Advance(30 * time.Second)
			for range 4 {
				is(t, "wrong code", e.m.Verify(ctx, "s:1", wrongCode(k, e.clock.Now())), mfa.ErrInvalidCode)
			}
			ok(t, "a right code after four wrong ones", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())))
		}
	})
}

// TestDailyAttemptLimit: waiting out each short lock buys no more than
// DailyAttempts guesses a day.
func TestDailyAttemptLimit(t *testing.T) {
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil)
	ctx := t.Context()
	k := e.enrol(t, "s:1")
	dayStart := clock.Now()
	for range 4 {
		for range 5 {
			is(t, "wrong code", e.m.Verify(ctx, "s:1", wrongCode(k, clock.Now())), mfa.ErrInvalidCode)
		}
		clock.Advance(15 * time.Minute)
	}
	var le *mfa.LockedError
	if err := e.m.Verify(ctx, "s:1", k.Code(clock.Now())); !errors.As(err, &le) || !le.Until.Equal(dayStart.Add(24*time.Hour)) {
		t.Fatalf("the 21st attempt of the day: %v, want locked until +24h", err)
	}
}

// TestConcurrentGuessesBounded: 50 wrong codes at once check no more
// than MaxAttempts of them; the rest are refused as locked.
func TestConcurrentGuessesBounded(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		k := e.enrol(t, "s:1")
		wrong := wrongCode(k, e.clock.Now())
		errs := run(50, func(int) error { return e.m.Verify(context.Background(), "s:1", wrong) })
		if n, l := count(errs, mfa.ErrInvalidCode), count(errs, mfa.ErrLocked); n != 5 || l != 45 {
			t.Fatalf("%d checked, %d locked of 50; want 5 and 45", n, l)
		}
	})
}

var codeShape = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

// TestRecoveryCodes: ten codes in four groups of four, all different;
// each works once; a new set replaces the old one at once.
func TestRecoveryCodes(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		codes, err := e.m.RecoveryCodes(ctx, "s:1")
		ok(t, "RecoveryCodes", err)
		seen := map[string]bool{}
		for _, c := range codes {
			if !codeShape.MatchString(c) || seen[c] {
				t.Fatalf("codes %q: want ten distinct XXXX-XXXX-XXXX-XXXX", codes)
			}
			seen[c] = true
		}
		if len(codes) != mfa.RecoveryCodeCount || mfa.RecoveryCodeCount != 10 {
			t.Fatalf("%d codes", len(codes))
		}
		ok(t, "a code, typed in lower case without hyphens", e.m.UseRecoveryCode(ctx, "s:1", strings.ToLower(strings.ReplaceAll(codes[0], "-", ""))))
		is(t, "the same code again", e.m.UseRecoveryCode(ctx, "s:1", codes[0]), mfa.ErrInvalidCode)
		if st, err := e.m.Enrolled(ctx, "s:1"); err != nil || st.RecoveryCodes != 9 {
			t.Fatalf("status %+v, %v; want 9 codes left", st, err)
		}
		is(t, "another subject's code", e.m.UseRecoveryCode(ctx, "s:2", codes[1]), mfa.ErrInvalidCode)
		fresh, err := e.m.RecoveryCodes(ctx, "s:1")
		ok(t, "RecoveryCodes again", err)
		is(t, "an old code after regenerating", e.m.UseRecoveryCode(ctx, "s:1", codes[1]), mfa.ErrInvalidCode)
		ok(t, "a new code", e.m.UseRecoveryCode(ctx, "s:1", fresh[9]))
		if p := problem.Of(e.m.UseRecoveryCode(ctx, "s:1", "nope")); p.Status != 400 || p.Code != "malformed_code" || p.Field != "code" {
			t.Fatalf("malformed: %+v", p)
		}
	})
}

// TestAnyStringIsNotARecoveryCode (authboss #351 accepted any string): no
// string passes for an account without codes, nor a well-formed one that
// is not among them, nor the empty string.
func TestAnyStringIsNotARecoveryCode(t *testing.T) {
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, func(c *mfa.Config) { c.MaxAttempts, c.DailyAttempts = 100, 100 })
	ctx := t.Context()
	for _, c := range []string{"", " ", "AAAA-AAAA-AAAA-AAAA", "0000-0000-0000-0000", "password", "null"} {
		if err := e.m.UseRecoveryCode(ctx, "s:1", c); err == nil {
			t.Fatalf("%q passed for an account with no codes", c)
		}
	}
	codes, err := e.m.RecoveryCodes(ctx, "s:1")
	ok(t, "RecoveryCodes", err)
	for _, c := range []string{"", "AAAA-AAAA-AAAA-AAAA", codes[0][:14], codes[0] + "0"} {
		if err := e.m.UseRecoveryCode(ctx, "s:1", c); err == nil {
			t.Fatalf("%q passed", c)
		}
	}
}

// TestWrongRecoveryCodeCounts: wrong recovery codes count toward the same
// limit as TOTP codes, so switching factors buys no more guesses.
func TestWrongRecoveryCodeCounts(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.enrol(t, "s:1")
		codes, err := e.m.RecoveryCodes(ctx, "s:1")
		ok(t, "RecoveryCodes", err)
		for range 3 {
			is(t, "a wrong recovery code", e.m.UseRecoveryCode(ctx, "s:1", "AAAA-AAAA-AAAA-AAAA"), mfa.ErrInvalidCode)
		}
		for range 2 {
			is(t, "a wrong TOTP code", e.m.Verify(ctx, "s:1", wrongCode(k, e.clock.Now())), mfa.ErrInvalidCode)
		}
		is(t, "a right recovery code after five wrong codes", e.m.UseRecoveryCode(ctx, "s:1", codes[0]), mfa.ErrLocked)
		is(t, "a right TOTP code after five wrong codes", e.m.Verify(ctx, "s:1", k.Code(e.clock.Now())), mfa.ErrLocked)
	})
}

// TestRecoveryCodeConcurrent: 1000 redemptions of one code at once:
// exactly one passes. The attempt limit is raised so that all of them
// reach the compare-and-swap.
func TestRecoveryCodeConcurrent(t *testing.T) {
	eachStore(t, func(c *mfa.Config) { c.MaxAttempts, c.DailyAttempts = 5000, 5000 }, func(t *testing.T, e *env) {
		codes, err := e.m.RecoveryCodes(t.Context(), "s:1")
		ok(t, "RecoveryCodes", err)
		errs := run(1000, func(int) error { return e.m.UseRecoveryCode(context.Background(), "s:1", codes[3]) })
		if p, inv := count(errs, nil), count(errs, mfa.ErrInvalidCode); p != 1 || inv != 999 {
			t.Fatalf("%d passed, %d invalid of 1000; want 1 and 999", p, inv)
		}
		// Ten different codes at once: each passes once, none is lost.
		errs = run(90, func(i int) error { return e.m.UseRecoveryCode(context.Background(), "s:1", codes[i%10]) })
		if p := count(errs, nil); p != 9 {
			t.Fatalf("%d of the nine codes left passed", p)
		}
		if st, _ := e.m.Enrolled(t.Context(), "s:1"); st.RecoveryCodes != 0 {
			t.Fatalf("%d codes left", st.RecoveryCodes)
		}
	})
}

// TestStoreDownFailsClosed: with the store down no code passes, and the
// error is the store's (503), never a pass or a panic.
func TestStoreDownFailsClosed(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		k := e.enrol(t, "s:1")
		codes, err := e.m.RecoveryCodes(t.Context(), "s:1")
		ok(t, "RecoveryCodes", err)
		fault := storefault.Wrap(e.st)
		cfg := e.cfg
		cfg.Store = fault
		m, err := mfa.New(cfg)
		ok(t, "New", err)
		fault.SetDown(true)
		is(t, "Verify", m.Verify(t.Context(), "s:1", k.Code(e.clock.Now())), store.ErrUnavailable)
		is(t, "UseRecoveryCode", m.UseRecoveryCode(t.Context(), "s:1", codes[0]), store.ErrUnavailable)
		fault.SetDown(false)
		ok(t, "Verify once the store is back", m.Verify(t.Context(), "s:1", k.Code(e.clock.Now())))
	})
}

// TestSealedAtRest: the app's storage holds neither the secret nor the
// recovery codes in the clear; a blob moved to another subject does not
// open, nor one whose byte changed.
func TestSealedAtRest(t *testing.T) {
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil)
	ctx := t.Context()
	k := e.enrol(t, "s:1")
	codes, err := e.m.RecoveryCodes(ctx, "s:1")
	ok(t, "RecoveryCodes", err)
	blob, _ := e.factors.Get(ctx, "s:1")
	for _, secret := range [][]byte{k.Secret, []byte(strings.TrimRight(k.URI(), "")), []byte(codes[0]), []byte(strings.ReplaceAll(codes[0], "-", ""))} {
		if bytes.Contains(blob, secret) {
			t.Fatalf("the stored blob holds %q", secret)
		}
	}
	if id, err := mfa.KeyID(blob); err != nil || id != "k1" {
		t.Fatalf("KeyID: %q, %v", id, err)
	}
	moved, _ := e.factors.CompareAndSwap(ctx, "s:2", nil, blob)
	if !moved {
		t.Fatal("could not plant the blob")
	}
	is(t, "another subject's blob", e.m.Verify(ctx, "s:2", k.Code(clock.Now())), mfa.ErrUnsealed)
	bad := bytes.Clone(blob)
	bad[len(bad)-1] ^= 1
	if swapped, _ := e.factors.CompareAndSwap(ctx, "s:1", blob, bad); !swapped {
		t.Fatal("could not tamper")
	}
	is(t, "a tampered blob", e.m.Verify(ctx, "s:1", k.Code(clock.Now())), mfa.ErrUnsealed)
	if p := problem.Of(e.m.Verify(ctx, "s:1", k.Code(clock.Now()))); p.Status != 500 {
		t.Fatalf("a blob that does not open: %+v, want 500 internal", p)
	}
}

// TestKeyRotation: the steps of Keyring's doc. Factors sealed under k1
// open with a ring whose current key is k2; Rekey reseals them; then the
// ring without k1 opens them, and a ring with only k1 no longer does.
func TestKeyRotation(t *testing.T) {
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil)
	ctx := t.Context()
	k := e.enrol(t, "s:1")
	with := func(ring *mfa.Keyring) *mfa.Manager {
		cfg := e.cfg
		cfg.Keyring = ring
		m, err := mfa.New(cfg)
		ok(t, "New", err)
		return m
	}
	both := with(keyring(t, key2, key1))
	ok(t, "Verify with k2 current, k1 old", both.Verify(ctx, "s:1", k.Code(clock.Now())))
	if wrote, err := both.Rekey(ctx, "s:1"); err != nil || !wrote {
		t.Fatalf("Rekey: %v, %v", wrote, err)
	}
	if wrote, err := both.Rekey(ctx, "s:1"); err != nil || wrote {
		t.Fatalf("Rekey again: %v, %v; want nothing to do", wrote, err)
	}
	blob, _ := e.factors.Get(ctx, "s:1")
	if id, _ := mfa.KeyID(blob); id != "k2" {
		t.Fatalf("key ID after Rekey: %q", id)
	}
	clock.Advance(30 * time.Second)
	ok(t, "Verify with k2 alone", with(keyring(t, key2)).Verify(ctx, "s:1", k.Code(clock.Now())))
	is(t, "Verify with k1 alone", with(keyring(t, key1)).Verify(ctx, "s:1", k.Code(clock.Now())), mfa.ErrUnsealed)
	if wrote, err := both.Rekey(ctx, "s:9"); err != nil || wrote {
		t.Fatalf("Rekey of a subject without factors: %v, %v", wrote, err)
	}
}

// TestRemove: Remove deletes every factor; the storage row is gone.
func TestRemove(t *testing.T) {
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil)
	ctx := t.Context()
	k := e.enrol(t, "s:1")
	codes, _ := e.m.RecoveryCodes(ctx, "s:1")
	ok(t, "Remove", e.m.Remove(ctx, "s:1"))
	if e.factors.Len() != 0 {
		t.Fatal("Remove left a blob")
	}
	is(t, "Verify", e.m.Verify(ctx, "s:1", k.Code(clock.Now())), mfa.ErrNotEnrolled)
	is(t, "UseRecoveryCode", e.m.UseRecoveryCode(ctx, "s:1", codes[0]), mfa.ErrInvalidCode)
	ok(t, "Remove again", e.m.Remove(ctx, "s:1"))
}

// TestConfig: New refuses a config that is missing a part or unsafe
// (CVE-2024-8796: a secret under 160 bits), and fills defaults.
func TestConfig(t *testing.T) {
	clock := fakeclock.New(start)
	st := teststores.All()[0].Open(t, clock.Now)
	good := mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: keyring(t, key1), Issuer: "Gatehouse"}
	for _, tc := range []struct {
		name string
		edit func(*mfa.Config)
	}{
		{"no store", func(c *mfa.Config) { c.Store = nil }},
		{"no factors", func(c *mfa.Config) { c.Factors = nil }},
		{"no keyring", func(c *mfa.Config) { c.Keyring = nil }},
		{"a zero keyring", func(c *mfa.Config) { c.Keyring = new(mfa.Keyring) }},
		{"no issuer", func(c *mfa.Config) { c.Issuer = "" }},
		{"issuer with a colon", func(c *mfa.Config) { c.Issuer = "a:b" }},
		{"120-bit secrets", func(c *mfa.Config) { c.SecretSize = 15 }},
		{"7 digits", func(c *mfa.Config) { c.Digits = 7 }},
		{"a period of 1.5s", func(c *mfa.Config) { c.Period = 1500 * time.Millisecond }},
		{"an algorithm that is none", func(c *mfa.Config) { c.Algorithm = 9 }},
		{"more attempts a window than a day", func(c *mfa.Config) { c.MaxAttempts, c.DailyAttempts = 30, 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			if _, err := mfa.New(c); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	for _, alg := range []mfa.Algorithm{mfa.SHA256, mfa.SHA512} {
		c := good
		c.Algorithm, c.Now = alg, clock.Now
		m, err := mfa.New(c)
		ok(t, "New "+alg.String(), err)
		en, err := m.Enroll(t.Context(), "s:"+alg.String(), "alice")
		ok(t, "Enroll", err)
		k, err := mfa.ParseKeyURI(en.URI)
		ok(t, "ParseKeyURI", err)
		if want := map[mfa.Algorithm]int{mfa.SHA256: 32, mfa.SHA512: 64}[alg]; k.Algorithm != alg || len(k.Secret) != want {
			t.Fatalf("%s: key %v with a %d-byte secret, want %d", alg, k.Algorithm, len(k.Secret), want)
		}
		ok(t, "ConfirmEnroll", m.ConfirmEnroll(t.Context(), "s:"+alg.String(), k.Code(clock.Now())))
	}
}
