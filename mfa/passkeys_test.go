package mfa_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/problem"
)

// fakePasskeys stands in for *passkey.Manager: "good" is the one
// assertion that passes, once.
type fakePasskeys struct {
	mu    sync.Mutex
	has   map[string]bool
	spent map[string]bool
	calls int
}

var errBadAssertion = problem.New("fake: bad assertion", problem.Error{Status: 401, Code: "invalid_credential"})

func (f *fakePasskeys) HasPasskeys(_ context.Context, subject string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.has[subject], nil
}

func (f *fakePasskeys) VerifyPasskey(_ context.Context, subject, response string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if response != "good" || f.spent[subject] {
		return errBadAssertion
	}
	f.spent[subject] = true
	return nil
}

// TestPasskeyIsASecondFactor: with Config.Passkeys, an account with only
// a passkey needs the second step; a passkey assertion passes through
// VerifySecondFactor and counts against the same attempt limit as codes
// (a pending login buys no more tries by switching kinds), and the limit
// is checked before the assertion is.
func TestPasskeyIsASecondFactor(t *testing.T) {
	var pk *fakePasskeys
	eachStore(t, func(c *mfa.Config) {
		pk = &fakePasskeys{has: map[string]bool{"u1": true}, spent: map[string]bool{}}
		c.Passkeys = pk
	}, func(t *testing.T, e *env) {
		ctx := context.Background()
		if need, err := e.m.SecondFactorRequired(ctx, "u1"); err != nil || !need {
			t.Fatalf("passkey-only account: required = %v, %v", need, err)
		}
		if need, err := e.m.SecondFactorRequired(ctx, "u2"); err != nil || need {
			t.Fatalf("account without factors: required = %v, %v", need, err)
		}
		if st, _ := e.m.Enrolled(ctx, "u1"); !st.Passkeys || st.TOTP {
			t.Fatalf("status %+v", st)
		}
		if err := e.m.VerifySecondFactor(ctx, "u1", mfa.KindPasskey, "bad"); problem.Of(err).Code != "invalid_credential" {
			t.Fatalf("bad assertion: %v", err)
		}
		if err := e.m.VerifySecondFactor(ctx, "u1", mfa.KindPasskey, "good"); err != nil {
			t.Fatalf("good assertion: %v", err)
		}
		// A pass cleared the count: five more tries, then locked, and
		// the sixth is not even shown to the passkeys.
		for range 5 {
			_ = e.m.VerifySecondFactor(ctx, "u1", mfa.KindPasskey, "bad")
		}
		before := pk.calls
		if err := e.m.VerifySecondFactor(ctx, "u1", mfa.KindPasskey, "good"); !errors.Is(err, mfa.ErrLocked) {
			t.Fatalf("sixth try: %v, want locked", err)
		}
		if pk.calls != before {
			t.Fatalf("a locked account's assertion reached the passkeys")
		}
	})
}

// TestPasskeyKindNeedsPasskeys: without Config.Passkeys the passkey kind
// is an error and checks nothing.
func TestPasskeyKindNeedsPasskeys(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		if err := e.m.VerifySecondFactor(context.Background(), "u1", mfa.KindPasskey, "good"); err == nil {
			t.Fatal("passkey kind without Passkeys passed")
		}
	})
}
