package mfa_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// countingFactors counts reads of the app's storage.
type countingFactors struct {
	mfa.MemoryFactors
	gets atomic.Int64
}

func (f *countingFactors) Get(ctx context.Context, subject string) ([]byte, error) {
	f.gets.Add(1)
	return f.MemoryFactors.Get(ctx, subject)
}

// TestMalformedCodeBeforeLookup: docs/errors.md and ErrMalformedCode
// promise that a code that is not a code is refused before any lookup.
// Verify and ConfirmEnroll read and opened the subject's factors first,
// so a malformed code cost a storage read and an AES-GCM open, and for an
// account without TOTP answered not_enrolled instead of malformed_code:
// enrolment told apart without a well-formed code or a counted attempt.
func TestMalformedCodeBeforeLookup(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.enrol(t, "s:1")
		f := new(countingFactors)
		blob, _ := e.factors.Get(ctx, "s:1")
		if seeded, _ := f.CompareAndSwap(ctx, "s:1", nil, blob); !seeded {
			t.Fatal("seeding the factors")
		}
		fault := storefault.Wrap(e.st)
		cfg := e.cfg
		cfg.Factors, cfg.Store = f, fault
		m, err := mfa.New(cfg)
		ok(t, "New", err)
		for _, subject := range []string{"s:1", "s:2"} {
			for _, code := range []string{"", "12a456", "1234567", "123456789", "12345"} {
				f.gets.Store(0)
				calls := fault.Calls()
				is(t, "Verify "+subject+" "+code, m.Verify(ctx, subject, code), mfa.ErrMalformedCode)
				is(t, "ConfirmEnroll "+subject+" "+code, m.ConfirmEnroll(ctx, subject, code), mfa.ErrMalformedCode)
				is(t, "UseRecoveryCode "+subject+" "+code, m.UseRecoveryCode(ctx, subject, code), mfa.ErrMalformedCode)
				if n, c := f.gets.Load(), fault.Calls()-calls; n != 0 || c != 0 {
					t.Fatalf("%s, code %q: %d reads of the factors, %d store calls before refusing it", subject, code, n, c)
				}
			}
		}
	})
}

// TestCodeOfAnInvalidKey: TOTPKey.Code is public and its fields are the
// caller's: digits over 8 indexed past pow10, a period under a second
// divided by zero. It answers "" for a key that is not valid, never a
// panic.
func TestCodeOfAnInvalidKey(t *testing.T) {
	secret := make([]byte, mfa.MinSecretSize)
	for _, k := range []mfa.TOTPKey{
		{Secret: secret, Digits: 9}, {Secret: secret, Digits: 10}, {Secret: secret, Digits: -1},
		{Secret: secret, Period: 500 * time.Millisecond}, {Secret: secret, Period: -time.Second},
		{Secret: secret, Algorithm: 9}, {Secret: secret[:10]},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Code of %+v panicked: %v", k, r)
				}
			}()
			if c := k.Code(start); c != "" {
				t.Fatalf("Code of %+v: %q, want \"\"", k, c)
			}
		}()
	}
	if c := (mfa.TOTPKey{Secret: secret}).Code(start); len(c) != 6 {
		t.Fatalf("Code of a valid key: %q", c)
	}
}
