package auth_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestEmailConfirmationIsSingleUse(t *testing.T) {
	box := &authtest.Outbox{}
	f := newFixture(t, auth.Config{Mailer: box})
	if err := f.a.SendEmailConfirmation(ctx, "343", "unconfirmed@domain.com"); err != nil {
		t.Fatal(err)
	}
	m := box.Last(t)
	if m.Purpose != auth.PurposeConfirmEmail || m.To != "unconfirmed@domain.com" || m.Subject != "343" {
		t.Fatalf("message = %+v", m)
	}
	if want := f.clock.Now().Add(24 * time.Hour); !m.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", m.ExpiresAt, want)
	}
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sub, err := f.a.ConfirmEmail(ctx, m.Token); err == nil && sub == "343" {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d redemptions succeeded; want exactly 1", wins.Load())
	}
}

func TestEmailConfirmationExpires(t *testing.T) {
	box := &authtest.Outbox{}
	f := newFixture(t, auth.Config{Mailer: box})
	if err := f.a.SendEmailConfirmation(ctx, "343", "u@domain.com"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24*time.Hour + time.Second)
	if _, err := f.a.ConfirmEmail(ctx, box.Last(t).Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("expired confirmation: %v, want ErrInvalid", err)
	}
}

func TestConfirmEmailRefusesOtherKinds(t *testing.T) {
	f := newFixture(t, auth.Config{Mailer: &authtest.Outbox{}})
	s, err := f.login("john_doe", rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.ConfirmEmail(ctx, s.Token); !errors.Is(err, tokens.ErrWrongKind) {
		t.Fatalf("session token as confirmation: %v, want ErrWrongKind", err)
	}
}

func TestMailIsRateLimitedPerAccount(t *testing.T) {
	box := &authtest.Outbox{}
	f := newFixture(t, auth.Config{Mailer: box})
	for i := range auth.MaxMessagesPerHour {
		if err := f.a.SendEmailConfirmation(ctx, "343", "u@domain.com"); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	err := f.a.SendEmailConfirmation(ctx, "343", "u@domain.com")
	if !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("message %d: %v, want ErrRateLimited", auth.MaxMessagesPerHour+1, err)
	}
	if p := problem.Of(err); p.Status != 429 || p.Code != "rate_limited" {
		t.Fatalf("problem = %+v", p)
	}
	if err := f.a.SendEmailConfirmation(ctx, "341", "john_doe@domain.com"); err != nil {
		t.Fatalf("another account was limited too: %v", err)
	}
	f.clock.Advance(time.Hour + time.Second)
	if err := f.a.SendEmailConfirmation(ctx, "343", "u@domain.com"); err != nil {
		t.Fatalf("after the hour: %v", err)
	}
}

func TestMailerFailureIsReported(t *testing.T) {
	f := newFixture(t, auth.Config{Mailer: &authtest.Outbox{Fail: errors.New("smtp down")}})
	if err := f.a.SendEmailConfirmation(ctx, "343", "u@domain.com"); err == nil {
		t.Fatal("mailer failure was swallowed")
	}
	g := newFixture(t, auth.Config{})
	if err := g.a.SendEmailConfirmation(ctx, "343", "u@domain.com"); err == nil {
		t.Fatal("no mailer configured, yet no error")
	}
}

// TestResetTakesTheMinimum: a reset request for an unknown address takes
// Config.ResetMinDuration like one for a real account, and no minimum is
// kept when it is negative.
func TestResetTakesTheMinimum(t *testing.T) {
	for _, tc := range []struct {
		min     time.Duration
		atLeast time.Duration
	}{{0, 10 * time.Millisecond}, {30 * time.Millisecond, 30 * time.Millisecond}, {-1, 0}} {
		f := newFixture(t, auth.Config{Mailer: &authtest.Outbox{}, ResetMinDuration: tc.min})
		for _, email := range []string{"nobody@domain.com", "john_doe@domain.com"} {
			start := time.Now()
			if err := f.a.RequestPasswordReset(ctx, email); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < tc.atLeast || (tc.min < 0 && d > 5*time.Millisecond) {
				t.Errorf("ResetMinDuration %v: a reset for %s took %v", tc.min, email, d)
			}
		}
	}
}
