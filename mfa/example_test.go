package mfa_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// The first row of RFC 6238 appendix B.
func ExampleTOTPKey_Code() {
	k := mfa.TOTPKey{Secret: []byte("12345678901234567890"), Digits: 8}
	fmt.Println(k.Code(time.Unix(59, 0)))
	// Output: 94287082
}

// Enrol a TOTP, confirm it with a first code, check the next one, and
// spend a recovery code.
func ExampleManager() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	// In an app: a key of 32 bytes from its secret store, and Factors
	// over its own database.
	secret := make([]byte, 32)
	rand.Read(secret)
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "2026-01", Secret: secret})
	if err != nil {
		panic(err)
	}
	m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Example"})
	if err != nil {
		panic(err)
	}

	en, err := m.Enroll(ctx, "user-42", "alice@example.com")
	if err != nil {
		panic(err)
	}
	// The user scans en.QRPNG (or types en.Secret); their app shows codes.
	key, _ := mfa.ParseKeyURI(en.URI)
	code := key.Code(time.Now())
	fmt.Println("confirm:", m.ConfirmEnroll(ctx, "user-42", code))
	fmt.Println("replay:", problem.Of(m.Verify(ctx, "user-42", code)).Code)

	codes, _ := m.RecoveryCodes(ctx, "user-42")
	fmt.Println("recovery codes:", len(codes))
	fmt.Println("use one:", m.UseRecoveryCode(ctx, "user-42", codes[0]))
	err = m.UseRecoveryCode(ctx, "user-42", codes[0])
	fmt.Println("use it again:", errors.Is(err, mfa.ErrInvalidCode))
	// Output:
	// confirm: <nil>
	// replay: code_reused
	// recovery codes: 10
	// use one: <nil>
	// use it again: true
}
