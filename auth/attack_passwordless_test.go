package auth_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestAttackSecurityKeyAloneOpensTwoFactorAccount: one passkey.Manager is
// both mfa's Passkeys and auth's Passwordless (the wiring VerifyPasswordless
// was added for), configured UVDiscouraged as the passkey docs advise for
// "a security key used as a second factor after the password". The
// account's password login needs that key as its second step; yet the key
// alone, with no password and no user verification, logs in through
// LoginPasswordless (at level 1). Whoever picks up the user's security key
// (one factor, something you have) opens an account that asks everyone
// else for two; the password, the account's lockout and its second step
// are all skipped.
//
// Expected safe behaviour: a passwordless login whose authenticator did
// not verify the user is refused (it is one factor, and a second factor's
// at that), or at least refused for an account whose login needs a
// second factor; only a UV passkey stands alone.
func TestAttackSecurityKeyAloneOpensTwoFactorAccount(t *testing.T) {
	clock := fakeclock.New(twoStepStart)
	st := teststores.All()[0].Open(t, clock.Now)
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := passkey.New(passkey.Config{RPID: "example.com", RPDisplayName: "Example", Origins: []string{"https://example.com"},
		Tokens: tm, Credentials: new(mfa.MemoryFactors), UserVerification: passkey.UVDiscouraged, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Test", Now: clock.Now, Passkeys: pk})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := password.Bcrypt{Cost: 4}.Hash([]byte(rightPassword))
	us := &users{updated: map[string][]byte{}, byLogin: map[string]*auth.User{
		"john_doe": {Subject: "341", PasswordHash: hash, Active: true, EmailConfirmed: true}}}
	a, err := auth.New(auth.Config{Users: us, Tokens: tm, Counters: st, Hasher: password.Bcrypt{Cost: 4},
		SecondFactor: m, Passwordless: pk, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// John registers a security key (no UV) as his second factor.
	key := passkeytest.New("https://example.com")
	o, err := pk.BeginRegistration(ctx, "341", "john@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, k, err := key.Register(o, passkeytest.WithoutUV())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pk.FinishRegistration(ctx, "341", resp, "yubikey"); err != nil {
		t.Fatal(err)
	}
	client := netip.MustParsePrefix(twoStepClient)
	if _, err := a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: client}, ""); !errors.Is(err, auth.ErrSecondFactor) {
		t.Fatalf("password login: %v, want the second step", err)
	}
	// The thief has the key, not the password.
	o, err = pk.BeginPasswordless(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = key.Login(o, k, passkeytest.WithoutUV())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.LoginPasswordless(ctx, resp, "", client); err == nil {
		t.Fatalf("the second factor alone, without UV or the password, opened the account: session for %q", s.User.Subject)
	}
}
