package auth_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestAttackTrustWindowCountsFromThePassword: TrustWindow is documented
// as "how soon after its second factor a session may ask for trust", but
// TrustDevice measures it from the session's AuthTime, which for a
// two-step login is when the password was typed. With a PendingTTL longer
// than TrustWindow (tokens.Config allows any), a user who takes six
// minutes to find their phone passes the second factor and is refused
// trust; SecondStepHandler then logs the fresh session out, with the
// pending token consumed and the TOTP code burned: the user starts over
// from the password, and "trust this device" can never succeed for them.
//
// Expected safe behaviour: the window counts from the second factor (the
// session's issue), or TrustDevice's failure in the second step leaves
// the login standing without trust.
func TestAttackTrustWindowCountsFromThePassword(t *testing.T) {
	clock := fakeclock.New(twoStepStart)
	st := teststores.All()[0].Open(t, clock.Now)
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey, PendingTTL: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := password.Bcrypt{Cost: 4}.Hash([]byte(rightPassword))
	us := &users{updated: map[string][]byte{}, byLogin: map[string]*auth.User{
		"john_doe": {Subject: "341", PasswordHash: hash, Active: true, EmailConfirmed: true}}}
	a, err := auth.New(auth.Config{Users: us, Tokens: tm, Counters: st, Hasher: password.Bcrypt{Cost: 4}, SecondFactor: m, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	en, err := m.Enroll(ctx, "341", "john@example.com")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mfa.ParseKeyURI(en.URI)
	if err := m.ConfirmEnroll(ctx, "341", key.Code(clock.Now())); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	client := netip.MustParsePrefix(twoStepClient)
	_, err = a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: client}, "")
	var pending *auth.SecondFactorError
	if !errors.As(err, &pending) {
		t.Fatalf("login: %v", err)
	}
	clock.Advance(6 * time.Minute) // finding the phone
	s, err := a.CompleteLogin(ctx, pending.Pending, auth.FactorTOTP, key.Code(clock.Now()), client)
	if err != nil {
		t.Fatalf("second step within PendingTTL: %v", err)
	}
	if _, err := a.TrustDevice(ctx, s.Token); err != nil {
		t.Fatalf("TrustDevice right after the second factor passed: %v", err)
	}
}
