package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// With an mfa.Manager as Config.SecondFactor, the password of an account
// with TOTP yields only a pending token; CompleteLogin with a code issues
// the session, at assurance level 2.
func ExampleAuthenticator_CompleteLogin() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	secret := make([]byte, 32)
	rand.Read(secret)
	ring, _ := mfa.NewKeyring(mfa.SealingKey{ID: "2026-01", Secret: secret})
	m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Example"})
	if err != nil {
		panic(err)
	}
	hasher := password.Bcrypt{Cost: 10}
	hash, _ := hasher.Hash([]byte("correct horse battery staple"))
	a, err := auth.New(auth.Config{Users: deviceExampleUsers{hash}, Tokens: tm, Counters: st, Hasher: hasher, SecondFactor: m})
	if err != nil {
		panic(err)
	}
	// ada enrols TOTP (her app shows the codes).
	en, _ := m.Enroll(ctx, "u-1", "ada")
	key, _ := mfa.ParseKeyURI(en.URI)
	if err := m.ConfirmEnroll(ctx, "u-1", key.Code(time.Now())); err != nil {
		panic(err)
	}

	client := netip.MustParsePrefix("192.0.2.1/32")
	_, err = a.Login(ctx, auth.Credentials{Login: "ada", Password: "correct horse battery staple", Client: client}, "")
	var pending *auth.SecondFactorError
	fmt.Println(errors.As(err, &pending), errors.Is(err, auth.ErrSecondFactor))

	// The code just used to confirm is spent: the next step's code.
	code := key.Code(time.Now().Add(key.Period))
	s, err := a.CompleteLogin(ctx, pending.Pending, auth.FactorTOTP, code, client)
	if err != nil {
		panic(err)
	}
	rec, _ := tm.Validate(ctx, store.KindSession, s.Token)
	fmt.Println(rec.Assurance)
	// Output:
	// true true
	// 2
}
