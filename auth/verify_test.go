package auth_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestVerificationIsSingleUse(t *testing.T) {
	f := newFixture(t, auth.Config{})
	v, err := f.a.IssueVerification(ctx, "343")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.ID, "vid_") || len(v.ID) != 52 || len(v.Value) != 43 {
		t.Fatalf("verification %+v: wrong shape", v)
	}
	if strings.Contains(v.ID, v.Value) {
		t.Fatal("the id carries the value")
	}
	if want := f.clock.Now().Add(24 * time.Hour); !v.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", v.ExpiresAt, want)
	}
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if sub, err := f.a.RedeemVerification(ctx, v.ID, v.Value); err == nil && sub == "343" {
				wins.Add(1)
			} else if !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("losing redemption: %v, want ErrInvalid", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d redemptions succeeded; want exactly 1", wins.Load())
	}
}

func TestVerificationWrongHalvesSpendNothing(t *testing.T) {
	f := newFixture(t, auth.Config{})
	v, _ := f.a.IssueVerification(ctx, "343")
	other, _ := f.a.IssueVerification(ctx, "343")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	before := f.store.Calls()
	for _, tc := range []struct {
		name      string
		id, value string
		want      error
	}{
		{"no id", "", v.Value, tokens.ErrMissing},
		{"no value", v.ID, "", tokens.ErrMissing},
		{"another verification's value", v.ID, other.Value, tokens.ErrInvalid},
		{"value with one character changed", v.ID, flip(v.Value, 10), tokens.ErrInvalid},
		{"id with one character changed", flip(v.ID, 20), v.Value, tokens.ErrInvalid},
		{"halves swapped", v.Value, v.ID, tokens.ErrMalformed},
		{"id of the wrong prefix", "xid_" + v.ID[4:], v.Value, tokens.ErrMalformed},
		{"id too short", v.ID[:51], v.Value, tokens.ErrMalformed},
		{"value too long", v.ID, v.Value + "A", tokens.ErrMalformed},
		{"value not base64url", v.ID, "+" + v.Value[1:], tokens.ErrMalformed},
		{"id hash not base64url", v.ID[:51] + "!", v.Value, tokens.ErrMalformed},
		{"id hash non-canonical", v.ID[:51] + "B", v.Value, tokens.ErrMalformed},
		{"id tag not a tag", v.ID[:4] + "AAAA" + v.ID[8:], v.Value, tokens.ErrMalformed},
		{"a whole token as value", v.ID, "ghv_abcd_" + v.Value, tokens.ErrMalformed},
	} {
		if _, err := f.a.RedeemVerification(ctx, tc.id, tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := f.store.Calls() - before; n != 0 {
		t.Errorf("%d store calls for halves that do not match, want 0", n)
	}
	for _, w := range []auth.Verification{v, other} {
		if sub, err := f.a.RedeemVerification(ctx, w.ID, w.Value); err != nil || sub != "343" {
			t.Fatalf("after the wrong attempts: %q, %v", sub, err)
		}
	}
}

func TestVerificationExpires(t *testing.T) {
	f := newFixture(t, auth.Config{})
	v, _ := f.a.IssueVerification(ctx, "343")
	f.clock.Advance(24*time.Hour - time.Second)
	w, _ := f.a.IssueVerification(ctx, "343")
	f.clock.Advance(time.Second)
	if _, err := f.a.RedeemVerification(ctx, v.ID, v.Value); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("after 24 hours: %v, want ErrInvalid", err)
	}
	if _, err := f.a.RedeemVerification(ctx, w.ID, w.Value); err != nil {
		t.Fatalf("a newer one: %v", err)
	}
}

func TestVerificationLifetimeIsConfigurable(t *testing.T) {
	env := testfix.New(t, tokens.Config{VerificationTTL: 2 * time.Hour})
	f := newFixture(t, auth.Config{})
	a, err := auth.New(auth.Config{Users: f.users, Tokens: env.Tokens, Counters: env.Store, Hasher: f.hasher, Now: env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := a.IssueVerification(ctx, "343")
	if want := env.Clock.Now().Add(2 * time.Hour); !v.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", v.ExpiresAt, want)
	}
	env.Clock.Advance(2 * time.Hour)
	if _, err := a.RedeemVerification(ctx, v.ID, v.Value); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("after 2 hours: %v, want ErrInvalid", err)
	}
}

func TestVerificationIsNotAnotherKind(t *testing.T) {
	mail := &authtest.Outbox{}
	f := newFixture(t, auth.Config{Mailer: mail})
	v, _ := f.a.IssueVerification(ctx, "343")
	// The id is not a token of any kind, and the value alone is no token.
	if k := tokens.KindOf(v.ID); k != 0 {
		t.Errorf("the id reads as a %s token", k)
	}
	if _, err := f.a.ConfirmEmail(ctx, v.Value); err == nil {
		t.Error("the value alone confirmed an email")
	}
	// A reset token's secret does not redeem as a verification.
	if err := f.a.RequestPasswordReset(ctx, "john_doe@domain.com"); err != nil {
		t.Fatal(err)
	}
	reset := mail.Last(t).Token
	if _, err := f.a.RedeemVerification(ctx, v.ID, reset[len(reset)-43:]); !errors.Is(err, tokens.ErrInvalid) {
		t.Errorf("a reset secret as value: %v, want ErrInvalid", err)
	}
}

// Both policies: refuse unverified logins (the default, seed 001's
// "confirmed"), or let them in and report it (seed 003's LoginVerified).
func TestVerificationPolicies(t *testing.T) {
	refuse := newFixture(t, auth.Config{})
	if _, err := refuse.login("unconfirmed_user", rightPassword); !errors.Is(err, auth.ErrUnconfirmed) {
		t.Fatalf("refusing policy: %v, want ErrUnconfirmed", err)
	}
	v, _ := refuse.a.IssueVerification(ctx, "343")
	sub, err := refuse.a.RedeemVerification(ctx, v.ID, v.Value)
	if err != nil {
		t.Fatal(err)
	}
	refuse.users.mu.Lock()
	refuse.users.byLogin["unconfirmed_user"].EmailConfirmed = sub == "343" // the app marks it
	refuse.users.mu.Unlock()
	if s, err := refuse.login("unconfirmed_user", rightPassword); err != nil || s.Unconfirmed {
		t.Fatalf("after verification: %+v, %v", s, err)
	}

	allow := newFixture(t, auth.Config{AllowUnconfirmed: true})
	s, err := allow.login("unconfirmed_user", rightPassword)
	if err != nil || !s.Unconfirmed {
		t.Fatalf("allowing policy: %+v, %v; want a session reporting Unconfirmed", s, err)
	}
	if s, err := allow.login("john_doe", rightPassword); err != nil || s.Unconfirmed {
		t.Fatalf("confirmed user: %+v, %v", s, err)
	}
}

func TestVerificationStoreDown(t *testing.T) {
	f := newFixture(t, auth.Config{})
	v, _ := f.a.IssueVerification(ctx, "343")
	f.store.SetDown(true)
	if _, err := f.a.IssueVerification(ctx, "343"); err == nil {
		t.Error("issued with the store down")
	}
	if _, err := f.a.RedeemVerification(ctx, v.ID, v.Value); problem.Of(err).Status != 503 {
		t.Errorf("redeem with the store down: %v, want a 503 error", err)
	}
	f.store.SetDown(false)
	if _, err := f.a.RedeemVerification(ctx, v.ID, v.Value); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if _, err := f.a.IssueVerification(ctx, ""); err == nil {
		t.Error("issued for no subject")
	}
}
